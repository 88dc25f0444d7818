"""All SQL for lands (DESIGN §7a). Every change is checked against the state table in core
and written with its audit event, inside the caller's transaction."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from app.core.lands import Land, LandState, check_land_transition
from app.store.repo import add_event

_COLUMNS = (
    "id, task_id, repo, base, check_cmd, state, head_before, base_sha, head_sha, run_id, "
    "message, created_at, updated_at"
)
_FIELDS = frozenset({"head_before", "base_sha", "head_sha", "run_id", "message"})


def _land(row: sqlite3.Row) -> Land:
    return Land(
        id=row["id"],
        task_id=row["task_id"],
        repo=row["repo"],
        base=row["base"],
        check=row["check_cmd"],
        state=LandState(row["state"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        head_before=row["head_before"],
        base_sha=row["base_sha"],
        head_sha=row["head_sha"],
        run_id=row["run_id"],
        message=row["message"],
    )


def create(conn: sqlite3.Connection, task_id: int, *, repo: str, base: str, check: str) -> Land:
    now = time.time()
    cur = conn.execute(
        "INSERT INTO lands (task_id, repo, base, check_cmd, state, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (task_id, repo, base, check, LandState.QUEUED.value, now, now),
    )
    land_id = int(cur.lastrowid or 0)
    add_event(conn, "land_queued", task_id=task_id,
              detail={"land": land_id, "repo": repo, "base": base, "check": check})  # fmt: skip
    return get(conn, land_id)


def get(conn: sqlite3.Connection, land_id: int) -> Land:
    row = conn.execute(f"SELECT {_COLUMNS} FROM lands WHERE id = ?", (land_id,)).fetchone()
    if row is None:
        raise LookupError(f"there is no land {land_id}")
    return _land(row)


def active(conn: sqlite3.Connection) -> list[Land]:
    """Every land that has not ended, oldest first: the order they go in."""
    terminal = [s.value for s in LandState if s.is_terminal]
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM lands WHERE state NOT IN (?, ?, ?) ORDER BY id", terminal
    )
    return [_land(r) for r in rows]


def of_task(conn: sqlite3.Connection, task_id: int) -> list[Land]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM lands WHERE task_id = ? ORDER BY id", (task_id,))
    return [_land(r) for r in rows]


def by_run(conn: sqlite3.Connection, run_id: int) -> Land | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM lands WHERE run_id = ?", (run_id,)).fetchone()
    return _land(row) if row else None


def transition(conn: sqlite3.Connection, land_id: int, new: LandState, **fields: Any) -> Land:
    """Move a land to ``new`` (recording ``fields`` with it), with its audit event."""
    unknown = set(fields) - _FIELDS
    if unknown:
        raise TypeError(f"lands have no field(s) {sorted(unknown)}")
    current = get(conn, land_id)
    if current.state is not new:
        check_land_transition(current.state, new)
    sets = ", ".join(f"{name} = ?" for name in fields)
    conn.execute(
        f"UPDATE lands SET state = ?, updated_at = ?{', ' + sets if sets else ''} WHERE id = ?",
        (new.value, time.time(), *fields.values(), land_id),
    )
    detail: dict[str, Any] = {"land": land_id, **fields}
    add_event(conn, f"land_{new.value}", task_id=current.task_id, detail=detail)
    return get(conn, land_id)
