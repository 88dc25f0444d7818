"""The ``agentry`` commands about tasks: run, follow-up, resume, agents, list, logs, cancel
and retry, and following a run's output (``--wait``, ``logs -f``) until it ends."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    Subparsers,
    open_store,
    print_json,
    usage_error,
)
from app.core import durations
from app.core.models import TaskOrigin, TaskSpec
from app.core.states import CLI_EXIT_FOR_STATE, SPAWN_ERROR_EXIT, ExitReason, RunState
from app.store import repo

if TYPE_CHECKING:
    from app.core.locations import Locations
    from app.core.models import Run
    from app.core.settings import Settings
    from app.store.db import Connection

# The supervisor's commands, settings and adapters are imported inside the commands that
# use them (app.cli.program says why); what stays above is what `run`, `list` and `logs`
# all need, and what `follow` uses.


def add_run(sub: Subparsers) -> None:
    """`run` alone: the command most often typed (and scripted) builds only its own parser."""
    p = sub.add_parser(
        "run",
        help="enqueue a command as a task (argv after --, or a command line with --shell)",
    )
    add_task_options(p)
    p.add_argument("--wait", action="store_true", help="follow its output; exit with its code")
    p.add_argument("--raw", action="store_true", help="with --wait: the agent's raw output")
    p.set_defaults(handler=cmd_run)


def add_task_options(p: argparse.ArgumentParser) -> None:
    """What a task is, as `run` takes it (and `schedule add` for the task it starts)."""
    p.add_argument("--cwd", type=Path, default=None, help="working folder (default: here)")
    p.add_argument(
        "--timeout",
        type=parse_duration,
        default=None,
        help="limit such as 90, 30m or 2h; 0 or 'none' for no limit (default: from settings)",
    )
    p.add_argument("--title", default="", help="a name for the task")
    p.add_argument(
        "--shell",
        metavar="COMMAND",
        default=None,
        help="run COMMAND through your shell ($SHELL -lc, /bin/sh -c; on Windows cmd or "
        "PowerShell as Settings say), pipes and globs included; instead of -- COMMAND ARGS",
    )
    p.add_argument("--priority", type=int, default=0, help="higher starts first (default 0)")
    p.add_argument(
        "--agent",
        default="shell",
        help="shell (default: run COMMAND), demo, claude, codex, gemini, aider, opencode or q",
    )
    p.add_argument("--model", default=None, help="the agent's model")
    p.add_argument("--permission-mode", default=None, help="the agent's permission mode")
    p.add_argument(
        "--worktree",
        action="store_true",
        help="run in a git worktree of its own, on a new branch agentry/ID-TITLE",
    )
    p.add_argument(
        "--lock",
        action="store_true",
        help="hold the folder (its repository) while it runs: other holding tasks there "
        "wait their turn (coding agents in place always do)",
    )
    p.add_argument(
        "--base",
        default=None,
        help="with --worktree: branch or commit to start from (default: the one checked out)",
    )
    p.add_argument(
        "--restart",
        choices=("never", "on-failure", "always"),
        default="never",
        help="start it again after a failure (or after any ending but a cancel or a "
        "timeout, for always), resuming the agent's session where it can (default: never)",
    )
    p.add_argument(
        "--max-restarts",
        type=_positive_int,
        default=3,
        metavar="N",
        help="with --restart: give up after N restarts (default 3)",
    )
    p.add_argument(
        "--backoff",
        type=_backoff,
        default=(5.0, 300.0),
        metavar="MIN..MAX",
        help="with --restart: wait MIN before the first restart, twice as long before each "
        "next one, at most MAX (default 5s..5m)",
    )
    p.add_argument(
        "--memory-limit",
        type=_size,
        default=None,
        metavar="SIZE",
        help="stop its whole process tree when it uses more memory than SIZE, e.g. 4G "
        "(default: as Settings say; none for no limit)",
    )
    p.add_argument(
        "--no-auto-resume",
        action="store_true",
        help="when its agent hits a usage limit, stop rather than resume after the reset "
        "(default: as Settings say)",
    )
    p.add_argument(
        "--max-resumes",
        type=int,
        default=None,
        metavar="N",
        help="resume after a usage limit at most N times (default: as Settings say)",
    )
    p.add_argument(
        "--quiet-hours",
        default=None,
        metavar="HH:MM-HH:MM",
        help="never resume after a usage limit in these hours of your day, e.g. 23:00-07:00 "
        "(default: as Settings say; none for none)",
    )
    p.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        help="-- COMMAND [ARGS...] for shell; the PROMPT (or - for stdin) for agents",
    )


def add_commands(sub: Subparsers) -> None:
    p = sub.add_parser("follow-up", help="send the next message in a task's agent session")
    p.add_argument("task", help="task id")
    p.add_argument("message", nargs="+", help="the message (or - for stdin)")
    _add_wait(p)
    p.set_defaults(handler=cmd_follow_up)

    p = sub.add_parser(
        "resume",
        help="continue an interrupted task's agent session; start a waiting one now",
    )
    p.add_argument("task", help="task id")
    _add_wait(p)
    p.set_defaults(handler=cmd_resume)

    p = sub.add_parser("agents", help="which agent CLIs are installed, and how to install them")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_agents)

    p = sub.add_parser("list", help="list tasks")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--limit", type=int, default=None, help="only the newest N tasks")
    p.add_argument("--archived", action="store_true", help="only archived tasks")
    p.add_argument("--all", action="store_true", help="archived tasks too")
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


def _add_wait(parser: argparse.ArgumentParser) -> None:
    """--wait and --raw of follow-up and resume (`run` words them, and orders them, its own way)."""
    parser.add_argument(
        "--wait", action="store_true", help="follow the new run; exit with its code"
    )
    parser.add_argument("--raw", action="store_true", help="with --wait: the agent's raw output")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def _size(text: str) -> int:
    from app.core.sizes import SizeError, parse_size

    try:
        return parse_size(text)
    except SizeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _backoff(text: str) -> tuple[float, float]:
    from app.core.restarts import BackoffError, parse_backoff

    try:
        return parse_backoff(text)
    except BackoffError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_duration(text: str) -> float:
    """argparse type for --timeout (see app.core.durations)."""
    try:
        return durations.parse_duration(text)
    except durations.DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# ---------------------------------------------------------------------- run, logs


def cmd_run(args: argparse.Namespace) -> int:
    from app.store.locations import locations_from_env
    from app.store.settings import load_settings
    from app.supervisor import commands

    settings = load_settings(locations_from_env().settings)
    spec = task_spec(args, settings)
    if isinstance(spec, int):
        return spec
    locations, conn = open_store()
    task_id, run_id = commands.submit(conn, spec, settings)
    return _queued(locations, conn, task_id, run_id, args)


def task_spec(args: argparse.Namespace, settings: Settings) -> TaskSpec | int:
    """The task the options of :func:`add_task_options` describe, or the exit status of a
    usage error (said on stderr)."""
    words = list(args.command)
    if words[:1] == ["--"]:
        words = words[1:]
    cwd = (args.cwd or Path.cwd()).expanduser().resolve()
    if not cwd.is_dir():
        return usage_error(f"working folder {cwd} does not exist; create it or pass another --cwd")
    if args.shell is not None and (args.agent != "shell" or words):
        return usage_error(
            "--shell COMMAND is the whole command: give it or an argv after --, not both"
            if args.agent == "shell"
            else f"--shell runs a command, not {args.agent}: leave out --agent or --shell"
        )
    if args.shell is not None:
        if not args.shell.strip():
            return usage_error('--shell needs a command line, e.g. --shell "make test | tee log"')
        from app.core.command_shell import shell_task

        spec = shell_task(args.shell, str(cwd), shell=settings.command_shell, title=args.title,
                          timeout=args.timeout, priority=args.priority)  # fmt: skip
    elif args.agent == "shell":
        if not words or not words[0].strip():
            return usage_error(
                "give the command to run after -- (e.g. agentry run -- make test), or a "
                'command line for your shell with --shell (e.g. --shell "make test | tee log")'
            )
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
    if args.base and not args.worktree:
        return usage_error("--base goes with --worktree")
    if args.memory_limit is not None:  # 0: none, whatever Settings say
        spec = dataclasses.replace(spec, memory_limit_mb=args.memory_limit / 1024**2)
    if args.max_resumes is not None and args.max_resumes < 0:
        return usage_error("--max-resumes must be 0 (never resume) or more")
    quiet = None if args.quiet_hours is None else args.quiet_hours.strip()
    if quiet is not None:
        from app.core.policies import quiet_hours_problem

        quiet = "" if quiet.lower() == "none" else quiet
        problem = quiet_hours_problem(quiet)
        if problem:
            return usage_error(f"--quiet-hours: {problem}")
    if args.no_auto_resume or args.max_resumes is not None or quiet is not None:
        from app.core.policies import LimitPolicy

        auto = False if args.no_auto_resume else None
        spec = dataclasses.replace(spec, limits=LimitPolicy(auto, args.max_resumes, quiet))
    if args.restart != "never":
        from app.core.policies import RestartMode, RestartPolicy

        low, high = args.backoff
        policy = RestartPolicy(RestartMode(args.restart), args.max_restarts, low, high)
        spec = dataclasses.replace(spec, restart=policy)
    if args.lock:
        if args.worktree:
            return usage_error("--lock is for tasks in place; a worktree is never shared")
        spec = dataclasses.replace(spec, lock=True)
    if args.worktree:
        from app.cli.worktrees import check_worktree_folder

        check_worktree_folder(cwd, args.base)  # refused here, before anything is queued
        spec = dataclasses.replace(spec, worktree=True, base=args.base)
    return spec


def _read_store() -> Connection | None:
    """The database for a command that only reads (None when there is none yet: it makes
    none). Runs in the run folders that the database does not know are said, never hidden:
    with no database at all that is an error (DatabaseLost)."""
    from app.store.db import NoDatabase
    from app.store.locations import locations_from_env
    from app.supervisor import lost_runs

    locations = locations_from_env()
    try:
        _, conn = open_store(read_only=True)
    except NoDatabase:
        lost_runs.check_nothing_lost(None, locations)
        return None
    try:
        lost_runs.check_nothing_lost(conn, locations)
    except lost_runs.DatabaseLost as lost:
        print(f"agentry: warning: {lost}", file=sys.stderr)
    return conn


def _title_from(prompt: str) -> str:
    first = prompt.strip().splitlines()[0] if prompt.strip() else ""
    return first if len(first) <= 80 else first[:79] + "…"


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
    if run.reason is ExitReason.SPAWN_ERROR and run.message:
        print(f"agentry: task {task_id} could not start: {run.message}", file=sys.stderr)
    elif run.reason is ExitReason.SETUP_FAILED and run.message:
        print(f"agentry: task {task_id} did not start: {run.message}", file=sys.stderr)
    return exit_status(run)


def cmd_follow_up(args: argparse.Namespace) -> int:
    from app.store.settings import load_settings
    from app.supervisor import commands

    locations, conn = open_store()
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
    from app.store.settings import load_settings
    from app.supervisor import commands

    locations, conn = open_store()
    waited = commands.start_now(conn, args.task)
    if waited is not None:
        task_id, run = waited
        at = time.strftime("%H:%M:%S", time.localtime(run.not_before))
        said = f"Task {task_id}: starting now rather than at {at} (run {run.id})."
        run_id = run.id
    else:
        task_id, run_id = commands.resume(conn, args.task, load_settings(locations.settings))
        said = f"Task {task_id}: resuming its agent session (run {run_id})."
    if not args.wait:
        print(said)
        return EXIT_OK
    return _queued(locations, conn, task_id, run_id, args)


def cmd_agents(args: argparse.Namespace) -> int:
    from app.store.locations import locations_from_env
    from app.store.settings import load_settings
    from app.supervisor.adapters import detect_all

    paths = load_settings(locations_from_env().settings).agent_paths
    detections = list(detect_all(paths).values())
    if args.json:
        print_json([{"agent": d.agent, "label": d.label, "found": d.found, "path": d.path,
                     "version": d.version, "install": d.install_hint, "problem": d.problem}
                    for d in detections])  # fmt: skip
        return EXIT_OK
    for d in detections:
        print(f"  {'ok  ' if d.found else 'MISSING'}  {d.agent:<8} {d.describe()}")
    return EXIT_OK


@contextlib.asynccontextmanager
async def hosting(locations: Locations) -> AsyncIterator[None]:
    """A supervisor of this command's own for as long as it follows work, unless one runs
    already (the app, `serve`): that one carries the work through."""
    from app.supervisor.lock import AlreadyRunning
    from app.supervisor.supervisor import Supervisor

    supervisor: Supervisor | None = Supervisor(locations, mode="cli")
    assert supervisor is not None
    try:
        await supervisor.start()
    except AlreadyRunning:
        supervisor = None
    try:
        yield
    finally:
        if supervisor is not None:
            await supervisor.stop()


async def _wait_for_run(
    locations: Locations, conn: Connection, run_id: int, *, raw: bool = False
) -> Run:
    from app.cli.follow import follow

    async with hosting(locations):
        return await follow(conn, locations, run_id, sys.stdout, raw=raw)


def exit_status(run: Run) -> int:
    """The agent's own exit code where it has one; shell conventions otherwise."""
    if run.reason is ExitReason.SPAWN_ERROR:
        return SPAWN_ERROR_EXIT
    if run.state in CLI_EXIT_FOR_STATE:
        return CLI_EXIT_FOR_STATE[run.state]
    code = run.exit_code if run.exit_code is not None else EXIT_ERROR
    return 128 - code if code < 0 else code  # killed by signal N -> 128+N, as shells report


