"""All SQL for tasks' worktrees (DESIGN §7a). Every change is checked against the state
table in core and written with its audit event, inside the caller's transaction."""

from __future__ import annotations

import sqlite3
import time

from app.core.workspaces import Workspace, WorkspaceState, check_workspace_transition
from app.store.repo import add_event

_COLUMNS = "task_id, repo, path, branch, base, base_sha, subdir, state, created_at, updated_at"


def _workspace(row: sqlite3.Row) -> Workspace:
    return Workspace(
        task_id=row["task_id"],
        repo=row["repo"],
        path=row["path"],
        branch=row["branch"],
        base=row["base"],
        base_sha=row["base_sha"],
        subdir=row["subdir"],
        state=WorkspaceState(row["state"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def record_intent(
    conn: sqlite3.Connection,
    task_id: int,
    *,
    repo: str,
    path: str,
    branch: str,
    base: str,
    base_sha: str,
    subdir: str,
) -> Workspace:
    """Note that a worktree is about to be created: before ``git worktree add`` runs."""
    now = time.time()
    conn.execute(
        f"INSERT INTO workspaces ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (task_id, repo, path, branch, base, base_sha, subdir, WorkspaceState.CREATING.value,
         now, now),
    )  # fmt: skip
    detail = {"repo": repo, "path": path, "branch": branch, "base": base, "base_sha": base_sha}
    add_event(conn, "workspace_creating", task_id=task_id, detail=detail)
    return get(conn, task_id) or _missing(task_id)


def get(conn: sqlite3.Connection, task_id: int) -> Workspace | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM workspaces WHERE task_id = ?", (task_id,))
    found = row.fetchone()
    return _workspace(found) if found else None


def in_states(conn: sqlite3.Connection, *states: WorkspaceState) -> list[Workspace]:
    marks = ", ".join("?" for _ in states)
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM workspaces WHERE state IN ({marks}) ORDER BY task_id",
        [s.value for s in states],
    )
    return [_workspace(r) for r in rows]


def transition(conn: sqlite3.Connection, task_id: int, new: WorkspaceState) -> Workspace:
    current = get(conn, task_id) or _missing(task_id)
    if current.state is new:
        return current
    check_workspace_transition(current.state, new)
    conn.execute(
        "UPDATE workspaces SET state = ?, updated_at = ? WHERE task_id = ?",
        (new.value, time.time(), task_id),
    )
    add_event(conn, f"workspace_{new.value}", task_id=task_id, detail={"path": current.path})
    return get(conn, task_id) or _missing(task_id)


def _missing(task_id: int) -> Workspace:
    raise LookupError(f"task {task_id} has no worktree")
