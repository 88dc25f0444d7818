"""Putting a backup of the database back, for ``agentry restore`` and the app's screens.

A restore replaces the file every Agentry process reads, so it takes the data folder the
way a supervisor does (its lock): while a supervisor runs, it is refused. The replaced
database is kept aside by the store, never deleted. The runs made since the backup are
then written back from their run folders, so a restore forgets no run.
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
from app.supervisor.rebuild import RebuildReport, ingest_unknown_runs


class RestoreRefused(AgentryError, RuntimeError):
    """Nothing was restored: another Agentry holds the data folder, or there is no backup."""

    exit_code = 2  # as for a usage error: nothing was done


@dataclass(frozen=True)
class RestoreOutcome:
    restored: Restored
    rebuilt: RebuildReport  # the runs newer than the backup, brought back from their folders

    def describe(self) -> list[str]:
        """What was done, a line each: for the CLI and the app's screens."""
        lines = [f"Restored {self.restored.source}."]
        lines += [f"Kept the replaced file as {kept}" for kept in self.restored.kept_aside]
        if self.rebuilt.runs or self.rebuilt.skipped:
            lines.append(f"From the run folders newer than the backup: {self.rebuilt.describe()}.")
        lines += [f"  could not read {name}: {why}" for name, why in self.rebuilt.skipped.items()]
        return lines


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
        # Opened here, still holding the folder: an older backup is brought up to this
        # version's schema (backed up first, as every migration is), and the runs made
        # since the backup come back from their folders before anyone starts over them.
        conn = open_database(locations.database)
        try:
            rebuilt = ingest_unknown_runs(conn, locations)
        finally:
            conn.close()
    finally:
        lock.release()
    return RestoreOutcome(restored, rebuilt)
