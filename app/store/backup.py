"""Copies of the database, made online with SQLite's backup API, and putting one back.

A backup is one self-contained SQLite file in ``<data>/backups`` named
``agentry-YYYYmmdd-HHMMSS-<reason>.db``. It is written under a temp name in that folder,
checked, fsynced and only then renamed, so a file with the final name is always a
complete, sound copy; a damaged database is refused rather than copied over good backups.

SQLite's backup API copies a consistent snapshot while other connections keep reading
and writing (WAL), so a backup never stops the supervisor. Restoring is different: it
replaces the file under everyone's feet, so the caller must hold the data folder
(:mod:`app.supervisor.backups` takes the supervisor's lock); this module only moves files.
Nothing is deleted but backups beyond the newest N: the replaced database is kept aside.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
from pathlib import Path

from app.core.backups import BackupFile, Restored
from app.core.locations import Locations
from app.store import fsops
from app.store.db import APPLICATION_ID, SCHEMA_VERSION, StoreError
from app.store.health_repo import record_integrity

_NAME = re.compile(r"^agentry-(?P<stamp>\d{8}-\d{6})-(?P<reason>[a-z0-9-]+?)(?:-(?P<n>\d+))?\.db$")
_SIDECARS = ("-wal", "-shm")  # SQLite's own files beside a database, named after it


class BackupFailed(StoreError):
    """No backup was made; the message says why and what to do."""


class DatabaseDamaged(StoreError):
    """``PRAGMA quick_check`` found damage; the message names the newest backup."""


class NotABackup(StoreError):
    """A file offered for a restore is not a sound Agentry database; nothing was changed."""


def backup(
    source: sqlite3.Connection | Path, folder: Path, reason: str, *, keep: int | None = None
) -> Path:
    """Copy the database (an open connection, or the file at a path) into ``folder``; then,
    with ``keep``, remove all but the newest ``keep`` backups. Returns the new file.

    Raises BackupFailed (the disk is full, the database is damaged, …); the backups that
    were there are then untouched.
    """
    if not re.fullmatch(r"[a-z0-9-]+", reason):
        raise ValueError(f"a backup reason is lowercase letters, digits and dashes: {reason!r}")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # private, like the database
        target = _free_name(folder, reason)
        tmp = fsops.temp_path_for(target)
        try:
            _copy_into(source, tmp)
            fsops.replace_with_retry(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        fsops.fsync_dir(folder)
    except (OSError, sqlite3.Error) as exc:
        raise BackupFailed(
            f"could not back up the database into {folder}: {_text(exc)}. {_advice(exc)}"
        ) from exc
    if keep is not None:
        prune(folder, keep)
    return target


def _free_name(folder: Path, reason: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = folder / f"agentry-{stamp}-{reason}.db"
    n = 1
    while target.exists():  # two in one second (a start and a quick stop): never overwrite
        n += 1
        target = folder / f"agentry-{stamp}-{reason}-{n}.db"
    return target


def _copy_into(source: sqlite3.Connection | Path, tmp: Path) -> None:
    """The backup API into ``tmp``, made a plain (non-WAL) file, checked and fsynced."""
    own = not isinstance(source, sqlite3.Connection)
    src = _open_existing(source) if not isinstance(source, sqlite3.Connection) else source
    try:
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal to carry along
            verdict = quick_check(dst)
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"the database is damaged ({verdict})")
        finally:
            dst.close()
    finally:
        if own:
            src.close()
    os.chmod(tmp, 0o600)  # a copy of every prompt and output: the user's alone
    with open(tmp, "rb+") as stream:
        os.fsync(stream.fileno())


def _open_existing(path: Path) -> sqlite3.Connection:
    """A plain connection to an existing database: never creates, never migrates."""
    if not path.is_file():
        raise FileNotFoundError(f"there is no database at {path}")
    return sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None)


def quick_check(conn: sqlite3.Connection) -> str:
    """``PRAGMA quick_check``'s first line ("ok" when sound); SQLite's error if it cannot
    even read the file."""
    try:
        return str(conn.execute("PRAGMA quick_check").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        return str(exc)


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` backups (only files named as ours); the removed."""
    removed = []
    for old in list_backups(folder)[keep:]:
        with contextlib.suppress(FileNotFoundError):
            old.path.unlink()
            removed.append(old.path)
    return removed


def list_backups(folder: Path) -> list[BackupFile]:
    """The backups in ``folder``, newest first."""
    found = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    for entry in entries:
        match = _NAME.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        with contextlib.suppress(FileNotFoundError):
            stat = entry.stat()
            found.append(BackupFile(Path(entry.path), stat.st_mtime, match["reason"], stat.st_size))
    return sorted(found, key=lambda b: (b.made_at, b.path.name), reverse=True)


def newest_backup(folder: Path) -> BackupFile | None:
    backups = list_backups(folder)
    return backups[0] if backups else None


