"""The SQLite database: one connection factory, one transaction helper, ordered migrations.

Every process that touches the database (supervisor, CLI, hooks) opens it through
:func:`open_database`, so they all get the same pragmas and the same refusal of files
that are not ours.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from app.core.errors import AgentryError
from app.core.log import get_logger
from app.store import fsops
from app.store.migrations import MIGRATIONS

log = get_logger(__name__)

APPLICATION_ID = 0x41475452  # "AGTR": marks a SQLite file as an Agentry database
SCHEMA_VERSION = len(MIGRATIONS)
BUSY_TIMEOUT_MS = 10_000


class StoreError(AgentryError, RuntimeError):
    """A problem with the database a user can act on; the message says what to do."""


class NotAnAgentryDatabase(StoreError):
    pass


class DatabaseTooNew(StoreError):
    pass


class DatabaseUnreachable(StoreError):
    """The file may be fine, but its disk is full, read-only or failing: never move it aside."""


class DatabaseUnreadable(StoreError):
    """SQLite's own file, damaged or without its write-ahead log: keep it for recovery."""


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
        raise open_error(exc, path) from exc
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
            if callable(script):
                script(conn)
            else:
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


@contextlib.contextmanager
def cache_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """:func:`transaction` for writes that only cache a fact a file owns (which pid a
    runner has: runner.json), committed without waiting for the disk.

    In WAL mode ``synchronous=NORMAL`` keeps the commit through an application crash and
    only a power loss can take it back, and then only until the next ``FULL`` commit,
    whose sync carries it too. What it caches is read again from its file when missing,
    so a state change never waits on its fsync (a launch then costs one, not two)."""
    conn.execute("PRAGMA synchronous=NORMAL")
    try:
        with transaction(conn):
            yield conn
    finally:
        conn.execute("PRAGMA synchronous=FULL")


def data_version(conn: sqlite3.Connection) -> int:
    """Changes whenever another connection commits: a cheap "did anyone write?" poll."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def check_integrity(conn: sqlite3.Connection) -> str:
    return str(conn.execute("PRAGMA quick_check").fetchone()[0])


Cause = Literal["full", "read-only", "io", "damaged", "missing-wal", "not-ours", "busy", "other"]

_PRIMARY: dict[int, Cause] = {
    sqlite3.SQLITE_FULL: "full",
    sqlite3.SQLITE_READONLY: "read-only",
    sqlite3.SQLITE_IOERR: "io",
    sqlite3.SQLITE_CORRUPT: "damaged",
    sqlite3.SQLITE_NOTADB: "not-ours",
    sqlite3.SQLITE_BUSY: "busy",
    sqlite3.SQLITE_LOCKED: "busy",
    sqlite3.SQLITE_CANTOPEN: "other",
}
_BY_TEXT: tuple[tuple[str, Cause], ...] = (  # for errors that carry no code
    ("disk is full", "full"),
    ("readonly", "read-only"),
    ("read-only", "read-only"),
    ("disk i/o error", "io"),
    ("malformed", "damaged"),
    ("not a database", "not-ours"),
    ("locked", "busy"),
    ("busy", "busy"),
)


def sqlite_cause(exc: sqlite3.Error, path: Path) -> Cause:
    """What is actually wrong, judged by SQLite's code and then by the disk itself: an
    I/O error on a full disk is the full disk, "unable to open" in a read-only folder is
    the read-only folder, and a file SQLite cannot read beside a lone ``-shm`` has lost
    its write-ahead log."""
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc).lower()
    if code is not None:
        cause = _PRIMARY.get(code & 0xFF, "other")
    else:
        cause = next((c for key, c in _BY_TEXT if key in text), "other")
    if cause in ("io", "other", "read-only", "full"):
        from app.store import diskspace  # only on an error: every `agentry run` opens the db

        trouble = diskspace.trouble(path.parent)
        if trouble is not None:
            return "read-only" if trouble.startswith("read-only") else "full"
    if cause in ("not-ours", "damaged") and _wal_missing(path):
        return "missing-wal"
    return cause


def _wal_missing(path: Path) -> bool:
    shm, wal = Path(f"{path}-shm"), Path(f"{path}-wal")
    return shm.exists() and not wal.exists()


def describe_sqlite_error(exc: sqlite3.Error, path: Path) -> str:
    """A SQLite failure (FULL, READONLY, IOERR, CORRUPT, BUSY, …) as a message a person can
    act on: what is wrong, whether the file was touched, and what to do."""
    return _message(sqlite_cause(exc, path), exc, path)


def open_error(exc: sqlite3.Error, path: Path) -> StoreError:
    """Why ``path`` could not be opened, as the StoreError of its cause: only a file that
    is not SQLite's is "not an Agentry database"; a full disk or a damaged file is not."""
    cause = sqlite_cause(exc, path)
    kind = {
        "full": DatabaseUnreachable,
        "read-only": DatabaseUnreachable,
        "io": DatabaseUnreachable,
        "busy": DatabaseUnreachable,
        "damaged": DatabaseUnreadable,
        "missing-wal": DatabaseUnreadable,
    }.get(cause, NotAnAgentryDatabase)
    return kind(_message(cause, exc, path))


