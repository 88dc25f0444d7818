"""All SQL for workflows, the attempts of their steps, and checkpoints.

Like :mod:`app.store.repo`, functions that change state must run inside
:func:`app.store.db.transaction`; each state change is checked against its table in
:mod:`app.core.workflow_states` and writes its ``events`` row in the same transaction.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from app.core.errors import AgentryError
from app.core.states import TERMINAL
from app.core.workflow_defs import WorkflowDef
from app.core.workflow_models import Checkpoint, Step, Workflow
from app.core.workflow_states import (
    CheckpointState,
    Resolution,
    StepState,
    WorkflowState,
    check_checkpoint_transition,
    check_step_transition,
    check_workflow_transition,
)
from app.store.repo import add_event


class NotFound(AgentryError, LookupError):
    pass


def _workflow(row: sqlite3.Row) -> Workflow:
    return Workflow(
        id=row["id"],
        name=row["name"],
        definition=WorkflowDef.from_json(json.loads(row["definition_json"])),
        input=row["input"],
        cwd=row["cwd"],
        state=WorkflowState(row["state"]),
        current_step=row["current_step"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        ended_at=row["ended_at"],
        message=row["message"],
        error=row["error"],
        error_at=row["error_at"],
        retry=json.loads(row["retry_json"]) if row["retry_json"] else None,
    )


def _step(row: sqlite3.Row) -> Step:
    return Step(
        id=row["id"],
        workflow_id=row["workflow_id"],
        step_index=row["step_index"],
        name=row["name"],
        attempt=row["attempt"],
        task_id=row["task_id"],
        run_id=row["run_id"],
        state=StepState(row["state"]),
        prompt=row["prompt"],
        argv=tuple(json.loads(row["argv_json"])),
        created_at=row["created_at"],
        notes=row["notes"],
        result_text=row["result_text"],
        final_text=row["final_text"],
        ended_at=row["ended_at"],
    )


def _checkpoint(row: sqlite3.Row) -> Checkpoint:
    return Checkpoint(
        id=row["id"],
        workflow_id=row["workflow_id"],
        step_id=row["step_id"],
        state=CheckpointState(row["state"]),
        result_text=row["result_text"],
        created_at=row["created_at"],
        step_name=row["step_name"],
        workflow_name=row["workflow_name"],
        task_id=row["task_id"],
        action=Resolution(row["action"]) if row["action"] else None,
        resolved_by=row["resolved_by"],
        resolved_at=row["resolved_at"],
        edited_text=row["edited_text"],
        notes=row["notes"],
        rerun=bool(row["rerun"]),
    )


# ---------------------------------------------------------------- workflows


def create_workflow(
    conn: sqlite3.Connection, definition: WorkflowDef, input_text: str, cwd: str
) -> int:
    now = time.time()
    cur = conn.execute(
        "INSERT INTO workflows (name, definition_json, input, cwd, state, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            definition.name,
            json.dumps(definition.to_json()),
            input_text,
            cwd,
            WorkflowState.PENDING.value,
            now,
            now,
        ),
    )
    workflow_id = int(cur.lastrowid or 0)
    add_event(
        conn,
        "workflow_state",
        new_state=WorkflowState.PENDING.value,
        detail={"workflow_id": workflow_id, "name": definition.name},
    )
    return workflow_id


def get_workflow(conn: sqlite3.Connection, workflow_id: int) -> Workflow:
    row = conn.execute("SELECT * FROM workflows WHERE id = ?", (workflow_id,)).fetchone()
    if row is None:
        raise NotFound(f"no workflow {workflow_id}; `agentry workflow list` shows them")
    return _workflow(row)


def list_workflows(conn: sqlite3.Connection, limit: int | None = None) -> list[Workflow]:
    sql = "SELECT * FROM workflows ORDER BY id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [_workflow(row) for row in conn.execute(sql)]


def set_workflow_state(
    conn: sqlite3.Connection,
    workflow_id: int,
    new: WorkflowState,
    *,
    message: str | None = None,
    current_step: int | None = None,
) -> Workflow:
    """The single entry point for a workflow's state (and current step) change."""
    old = get_workflow(conn, workflow_id)
    if new is not old.state:
        check_workflow_transition(old.state, new)
    now = time.time()
    conn.execute(
        "UPDATE workflows SET state = ?, message = coalesce(?, message), "
        "current_step = coalesce(?, current_step), updated_at = ?, ended_at = ? WHERE id = ?",
        (new.value, message, current_step, now, now if new.is_terminal else None, workflow_id),
    )
    if new is not old.state:
        detail = {"workflow_id": workflow_id, "message": message, "step": current_step}
        add_event(
            conn,
            "workflow_state",
            old_state=old.state.value,
            new_state=new.value,
            detail={k: v for k, v in detail.items() if v is not None},
        )
    return get_workflow(conn, workflow_id)


