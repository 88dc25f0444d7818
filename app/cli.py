"""The ``agentry`` command.

Every subcommand is a small function taking parsed arguments and returning an exit
status. Known problems (a folder held by another supervisor, a database that is not ours,
a task that cannot be cancelled) are printed as one clear line on stderr; bugs keep their
traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from app import __version__
from app.core import durations
from app.core.errors import AgentryError
from app.core.models import Run, TaskSpec
from app.core.states import CLI_EXIT_FOR_STATE, SPAWN_ERROR_EXIT, RunState
from app.runner import protocol
from app.store import repo
from app.store.db import Connection, DatabaseError, describe_sqlite_error, open_database
from app.store.locations import Locations
from app.store.settings import load_settings
from app.supervisor import commands
from app.supervisor.events import Event, Notice, RunStateChanged
from app.supervisor.lock import AlreadyRunning
from app.supervisor.tail import OutputTail

log = logging.getLogger("agentry")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


# ---------------------------------------------------------------------- entry


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["--runner"]:  # the frozen app doubles as the runner
        from app.runner.main import main as runner_main

        return runner_main(args_list[1:])
    if args_list[:1] == ["--demo-agent"]:  # ... and as the built-in demo agent
        from app.demo_agent import main as demo_main

        return demo_main()
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.handler is None:
        args.handler = cmd_gui
    _setup_logging(args)
    try:
        code = int(args.handler(args))
        sys.stdout.flush()  # here, where a closed pipe is handled, not at interpreter exit
        return code
    except AgentryError as exc:
        print(f"agentry: {exc}", file=sys.stderr)
        return exc.exit_code
    except DatabaseError as exc:
        path = Locations.from_env().database
        print(f"agentry: {describe_sqlite_error(exc, path)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `agentry list | head`: the reader has all it wanted. Point stdout at devnull so
        # the interpreter's final flush does not fail again on the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentry",
        description="Run and supervise local AI coding agents, and never lose them. "
        "Without a command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"agentry {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="open the app, check its window and supervisor, quit (agents keep running)",
    )
    parser.add_argument("--screenshot", metavar="PNG", help=argparse.SUPPRESS)
    parser.add_argument("--screenshot-delay", type=float, default=3.0, help=argparse.SUPPRESS)
    parser.set_defaults(handler=None)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    p = sub.add_parser("serve", help="run the supervisor until interrupted")
    p.add_argument("--headless", action="store_true", help="no window (the only mode for now)")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("run", help="enqueue a command as a task (put it after --)")
    p.add_argument("--cwd", type=Path, default=None, help="working folder (default: here)")
    p.add_argument(
        "--timeout",
        type=parse_duration,
        default=None,
        help="limit such as 90, 30m or 2h; 0 or 'none' for no limit (default: from settings)",
    )
    p.add_argument("--title", default="", help="a name for the task")
    p.add_argument("--priority", type=int, default=0, help="higher starts first (default 0)")
    p.add_argument("--wait", action="store_true", help="follow its output; exit with its code")
    p.add_argument(
        "--agent",
        default="shell",
        help="shell (default: run COMMAND), demo, claude, codex, gemini, aider, opencode or q",
    )
    p.add_argument("--model", default=None, help="the agent's model")
    p.add_argument("--permission-mode", default=None, help="the agent's permission mode")
    p.add_argument("--raw", action="store_true", help="with --wait: the agent's raw output")
    p.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        help="-- COMMAND [ARGS...] for shell; the PROMPT (or - for stdin) for agents",
    )
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("follow-up", help="send the next message in a task's agent session")
    p.add_argument("task", help="task id")
    p.add_argument("message", nargs="+", help="the message (or - for stdin)")
    p.add_argument("--wait", action="store_true", help="follow the new run; exit with its code")
    p.add_argument("--raw", action="store_true", help="with --wait: the agent's raw output")
    p.set_defaults(handler=cmd_follow_up)

    p = sub.add_parser("resume", help="continue an interrupted task's agent session")
    p.add_argument("task", help="task id")
    p.add_argument("--wait", action="store_true", help="follow the new run; exit with its code")
    p.add_argument("--raw", action="store_true", help="with --wait: the agent's raw output")
    p.set_defaults(handler=cmd_resume)

    p = sub.add_parser("agents", help="which agent CLIs are installed, and how to install them")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_agents)

    p = sub.add_parser("list", help="list tasks")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--limit", type=int, default=None, help="only the newest N tasks")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("logs", help="print a task's output")
    p.add_argument("task", help="task id")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing until it ends")
    p.set_defaults(handler=cmd_logs)

    p = sub.add_parser("cancel", help="cancel a task (stops its whole process tree)")
    p.add_argument("task", help="task id")
    p.set_defaults(handler=cmd_cancel)

    p = sub.add_parser("retry", help="run a finished, failed or interrupted task again")
    p.add_argument("task", help="task id")
    p.set_defaults(handler=cmd_retry)

    p = sub.add_parser("recovery", help="show what the last start-ups recovered")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--limit", type=int, default=5)
    p.set_defaults(handler=cmd_recovery)

    from app.cli_approvals import add_commands as add_approval_commands

    add_approval_commands(sub)

    p = sub.add_parser("quit", help="ask the running Agentry to quit (agents keep running)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait (default 30)")
    p.set_defaults(handler=cmd_quit)

    from app.cli_workflows import add_commands as add_workflow_commands

    add_workflow_commands(sub)

    p = sub.add_parser("doctor", help="check the data folder, database, runners and disk")
    p.set_defaults(handler=cmd_doctor)
    return parser


def parse_duration(text: str) -> float:
    """argparse type for --timeout (see app.core.durations)."""
    try:
        return durations.parse_duration(text)
    except durations.DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _setup_logging(args: argparse.Namespace) -> None:
    """Warnings on stderr (everything with -v, progress too for serve); a log file for
    every command that hosts a supervisor."""
    serving = args.handler in (cmd_serve, cmd_gui) or getattr(args, "wait", False)
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    verbose = args.verbose or args.handler is cmd_serve
    console.setLevel(
        logging.DEBUG if args.verbose else logging.INFO if verbose else logging.WARNING
    )
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    root.addHandler(console)
    if serving:
        locations = Locations.from_env()
        locations.logs.mkdir(parents=True, exist_ok=True)
        from logging.handlers import RotatingFileHandler

        handler = RotatingFileHandler(
            locations.logs / "agentry.log", maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
        )
        logging.getLogger().addHandler(handler)


def _open() -> tuple[Locations, Connection]:
    locations = Locations.from_env()
    locations.ensure()
    return locations, open_database(locations.database)


# ---------------------------------------------------------------------- the app, serve


def cmd_gui(args: argparse.Namespace) -> int:
    from app.ui.application import run_gui

    return run_gui(
        Locations.from_env(),
        smoke_test=args.smoke_test,
        screenshot=args.screenshot,
        screenshot_delay=args.screenshot_delay,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    return asyncio.run(_serve(Locations.from_env()))


async def _serve(locations: Locations) -> int:
    import asyncio

    from app.supervisor.supervisor import Supervisor
    from app.supervisor.workflows import WorkflowEngine

    supervisor = Supervisor(locations, mode="headless")
    WorkflowEngine(supervisor).attach()
    supervisor.bus.subscribe(_log_event)
    report = await supervisor.start()
    print(report.describe(), flush=True)
    for task_id, note in sorted(report.notes.items()):
        print(f"  task {task_id}: {note}", flush=True)
    print(f"Supervising {locations.data} (pid {os.getpid()}); Ctrl+C to stop.", flush=True)
    stop = asyncio.Event()
    _on_stop_signals(stop.set)
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
    if isinstance(event, RunStateChanged):
        extra = f" (exit code {event.exit_code})" if event.exit_code is not None else ""
        why = f": {event.message}" if event.message and event.new.is_terminal else ""
        log.info("task %s run %s: %s%s%s", event.task_id, event.run_id, event.new.value, extra, why)
    elif isinstance(event, Notice):
        log.log(logging.getLevelName(event.level.upper()), "%s", event.text)


# ---------------------------------------------------------------------- run, logs


def cmd_run(args: argparse.Namespace) -> int:
    words = list(args.command)
    if words[:1] == ["--"]:
        words = words[1:]
    cwd = (args.cwd or Path.cwd()).expanduser().resolve()
    if not cwd.is_dir():
        return _usage(f"working folder {cwd} does not exist; create it or pass another --cwd")
    if args.agent == "shell":
        if not words:
            return _usage("give the command to run after --, e.g. agentry run -- make test")
        spec = TaskSpec(argv=tuple(words), cwd=str(cwd), title=args.title, timeout=args.timeout,
                        priority=args.priority)  # fmt: skip
    else:
        prompt = " ".join(words)
        if prompt == "-":
            prompt = sys.stdin.read()
        options = {"model": args.model, "permission_mode": args.permission_mode}
        spec = TaskSpec(argv=(), cwd=str(cwd), title=args.title or _title_from(prompt),
                        agent=args.agent, prompt=prompt or None, timeout=args.timeout,
                        priority=args.priority, options=options)  # fmt: skip
    locations, conn = _open()
    task_id, run_id = commands.submit(conn, spec, load_settings(locations.settings))
    return _queued(locations, conn, task_id, run_id, args)


def _title_from(prompt: str) -> str:
    first = prompt.strip().splitlines()[0] if prompt.strip() else ""
    return first if len(first) <= 80 else first[:79] + "…"


def _usage(message: str) -> int:
    print(f"agentry: {message}", file=sys.stderr)
    return EXIT_USAGE


def _queued(
    locations: Locations, conn: Connection, task_id: int, run_id: int,
    args: argparse.Namespace,
) -> int:  # fmt: skip
    """Print the task id, or with --wait follow the run and exit with its status."""
    if not args.wait:
        print(task_id, flush=True)
        return EXIT_OK
    # Standard output carries exactly the agent's output, so it can be piped.
    print(f"agentry: task {task_id} queued", file=sys.stderr, flush=True)
    import asyncio

    run = asyncio.run(_wait_for_run(locations, conn, run_id, raw=getattr(args, "raw", False)))
    if run.reason == "spawn_error" and run.message:
        print(f"agentry: task {task_id} could not start: {run.message}", file=sys.stderr)
    return exit_status(run)


def cmd_follow_up(args: argparse.Namespace) -> int:
    locations, conn = _open()
    message = " ".join(args.message)
    if message == "-":
        message = sys.stdin.read()
    task_id, run_id = commands.follow_up(
        conn, args.task, message, load_settings(locations.settings)
    )
    if not args.wait:
        print(f"Task {task_id}: follow-up queued (run {run_id}).")
        return EXIT_OK
    return _queued(locations, conn, task_id, run_id, args)


def cmd_resume(args: argparse.Namespace) -> int:
    locations, conn = _open()
    task_id, run_id = commands.resume(conn, args.task, load_settings(locations.settings))
    if not args.wait:
        print(f"Task {task_id}: resuming its agent session (run {run_id}).")
        return EXIT_OK
    return _queued(locations, conn, task_id, run_id, args)


def cmd_agents(args: argparse.Namespace) -> int:
    from app.supervisor.adapters import detect_all

    paths = load_settings(Locations.from_env().settings).agent_paths
    detections = list(detect_all(paths).values())
    if args.json:
        json.dump([{"agent": d.agent, "label": d.label, "found": d.found, "path": d.path,
                    "version": d.version, "install": d.install_hint, "problem": d.problem}
                   for d in detections], sys.stdout, indent=2)  # fmt: skip
        sys.stdout.write("\n")
        return EXIT_OK
    for d in detections:
        print(f"  {'ok  ' if d.found else 'MISSING'}  {d.agent:<8} {d.describe()}")
    return EXIT_OK


async def _wait_for_run(
    locations: Locations, conn: Connection, run_id: int, *, raw: bool = False
) -> Run:
    from app.supervisor.supervisor import Supervisor
    from app.supervisor.workflows import WorkflowEngine

    supervisor: Supervisor | None = Supervisor(locations, mode="cli")
    assert supervisor is not None
    WorkflowEngine(supervisor).attach()
    try:
        await supervisor.start()
    except AlreadyRunning:
        supervisor = None  # the supervisor that is running will start it
    try:
        return await follow(conn, locations, run_id, sys.stdout, raw=raw)
    finally:
        if supervisor is not None:
            await supervisor.stop()


async def follow(
    conn: Connection, locations: Locations, run_id: int, out: TextIO, *, raw: bool = False
) -> Run:
    """Print a run's output as it grows until the run has ended; returns the final run.

    A structured agent's JSON lines are shown as readable text unless ``raw``.
    """
    import asyncio

    run = repo.get_run(conn, run_id)
    show = _display(repo.get_task(conn, run.task_id).agent, out, raw)
    tail = OutputTail(protocol.output_log(locations.run_dir(run.dir)))
    while True:
        lines = tail.read_lines()
        _write(out, show(lines))
        run = repo.get_run(conn, run_id)
        if run.state.is_terminal:
            while chunk := tail.read_lines():
                _write(out, show(chunk))
            _write(out, show(tail.flush()))
            return run
        await asyncio.sleep(0.02 if lines else 0.1)


def _display(agent: str, out: TextIO, raw: bool) -> Callable[[list[str]], list[str]]:
    from app.core import ansi
    from app.core.render import Renderer
    from app.supervisor.adapters import get_adapter_or_none

    adapter = get_adapter_or_none(agent)
    renderer = Renderer(adapter.parser()) if adapter and adapter.structured and not raw else None
    colour = out.isatty() and not os.environ.get("NO_COLOR")

    def show(lines: list[str]) -> list[str]:
        shown = [d for line in lines for d in renderer.feed(line)] if renderer else lines
        return shown if colour or renderer is None else [ansi.strip(line) for line in shown]

    return show


def _write(out: TextIO, lines: list[str]) -> None:
    if lines:
        out.write("".join(f"{line}\n" for line in lines))
        out.flush()


def exit_status(run: Run) -> int:
    """The agent's own exit code where it has one; shell conventions otherwise."""
    if run.reason == "spawn_error":
        return SPAWN_ERROR_EXIT
    if run.state in CLI_EXIT_FOR_STATE:
        return CLI_EXIT_FOR_STATE[run.state]
    code = run.exit_code if run.exit_code is not None else EXIT_ERROR
    return 128 - code if code < 0 else code  # killed by signal N -> 128+N, as shells report


