"""The ``agentry`` program: picks the role from the first argument, assembles the parser
from the groups of subcommands, sets up logging, runs the chosen subcommand and maps
errors to exit statuses.

Known problems (a folder held by another supervisor, a database that is not ours, a task
that cannot be cancelled) are `AgentryError`s: printed as one clear line on stderr, exit
with the error's `exit_code`. Bugs keep their traceback.

Every `agentry` command is a new process, so what it imports is most of what it costs
(`agentry run -- true` should return in about the time Python takes to start). The groups
of subcommands import only argparse and app.cli.common at their top; each command imports
what it uses when it runs, and nothing here imports the store, the supervisor, the adapters
or Qt until a command or an error needs it. tests/unit/test_cli_imports.py holds that line.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app import __version__
from app.cli.common import EXIT_ERROR, EXIT_OK
from app.core import log
from app.core.errors import AgentryError

if TYPE_CHECKING:
    import logging

    from app.cli.repeats import RepeatFilter
    from app.core.locations import Locations


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["--runner"]:  # the frozen app doubles as the runner
        from app.runner.main import main as runner_main

        return runner_main(args_list[1:])
    if args_list[:1] == ["--demo-agent"]:  # ... and as the built-in demo agent
        from app.demo_agent import main as demo_main

        return demo_main()
    parser = build_parser(_command_word(args_list))
    args = parser.parse_args(args_list)
    if args.handler is None:
        args.handler = _registration("server.cmd_gui")
    repeats: list[RepeatFilter] = []

    def setup_logging() -> None:
        repeats.extend(_setup_logging(args))

    log.on_first_use(setup_logging)  # most commands log nothing: they need not pay for it
    try:
        code = int(args.handler(args))
        sys.stdout.flush()  # here, where a closed pipe is handled, not at interpreter exit
        return code
    except AgentryError as exc:
        print(f"agentry: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # `agentry list | head`: the reader has all it wanted. Point stdout at devnull so
        # the interpreter's final flush does not fail again on the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        problem = _known_problem(exc)
        if problem is None:  # a bug, or something we do not know yet
            raise
        print(f"agentry: {problem}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    finally:
        log.forget(setup_logging)
        for held in repeats:
            held.flush()  # say how often the last errors repeated
        if argv is None:
            # The process's own command, and the process ends now. What it made lives until
            # then, so the collections the interpreter makes on its way out would only walk
            # it again: about a tenth of what `agentry run` takes.
            gc.freeze()


def _known_problem(exc: Exception) -> str | None:
    """What to tell the user about a database error or a full, read-only or failing disk;
    None for anything else. Imported here, when it happens, not by every command."""
    from app.store import diskspace
    from app.store.db import DatabaseError, describe_sqlite_error

    if isinstance(exc, DatabaseError):
        return describe_sqlite_error(exc, _locations().database)
    if isinstance(exc, OSError) and diskspace.is_disk_trouble(exc):
        return diskspace.describe(exc, _locations().data)
    return None


def _locations() -> Locations:
    from app.store.locations import locations_from_env

    return locations_from_env()


GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("server.add_serve", ("serve",)),
    ("tasks.add_run", ("run",)),
    ("tasks.add_commands", ("follow-up", "resume", "agents", "list", "logs", "cancel", "retry")),
    ("schedules.add_commands", ("schedule",)),
    ("organise.add_commands", ("archive", "unarchive", "rm", "clear")),
    ("worktrees.add_commands", ("diff", "merge", "push", "cleanup", "discard")),
    ("lands.add_commands", ("land",)),
    ("projects.add_commands", ("project",)),
    ("server.add_recovery", ("recovery",)),
    ("recover.add_commands", ("recover",)),
    ("backups.add_commands", ("backup", "restore")),
    ("approvals.add_commands", ("approvals", "approve", "deny", "rules", "hook")),
    ("server.add_quit", ("quit",)),
    ("workflows.add_commands", ("workflow", "checkpoint", "checkpoints")),
    ("server.add_doctor", ("doctor",)),
    ("audit.add_commands", ("audit",)),
    ("usage.add_commands", ("usage",)),
    ("mcp.add_commands", ("mcp",)),
    ("notify.add_commands", ("notify",)),
)
"""Each group's registration (``module.function`` in app.cli) and the commands it registers,
in the order `agentry --help` lists them. A command line imports and builds only the group
that holds its command: an ArgumentParser costs about 0.1 ms and there are over 40, and each
group's module what it imports, a tenth of what `agentry run` may take."""