def set_error(
    conn: sqlite3.Connection, workflow_id: int, error: str, retry: dict[str, Any]
) -> None:
    """Note a failed (rolled back) transition and what Retry replays; not a state change,
    so it has no events row and leaves every other column as the rollback left it."""
    conn.execute(
        "UPDATE workflows SET error = ?, error_at = ?, retry_json = ? WHERE id = ?",
        (error, time.time(), json.dumps(retry), workflow_id),
    )


def clear_error(conn: sqlite3.Connection, workflow_id: int) -> None:
    conn.execute(
        "UPDATE workflows SET error = NULL, error_at = NULL, retry_json = NULL "
        "WHERE id = ? AND error IS NOT NULL",
        (workflow_id,),
    )


def change_marks(conn: sqlite3.Connection, limit: int = 500) -> dict[int, tuple[Any, ...]]:
    """A cheap fingerprint of the newest workflows, to notice other processes' changes."""
    rows = conn.execute(
        "SELECT id, state, updated_at, error FROM workflows ORDER BY id DESC LIMIT ?", (limit,)
    )
    return {row[0]: tuple(row[1:]) for row in rows}


# ---------------------------------------------------------------- steps


def insert_step(
    conn: sqlite3.Connection,
    workflow_id: int,
    step_index: int,
    name: str,
    attempt: int,
    *,
    task_id: int,
    run_id: int,
    prompt: str | None,
    argv: tuple[str, ...],
    notes: str | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO workflow_steps (workflow_id, step_index, name, attempt, task_id, run_id, "
        "state, prompt, argv_json, notes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            workflow_id,
            step_index,
            name,
            attempt,
            task_id,
            run_id,
            StepState.RUNNING.value,
            prompt,
            json.dumps(list(argv)),
            notes,
            time.time(),
        ),
    )
    step_id = int(cur.lastrowid or 0)
    add_event(
        conn,
        "workflow_step",
        task_id=task_id,
        run_id=run_id,
        new_state=StepState.RUNNING.value,
        detail={"workflow_id": workflow_id, "step": name, "attempt": attempt, "step_id": step_id},
    )
    return step_id


def get_step(conn: sqlite3.Connection, step_id: int) -> Step:
    row = conn.execute("SELECT * FROM workflow_steps WHERE id = ?", (step_id,)).fetchone()
    if row is None:
        raise NotFound(f"no workflow step {step_id}")
    return _step(row)


def step_for_run(conn: sqlite3.Connection, run_id: int) -> Step | None:
    row = conn.execute("SELECT * FROM workflow_steps WHERE run_id = ?", (run_id,)).fetchone()
    return _step(row) if row else None


def steps_of(conn: sqlite3.Connection, workflow_id: int) -> list[Step]:
    rows = conn.execute(
        "SELECT * FROM workflow_steps WHERE workflow_id = ? ORDER BY id", (workflow_id,)
    )
    return [_step(row) for row in rows]


def running_steps(conn: sqlite3.Connection, workflow_id: int) -> list[Step]:
    rows = conn.execute(
        "SELECT * FROM workflow_steps WHERE workflow_id = ? AND state = ? ORDER BY id",
        (workflow_id, StepState.RUNNING.value),
    )
    return [_step(row) for row in rows]


def final_results(conn: sqlite3.Connection, workflow_id: int) -> dict[str, str]:
    """Step name -> what later steps receive, from each step's newest finished attempt."""
    rows = conn.execute(
        "SELECT name, final_text FROM workflow_steps WHERE workflow_id = ? "
        "AND final_text IS NOT NULL ORDER BY step_index, attempt",
        (workflow_id,),
    )
    return {row[0]: row[1] for row in rows}


def end_step(
    conn: sqlite3.Connection, step_id: int, new: StepState, *, result_text: str | None = None
) -> Step:
    step = get_step(conn, step_id)
    check_step_transition(step.state, new)
    conn.execute(
        "UPDATE workflow_steps SET state = ?, result_text = ?, ended_at = ? WHERE id = ?",
        (new.value, result_text, time.time(), step_id),
    )
    add_event(
        conn,
        "workflow_step",
        task_id=step.task_id,
        run_id=step.run_id,
        old_state=step.state.value,
        new_state=new.value,
        detail={
            "workflow_id": step.workflow_id,
            "step": step.name,
            "attempt": step.attempt,
            "step_id": step_id,
        },
    )
    return get_step(conn, step_id)


def set_final_text(conn: sqlite3.Connection, step_id: int, text: str) -> None:
    """What later steps receive; the original stays in ``result_text``."""
    conn.execute("UPDATE workflow_steps SET final_text = ? WHERE id = ?", (text, step_id))


