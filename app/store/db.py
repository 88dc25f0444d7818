"""The SQLite database: one connection factory, one transaction helper, ordered migrations.

Every process that touches the database (supervisor, CLI, hooks) opens it through
:func:`open_database`, so they all get the same pragmas and the same refusal of files
that are not ours.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from app.core.errors import AgentryError
from app.store import fsops
from app.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)

APPLICATION_ID = 0x41475452  # "AGTR": marks a SQLite file as an Agentry database
SCHEMA_VERSION = len(MIGRATIONS)
BUSY_TIMEOUT_MS = 10_000


class StoreError(AgentryError, RuntimeError):
    """A problem with the database a user can act on; the message says what to do."""


class NotAnAgentryDatabase(StoreError):
    pass


class DatabaseTooNew(StoreError):
    pass


class NoDatabase(StoreError):
    """A read-only command found no database (or an empty file) and made none."""


class DatabaseNeedsUpgrade(StoreError):
    """A read-only command found a database of an older schema and did not migrate it."""


def open_database(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """Open (creating or migrating if needed) the Agentry database at ``path``.

    A file that is not an Agentry database, or one written by a newer Agentry, is refused
    and left exactly as it was. Without ``create`` (read-only commands: list, logs,
    doctor), a missing or empty file raises NoDatabase and an older schema
    DatabaseNeedsUpgrade: nothing is created or migrated. The file and its WAL and
    shared-memory files are private (0600 on POSIX).
    """
    existed = path.exists() and path.stat().st_size > 0
    if not create and not existed:
        raise NoDatabase(f"there is no Agentry database at {path} (nothing has run here yet)")
    fsops.make_private_dir(path.parent)
    _make_private(path)
    conn = _connect(path)
    try:
        _check_identity(conn, path, existed)
        _configure(conn)
        if not create:
            _check_current(conn, path)
        _migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _make_private(path: Path) -> None:
    """SQLite makes the -wal and -shm files with the database file's mode, so the file is
    made 0600 before SQLite sees it (a new one then starts empty, which SQLite treats as a
    new database), and those an older Agentry left readable are tightened."""
    try:
        if not path.exists():
            fsops.touch_private(path)
        for name in (path.name, path.name + "-wal", path.name + "-shm"):
            fsops.make_private(path.with_name(name))
    except OSError as exc:  # a read-only or full disk: SQLite says what is wrong
        log.info("could not make %s private: %s", path, exc)


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so a read never silently
    # turns into a write transaction that fails with SQLITE_BUSY.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def _check_identity(conn: sqlite3.Connection, path: Path, existed: bool) -> None:
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise NotAnAgentryDatabase(
            f"{path} is not an Agentry database ({exc}). It was left untouched. "
            f"Move it aside, or point AGENTRY_HOME at another folder."
        ) from exc
    if app_id == 0 and version == 0 and tables == 0:
        return  # brand new (or empty) file: ours to initialise
    if app_id != APPLICATION_ID:
        what = "an empty file" if not existed else "a SQLite database of another program"
        raise NotAnAgentryDatabase(
            f"{path} is {what}, not an Agentry database (application_id {app_id:#x}). "
            f"It was left untouched. Move it aside, or point AGENTRY_HOME at another folder."
        )
    if version > SCHEMA_VERSION:
        raise DatabaseTooNew(
            f"{path} was written by a newer Agentry (schema {version}; this version knows "
            f"up to {SCHEMA_VERSION}). It was left untouched. Install the newer Agentry, or "
            f"point AGENTRY_HOME at another folder."
        )


def _configure(conn: sqlite3.Connection) -> None:
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        log.warning(
            "SQLite refused WAL mode (got %s); is the data folder on a network share?", mode
        )
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > 0:  # a database with data: never change its schema without a copy first
        from app.store.backup import before_migration  # imported here: it imports this module

        before_migration(conn, path, version)
    with transaction(conn):
        # Re-read inside the write lock: another process may have migrated meanwhile.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            log.info("migrating %s to schema %d", path, number)
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number}")
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")


def _check_current(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version < SCHEMA_VERSION:
        raise DatabaseNeedsUpgrade(
            f"{path} was written by an older Agentry (schema {version} of {SCHEMA_VERSION}) "
            "and is upgraded by the next command that changes something (or the app); "
            "this one only reads, so it left it as it is"
        )


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


# What the layers above hold and catch: they pass a connection to the repositories and
# never write SQL themselves, so they need no sqlite3 of their own.
Connection = sqlite3.Connection
DatabaseError = sqlite3.Error


def abandon_transaction(conn: sqlite3.Connection) -> None:
    """Roll back a transaction left open (a failed COMMIT leaves it so)."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception (even KeyboardInterrupt)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def data_version(conn: sqlite3.Connection) -> int:
    """Changes whenever another connection commits: a cheap "did anyone write?" poll."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def check_integrity(conn: sqlite3.Connection) -> str:
    return str(conn.execute("PRAGMA quick_check").fetchone()[0])


_ADVICE = (
    ("locked", "another Agentry process is writing for too long; try again in a moment"),
    ("busy", "another Agentry process is writing for too long; try again in a moment"),
    ("disk is full", "free some disk space, then try again"),
    ("readonly", "the data folder is read-only; check its permissions"),
    ("read-only", "the data folder is read-only; check its permissions"),
    ("malformed", "the database is damaged; keep a copy of it and run `agentry doctor`"),
    ("not a database", "the file is not an Agentry database; move it aside"),
    ("unable to open", "check that the data folder exists and is writable"),
)


def describe_sqlite_error(exc: sqlite3.Error, path: Path) -> str:
    """A known SQLite failure (BUSY, FULL, CORRUPT, READONLY, …) as a message a user can act on."""
    text = str(exc)
    advice = next((a for key, a in _ADVICE if key in text.lower()), "run `agentry doctor`")
    return f"the database {path} reported: {text}. {advice[0].upper()}{advice[1:]}."


def set_aside(path: Path, why: str) -> Path | None:
    """Move the database at ``path`` (with its -wal and -shm) to ``<name>.<why>-<time>``,
    never over an earlier copy; returns the new path (None when there was no file)."""
    import time

    if not path.exists():
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.name}.{why}-{stamp}")
    n = 1
    while kept.exists():
        n += 1
        kept = path.with_name(f"{path.name}.{why}-{stamp}-{n}")
    for suffix in ("-wal", "-shm"):  # the WAL first: it holds what the file does not yet
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(kept.with_name(kept.name + suffix))
    path.rename(kept)
    return kept


def copy_aside(conn: sqlite3.Connection, path: Path, why: str) -> Path:
    """A consistent copy of the open database next to it (SQLite's online backup)."""
    import time

    kept = path.with_name(f"{path.name}.{why}-{time.strftime('%Y%m%d-%H%M%S')}")
    fsops.touch_private(kept)  # SQLite would make it with the umask's mode
    target = sqlite3.connect(kept)
    try:
        conn.backup(target)
    finally:
        target.close()
    return kept
