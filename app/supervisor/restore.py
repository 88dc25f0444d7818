"""Putting a backup of the database back, for ``agentry restore`` and the app's screens.

A restore replaces the file every Agentry process reads, so it takes the data folder the
way a supervisor does (its lock): while a supervisor runs, it is refused. The replaced
database is kept aside by the store, never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.core.backups import BackupFile, Restored
from app.core.errors import AgentryError
from app.core.locations import Locations
from app.store import backup as store_backup
from app.store.db import open_database
from app.store.locations import ensure_folders
from app.supervisor.lock import AlreadyRunning, InstanceLock


class RestoreRefused(AgentryError, RuntimeError):
    """Nothing was restored: another Agentry holds the data folder, or there is no backup."""

    exit_code = 2  # as for a usage error: nothing was done


@dataclass(frozen=True)
class RestoreOutcome:
    restored: Restored


def list_backups(locations: Locations) -> list[BackupFile]:
    """The backups of this data folder, newest first."""
    return store_backup.list_backups(locations.backups)


def choose(locations: Locations, file: str | None) -> Path:
    """The backup a person named (a path, or a name in the backups folder), else the newest."""
    if file is None:
        newest = store_backup.newest_backup(locations.backups)
        if newest is None:
            raise RestoreRefused(
                f"There is no backup in {locations.backups} to restore; name a file."
            )
        return newest.path
    path = Path(file).expanduser()
    if not path.exists() and (locations.backups / file).exists():
        path = locations.backups / file
    if not path.is_file():
        raise RestoreRefused(f"There is no backup file {file}; `agentry backup --list` lists them.")
    return path.resolve()


def restore_backup(locations: Locations, file: Path) -> RestoreOutcome:
    """Put ``file`` in place of the database while holding the data folder. Raises
    RestoreRefused while a supervisor runs, or a StoreError (nothing was changed)."""
    ensure_folders(locations)
    lock = InstanceLock(locations, "cli")
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        raise RestoreRefused(
            f"{exc} Quit Agentry first (`agentry quit`, or Ctrl+C where `agentry serve` "
            f"runs; its agents keep running), then restore."
        ) from None
    try:
        restored = store_backup.restore(locations, file)
        # Opened once here so an older backup is brought up to this version's schema now
        # (backed up first, as every migration is), not by whichever command comes next.
        open_database(locations.database).close()
    finally:
        lock.release()
    return RestoreOutcome(restored)
