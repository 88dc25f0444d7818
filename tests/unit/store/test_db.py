"""Tests for app.store.db: pragmas, migrations, refusing foreign files, transactions."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store.db import (
    APPLICATION_ID,
    BUSY_TIMEOUT_MS,
    SCHEMA_VERSION,
    DatabaseTooNew,
    NotAnAgentryDatabase,
    cache_transaction,
    data_version,
    open_database,
    transaction,
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "agentry.db"


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_database(db_path)
    yield connection
    connection.close()


def _pragma(conn: sqlite3.Connection, name: str) -> object:
    return conn.execute(f"PRAGMA {name}").fetchone()[0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows}


def _foreign_db(path: Path, *pragmas: str) -> None:
    """A SQLite file written by plain sqlite3, as another program would."""
    other = sqlite3.connect(path)
    for pragma in pragmas:
        other.execute(f"PRAGMA {pragma}")
    other.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    other.execute("INSERT INTO notes (body) VALUES ('keep me')")
    other.commit()
    other.close()


def _sidecars(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + "-*"))


# --- a fresh database ------------------------------------------------------------------


def test_new_database_uses_wal_journal(conn: sqlite3.Connection) -> None:
    assert str(_pragma(conn, "journal_mode")).lower() == "wal"


def test_new_database_connection_syncs_fully(conn: sqlite3.Connection) -> None:
    assert _pragma(conn, "synchronous") == 2


def test_a_cache_commit_skips_the_sync_and_leaves_the_connection_syncing_fully(
    conn: sqlite3.Connection,
) -> None:
    """Only what a file owns (a runner's pid) is committed so; state changes still sync."""
    with cache_transaction(conn):
        during = _pragma(conn, "synchronous")
        conn.execute("UPDATE runs SET runner_pid = 1")  # inside: a transaction is open
    assert during == 1 and _pragma(conn, "synchronous") == 2
    with pytest.raises(RuntimeError), cache_transaction(conn):
        raise RuntimeError("a failed write")
    assert _pragma(conn, "synchronous") == 2 and not conn.in_transaction


def test_new_database_connection_enforces_foreign_keys(conn: sqlite3.Connection) -> None:
    assert _pragma(conn, "foreign_keys") == 1


def test_new_database_connection_waits_when_busy(conn: sqlite3.Connection) -> None:
    assert _pragma(conn, "busy_timeout") == BUSY_TIMEOUT_MS
    assert BUSY_TIMEOUT_MS > 0


def test_new_database_is_at_the_current_schema_version(conn: sqlite3.Connection) -> None:
    assert _pragma(conn, "user_version") == SCHEMA_VERSION


def test_new_database_is_marked_as_agentry(conn: sqlite3.Connection) -> None:
    assert _pragma(conn, "application_id") == APPLICATION_ID


def test_new_database_has_the_schema_tables(conn: sqlite3.Connection) -> None:
    assert {"tasks", "runs", "events", "recovery_reports", "meta"} <= _tables(conn)


def test_open_database_creates_missing_parent_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "agentry.db"
    open_database(path).close()
    assert path.is_file()


def test_empty_file_is_initialised_as_a_new_database(db_path: Path) -> None:
    db_path.write_bytes(b"")
    conn = open_database(db_path)
    try:
        assert _pragma(conn, "user_version") == SCHEMA_VERSION
    finally:
        conn.close()


# --- reopening -------------------------------------------------------------------------


def test_reopening_keeps_schema_version_and_data(db_path: Path) -> None:
    first = open_database(db_path)
    first.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
    tables = _tables(first)
    first.close()

    second = open_database(db_path)
    try:
        assert _pragma(second, "user_version") == SCHEMA_VERSION
        assert _tables(second) == tables
        assert second.execute("SELECT value FROM meta WHERE key = 'k'").fetchone()[0] == "v"
    finally:
        second.close()


def test_reopening_gives_the_pragmas_to_the_new_connection(db_path: Path) -> None:
    open_database(db_path).close()
    conn = open_database(db_path)
    try:
        assert _pragma(conn, "synchronous") == 2
        assert _pragma(conn, "foreign_keys") == 1
        assert _pragma(conn, "busy_timeout") == BUSY_TIMEOUT_MS
    finally:
        conn.close()


def test_two_connections_may_be_open_at_once(db_path: Path) -> None:
    first = open_database(db_path)
    second = open_database(db_path)
    try:
        assert _pragma(second, "user_version") == SCHEMA_VERSION
    finally:
        first.close()
        second.close()


# --- files that are not ours -----------------------------------------------------------


def test_text_file_is_refused_as_not_an_agentry_database(db_path: Path) -> None:
    db_path.write_text("shopping list:\n- milk\n- eggs\n" * 20)
    with pytest.raises(NotAnAgentryDatabase) as caught:
        open_database(db_path)
    assert str(db_path) in str(caught.value)


def test_text_file_is_left_byte_for_byte_unchanged(db_path: Path) -> None:
    db_path.write_text("shopping list:\n- milk\n- eggs\n" * 20)
    before = _digest(db_path)
    with pytest.raises(NotAnAgentryDatabase):
        open_database(db_path)
    assert _digest(db_path) == before
    assert _sidecars(db_path) == []


def test_database_of_another_program_is_refused(db_path: Path) -> None:
    _foreign_db(db_path)
    with pytest.raises(NotAnAgentryDatabase) as caught:
        open_database(db_path)
    assert "another program" in str(caught.value)
    assert str(db_path) in str(caught.value)


def test_database_of_another_program_is_left_byte_for_byte_unchanged(db_path: Path) -> None:
    _foreign_db(db_path)
    before = _digest(db_path)
    with pytest.raises(NotAnAgentryDatabase):
        open_database(db_path)
    assert _digest(db_path) == before
    assert _sidecars(db_path) == []
    check = sqlite3.connect(db_path)
    assert check.execute("PRAGMA journal_mode").fetchone()[0] != "wal"
    check.close()


def test_database_from_a_newer_agentry_is_refused(db_path: Path) -> None:
    _foreign_db(db_path, f"application_id={APPLICATION_ID}", f"user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(DatabaseTooNew) as caught:
        open_database(db_path)
    assert f"schema {SCHEMA_VERSION + 1}" in str(caught.value)


def test_database_from_a_newer_agentry_is_left_byte_for_byte_unchanged(db_path: Path) -> None:
    _foreign_db(db_path, f"application_id={APPLICATION_ID}", f"user_version={SCHEMA_VERSION + 1}")
    before = _digest(db_path)
    with pytest.raises(DatabaseTooNew):
        open_database(db_path)
    assert _digest(db_path) == before
    assert _sidecars(db_path) == []


# --- transactions ----------------------------------------------------------------------


def _meta_keys(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT key FROM meta ORDER BY key")]


def test_transaction_commits_on_success(conn: sqlite3.Connection, db_path: Path) -> None:
    with transaction(conn):
        conn.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
    other = sqlite3.connect(db_path)
    try:
        assert other.execute("SELECT value FROM meta WHERE key = 'a'").fetchone() == ("1",)
    finally:
        other.close()


def test_transaction_rolls_back_on_exception(conn: sqlite3.Connection) -> None:
    with pytest.raises(ValueError), transaction(conn):
        conn.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
        raise ValueError("boom")
    assert _meta_keys(conn) == []
    assert not conn.in_transaction


def test_transaction_rolls_back_on_keyboard_interrupt(conn: sqlite3.Connection) -> None:
    with pytest.raises(KeyboardInterrupt), transaction(conn):
        conn.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
        raise KeyboardInterrupt
    assert _meta_keys(conn) == []
    assert not conn.in_transaction


def test_transaction_rolls_back_on_any_base_exception(conn: sqlite3.Connection) -> None:
    with pytest.raises(SystemExit), transaction(conn):
        conn.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
        raise SystemExit(3)
    assert _meta_keys(conn) == []


def test_connection_is_usable_after_a_rolled_back_transaction(conn: sqlite3.Connection) -> None:
    with pytest.raises(ValueError), transaction(conn):
        raise ValueError("boom")
    with transaction(conn):
        conn.execute("INSERT INTO meta (key, value) VALUES ('b', '2')")
    assert _meta_keys(conn) == ["b"]


def test_transaction_holds_the_write_lock_from_the_start(
    conn: sqlite3.Connection, db_path: Path
) -> None:
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    try:
        with transaction(conn), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()


# --- data_version ----------------------------------------------------------------------


def test_data_version_changes_after_another_connection_commits(
    conn: sqlite3.Connection, db_path: Path
) -> None:
    before = data_version(conn)
    other = open_database(db_path)
    try:
        with transaction(other):
            other.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
    finally:
        other.close()
    assert data_version(conn) != before


def test_data_version_is_stable_when_nobody_else_writes(conn: sqlite3.Connection) -> None:
    before = data_version(conn)
    with transaction(conn):
        conn.execute("INSERT INTO meta (key, value) VALUES ('own', 'write')")
    assert data_version(conn) == before
