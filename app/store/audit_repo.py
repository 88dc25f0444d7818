"""The audit trail in the database, read back to check or export it, and the sealing of rows
written before the hash chain existed (the recipe: app.core.audit; each new row is sealed
as it is written, by app.store.repo.add_event)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from app.core import audit, audit_check

_CONTENT = ", ".join(audit.ROW_COLUMNS)
_BATCH = 2000


def seal_unsealed(conn: sqlite3.Connection) -> int:
    """Seal, in id order, the rows that have no hash yet (those written before the chain
    existed); returns how many."""
    last = conn.execute(
        "SELECT hash FROM events WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1"
    ).fetchone()
    prev_hash = last[0] if last is not None else audit.GENESIS
    rows = conn.execute(f"SELECT {_CONTENT} FROM events WHERE hash IS NULL ORDER BY id").fetchall()
    sealed = []
    for content in rows:
        digest = audit.row_hash(content, prev_hash)
        sealed.append((prev_hash, digest, content[0]))
        prev_hash = digest
    conn.executemany("UPDATE events SET prev_hash = ?, hash = ? WHERE id = ?", sealed)
    return len(sealed)


def highest_id_issued(conn: sqlite3.Connection) -> int:
    """The largest event id ever given: SQLite's AUTOINCREMENT counter, which deleting rows
    does not lower."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
    return int(row[0]) if row is not None else 0


def chain_rows(conn: sqlite3.Connection) -> Iterator[tuple[Any, ...]]:
    """Every row as (*ROW_COLUMNS, prev_hash, hash), in id order, read in batches so a long
    trail is never all in memory."""
    after = 0
    while True:
        rows = conn.execute(
            f"SELECT {_CONTENT}, prev_hash, hash FROM events WHERE id > ? ORDER BY id LIMIT ?",
            (after, _BATCH),
        ).fetchall()
        yield from rows
        if len(rows) < _BATCH:
            return
        after = rows[-1][0]


def verify(conn: sqlite3.Connection) -> audit_check.Verdict:
    """Check the whole trail; read in one transaction, so writers may go on meanwhile."""
    with _snapshot(conn):
        return audit_check.verify(chain_rows(conn), highest_id_issued(conn))


def export_rows(
    conn: sqlite3.Connection,
    *,
    task_id: int | None = None,
    since: float | None = None,
    until: float | None = None,
) -> list[dict[str, Any]]:
    """The rows of one task and/or a time range (``since`` ≤ at < ``until``), in id order."""
    where: list[str] = ["1"]
    params: list[float] = []
    if task_id is not None:
        where.append("task_id = ?")
        params.append(task_id)
    if since is not None:
        where.append("at >= ?")
        params.append(since)
    if until is not None:
        where.append("at < ?")
        params.append(until)
    columns = (*audit.ROW_COLUMNS, "prev_hash", "hash")
    rows = conn.execute(
        f"SELECT {', '.join(columns)} FROM events WHERE {' AND '.join(where)} ORDER BY id",
        params,
    ).fetchall()
    return [dict(zip(columns, row, strict=True)) for row in rows]


class _snapshot:
    """A read transaction (one consistent view of the table) unless one is already open."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.began = False

    def __enter__(self) -> None:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN")
            self.began = True

    def __exit__(self, *exc: object) -> None:
        if self.began:
            self.conn.execute("ROLLBACK")
