"""The ``agentry`` program: picks the role from the first argument, assembles the parser
from the groups of subcommands, sets up logging, runs the chosen subcommand and maps
errors to exit statuses.

Known problems (a folder held by another supervisor, a database that is not ours, a task
that cannot be cancelled) are `AgentryError`s: printed as one clear line on stderr, exit
with the error's `exit_code`. Bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from app import __version__
from app.cli import (
    approvals,
    backups,
    lands,
    organise,
    projects,
    recover,
    server,
    tasks,
    workflows,
    worktrees,
)
from app.cli.common import EXIT_ERROR, EXIT_OK
from app.cli.logfiles import LogFile, RepeatFilter, collapse_repeats
from app.core.errors import AgentryError
from app.store import diskspace, fsops
from app.store.db import DatabaseError, describe_sqlite_error
from app.store.locations import locations_from_env


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
        args.handler = server.cmd_gui
    repeats = _setup_logging(args)
    try:
        code = int(args.handler(args))
        sys.stdout.flush()  # here, where a closed pipe is handled, not at interpreter exit
        return code
    except AgentryError as exc:
        print(f"agentry: {exc}", file=sys.stderr)
        return exc.exit_code
    except DatabaseError as exc:
        path = locations_from_env().database
        print(f"agentry: {describe_sqlite_error(exc, path)}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # `agentry list | head`: the reader has all it wanted. Point stdout at devnull so
        # the interpreter's final flush does not fail again on the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        if not diskspace.is_disk_trouble(exc):  # a bug, or something we do not know yet
            raise
        print(f"agentry: {diskspace.describe(exc, locations_from_env().data)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    finally:
        for held in repeats:
            held.flush()  # say how often the last errors repeated


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
    parser.add_argument("--screenshot-size", metavar="WxH", help=argparse.SUPPRESS)
    parser.set_defaults(handler=None)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    # Registration order is the order `agentry --help` lists the commands in.
    server.add_serve(sub)
    tasks.add_commands(sub)
    organise.add_commands(sub)
    worktrees.add_commands(sub)
    lands.add_commands(sub)
    projects.add_commands(sub)
    server.add_recovery(sub)
    recover.add_commands(sub)
    backups.add_commands(sub)
    approvals.add_commands(sub)
    server.add_quit(sub)
    workflows.add_commands(sub)
    server.add_doctor(sub)
    return parser


def _setup_logging(args: argparse.Namespace) -> list[RepeatFilter]:
    """Warnings on stderr (everything with -v, progress too for serve); a log file for
    every command that hosts a supervisor. Returns the filters that collapse repeats."""
    serving = args.handler in (server.cmd_serve, server.cmd_gui) or getattr(args, "wait", False)
    root = logging.getLogger()
    if args.handler is approvals.cmd_hook:
        # The agent reads the hook's stderr as the reason for a deny: one plain line, never
        # a traceback. What went wrong goes to the log file.
        root.setLevel(logging.INFO)
        try:
            root.addHandler(_log_file())
        except OSError:  # an unwritable data folder must not stop the hook from denying
            root.addHandler(logging.NullHandler())
        return []
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    verbose = args.verbose or args.handler is server.cmd_serve
    console.setLevel(
        logging.DEBUG if args.verbose else logging.INFO if verbose else logging.WARNING
    )
    root.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    root.addHandler(console)
    handlers: list[logging.Handler] = [console]
    if serving:
        try:
            handlers.append(_log_file())
        except OSError as exc:
            _no_log_file(exc)
        else:
            root.addHandler(handlers[-1])
    return [collapse_repeats(handler) for handler in handlers]


def _log_file() -> logging.Handler:
    locations = locations_from_env()
    fsops.make_private_dir(locations.logs)
    handler = LogFile(locations.logs / "agentry.log")
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    )
    return handler


def _no_log_file(exc: OSError) -> None:
    """Go on without a log file. A full or read-only data folder is said once, by the
    supervisor that cannot start there; anything else is said here."""
    locations = locations_from_env()
    if diskspace.is_disk_trouble(exc) and locations.logs.is_relative_to(locations.data):
        return
    logging.getLogger("agentry").warning("no log file: %s", diskspace.describe(exc, locations.logs))