def _message(cause: Cause, exc: sqlite3.Error, path: Path) -> str:
    folder = path.parent
    untouched = "It was left untouched; do not move it aside (that starts an empty database)."
    if cause == "full":
        from app.store import diskspace

        state = diskspace.disk_state(folder)
        return (
            f"the database {path} cannot be used: the disk holding {folder} is full "
            f"({state.describe_free()}; SQLite said: {exc}). {untouched} Free some space on "
            "that disk, then try again."
        )
    if cause == "read-only":
        return (
            f"the database {path} cannot be used: {folder} is read-only (SQLite said: "
            f"{exc}). {untouched} Make the folder writable (remount it read-write, fix its "
            "permissions), or point AGENTRY_HOME at a writable copy of it."
        )
    if cause == "io":
        return (
            f"reading or writing {path} failed with an I/O error ({exc}): the disk or its "
            f"file system reported a fault. {untouched} Copy the data folder somewhere "
            "safe, check the disk, then run `agentry doctor`."
        )
    way_back = (
        "Keep a copy of the data folder, then put the newest backup back with `agentry "
        "restore`, or rebuild from the run folders with `agentry recover --rebuild`."
    )
    if cause == "missing-wal":
        return (
            f"the database {path} cannot be read ({exc}) and its write-ahead log "
            f"{path.name}-wal is missing: recent changes were lost with it. {untouched} "
            f"{way_back}"
        )
    if cause == "damaged":
        return f"the database {path} is damaged ({exc}). {untouched} {way_back}"
    if cause == "not-ours":
        return (
            f"{path} is not an Agentry database ({exc}). It was left untouched. Move it "
            "aside, or point AGENTRY_HOME at another folder."
        )
    if cause == "busy":
        return (
            f"the database {path} is busy ({exc}): another Agentry process is writing for "
            "too long. Try again in a moment."
        )
    return (
        f"the database {path} reported: {exc}. Check that {folder} exists and is "
        "writable, then run `agentry doctor`."
    )


def set_aside(path: Path, why: str) -> Path | None:
    """Move the database at ``path`` (with its -wal and -shm) to ``<name>.<why>-<time>``,
    never over an earlier copy; returns the new path (None when there was no file)."""
    if not path.exists():
        return None
    kept = fsops.aside_name(path, why, ("-wal", "-shm"))
    for suffix in ("-wal", "-shm"):  # the WAL first: it holds what the file does not yet
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(kept.with_name(kept.name + suffix))
    path.rename(kept)
    return kept


def copy_aside(conn: sqlite3.Connection, path: Path, why: str) -> Path:
    """A consistent copy of the open database next to it (SQLite's online backup)."""
    kept = fsops.aside_name(path, why)
    fsops.touch_private(kept)  # SQLite would make it with the umask's mode
    target = sqlite3.connect(kept)
    try:
        conn.backup(target)
    finally:
        target.close()
    return kept
