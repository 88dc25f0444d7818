"""Tests for app.store.backup with real SQLite files: online copies, keeping the newest N,
a backup before every migration, refusing damage, and a restore that keeps the old file."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from app.core.locations import Locations
from app.core.settings import Settings
from app.store import backup
from app.store.db import APPLICATION_ID, SCHEMA_VERSION, StoreError, open_database
from app.store.migrations import MIGRATIONS


@pytest.fixture
def locations(tmp_path: Path) -> Locations:
    return Locations.in_one_folder(tmp_path / "home")


def _database_with_notes(path: Path, notes: int) -> None:
    conn = open_database(path)
    for n in range(notes):
        conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"note{n}", "v"))
    conn.close()


def _notes(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM meta WHERE key LIKE 'note%'").fetchone()[0])
    finally:
        conn.close()


def _older_schema(path: Path, version: int) -> None:
    """A database as an older Agentry left it: the first ``version`` migrations only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:version]:
        if callable(script):
            script(conn)
            continue
        for statement in (s.strip() for s in script.split(";")):
            if statement:
                conn.execute(statement)
    conn.execute("INSERT INTO meta (key, value) VALUES ('note0', 'from the old version')")
    conn.execute(f"PRAGMA user_version={version}")
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.close()


def _damage(path: Path) -> None:
    """Scribble over the root page of the ``meta`` table (the schema stays readable)."""
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'meta'").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(path, "r+b") as stream:
        stream.seek((root - 1) * size)
        stream.write(b"\xa5" * 64)


# --- making backups ----------------------------------------------------------------------


def test_a_backup_of_an_open_connection_holds_every_row_in_one_file(
    locations: Locations,
) -> None:
    _database_with_notes(locations.database, 25)
    conn = open_database(locations.database)
    conn.execute("INSERT INTO meta (key, value) VALUES ('note-last', 'only in the WAL')")
    try:
        made = backup.backup(conn, locations.backups, "manual")
    finally:
        conn.close()
    assert made.parent == locations.backups and made.name.endswith("-manual.db")
    assert _notes(made) == 26
    assert sorted(p.name for p in locations.backups.iterdir()) == [made.name]  # no -wal, no temp


def test_a_backup_from_a_path_neither_creates_nor_migrates_a_database(
    locations: Locations,
) -> None:
    with pytest.raises(backup.BackupFailed, match="no database"):
        backup.backup(locations.database, locations.backups, "manual")
    assert not locations.database.exists()


def test_backups_beyond_the_newest_n_are_removed(locations: Locations) -> None:
    _database_with_notes(locations.database, 1)
    made = [backup.backup(locations.database, locations.backups, "manual", keep=3)]
    for _ in range(4):
        made.append(backup.backup(locations.database, locations.backups, "daily", keep=3))
    kept = [b.path for b in backup.list_backups(locations.backups)]
    assert kept == list(reversed(made[-3:]))  # newest first, the two oldest gone
    assert not made[0].exists() and not made[1].exists()


def test_pruning_leaves_files_that_are_not_backups_alone(locations: Locations) -> None:
    _database_with_notes(locations.database, 1)
    locations.backups.mkdir(parents=True)
    mine = locations.backups / "my-copy.db"
    mine.write_bytes(b"a person's own file")
    for _ in range(3):
        backup.backup(locations.database, locations.backups, "manual", keep=1)
    assert mine.read_bytes() == b"a person's own file"
    assert len(backup.list_backups(locations.backups)) == 1


def test_a_damaged_database_is_refused_and_the_good_backups_stay(locations: Locations) -> None:
    _database_with_notes(locations.database, 400)
    good = backup.backup(locations.database, locations.backups, "daily", keep=1)
    _damage(locations.database)
    with pytest.raises(backup.BackupFailed, match="damaged"):
        backup.backup(locations.database, locations.backups, "daily", keep=1)
    assert [b.path for b in backup.list_backups(locations.backups)] == [good]
    assert _notes(good) == 400


def test_quick_check_of_a_damaged_database_names_the_newest_backup(locations: Locations) -> None:
    _database_with_notes(locations.database, 400)
    newest = backup.backup(locations.database, locations.backups, "shutdown")
    _damage(locations.database)
    conn = open_database(locations.database)
    try:
        with pytest.raises(backup.DatabaseDamaged) as caught:
            backup.check_sound(conn, locations)
    finally:
        conn.close()
    assert str(newest) in str(caught.value) and "`agentry restore`" in str(caught.value)


