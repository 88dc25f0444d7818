"""Finding runs the database does not know (DESIGN §3): the check every reader of the
database makes, kept apart from writing them back (app.supervisor.rebuild) so that
`agentry list` and `logs` make it without importing the rebuild's machinery (the run
folders' parsers, psutil, the adapters)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.errors import AgentryError
from app.runner import protocol
from app.store import rebuild_repo

if TYPE_CHECKING:
    from app.core.locations import Locations
    from app.store.db import Connection

EXIT_DATABASE_LOST = 3  # the CLI's status when it refuses to start over lost runs


class DatabaseLost(AgentryError, RuntimeError):
    """Run folders hold runs the database does not know: it was lost or replaced."""

    exit_code = EXIT_DATABASE_LOST

    def __init__(self, message: str, folders: list[Path]) -> None:
        super().__init__(message)
        self.folders = folders


def unknown_run_folders(conn: Connection | None, locations: Locations) -> list[Path]:
    """Run folders with a ``spec.json`` that no run of the database names (every one
    when there is no database), oldest first."""
    try:
        names = os.listdir(locations.runs)
    except FileNotFoundError:
        return []
    known = rebuild_repo.known_run_folders(conn) if conn is not None else set()
    found = [locations.runs / n for n in names if n not in known]
    return sorted(p for p in found if (p / protocol.SPEC).is_file())


def check_nothing_lost(conn: Connection | None, locations: Locations) -> None:
    """Raise DatabaseLost when run folders hold runs the database does not know, so an
    emptied, deleted or replaced database never becomes a silent fresh start (``conn``
    None: there is no database file at all)."""
    unknown = unknown_run_folders(conn, locations)
    if not unknown:
        return
    tasks = rebuild_repo.count_tasks(conn) if conn is not None else 0
    if conn is None:
        what = "is missing or empty"
    else:
        what = "is empty" if tasks == 0 else f"knows {tasks} task(s) but not these runs"
    raise DatabaseLost(
        f"{len(unknown)} run folder(s) in {locations.runs} hold runs that the database "
        f"{locations.database} does not know: it {what}, so it was lost, emptied or "
        "replaced. Nothing was started. Bring them back with `agentry recover --rebuild` "
        "(or Rebuild in the app), or restore a backup with `agentry restore`.",
        unknown,
    )
