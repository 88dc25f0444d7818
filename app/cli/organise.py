"""``agentry archive``, ``unarchive``, ``rm`` and ``clear``: organising tasks from the
command line, with or without the app running (see :mod:`app.supervisor.organise`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.cli.common import EXIT_ERROR, EXIT_OK, Subparsers, open_store, usage_error
from app.core.errors import AgentryError

if TYPE_CHECKING:
    from app.supervisor import organise


def add_commands(sub: Subparsers) -> None:
    p = sub.add_parser("archive", help="move ended tasks out of the default list")
    p.add_argument("tasks", nargs="+", metavar="ID", help="task ids")
    p.set_defaults(handler=cmd_archive)
    p = sub.add_parser("unarchive", help="bring archived tasks back to the default list")
    p.add_argument("tasks", nargs="+", metavar="ID", help="task ids")
    p.set_defaults(handler=cmd_unarchive)
    p = sub.add_parser("rm", help="delete ended tasks with their run folders")
    p.add_argument("tasks", nargs="+", metavar="ID", help="task ids")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask first")
    p.set_defaults(handler=cmd_rm)
    p = sub.add_parser("clear", help="archive (or delete) finished tasks")
    p.add_argument("--failed", action="store_true",
                   help="failed, timed-out and interrupted tasks too")  # fmt: skip
    p.add_argument("--older-than", metavar="AGE", default=None,
                   help="only tasks that ended at least this long ago (7d, 12h)")  # fmt: skip
    p.add_argument("--delete", action="store_true", help="delete them with their run folders")
    p.add_argument("--dry-run", action="store_true", help="only list what would be cleared")
    p.add_argument("-y", "--yes", action="store_true", help="with --delete: do not ask first")
    p.set_defaults(handler=cmd_clear)


def cmd_archive(args: argparse.Namespace) -> int:
    from app.supervisor import organise

    _, conn = open_store()
    return _each(args.tasks, lambda ref: f"Task {organise.archive(conn, ref).id}: archived.")


def cmd_unarchive(args: argparse.Namespace) -> int:
    from app.supervisor import organise

    _, conn = open_store()
    return _each(args.tasks, lambda ref: f"Task {organise.unarchive(conn, ref).id}: unarchived.")


def cmd_rm(args: argparse.Namespace) -> int:
    from app.supervisor import organise

    locations, conn = open_store()
    plans = organise.plan(conn, locations, [_task_id(t) for t in args.tasks])
    for plan in plans:
        if plan.refused:
            print(f"agentry: {plan.refused}. Nothing was deleted.", file=sys.stderr)
            return EXIT_ERROR
    if not _confirmed(args.yes, [f"#{p.task_id} {p.title} ({_folders(p)})" for p in plans]):
        print("Nothing was deleted.")
        return EXIT_ERROR
    ids = [str(p.task_id) for p in plans]
    return _each(ids, lambda ref: _said(organise.delete(conn, locations, ref)))


def cmd_clear(args: argparse.Namespace) -> int:
    from app.supervisor import organise

    try:
        days = None if args.older_than is None else _days(args.older_than)
    except ValueError as exc:
        return usage_error(str(exc))
    locations, conn = open_store()
    tasks = organise.clearable(conn, organise.ClearFilter(args.failed, days))
    if not tasks:
        print("Nothing to clear.")
        return EXIT_OK
    verb = "delete" if args.delete else "archive"
    lines = [f"#{t.id} {t.state.value if t.state else '-'}  {t.title}" for t in tasks]
    if args.dry_run:
        print(f"Would {verb} {len(tasks)} task(s):")
        print("\n".join(f"  {line}" for line in lines))
        return EXIT_OK
    if args.delete and not _confirmed(args.yes, lines):
        print("Nothing was deleted.")
        return EXIT_ERROR
    cleared = organise.clear(conn, locations, [t.id for t in tasks], delete_them=args.delete)
    for deleted in cleared.deleted:
        print(_said(deleted))
    for task_id in cleared.archived:
        print(f"Task {task_id}: archived.")
    for _task, why in cleared.refused:
        print(f"agentry: {why}", file=sys.stderr)
    return EXIT_ERROR if cleared.refused else EXIT_OK


def _each(refs: list[str], act: Callable[[str], str]) -> int:
    """Act on each task; one refused does not stop the others, and sets the status."""
    status = EXIT_OK
    for ref in refs:
        try:
            print(act(ref))
        except AgentryError as exc:
            print(f"agentry: {exc}", file=sys.stderr)
            status = exc.exit_code
    return status


def _said(deleted: organise.Deleted) -> str:
    text = f"Task {deleted.task_id}: deleted with {deleted.folders} run folder(s)."
    for why in deleted.left:
        text += f"\n  not removed: {why}"
    return text


def _folders(plan: organise.DeletePlan) -> str:
    return f"{len(plan.folders)} run folder{'s' if len(plan.folders) != 1 else ''}"


def _confirmed(yes: bool, lines: list[str]) -> bool:
    """Ask on a terminal; without one (a script), only --yes deletes."""
    if yes:
        return True
    if not sys.stdin.isatty():
        print("agentry: pass --yes to delete without a terminal to ask on", file=sys.stderr)
        return False
    print("Delete these tasks and their run folders? This cannot be undone.")
    print("\n".join(f"  {line}" for line in lines))
    return input("Delete? [y/N] ").strip().lower() in ("y", "yes")


def _task_id(ref: str) -> int:
    text = ref.strip().lstrip("#")
    if not text.isdigit():
        raise AgentryError(f"no task {ref!r}; `agentry list` shows the tasks there are")
    return int(text)


def _days(text: str) -> float:
    """``7d``, ``12h``, ``30m`` or a plain number of days."""
    units = {"d": 1.0, "h": 1 / 24, "m": 1 / 1440, "w": 7.0}
    value, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "d")
    try:
        days = float(value) * units[unit]
    except ValueError:
        raise ValueError(f"--older-than {text!r}: give an age such as 7d, 12h or 2w") from None
    if days < 0:
        raise ValueError(f"--older-than {text!r}: an age cannot be negative")
    return days
