"""All SQL for tasks' worktrees (DESIGN §7a). Every change is checked against the state
table in core and written with its audit event, inside the caller's transaction."""

from __future__ import annotations

import sqlite3
import time

from app.core.workspaces import Workspace, WorkspaceState, check_workspace_transition
from app.store.repo import add_event

_COLUMNS = "task_id, repo, path, branch, base, base_sha, subdir, state, created_at, updated_at"
_READ = f"{_COLUMNS}, setup_done_at"


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
        setup_done_at=row["setup_done_at"],
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
    row = conn.execute(f"SELECT {_READ} FROM workspaces WHERE task_id = ?", (task_id,))
    found = row.fetchone()
    return _workspace(found) if found else None


def in_states(conn: sqlite3.Connection, *states: WorkspaceState) -> list[Workspace]:
    marks = ", ".join("?" for _ in states)
    rows = conn.execute(
        f"SELECT {_READ} FROM workspaces WHERE state IN ({marks}) ORDER BY task_id",
        [s.value for s in states],
    )
    return [_workspace(r) for r in rows]


def transition(conn: sqlite3.Connection, task_id: int, new: WorkspaceState) -> Workspace:
    current = get(conn, task_id) or _missing(task_id)
    if current.state is new:
        return current
    check_workspace_transition(current.state, new)
    # A worktree made again has none of what its setup made (node_modules and the like).
    keep_setup = "setup_done_at" if new is not WorkspaceState.CREATING else "NULL"
    conn.execute(
        f"UPDATE workspaces SET state = ?, updated_at = ?, setup_done_at = {keep_setup} "
        "WHERE task_id = ?",
        (new.value, time.time(), task_id),
    )
    add_event(conn, f"workspace_{new.value}", task_id=task_id, detail={"path": current.path})
    return get(conn, task_id) or _missing(task_id)


def record_setup_done(conn: sqlite3.Connection, task_id: int, run_id: int) -> bool:
    """Note that the project's setup command passed in the task's worktree, so later runs
    (follow-ups, resume) do not run it again. False when there was nothing to note."""
    now = time.time()
    changed = conn.execute(
        "UPDATE workspaces SET setup_done_at = ?, updated_at = ? "
        "WHERE task_id = ? AND setup_done_at IS NULL AND state = ?",
        (now, now, task_id, WorkspaceState.READY.value),
    ).rowcount
    if changed:
        add_event(conn, "workspace_setup_done", task_id=task_id, run_id=run_id)
    return bool(changed)


def _missing(task_id: int) -> Workspace:
    raise LookupError(f"task {task_id} has no worktree")
