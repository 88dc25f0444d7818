"""Help → Export diagnostics… and ``agentry doctor --export PATH``: one zip a person can
attach to a bug report.

It holds the app's log files, the recovery reports, the doctor's JSON, the settings, and
the tasks and events of the last days; with ``include_private`` also the output of those
tasks' runs. By default prompts, follow-up messages, agents' output, environment values
and secrets are replaced by ``[redacted]`` (:mod:`app.core.redact`), and README.txt in the
zip says so. The zip is written under a temporary name beside the target and renamed, so
a full disk leaves no half-written file with the chosen name.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app import __version__
from app.core.errors import AgentryError
from app.core.health import HealthReport
from app.core.locations import Locations
from app.core.redact import MARK, Redactor
from app.store import diagnostics_repo, diskspace, fsops, recovery_repo
from app.store.db import Connection, DatabaseError, StoreError, open_database
from app.supervisor import doctor
from app.supervisor.adapters.base import Detection

DAYS = 7  # the tasks, events and outputs of this many days go in
OUTPUT_TAIL_BYTES = 256 * 1024  # of each run's output, with include_private
LOG_LIMIT_BYTES = 8 * 1024 * 1024  # of each log file: the newest part


class DiagnosticsError(AgentryError):
    """The zip could not be written; the message names the path and what to do."""


def export(
    locations: Locations,
    target: Path,
    *,
    include_private: bool = False,
    detections: Mapping[str, Detection] | None = None,
    report: HealthReport | None = None,
) -> Path:
    """Write the diagnostics zip at ``target``; returns it. Raises DiagnosticsError."""
    members = _members(locations, include_private, detections, report)
    try:
        _write_zip(target, members)
    except OSError as exc:
        raise DiagnosticsError(
            f"Could not write the diagnostics to {target}: {diskspace.describe(exc, target.parent)}"
        ) from exc
    return target


def _members(
    locations: Locations,
    include_private: bool,
    detections: Mapping[str, Detection] | None,
    report: HealthReport | None,
) -> dict[str, bytes]:
    since = time.time() - DAYS * 86400
    health = report or doctor.collect(locations, detections=detections, run_integrity=False)
    members: dict[str, bytes] = {}
    redactor, database_note = _from_database(locations, since, include_private, members)
    # each string scrubbed, never the JSON text: a private text such as "null" or "8080"
    # would otherwise be replaced inside the JSON's own syntax
    members["doctor.json"] = _json_bytes(redactor.strings(doctor.to_json(health)))
    members["settings.json"] = _json_bytes(redactor.value(_settings(locations)))
    for name, text in _logs(locations).items():
        members[f"logs/{name}"] = redactor.text(text).encode("utf-8")
    members["README.txt"] = _readme(locations, include_private, database_note, members).encode()
    return members


def _from_database(
    locations: Locations, since: float, include_private: bool, members: dict[str, bytes]
) -> tuple[Redactor, str]:
    """Adds recovery reports, tasks and events (and outputs) to ``members``; returns the
    redactor that knows the database's private texts, and what of the database is in."""
    try:
        conn = open_database(locations.database, create=False)
    except (StoreError, DatabaseError, OSError) as exc:
        return Redactor(keep_private=include_private), f"Nothing from the database: {exc}"
    try:
        redactor = Redactor(diagnostics_repo.private_texts(conn), keep_private=include_private)
        _add_database(conn, locations, since, redactor, members)
        return redactor, (
            "recovery_reports.json, tasks.json and events.json come from the database."
        )
    except DatabaseError as exc:
        return Redactor(
            keep_private=include_private
        ), f"Part of the database could not be read: {exc}"
    finally:
        conn.close()


def _add_database(
    conn: Connection,
    locations: Locations,
    since: float,
    redactor: Redactor,
    members: dict[str, bytes],
) -> None:
    reports = [r.to_json() for r in recovery_repo.recovery_reports(conn, 50)]
    members["recovery_reports.json"] = _json_bytes(redactor.value(reports))
    tasks = [_task(row) for row in diagnostics_repo.recent_tasks(conn, since)]
    members["tasks.json"] = _json_bytes(redactor.value(tasks))
    events = [_event(row) for row in diagnostics_repo.events_since(conn, since)]
    members["events.json"] = _json_bytes(redactor.value(events))
    if redactor.keep_private:
        for task_id, run_id, folder in diagnostics_repo.recent_run_dirs(conn, since):
            tail = _tail(locations.run_dir(folder) / "output.log", OUTPUT_TAIL_BYTES)
            if tail is not None:
                members[f"output/task-{task_id}-run-{run_id}.log"] = tail


def _task(row: dict[str, Any]) -> dict[str, Any]:
    spec = _loads(row.pop("spec_json"))
    row["spec"] = spec if isinstance(spec, dict) else None
    return row


def _event(row: dict[str, Any]) -> dict[str, Any]:
    row["detail"] = _loads(row["detail"])
    return row


def _loads(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _settings(locations: Locations) -> Any:
    """The settings file as it is (even when unusable: that may be the bug)."""
    try:
        return fsops.read_json(locations.settings)
    except FileNotFoundError:
        return {"note": f"there is no {locations.settings}: every setting is its default"}
    except (OSError, fsops.CorruptFileError) as exc:
        return {"note": f"{locations.settings} cannot be read: {exc}"}


def _logs(locations: Locations) -> dict[str, str]:
    """The app's log files (rotated ones too), the newest part of each."""
    found = {}
    try:
        entries = sorted(p for p in locations.logs.iterdir() if p.is_file())
    except OSError:
        return {}
    for path in entries:
        data = _tail(path, LOG_LIMIT_BYTES)
        if data is not None:
            found[path.name] = data.decode("utf-8", errors="replace")
    return found


def _tail(path: Path, limit: int) -> bytes | None:
    try:
        with path.open("rb") as stream:
            size = stream.seek(0, os.SEEK_END)
            stream.seek(max(0, size - limit))
            return stream.read()
    except OSError:
        return None


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def _readme(
    locations: Locations, include_private: bool, database_note: str, members: dict[str, bytes]
) -> str:
    made = datetime.now(UTC).isoformat(timespec="seconds")
    if include_private:
        privacy = (
            'PRIVATE CONTENT INCLUDED: this export was made with "Include prompts, output and '
            "secrets\" ticked. It holds prompts, follow-up messages, agents' output "
            "(output/), environment values and secrets. Share it only with someone you trust."
        )
    else:
        privacy = (
            f"Redacted: prompts, follow-up messages, task titles, agents' output, tool-call "
            f"inputs, environment values, and secrets (any field whose name says secret, "
            f"token, key or password; the user, password and query string of URLs) are "
            f"replaced by {MARK} wherever they appear, logs included. Paths and folder "
            f"names are kept."
        )
    files = "\n".join(f"  {name}" for name in sorted(members))
    if not any(name.startswith("logs/") for name in members):
        database_note += f" There were no log files in {locations.logs}."
    return (
        f"Agentry {__version__} diagnostics, made {made}\n"
        f"Data folder: {locations.data}\n\n{privacy}\n\n"
        f"Tasks, events and outputs: the last {DAYS} days. {database_note}\n"
        f"doctor.json is `agentry doctor --json`; settings.json is {locations.settings}; "
        f"logs/ holds the app's log files from {locations.logs}.\n\nFiles:\n{files}\n  README.txt\n"
    )


def _write_zip(target: Path, members: dict[str, bytes]) -> None:
    """Under a temporary name beside ``target``, flushed to disk, then renamed."""
    tmp = fsops.temp_path_for(target)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        with tmp.open("rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