def cmd_logs(args: argparse.Namespace) -> int:
    locations, conn = open_store(read_only=True)
    task = repo.resolve_task(conn, args.task)
    if task.latest_run is None:
        return EXIT_OK
    if args.follow:
        from app.cli.follow import follow_blocking

        follow_blocking(conn, locations, task.latest_run.id, sys.stdout, raw=True)
        return EXIT_OK
    from app.runner import protocol

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
    """From one query's summaries, not Task records: 10,000 tasks list in a blink (the JSON
    is written in one call, so unbuffered output costs nothing more)."""
    from app.store.summary_repo import task_summaries

    conn = _read_store()
    archived = None if args.all else bool(args.archived)
    tasks = task_summaries(conn, args.limit, archived=archived) if conn is not None else []
    if args.json:
        print_json(tasks)
        return EXIT_OK
    if not tasks:
        print("No tasks yet. Start one with: agentry run -- COMMAND")
        return EXIT_OK
    lines = [f"{'ID':>5}  {'STATE':<11} {'EXIT':>4}  {'AGENT':<7} {'CREATED':<16}  TITLE"]
    for s in tasks:
        code = "" if s["exit_code"] is None else str(s["exit_code"])
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(s["created_at"]))
        wait = s["waiting_for"]
        note = f"  (waiting for #{wait['task']} on {wait['folder']})" if wait else ""
        if s["not_before"] is not None:
            at = time.strftime("%H:%M:%S", time.localtime(s["not_before"]))
            if s["wait_reason"] == "limit":
                note += f"  (waiting: {s['agent']} limit until {at})"
            else:
                note += f"  ({s['wait_reason'] or 'waits'} at {at})"
        note += "  (archived)" if s["archived"] else ""
        origin = TaskOrigin.from_json(s["origin"])
        note += f"  ({origin.describe()})" if origin else ""
        lines.append(
            f"{s['id']:>5}  {s['state'] or '-':<11} {code:>4}  {s['agent']:<7} {created:<16}  "
            f"{s['title']}{note}"
        )
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace) -> int:
    from app.supervisor import commands

    locations, conn = open_store()
    result = commands.cancel(conn, locations, args.task)
    if result.requested:
        print(f"Task {result.task_id}: asked its runner to stop the agent.")
    else:
        print(f"Task {result.task_id}: cancelled before it started.")
    return EXIT_OK


def cmd_retry(args: argparse.Namespace) -> int:
    from app.store.settings import load_settings
    from app.supervisor import commands

    locations, conn = open_store()
    task_id, run_id = commands.retry(conn, args.task, load_settings(locations.settings))
    print(f"Task {task_id}: queued again (run {run_id}).")
    return EXIT_OK