def cmd_logs(args: argparse.Namespace) -> int:
    locations, conn = _open()
    task = repo.resolve_task(conn, args.task)
    if task.latest_run is None:
        return EXIT_OK
    if args.follow:
        import asyncio

        asyncio.run(follow(conn, locations, task.latest_run.id, sys.stdout))
        return EXIT_OK
    path = protocol.output_log(locations.run_dir(task.latest_run.dir))
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 16):
                sys.stdout.buffer.write(chunk)
    except FileNotFoundError:
        if task.latest_run.state is not RunState.QUEUED:
            print(f"agentry: task {task.id} has no output file ({path})", file=sys.stderr)
    sys.stdout.flush()
    return EXIT_OK


# ---------------------------------------------------------------------- list, cancel, retry


def cmd_list(args: argparse.Namespace) -> int:
    _, conn = _open()
    tasks = repo.list_tasks(conn, args.limit)
    if args.json:
        json.dump([t.summary() for t in tasks], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    if not tasks:
        print("No tasks yet. Start one with: agentry run -- COMMAND")
        return EXIT_OK
    print(f"{'ID':>5}  {'STATE':<11} {'EXIT':>4}  {'AGENT':<7} {'CREATED':<16}  TITLE")
    for task in tasks:
        s = task.summary()
        code = "" if s["exit_code"] is None else str(s["exit_code"])
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(task.created_at))
        print(
            f"{task.id:>5}  {s['state'] or '-':<11} {code:>4}  {task.agent:<7} {created:<16}  "
            f"{task.title}"
        )
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace) -> int:
    locations, conn = _open()
    result = commands.cancel(conn, locations, args.task)
    if result.requested:
        print(f"Task {result.task_id}: asked its runner to stop the agent.")
    else:
        print(f"Task {result.task_id}: cancelled before it started.")
    return EXIT_OK


def cmd_retry(args: argparse.Namespace) -> int:
    locations, conn = _open()
    task_id, run_id = commands.retry(conn, args.task, load_settings(locations.settings))
    print(f"Task {task_id}: queued again (run {run_id}).")
    return EXIT_OK


def cmd_recovery(args: argparse.Namespace) -> int:
    _, conn = _open()
    reports = repo.recovery_reports(conn, args.limit)
    if args.json:
        json.dump([r.to_json() for r in reports], sys.stdout, indent=2)
        sys.stdout.write("\n")
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
    from app.supervisor.lock import is_locked

    locations = Locations.from_env()
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
    from app.supervisor.doctor import run_checks

    problems = run_checks(Locations.from_env(), sys.stdout)
    return EXIT_ERROR if problems else EXIT_OK
