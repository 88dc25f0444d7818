"""``agentry schedule add|list|pause|resume|remove``: tasks started by cron, every so often,
or once at a time (app.core.schedules). They only touch the database: a running supervisor
(the app, ``serve``) notices the change and starts each task when it comes due."""

from __future__ import annotations

import argparse
import time

from app.cli.common import EXIT_OK, Subparsers, open_store, print_json, usage_error


def add_commands(sub: Subparsers) -> None:
    from app.cli.tasks import add_task_options  # the task's options, exactly as `run` takes them

    p = sub.add_parser("schedule", help="start tasks by cron, every so often, or once at a time")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)

    add = verbs.add_parser(
        "add",
        help="a new schedule: --cron EXPR, --every DURATION or --at TIME, then the task "
        "as for `run` (-- COMMAND, or --agent NAME PROMPT)",
    )
    when = add.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR", help='cron expression, e.g. "0 9 * * 1-5"')
    when.add_argument("--every", metavar="DURATION", help="how often, e.g. 30m, 1h or 1h30m")
    when.add_argument("--at", metavar="TIME", help="once, e.g. 2026-12-02T09:00 (local time)")
    add.add_argument(
        "--catch-up",
        choices=("once", "skip"),
        default="once",
        help="a time missed while Agentry was closed: run once at the next start (default), "
        "or skip to the next time",
    )
    add.add_argument(
        "--overlap",
        choices=("skip", "allow"),
        default="skip",
        help="while the previous task is still queued or running: skip this time (default), "
        "or start another anyway",
    )
    add_task_options(add)
    add.set_defaults(handler=cmd_add)

    listing = verbs.add_parser("list", help="the schedules and when each runs next")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=cmd_list)

    for verb, text, handler in (
        ("pause", "stop starting its tasks until resumed", cmd_pause),
        ("resume", "start its tasks again, from the next time to come", cmd_resume),
        ("remove", "delete a schedule (tasks it started stay)", cmd_remove),
    ):
        v = verbs.add_parser(verb, help=text)
        v.add_argument("id", help="schedule id (see `agentry schedule list`)")
        v.set_defaults(handler=handler)


def cmd_add(args: argparse.Namespace) -> int:
    from app.cli.tasks import task_spec
    from app.core.schedules import CatchUp, Overlap, ScheduleKind
    from app.store.locations import locations_from_env
    from app.store.settings import load_settings
    from app.supervisor import schedules

    settings = load_settings(locations_from_env().settings)
    spec = task_spec(args, settings)
    if isinstance(spec, int):
        return spec
    if args.cron is not None:
        kind, text = ScheduleKind.CRON, args.cron
    elif args.every is not None:
        kind, text = ScheduleKind.EVERY, args.every
    else:
        kind, text = ScheduleKind.AT, args.at
    _, conn = open_store()
    schedule = schedules.add(conn, spec, kind, text, settings, catch_up=CatchUp(args.catch_up),
                             overlap=Overlap(args.overlap))  # fmt: skip
    print(f"Schedule {schedule.id}: {schedule.when}, next run {_time(schedule.next_run_at)}.")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from app.store.db import NoDatabase
    from app.store.schedule_repo import list_schedules

    try:
        _, conn = open_store(read_only=True)
    except NoDatabase:
        found = []
    else:
        found = list_schedules(conn)
    if args.json:
        print_json([s.to_json() for s in found])
        return EXIT_OK
    if not found:
        print('No schedules yet. Add one with: agentry schedule add --cron "0 9 * * 1-5" -- CMD')
        return EXIT_OK
    lines = [f"{'ID':>4}  {'WHEN':<22} {'NEXT RUN':<16}  {'LAST RUN':<16}  WHAT"]
    for s in found:
        state = "paused" if s.paused else _time(s.next_run_at)
        last = _time(s.last_run_at, none="-")
        task = f" (task {s.last_task_id})" if s.last_task_id is not None else ""
        lines.append(f"{s.id:>4}  {s.when:<22} {state:<16}  {last:<16}  {s.what}{task}")
    print("\n".join(lines))
    return EXIT_OK


def cmd_pause(args: argparse.Namespace) -> int:
    return _change(args, "pause", "paused; nothing starts until `agentry schedule resume`")


def cmd_resume(args: argparse.Namespace) -> int:
    return _change(args, "resume", "resumed")


def cmd_remove(args: argparse.Namespace) -> int:
    return _change(args, "remove", "removed (the tasks it started stay)")


def _change(args: argparse.Namespace, verb: str, done: str) -> int:
    from app.supervisor import schedules

    try:
        schedule_id = schedules.resolve_id(args.id)
    except LookupError as exc:
        return usage_error(str(exc))
    _, conn = open_store()
    schedule = getattr(schedules, verb)(conn, schedule_id)
    shown = verb == "remove" or schedule.paused
    note = "" if shown else f", next run {_time(schedule.next_run_at)}"
    if not shown and schedule.next_run_at is None:  # a one-shot whose time went by paused
        note = (", but it has nothing left to run: its time passed while it was paused "
                "(what falls due then is skipped); add it again with a new --at")  # fmt: skip
    print(f"Schedule {schedule.id} ({schedule.when}): {done}{note}.")
    return EXIT_OK


def _time(at: float | None, *, none: str = "none") -> str:
    return none if at is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(at))
