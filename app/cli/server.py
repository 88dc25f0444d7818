"""The ``agentry`` commands about the supervisor itself: the desktop app (no command),
``serve``, ``recovery``, ``quit`` and ``doctor``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.cli.common import EXIT_ERROR, EXIT_OK, Subparsers, open_store, print_json
from app.core.log import get_logger

if TYPE_CHECKING:
    from app.core.health import HealthReport
    from app.core.locations import Locations
    from app.supervisor.events import Event

log = get_logger("agentry")


def add_serve(sub: Subparsers) -> None:
    p = sub.add_parser("serve", help="run the supervisor until interrupted")
    p.add_argument("--headless", action="store_true", help="no window (the only mode for now)")
    p.set_defaults(handler=cmd_serve)


def add_recovery(sub: Subparsers) -> None:
    p = sub.add_parser("recovery", help="show what the last start-ups recovered")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--limit", type=int, default=5)
    p.set_defaults(handler=cmd_recovery)


def add_quit(sub: Subparsers) -> None:
    p = sub.add_parser("quit", help="ask the running Agentry to quit (agents keep running)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait (default 30)")
    p.set_defaults(handler=cmd_quit)


def add_doctor(sub: Subparsers) -> None:
    p = sub.add_parser(
        "doctor",
        help="check the data folder, database, runners, disk and agents",
        description="Each check is ok, WARN or FAIL with what to do; the exit status is "
        "non-zero when any check fails.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (stable keys)")
    p.add_argument(
        "--export", metavar="PATH", help="write a diagnostics zip (logs, reports, settings)"
    )
    p.add_argument(
        "--include-private",
        action="store_true",
        help="with --export: keep prompts, agents' output and secrets (redacted by default)",
    )
    p.set_defaults(handler=cmd_doctor)


# ---------------------------------------------------------------------- the app, serve


def cmd_gui(args: argparse.Namespace) -> int:
    from app.store.locations import locations_from_env
    from app.ui.application import run_gui

    return run_gui(
        locations_from_env(),
        smoke_test=args.smoke_test,
        screenshot=args.screenshot,
        screenshot_delay=args.screenshot_delay,
        screenshot_size=args.screenshot_size,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    from app.store.locations import locations_from_env

    return asyncio.run(_serve(locations_from_env()))


async def _serve(locations: Locations) -> int:
    import asyncio

    from app.supervisor.supervisor import Supervisor

    supervisor = Supervisor(locations, mode="headless")
    supervisor.bus.subscribe(_log_event)
    report = await supervisor.start()
    print(report.describe(), flush=True)
    for task_id, note in sorted(report.notes.items()):
        print(f"  task {task_id}: {note}", flush=True)
    stop = asyncio.Event()
    _on_stop_signals(stop.set)  # before saying so: a Ctrl+C from then on stops it cleanly
    print(f"Supervising {locations.data} (pid {os.getpid()}); Ctrl+C to stop.", flush=True)
    await stop.wait()
    print("Stopping: agents keep running and will be reattached next time.", flush=True)
    await supervisor.stop()
    return EXIT_OK


def _on_stop_signals(callback: Callable[[], None]) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, callback)
        except (NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(callback))


def _log_event(event: Event) -> None:
    from app.supervisor.events import Notice, RunStateChanged

    if isinstance(event, RunStateChanged):
        extra = f" (exit code {event.exit_code})" if event.exit_code is not None else ""
        why = f": {event.message}" if event.message and event.new.is_terminal else ""
        log.info("task %s run %s: %s%s%s", event.task_id, event.run_id, event.new.value, extra, why)
    elif isinstance(event, Notice):
        import logging

        log.log(logging.getLevelName(event.level.upper()), "%s", event.text)


# ---------------------------------------------------------------------- recovery, quit, doctor


def cmd_recovery(args: argparse.Namespace) -> int:
    from app.store import recovery_repo

    _, conn = open_store()
    reports = recovery_repo.recovery_reports(conn, args.limit)
    if args.json:
        print_json([r.to_json() for r in reports])
        return EXIT_OK
    for report in reports:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(report.started_at))
        print(f"{when}  {report.describe()}")
        for task_id, note in sorted(report.notes.items()):
            print(f"    task {task_id}: {note}")
    if not reports:
        print("No recoveries yet.")
    return EXIT_OK


def cmd_quit(args: argparse.Namespace) -> int:
    """Used by installers before an upgrade: the app quits, its agents keep running and the
    new version reattaches them."""
    from app.store.locations import locations_from_env
    from app.supervisor.lock import is_locked

    locations = locations_from_env()
    if not is_locked(locations.lock):
        print("Agentry is not running.")
        return EXIT_OK
    from app.ui.single_instance import ask_running_to_quit

    if not ask_running_to_quit(locations):
        print(
            "agentry: the running Agentry did not answer; quit it from its tray menu",
            file=sys.stderr,
        )
        return EXIT_ERROR
    deadline = time.monotonic() + args.timeout
    while is_locked(locations.lock):
        if time.monotonic() > deadline:
            print(f"agentry: Agentry is still running after {args.timeout:g} s", file=sys.stderr)
            return EXIT_ERROR
        time.sleep(0.2)
    print("Agentry quit; its agents keep running.")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from app.store.locations import locations_from_env
    from app.supervisor import doctor

    locations = locations_from_env()
    report = doctor.collect(locations)
    if args.export:
        return _export_diagnostics(locations, args, report)
    if args.json:
        print_json(doctor.to_json(report))
    else:
        doctor.render_text(report, sys.stdout)
    return EXIT_ERROR if report.problems else EXIT_OK


def _export_diagnostics(
    locations: Locations, args: argparse.Namespace, report: HealthReport
) -> int:
    from pathlib import Path

    from app.supervisor.diagnostics import DiagnosticsError, export

    target = Path(args.export).expanduser().absolute()
    try:
        export(locations, target, include_private=args.include_private, report=report)
    except DiagnosticsError as exc:
        print(f"agentry: {exc}", file=sys.stderr)
        return EXIT_ERROR
    kept = "with prompts, output and secrets" if args.include_private else "redacted"
    print(f"Wrote {target} ({kept})")
    return EXIT_OK
