"""What every group of ``agentry`` subcommands shares: the exit statuses, opening the
data folder's database, printing JSON and reporting a usage error.

Kept light on purpose: every command imports it, `agentry --help` included, so the store
is imported inside `open_store` (see app.cli.program on why the CLI imports lazily).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from app.core.json_text import dumps_indented

if TYPE_CHECKING:
    from app.core.locations import Locations
    from app.store.db import Connection

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2

Handler: TypeAlias = Callable[[argparse.Namespace], int]
"""A subcommand: its parsed arguments in, the exit status out (the parser's ``handler``)."""

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What ``add_subparsers()`` returns; each group of subcommands registers on it."""


def open_store(*, read_only: bool = False) -> tuple[Locations, Connection]:
    """The data folder (made if missing) and a connection to its database. ``read_only``
    commands create and migrate nothing: NoDatabase or DatabaseNeedsUpgrade instead."""
    from app.store.db import open_database
    from app.store.locations import ensure_folders, locations_from_env

    locations = locations_from_env()
    if read_only:
        conn = open_database(locations.database, create=False)
    else:
        ensure_folders(locations)
        conn = open_database(locations.database)
    _enforce_deadlines(locations, conn)
    return locations, conn


def _enforce_deadlines(locations: Locations, conn: Connection) -> None:
    """Any command that notices an agent past its limit whose runner is gone stops it
    (no supervisor may run for a long time); see app.supervisor.deadlines."""
    from app.store import repo

    if not repo.active_runs(conn):
        return  # the usual case: one small query, nothing more imported
    from app.supervisor import deadlines

    for task_id in deadlines.enforce(conn, locations):
        print(f"agentry: task {task_id} was past its time limit with its runner gone; "
              "stopped its agent", file=sys.stderr)  # fmt: skip


def usage_error(message: str) -> int:
    """Say what is missing from the command line; the status of a usage error."""
    print(f"agentry: {message}", file=sys.stderr)
    return EXIT_USAGE


def print_json(data: Any) -> None:
    """The machine-readable output of ``--json``: indented, one trailing newline, written
    in one call (``json.dump`` writes token by token: slow when stdout is unbuffered)."""
    sys.stdout.write(dumps_indented(data) + "\n")
