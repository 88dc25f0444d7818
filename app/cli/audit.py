"""``agentry audit verify | export``: check that the audit trail is as it was written, and
write it out for one task or a time range (the hash chain: app.core.audit)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from app.cli.common import EXIT_ERROR, EXIT_OK, Subparsers, print_json, usage_error

if TYPE_CHECKING:
    from app.core.audit_check import Verdict


def add_commands(sub: Subparsers) -> None:
    p = sub.add_parser("audit", help="check or export the audit trail of every change")
    audit = p.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)

    verify = audit.add_parser(
        "verify", help="check that no row of the trail was changed or removed"
    )
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.set_defaults(handler=cmd_verify)

    export = audit.add_parser("export", help="write the trail of a task or a date range")
    export.add_argument("--task", type=int, metavar="ID", help="only this task's rows")
    export.add_argument("--since", metavar="WHEN",
                        help="from this local date or time (YYYY-MM-DD[THH:MM])")  # fmt: skip
    export.add_argument("--until", metavar="WHEN",
                        help="before this local date or time (a date: to its end)")  # fmt: skip
    export.add_argument("--json", action="store_true",
                        help="JSON with each row's hashes, checkable by anyone")  # fmt: skip
    export.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE instead of the standard output")  # fmt: skip
    export.set_defaults(handler=cmd_export)


def cmd_verify(args: argparse.Namespace) -> int:
    from app.cli.common import open_store
    from app.store import audit_repo

    _, conn = open_store(read_only=True)
    try:
        verdict = audit_repo.verify(conn)
    finally:
        conn.close()
    if args.json:
        print_json(verdict.to_json())
    else:
        _print_verdict(verdict)
    return EXIT_OK if verdict.intact else EXIT_ERROR


def _print_verdict(verdict: Verdict) -> None:
    if verdict.broken is None:
        print(f"The audit trail is intact: all {verdict.rows} rows are as they were written "
              f"(the newest is #{verdict.last_id}).")  # fmt: skip
        return
    print(f"The audit trail was altered: {verdict.broken.message}.", file=sys.stderr)
    print(f"The {verdict.rows} rows before it are as they were written. Restore the database "
          "from a backup (agentry restore) to see the trail as it was.",
          file=sys.stderr)  # fmt: skip


def cmd_export(args: argparse.Namespace) -> int:
    from app.cli.common import open_store
    from app.store import audit_repo

    try:
        since = _when(args.since, end_of_day=False)
        until = _when(args.until, end_of_day=True)
    except ValueError as exc:
        return usage_error(str(exc))
    _, conn = open_store(read_only=True)
    try:
        rows = audit_repo.export_rows(conn, task_id=args.task, since=since, until=until)
        verdict = audit_repo.verify(conn)
    finally:
        conn.close()
    text = _json_text(rows, verdict, args) if args.json else _plain_text(rows)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    return _write(args.output, text, len(rows))


def _when(value: str | None, *, end_of_day: bool) -> float | None:
    """A local date or date and time as a timestamp; a bare ``--until`` date includes its day."""
    if value is None:
        return None
    from datetime import datetime, timedelta

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date or time; write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    if end_of_day and len(value) == 10:  # a date alone: the whole of that day
        moment += timedelta(days=1)
    return moment.timestamp()


def _plain_text(rows: list[dict[str, Any]]) -> str:

    lines = []
    for row in rows:
        at = _when_text(row["at"])
        who = " ".join(
            f"{name} {row[f'{name}_id']}" for name in ("task", "run") if row[f"{name}_id"]
        )
        change = (f"{row['old_state'] or '—'} → {row['new_state']}"
                  if row["new_state"] else "")  # fmt: skip
        parts = [at, f"#{row['id']}", str(row["kind"]), who, change, _shown(row["detail"])]
        lines.append("  ".join(part for part in parts if part))
    return "".join(f"{line}\n" for line in lines) or "No audit rows match.\n"


def _json_text(rows: list[dict[str, Any]], verdict: Verdict, args: argparse.Namespace) -> str:
    import time

    from app.core.json_text import dumps_indented

    return dumps_indented({
        "format": "agentry-audit",
        "version": 1,
        "exported_at": time.time(),
        "filter": {"task": args.task, "since": args.since, "until": args.until},
        "hash": "sha256 of the compact JSON array [id, at, kind, task_id, run_id, old_state, "
                "new_state, detail, prev_hash]; see app/core/audit.py",
        "trail": verdict.to_json(),
        "rows": [_json_row(row) for row in rows],
    }) + "\n"  # fmt: skip


def _when_text(at: Any) -> str:
    """A row's time as local date and time; a value that is not a time, as it is (a row
    changed behind Agentry's back is exported as found)."""
    from datetime import datetime

    try:
        return datetime.fromtimestamp(float(at)).isoformat(sep=" ", timespec="seconds")
    except (TypeError, ValueError, OverflowError, OSError):
        return repr(at)


def _shown(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else repr(value)


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its detail parsed, and as the text its hash covers; values that are not
    what Agentry writes (bytes, say) are given as their repr."""
    import json

    plain = {key: _shown(value) if isinstance(value, bytes) else value
             for key, value in row.items()}  # fmt: skip
    text = plain["detail"]
    try:
        detail = json.loads(text) if isinstance(text, str) and text else None
    except ValueError:
        detail = None
    return plain | {"detail": detail, "detail_text": text}


def _write(output: str, text: str, count: int) -> int:
    from pathlib import Path

    from app.store import diskspace, fsops

    path = Path(output).expanduser()
    try:
        fsops.atomic_write(path, text.encode("utf-8"))
    except OSError as exc:
        print(f"agentry: could not write the audit trail: {diskspace.describe(exc, path)}",
              file=sys.stderr)  # fmt: skip
        return EXIT_ERROR
    print(f"Wrote {count} audit row(s) to {path}.")
    return EXIT_OK