# --- before a migration ------------------------------------------------------------------


def test_a_migration_backs_up_the_older_database_first(locations: Locations) -> None:
    _older_schema(locations.database, 6)
    open_database(locations.database).close()
    (made,) = backup.list_backups(locations.backups)
    assert made.reason == "migration"
    copy = sqlite3.connect(made.path)
    assert copy.execute("PRAGMA user_version").fetchone()[0] == 6
    copy.close()
    assert _notes(made.path) == 1


def test_without_a_backup_nothing_is_migrated(locations: Locations) -> None:
    _older_schema(locations.database, 6)
    locations.backups.write_text("a file where the backups folder should be")
    with pytest.raises(StoreError, match="no backup could be made first, so nothing was changed"):
        open_database(locations.database)
    conn = sqlite3.connect(locations.database)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 6
    conn.close()


def test_a_new_database_is_not_backed_up(locations: Locations) -> None:
    open_database(locations.database).close()
    assert backup.list_backups(locations.backups) == []


# --- restoring ---------------------------------------------------------------------------


def test_a_restore_puts_the_backup_in_place_and_keeps_the_old_file_and_its_wal(
    locations: Locations,
) -> None:
    _database_with_notes(locations.database, 3)
    made = backup.backup(locations.database, locations.backups, "manual")
    writer = open_database(locations.database)  # left open: its WAL holds the last notes
    writer.execute("PRAGMA wal_autocheckpoint=0")
    for n in range(3, 10):
        writer.execute("INSERT INTO meta (key, value) VALUES (?, 'v')", (f"note{n}",))
    restored = backup.restore(locations, made)
    writer.close()
    assert restored.source == made
    assert _notes(locations.database) == 3
    aside = restored.kept_aside[0]
    assert aside.name.startswith("agentry.db.replaced-")
    assert _notes(aside) == 10  # nothing the replaced database held is lost


def test_a_restore_refuses_a_file_that_is_not_an_agentry_database(
    locations: Locations, tmp_path: Path
) -> None:
    _database_with_notes(locations.database, 2)
    before = locations.database.read_bytes()
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()
    with pytest.raises(backup.NotABackup, match="not an Agentry database"):
        backup.restore(locations, other)
    assert locations.database.read_bytes() == before
    assert list(locations.data.glob("agentry.db.replaced-*")) == []


def test_a_restore_refuses_a_damaged_backup(locations: Locations) -> None:
    _database_with_notes(locations.database, 400)
    made = backup.backup(locations.database, locations.backups, "manual")
    os.chmod(made, 0o600)
    _damage(made)
    with pytest.raises(backup.NotABackup, match="damaged"):
        backup.restore(locations, made)
    assert _notes(locations.database) == 400


def test_an_older_backup_is_accepted_for_a_restore(locations: Locations, tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    _older_schema(old, 6)
    backup.verify(old)
    assert SCHEMA_VERSION > 6


# --- settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"backups_keep": 0}, "backups_keep"),
        ({"backups_keep": 1001}, "backups_keep"),
        ({"backups_every_h": -1.0}, "backups_every_h"),
        ({"backups_every_h": 0.5}, "backups_every_h"),
        ({"backups_every_h": 9000.0}, "backups_every_h"),
    ],
)
def test_backup_settings_out_of_range_are_refused(values: dict[str, float], problem: str) -> None:
    assert any(p.startswith(problem) for p in Settings().replace(**values).problems())


def test_backup_settings_default_to_daily_keeping_ten() -> None:
    settings = Settings()
    assert (settings.backups_every_h, settings.backups_keep) == (24.0, 10)
    assert Settings(backups_every_h=0).problems() == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_backup_is_readable_by_the_user_alone(locations: Locations) -> None:
    _database_with_notes(locations.database, 1)
    made = backup.backup(locations.database, locations.backups, "manual")
    assert (made.stat().st_mode & 0o777, locations.backups.stat().st_mode & 0o777) == (
        0o600,
        0o700,
    )
