"""The SQL of a rebuild (DESIGN §3): tasks and runs written back from their run folders,
keeping the ids the folders name, so "task 12" means the same task before and after."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from app.core.models import RunKind, TaskSpec
from app.core.states import ExitReason, RunState
from app.store.repo import add_event


@dataclass(frozen=True)
class RecoveredRun:
    """One run as its folder tells it (what the database row would have said)."""

    run_id: int
    task_id: int
    dir: str
    state: RunState
    created_at: float
    argv: tuple[str, ...]
    timeout: float | None
    prompt: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    exit_code: int | None = None
    reason: ExitReason | None = None
    message: str | None = None
    runner_pid: int | None = None
    runner_create_time: float | None = None
    agent_pid: int | None = None
    agent_create_time: float | None = None
    session_id: str | None = None
    model: str | None = None
    cost_usd: float | None = None


def known_run_folders(conn: sqlite3.Connection) -> set[str]:
    cursor = conn.execute("SELECT dir FROM runs")
    cursor.row_factory = None  # plain tuples: no sqlite3.Row for each of 100,000 runs
    return {row[0] for row in cursor}


def task_exists(conn: sqlite3.Connection, task_id: int) -> bool:
    return conn.execute("SELECT 1 FROM tasks WHERE id = ?", (task_id,)).fetchone() is not None


def run_exists(conn: sqlite3.Connection, run_id: int) -> bool:
    return conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None


def insert_task(
    conn: sqlite3.Connection, task_id: int, title: str, spec: TaskSpec, created_at: float
) -> None:
    conn.execute(
        "INSERT INTO tasks (id, title, agent, spec_json, priority, created_at) "
        "VALUES (?, ?, ?, ?, 0, ?)",
        (task_id, title, spec.agent, json.dumps(spec.to_json(), allow_nan=False), created_at),
    )
    add_event(conn, "task_rebuilt", task_id=task_id, detail={"title": title})


def insert_run(conn: sqlite3.Connection, run: RecoveredRun, *, run_id: int | None) -> int:
    """Insert the run (under ``run_id``, or a new id when the folder's is taken) as its
    task's latest when it is the newest; returns its id."""
    attempt = conn.execute(
        "SELECT coalesce(max(attempt), 0) + 1 FROM runs WHERE task_id = ?", (run.task_id,)
    ).fetchone()[0]
    kind = RunKind.START if attempt == 1 else RunKind.RETRY
    cur = conn.execute(
        "INSERT INTO runs (id, task_id, attempt, state, dir, priority, timeout, created_at, "
        "started_at, ended_at, exit_code, reason, message, runner_pid, runner_create_time, "
        "agent_pid, agent_create_time, kind, prompt, argv_json, session_id, model, cost_usd) "
        "VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run_id, run.task_id, attempt, run.state.value, run.dir, run.timeout,
            run.created_at, run.started_at, run.ended_at, run.exit_code,
            run.reason.value if run.reason else None, run.message, run.runner_pid,
            run.runner_create_time, run.agent_pid, run.agent_create_time, kind.value,
            run.prompt, json.dumps(list(run.argv)), run.session_id, run.model, run.cost_usd,
        ),
    )  # fmt: skip
    new_id = int(cur.lastrowid or 0)
    conn.execute(
        "UPDATE tasks SET latest_run_id = ? WHERE id = ? AND (latest_run_id IS NULL OR "
        "latest_run_id < ?)",
        (new_id, run.task_id, new_id),
    )
    add_event(conn, "run_rebuilt", task_id=run.task_id, run_id=new_id,
              new_state=run.state.value, detail={"dir": run.dir})  # fmt: skip
    return new_id


def count_tasks(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM tasks").fetchone()[0])


def next_task_id(conn: sqlite3.Connection) -> int:
    """An id no task has had (AUTOINCREMENT's own counter included)."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'tasks'").fetchone()
    top = conn.execute("SELECT coalesce(max(id), 0) FROM tasks").fetchone()[0]
    return max(int(row[0]) if row else 0, int(top)) + 1
