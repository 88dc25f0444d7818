"""All SQL for organising tasks: archiving, dismissing, deleting, and finding the ones a
person has not seen end or may want cleared.

Changes must be called inside :func:`app.store.db.transaction`, so each commits with its
``events`` row: the audit trail keeps a deleted task's title and run folders.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable

from app.core.models import Task
from app.core.states import TERMINAL, RunState
from app.store.repo import _TASK_COLUMNS, _tasks, add_event

SEEN_KEY = "seen_up_to"  # meta: when the app last showed the person the task list


def set_archived(conn: sqlite3.Connection, task_id: int, archived: bool) -> bool:
    """Archive or unarchive a task; False when it already was as asked (no event then)."""
    at = time.time() if archived else None
    cur = conn.execute(
        "UPDATE tasks SET archived_at = ? WHERE id = ? AND (archived_at IS NULL) = ?",
        (at, task_id, archived),
    )
    if cur.rowcount:
        add_event(conn, "archived" if archived else "unarchived", task_id=task_id)
    return bool(cur.rowcount)


def set_dismissed(conn: sqlite3.Connection, task_id: int) -> None:
    conn.execute("UPDATE tasks SET dismissed_at = ? WHERE id = ?", (time.time(), task_id))
    add_event(conn, "dismissed", task_id=task_id)


def ended_since(conn: sqlite3.Connection, since: float) -> list[Task]:
    """Tasks not archived whose latest run ended after ``since``, oldest end first."""
    terminal = [s.value for s in TERMINAL]
    marks = ", ".join("?" for _ in terminal)
    rows = conn.execute(
        f"SELECT {_TASK_COLUMNS} FROM tasks t JOIN runs r ON r.id = t.latest_run_id "
        # "+r.state": by runs_by_end, the few that ended lately, not every ended run by state
        f"WHERE t.archived_at IS NULL AND +r.state IN ({marks}) "
        "AND coalesce(r.ended_at, r.created_at) > ? ORDER BY coalesce(r.ended_at, r.created_at)",
        (*terminal, since),
    )
    return _tasks(rows)


def finished(
    conn: sqlite3.Connection,
    states: Iterable[RunState],
    *,
    ended_before: float | None = None,
    include_archived: bool = False,
) -> list[Task]:
    """Tasks whose latest run ended in one of ``states`` (before ``ended_before``), newest first."""
    wanted = [s.value for s in states]
    marks = ", ".join("?" for _ in wanted)
    sql = (
        f"SELECT {_TASK_COLUMNS} FROM tasks t JOIN runs r ON r.id = t.latest_run_id "
        f"WHERE r.state IN ({marks})"
    )
    params: list[object] = list(wanted)
    if ended_before is not None:
        sql += " AND coalesce(r.ended_at, r.created_at) < ?"
        params.append(ended_before)
    if not include_archived:
        sql += " AND t.archived_at IS NULL"
    return _tasks(conn.execute(sql + " ORDER BY t.id DESC", params))


def workflow_of(conn: sqlite3.Connection, task_id: int) -> int | None:
    """The workflow a task is a step of (its history belongs to the workflow)."""
    row = conn.execute(
        "SELECT workflow_id FROM workflow_steps WHERE task_id = ? LIMIT 1", (task_id,)
    ).fetchone()
    return int(row[0]) if row else None


def delete_task(conn: sqlite3.Connection, task_id: int, *, detail: dict[str, object]) -> None:
    """Remove a task and everything that is only its own (runs, approvals, its rules, its
    lands, a removed worktree's row); the ``deleted`` event, with ``detail``, stays."""
    conn.execute("UPDATE tasks SET latest_run_id = NULL WHERE id = ?", (task_id,))
    conn.execute("DELETE FROM approvals WHERE task_id = ?", (task_id,))
    conn.execute("DELETE FROM approval_rules WHERE task_id = ?", (task_id,))
    conn.execute("DELETE FROM lands WHERE task_id = ?", (task_id,))
    conn.execute("DELETE FROM workspaces WHERE task_id = ?", (task_id,))
    conn.execute("DELETE FROM runs WHERE task_id = ?", (task_id,))
    conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,))
    add_event(conn, "deleted", task_id=task_id, detail=detail)