def steps_with_ended_runs(conn: sqlite3.Connection) -> list[Step]:
    """Steps still marked running although their run has ended: transitions never made
    (a crash between the two commits, a run cancelled by another process). Workflows whose
    last transition failed wait for a person's Retry instead."""
    ended = sorted(state.value for state in TERMINAL)
    marks = ", ".join("?" for _ in ended)
    rows = conn.execute(
        "SELECT s.* FROM workflow_steps s JOIN runs r ON r.id = s.run_id "
        "JOIN workflows w ON w.id = s.workflow_id "
        f"WHERE s.state = ? AND r.state IN ({marks}) AND w.error IS NULL ORDER BY s.id",
        (StepState.RUNNING.value, *ended),
    )
    return [_step(row) for row in rows]


# ---------------------------------------------------------------- checkpoints

_PENDING = CheckpointState.PENDING.value
_CHECKPOINT_SELECT = (
    "SELECT c.*, s.name AS step_name, s.task_id AS task_id, w.name AS workflow_name "
    "FROM checkpoints c "
    "JOIN workflow_steps s ON s.id = c.step_id JOIN workflows w ON w.id = c.workflow_id"
)


def create_checkpoint(conn: sqlite3.Connection, step: Step, result_text: str) -> int:
    cur = conn.execute(
        "INSERT INTO checkpoints (workflow_id, step_id, state, result_text, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (step.workflow_id, step.id, CheckpointState.PENDING.value, result_text, time.time()),
    )
    checkpoint_id = int(cur.lastrowid or 0)
    add_event(
        conn,
        "checkpoint",
        task_id=step.task_id,
        run_id=step.run_id,
        new_state=CheckpointState.PENDING.value,
        detail={"workflow_id": step.workflow_id, "checkpoint_id": checkpoint_id, "step": step.name},
    )
    return checkpoint_id


def get_checkpoint(conn: sqlite3.Connection, checkpoint_id: int) -> Checkpoint:
    row = conn.execute(f"{_CHECKPOINT_SELECT} WHERE c.id = ?", (checkpoint_id,)).fetchone()
    if row is None:
        raise NotFound(f"no checkpoint {checkpoint_id}; `agentry checkpoints` lists pending ones")
    return _checkpoint(row)


def pending_checkpoints(conn: sqlite3.Connection) -> list[Checkpoint]:
    rows = conn.execute(f"{_CHECKPOINT_SELECT} WHERE c.state = ? ORDER BY c.id", (_PENDING,))
    return [_checkpoint(row) for row in rows]


def pending_checkpoint_of(conn: sqlite3.Connection, workflow_id: int) -> Checkpoint | None:
    row = conn.execute(
        f"{_CHECKPOINT_SELECT} WHERE c.workflow_id = ? AND c.state = ?", (workflow_id, _PENDING)
    ).fetchone()
    return _checkpoint(row) if row else None


def checkpoints_of(conn: sqlite3.Connection, workflow_id: int) -> list[Checkpoint]:
    rows = conn.execute(
        f"{_CHECKPOINT_SELECT} WHERE c.workflow_id = ? ORDER BY c.id", (workflow_id,)
    )
    return [_checkpoint(row) for row in rows]


def resolve_checkpoint(
    conn: sqlite3.Connection,
    checkpoint_id: int,
    action: Resolution,
    *,
    who: str,
    edited_text: str | None = None,
    notes: str | None = None,
    rerun: bool = False,
) -> bool:
    """Record a resolution, exactly once (``WHERE state = pending``); False if it was
    already resolved by someone else."""
    new = action.state
    old = get_checkpoint(conn, checkpoint_id)
    check_checkpoint_transition(old.state, new)
    cur = conn.execute(
        "UPDATE checkpoints SET state = ?, action = ?, resolved_by = ?, resolved_at = ?, "
        "edited_text = ?, notes = ?, rerun = ? WHERE id = ? AND state = ?",
        (
            new.value,
            action.value,
            who,
            time.time(),
            edited_text,
            notes,
            int(rerun),
            checkpoint_id,
            _PENDING,
        ),
    )
    if cur.rowcount != 1:
        return False
    add_event(
        conn,
        "checkpoint",
        old_state=old.state.value,
        new_state=new.value,
        detail={
            "workflow_id": old.workflow_id,
            "checkpoint_id": checkpoint_id,
            "action": action.value,
            "who": who,
            "notes": notes,
            "rerun": rerun,
            "edited": edited_text is not None,
        },
    )
    return True


def newest_pending_checkpoints(conn: sqlite3.Connection, after_id: int) -> list[Checkpoint]:
    rows = conn.execute(
        f"{_CHECKPOINT_SELECT} WHERE c.state = ? AND c.id > ? ORDER BY c.id", (_PENDING, after_id)
    )
    return [_checkpoint(row) for row in rows]
