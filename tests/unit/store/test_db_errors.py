"""Known SQLite failures reach the user as a sentence with something to do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.store.db import describe_sqlite_error


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        ("database is locked", "try again in a moment"),
        ("database or disk is full", "free some disk space"),
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
    assert message.endswith("Run `agentry doctor`.")
