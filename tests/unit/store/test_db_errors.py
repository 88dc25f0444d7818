"""Known SQLite failures reach the user as a sentence with something to do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from helpers.mounts import fill, read_only, read_write, tmpfs

from app.store.db import (
    DatabaseUnreachable,
    DatabaseUnreadable,
    NotAnAgentryDatabase,
    StoreError,
    describe_sqlite_error,
    open_database,
    sqlite_cause,
)


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        ("database is locked", "try again in a moment"),
        ("database or disk is full", "free some space"),
        ("attempt to write a readonly database", "read-only"),
        ("database disk image is malformed", "keep a copy"),
    ],
)
def test_a_known_sqlite_error_names_the_file_and_what_to_do(error: str, advice: str) -> None:
    message = describe_sqlite_error(sqlite3.OperationalError(error), Path("/data/agentry.db"))
    assert "/data/agentry.db" in message and error in message
    assert advice in message.lower()


def test_an_unknown_sqlite_error_points_to_doctor() -> None:
    message = describe_sqlite_error(sqlite3.OperationalError("weird"), Path("/x.db"))
    assert message.endswith("run `agentry doctor`.")


# --- each cause its own message, from real SQLite errors (issue 12 §1) ------------------

SHM = "-shm"


def _agentry_db(folder: Path) -> Path:
    path = folder / "agentry.db"
    open_database(path).close()
    return path


def _open_error(path: Path) -> StoreError:
    with pytest.raises(StoreError) as caught:
        open_database(path).close()
    return caught.value


def test_a_database_on_a_full_disk_is_not_called_foreign_or_sent_aside(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "1m") as disk:
        path = _agentry_db(disk)
        fill(disk)
        error = _open_error(path)
    message = str(error)
    assert isinstance(error, DatabaseUnreachable), message
    assert "disk full" in message or "is full" in message
    assert "free of" in message and "Free some space" in message
    assert "not an Agentry database" not in message and "Move it aside" not in message


def test_a_database_in_a_read_only_folder_says_read_only(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "1m") as disk:
        path = _agentry_db(disk)  # closed cleanly: no -wal or -shm left to open
        read_only(disk)
        try:
            error = _open_error(path)
        finally:
            read_write(disk)
    message = str(error)
    assert isinstance(error, DatabaseUnreachable), message
    assert "read-only" in message and "writable" in message
    assert "not an Agentry database" not in message


def test_a_damaged_database_says_damaged_and_keeps_the_file(tmp_path: Path) -> None:
    path = _agentry_db(tmp_path)
    with open(path, "r+b") as stream:  # the schema page, past the 100-byte header
        stream.seek(100)
        stream.write(b"\xa5" * 3000)
    before = path.read_bytes()
    error = _open_error(path)
    assert isinstance(error, DatabaseUnreadable), str(error)
    assert "damaged" in str(error) and "Keep a copy" in str(error)
    assert "Move it aside" not in str(error)
    assert path.read_bytes() == before


def test_a_database_without_its_write_ahead_log_says_the_log_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "agentry.db"
    path.write_bytes(b"\x13" * 4096)  # SQLite cannot read it ...
    Path(f"{path}{SHM}").write_bytes(b"\0" * 32768)  # ... and its log's index is alone
    error = _open_error(path)
    assert isinstance(error, DatabaseUnreadable), str(error)
    assert "agentry.db-wal is missing" in str(error)
    assert "Move it aside" not in str(error)


def test_a_file_of_another_kind_is_still_not_an_agentry_database(tmp_path: Path) -> None:
    path = tmp_path / "agentry.db"
    path.write_bytes(b"\x13" * 4096)
    error = _open_error(path)
    assert isinstance(error, NotAnAgentryDatabase)
    assert "not an Agentry database" in str(error) and "Move it aside" in str(error)


def test_an_io_error_is_its_own_cause() -> None:
    error = sqlite3.OperationalError("disk I/O error")
    error.sqlite_errorcode = sqlite3.SQLITE_IOERR
    path = Path("/data/agentry.db")
    assert sqlite_cause(error, path) == "io"
    message = describe_sqlite_error(error, path)
    assert "I/O error" in message and "check the disk" in message


def test_each_cause_is_told_apart_by_its_error(tmp_path: Path) -> None:
    path = tmp_path / "agentry.db"
    causes = [
        sqlite_cause(sqlite3.OperationalError(text), path)
        for text in (
            "database or disk is full",
            "attempt to write a readonly database",
            "disk I/O error",
            "database disk image is malformed",
            "file is not a database",
        )
    ]
    assert causes == ["full", "read-only", "io", "damaged", "not-ours"]