SERVING = frozenset({"server.cmd_serve", "server.cmd_gui"})
"""The handlers that host a supervisor: they log progress and keep a log file."""
LONG_LIVED = SERVING | {"mcp.cmd_mcp"}
"""... and the handlers that keep a log file too: `agentry mcp` runs for as long as the
agent that started it, and its stderr is that agent's to show or drop."""
HOOK = "approvals.cmd_hook"


def _registration(name: str) -> Any:
    """``module.attribute`` of app.cli, imported when it is first needed."""
    module, attribute = name.rsplit(".", 1)
    return getattr(importlib.import_module(f"app.cli.{module}"), attribute)


def _handler_name(handler: Callable[..., object]) -> str:
    return f"{handler.__module__.removeprefix('app.cli.')}.{handler.__name__}"


_FLAGS = frozenset({"-h", "--help", "--version", "-v", "--verbose", "--smoke-test"})
_VALUED = frozenset({"--screenshot", "--screenshot-delay", "--screenshot-size"})


def _command_word(args: list[str]) -> str | None:
    """The command a command line names, when that is certain without parsing it; None
    otherwise (no command, or an option this does not know: argparse decides then)."""
    words = iter(args)
    for word in words:
        if word in _VALUED:
            next(words, None)
        elif word.split("=", 1)[0] not in _VALUED and word not in _FLAGS:
            return None if word.startswith("-") else word
    return None


class _Parser(argparse.ArgumentParser):
    """argparse's parser, with the terminal's width measured once and without shutil.

    argparse makes a help formatter for every ``add_argument`` (to check its metavar), and
    each one asked ``shutil.get_terminal_size``: importing shutil (zlib, bz2, lzma) was 2 ms
    of every command, `agentry run` included. The width is found as shutil finds it
    (``COLUMNS``, then the terminal, then 80). Subcommands' parsers are of this class too
    (``add_subparsers`` makes its parsers of its parser's class).
    """

    _columns: int | None = None

    def _get_formatter(self) -> argparse.HelpFormatter:
        make: Any = self.formatter_class  # typeshed's protocol names only ``prog``
        formatter: argparse.HelpFormatter = make(prog=self.prog, width=self._terminal_columns() - 2)
        return formatter

    @staticmethod
    def _terminal_columns() -> int:
        if _Parser._columns is None:
            try:
                columns = int(os.environ.get("COLUMNS", "0"))
            except ValueError:
                columns = 0
            if columns <= 0:
                stream = sys.__stdout__
                try:
                    columns = os.get_terminal_size(stream.fileno()).columns if stream else 0
                except (AttributeError, ValueError, OSError):  # not a terminal, or no stdout
                    columns = 0
            _Parser._columns = columns or 80
        return _Parser._columns


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with ``command`` (when a group registers it) only that group's
    commands: parsing that command line, and its errors and help, are the same."""
    parser = _Parser(
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
    chosen = [add for add, names in GROUPS if command in names]
    for add in chosen or [add for add, _ in GROUPS]:
        _registration(add)(sub)
    return parser


def _setup_logging(args: argparse.Namespace) -> list[RepeatFilter]:
    """Warnings on stderr (everything with -v, progress too for serve); a log file for
    every command that hosts a supervisor. Returns the filters that collapse repeats."""
    import logging

    from app.cli.repeats import collapse_repeats

    handler = _handler_name(args.handler)
    serving = handler in LONG_LIVED or getattr(args, "wait", False)
    root = logging.getLogger()
    if handler == HOOK:
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
    verbose = args.verbose or handler == "server.cmd_serve"
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
    import logging

    from app.cli.logfiles import LogFile
    from app.store import fsops

    locations = _locations()
    fsops.make_private_dir(locations.logs)
    handler = LogFile(locations.logs / "agentry.log")
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    )
    return handler


def _no_log_file(exc: OSError) -> None:
    """Go on without a log file. A full or read-only data folder is said once, by the
    supervisor that cannot start there; anything else is said here."""
    import logging

    from app.store import diskspace

    locations = _locations()
    if diskspace.is_disk_trouble(exc) and locations.logs.is_relative_to(locations.data):
        return
    logging.getLogger("agentry").warning("no log file: %s", diskspace.describe(exc, locations.logs))