def check_sound(conn: sqlite3.Connection, locations: Locations) -> None:
    """Raise DatabaseDamaged, naming the newest backup and how to restore it, unless
    ``PRAGMA quick_check`` finds the database sound. Run at start: damage found before
    anything is scheduled is a choice for the person, not a crash in the middle of work."""
    verdict = quick_check(conn)
    record_integrity(conn, verdict)
    if verdict == "ok":
        return
    newest = newest_backup(locations.backups)
    if newest is None:
        way_out = (
            "There is no backup to restore. Keep a copy of the data folder and run "
            "`agentry doctor`."
        )
    else:
        made = time.strftime("%Y-%m-%d %H:%M", time.localtime(newest.made_at))
        way_out = (
            f"The newest backup is {newest.path} (made {made}); `agentry restore` puts "
            f"it back and keeps the damaged file aside."
        )
    raise DatabaseDamaged(
        f"The database {locations.database} is damaged (SQLite's check says: {verdict}). "
        f"Nothing was started. {way_out}"
    )


# ---------------------------------------------------------------------- restoring


def verify(path: Path) -> None:
    """Raise NotABackup unless ``path`` is a sound Agentry database this version can open."""
    try:
        conn = _open_existing(path)
    except (OSError, sqlite3.Error) as exc:
        raise NotABackup(f"cannot open {path}: {_text(exc)}. Nothing was changed.") from exc
    try:
        app_id, version = _identity(conn, path)
        verdict = quick_check(conn)
    finally:
        conn.close()
    if app_id != APPLICATION_ID:
        raise NotABackup(f"{path} is not an Agentry database. Nothing was changed.")
    if version > SCHEMA_VERSION:
        raise NotABackup(
            f"{path} was written by a newer Agentry (schema {version}; this one knows up to "
            f"{SCHEMA_VERSION}). Nothing was changed; restore it with the newer Agentry."
        )
    if verdict != "ok":
        raise NotABackup(
            f"{path} is damaged (SQLite says: {verdict}). Nothing was changed; "
            f"choose an older backup (`agentry backup --list`)."
        )


def _identity(conn: sqlite3.Connection, path: Path) -> tuple[int, int]:
    try:
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise NotABackup(
            f"{path} is not an Agentry database ({exc}). Nothing was changed."
        ) from exc
    return app_id, version


def before_migration(conn: sqlite3.Connection, database: Path, version: int) -> None:
    """The backup made before a migration; raises StoreError (nothing migrated) without one.

    Not pruned: the settings that say how many to keep are not read this deep, and a
    backup made for a person's safety must not push out the ones they chose to keep.
    """
    folder = database.parent / "backups"  # Locations.backups, from the database's own path
    try:
        backup(conn, folder, "migration")
    except BackupFailed as exc:
        raise StoreError(
            f"{database} needs updating from schema {version} to {SCHEMA_VERSION}, but no "
            f"backup could be made first, so nothing was changed: {exc}"
        ) from exc


def restore(locations: Locations, file: Path) -> Restored:
    """Put the backup ``file`` in place of the database. The caller holds the data folder.

    The current database is checkpointed and kept aside as ``agentry.db.replaced-<time>``
    (with its -wal/-shm, if SQLite could not fold them in). The backup is first copied
    beside the database under a temp name, so a failure leaves the current one in place.
    """
    verify(file)
    database = locations.database
    try:
        tmp = fsops.temp_path_for(database)
        try:
            _copy_file(file, tmp)
            kept = _keep_aside(database)
            fsops.replace_with_retry(tmp, database)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        fsops.fsync_dir(database.parent)
    except OSError as exc:
        raise StoreError(
            f"could not restore {file} as {database}: {_text(exc)}. {_advice(exc)}"
        ) from exc
    return Restored(file, kept)


def _copy_file(source: Path, target: Path) -> None:
    with open(source, "rb") as src, open(target, "xb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())


def _keep_aside(database: Path) -> tuple[Path, ...]:
    """Keep the current database (and its sidecars) under a ``replaced-<time>`` name.

    A hard link keeps the old file while the rename of the backup over it stays atomic: at
    no moment is there no database. The WAL and SHM must go before the new file arrives,
    or SQLite would apply the old database's WAL to it.
    """
    if not database.exists():
        return ()
    _checkpoint(database)
    aside = fsops.aside_name(database, "replaced", _SIDECARS)
    kept = [aside]
    try:
        os.link(database, aside)
    except OSError:  # no hard links here (some network or FAT folders): move it instead
        fsops.replace_with_retry(database, aside)
    for suffix in _SIDECARS:
        sidecar = database.with_name(database.name + suffix)
        if sidecar.exists():
            moved = aside.with_name(aside.name + suffix)
            fsops.replace_with_retry(sidecar, moved)
            kept.append(moved)
    return tuple(kept)


def _checkpoint(database: Path) -> None:
    """Fold the WAL into the database file, so the kept file is whole on its own. A damaged
    database may refuse: its WAL is then moved along with it."""
    try:
        conn = _open_existing(database)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    except sqlite3.Error:
        pass


def _text(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _advice(exc: BaseException) -> str:
    text = str(exc).lower()
    if "disk is full" in text or (isinstance(exc, OSError) and exc.errno == 28):
        return "Free some disk space, then try again."
    if "read-only" in text or "readonly" in text or "permission" in text:
        return "Check that the data folder is writable."
    if "damaged" in text or "malformed" in text:
        return "Restore an earlier backup with `agentry restore`, or run `agentry doctor`."
    return "Run `agentry doctor` for details."
