"""Workflow transitions (DESIGN §7), usable by any process with a connection.

Each transition between steps is one SQLite transaction: the step's result, the
checkpoint's resolution, the next step's task and queued run, the workflow's state and
every events row commit together or not at all. Nothing is launched here: the supervisor
picks the queued run up after the commit. A transition that raises midway is rolled back
entirely; the error is then noted on the workflow in a second, separate transaction with
what :func:`retry_transition` must replay (:mod:`app.supervisor.workflow_guard`). Queueing
and cancelling one step attempt is :mod:`app.supervisor.workflow_attempts`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from app.core.locations import Locations
from app.core.models import Run
from app.core.settings import Settings
from app.core.states import RunState
from app.core.workflow_defs import WorkflowDef
from app.core.workflow_models import Checkpoint, Step, Workflow
from app.core.workflow_states import (
    PERSON_RESOLUTIONS,
    CheckpointState,
    Resolution,
    StepState,
    WorkflowState,
)
from app.runner import protocol
from app.store import repo
from app.store import workflow_repo as wrepo
from app.store.db import Connection, transaction
from app.supervisor.adapters import get_adapter_or_none
from app.supervisor.commands import CommandRefused, ensure_utf8
from app.supervisor.step_results import step_result
from app.supervisor.workflow_attempts import (
    Outcome,
    add_attempt,
    advance,
    cancel_step,
    queue_step,
    step_state_for,
)
from app.supervisor.workflow_guard import guarded

# ---------------------------------------------------------------------- public transitions


def start_workflow(
    conn: Connection,
    settings: Settings,
    definition: WorkflowDef,
    input_text: str,
    cwd: str,
) -> tuple[int, Outcome]:
    """Create the workflow (pending), then queue its first step in its own transition."""
    if definition.uses_input and not input_text.strip():
        raise CommandRefused(f"workflow {definition.name!r} uses {{input}}: give it an input")
    ensure_utf8("the workflow input", input_text)
    ensure_utf8("the working folder", cwd)
    if not Path(cwd).is_dir():
        raise CommandRefused(f"working folder {cwd} does not exist")
    with transaction(conn):
        workflow_id = wrepo.create_workflow(conn, definition, input_text, cwd)
    intent = {"kind": "begin"}
    return workflow_id, guarded(
        conn, workflow_id, intent, lambda: _begin(conn, settings, workflow_id)
    )


def finish_step(
    conn: Connection, locations: Locations, settings: Settings, step_id: int
) -> Outcome | None:
    """The transition after a step's run ended; None if it was made already (idempotent)."""
    step = wrepo.get_step(conn, step_id)
    intent = {"kind": "finish_step", "step_id": step_id}
    return guarded(
        conn, step.workflow_id, intent, lambda: _finish_step(conn, locations, settings, step_id)
    )


def resolve_checkpoint(
    conn: Connection,
    settings: Settings,
    checkpoint_id: int,
    action: Resolution,
    *,
    edited_text: str | None = None,
    notes: str | None = None,
    rerun: bool = False,
    who: str = "user",
) -> Outcome:
    """Approve, edit or reject a pending checkpoint, and make the transition it calls for."""
    resolution = _resolution(action, edited_text, rerun)
    checkpoint = _checkpoint(conn, checkpoint_id)
    intent = {
        "kind": "resolve",
        "checkpoint_id": checkpoint_id,
        "action": resolution.value,
        "edited_text": edited_text,
        "notes": notes,
        "rerun": rerun,
        "who": who,
    }
    return guarded(
        conn,
        checkpoint.workflow_id,
        intent,
        lambda: _resolve(conn, settings, checkpoint_id, resolution, edited_text, notes, rerun, who),
    )


def retry_transition(
    conn: Connection, locations: Locations, settings: Settings, workflow_id: int
) -> Outcome | None:
    """Replay the transition that failed on this workflow, or else run again the step
    that failed, timed out, was interrupted or cancelled (a new attempt, same prompt)."""
    workflow = _workflow(conn, workflow_id)
    intent = workflow.retry
    if workflow.error is not None and intent is not None:
        return guarded(
            conn,
            workflow_id,
            intent,
            lambda: _replay(conn, locations, settings, workflow_id, intent),
        )
    return retry_step(conn, settings, workflow_id)


def retryable_step(conn: Connection, workflow_id: int) -> Step | None:
    """The step attempt a retry would run again, if the workflow ended on one."""
    workflow = wrepo.get_workflow(conn, workflow_id)
    return retryable_of(workflow, wrepo.steps_of(conn, workflow_id))


def retryable_of(workflow: Workflow, steps: list[Step]) -> Step | None:
    if workflow.state not in (WorkflowState.FAILED, WorkflowState.CANCELLED):
        return None
    last = max(steps, key=lambda s: s.id, default=None)
    ended = (StepState.FAILED, StepState.CANCELLED)
    return last if last is not None and last.state in ended else None


def retry_step(conn: Connection, settings: Settings, workflow_id: int) -> Outcome:
    with transaction(conn):
        workflow = _workflow(conn, workflow_id)
        step = retryable_step(conn, workflow_id)
        if step is None:
            raise CommandRefused(
                f"workflow {workflow_id} has nothing to retry ({workflow.state.value}): "
                "only a failed transition or a step that failed or was cancelled can be"
            )
        outcome = Outcome(workflow_id)
        add_attempt(
            conn, settings, workflow, step.step_index, outcome,
            attempt=step.attempt + 1, prompt=step.prompt, argv=step.argv, notes=step.notes,
        )  # fmt: skip
        wrepo.set_workflow_state(
            conn,
            workflow.id,
            WorkflowState.RUNNING,
            message=f"retrying step {step.name!r}",
            current_step=step.step_index,
        )
    return outcome


def cancel_workflow(
    conn: Connection, locations: Locations, workflow_id: int, *, who: str = "user"
) -> Outcome:
    """End the workflow: its queued step run is cancelled, an active one asked to stop."""
    with transaction(conn):
        workflow = _workflow(conn, workflow_id)
        if workflow.state.is_terminal:
            raise CommandRefused(
                f"workflow {workflow_id} has already ended ({workflow.state.value})"
            )
        outcome = Outcome(workflow_id)
        for step in wrepo.running_steps(conn, workflow_id):
            cancel_step(conn, step, outcome)
        pending = wrepo.pending_checkpoint_of(conn, workflow_id)
        if pending is not None:
            wrepo.resolve_checkpoint(conn, pending.id, Resolution.CANCEL, who=who)
        wrepo.set_workflow_state(
            conn, workflow_id, WorkflowState.CANCELLED, message=f"cancelled by {who}"
        )
        wrepo.clear_error(conn, workflow_id)
    for run in outcome.stopping_runs:
        protocol.request_cancel(
            locations.run_dir(run.dir), (run.runner_pid, run.runner_create_time)
        )
    return outcome


def steps_to_finish(conn: Connection) -> list[int]:
    """Steps whose run has ended but whose transition was never committed."""
    return [step.id for step in wrepo.steps_with_ended_runs(conn)]


# ---------------------------------------------------------------------- the transitions


def _begin(conn: Connection, settings: Settings, workflow_id: int) -> Outcome:
    outcome = Outcome(workflow_id)
    with transaction(conn):
        workflow = wrepo.get_workflow(conn, workflow_id)
        if workflow.state is not WorkflowState.PENDING:
            return outcome  # begun already
        advance(conn, settings, workflow, 0, outcome)
        wrepo.clear_error(conn, workflow_id)
    return outcome


def _finish_step(
    conn: Connection, locations: Locations, settings: Settings, step_id: int
) -> Outcome | None:
    step = wrepo.get_step(conn, step_id)
    run = repo.get_run(conn, step.run_id)
    if step.state is not StepState.RUNNING or not run.state.is_terminal:
        return None
    # Read before the transaction: file I/O has no place inside the write lock.
    result = _result_of(conn, locations, run) if run.state is RunState.SUCCEEDED else None
    with transaction(conn):
        step = wrepo.get_step(conn, step_id)
        if step.state is not StepState.RUNNING:
            return None  # another process made this transition meanwhile
        outcome = Outcome(step.workflow_id)
        _step_ended(conn, settings, step, repo.get_run(conn, step.run_id), result, outcome)
        wrepo.clear_error(conn, step.workflow_id)
    return outcome


def _step_ended(
    conn: Connection,
    settings: Settings,
    step: Step,
    run: Run,
    result: str | None,
    outcome: Outcome,
) -> None:
    workflow = wrepo.get_workflow(conn, step.workflow_id)
    if workflow.state.is_terminal:  # e.g. cancelled while the step ran
        wrepo.end_step(conn, step.id, step_state_for(run), result_text=result)
    elif run.state is RunState.SUCCEEDED:
        _step_succeeded(conn, settings, workflow, step, result or "", outcome)
    elif run.state is RunState.CANCELLED:
        wrepo.end_step(conn, step.id, StepState.CANCELLED)
        wrepo.set_workflow_state(
            conn, workflow.id, WorkflowState.CANCELLED, message=f"step {step.name!r} was cancelled"
        )
    else:
        wrepo.end_step(conn, step.id, StepState.FAILED)
        wrepo.set_workflow_state(
            conn, workflow.id, WorkflowState.FAILED, message=_failure_message(step, run)
        )


def _step_succeeded(
    conn: Connection,
    settings: Settings,
    workflow: Workflow,
    step: Step,
    result: str,
    outcome: Outcome,
) -> None:
    step = wrepo.end_step(conn, step.id, StepState.SUCCEEDED, result_text=result)
    if workflow.definition.steps[step.step_index].checkpoint:
        outcome.checkpoint_id = wrepo.create_checkpoint(conn, step, result)
        wrepo.set_workflow_state(conn, workflow.id, WorkflowState.AWAITING_CHECKPOINT)
        return
    wrepo.set_final_text(conn, step.id, result)
    advance(conn, settings, workflow, step.step_index + 1, outcome)


def _resolve(
    conn: Connection,
    settings: Settings,
    checkpoint_id: int,
    resolution: Resolution,
    edited_text: str | None,
    notes: str | None,
    rerun: bool,
    who: str,
) -> Outcome:
    with transaction(conn):
        checkpoint = _pending_checkpoint(conn, checkpoint_id)
        workflow = wrepo.get_workflow(conn, checkpoint.workflow_id)
        wrepo.resolve_checkpoint(
            conn,
            checkpoint_id,
            resolution,
            who=who,
            edited_text=edited_text,
            notes=notes,
            rerun=rerun,
        )
        step = wrepo.get_step(conn, checkpoint.step_id)
        outcome = Outcome(workflow.id)
        if resolution is Resolution.REJECT and rerun:
            _rerun(conn, settings, workflow, step, checkpoint.result_text, notes or "", outcome)
        elif resolution is Resolution.REJECT:
            why = f"rejected at step {step.name!r} by {who}" + (f": {notes}" if notes else "")
            wrepo.set_workflow_state(conn, workflow.id, WorkflowState.REJECTED, message=why)
        else:
            final = edited_text if resolution is Resolution.EDIT else checkpoint.result_text
            wrepo.set_final_text(conn, step.id, final or "")
            advance(conn, settings, workflow, step.step_index + 1, outcome)
        wrepo.clear_error(conn, workflow.id)
    return outcome


def _rerun(
    conn: Connection,
    settings: Settings,
    workflow: Workflow,
    step: Step,
    rejected: str,
    notes: str,
    outcome: Outcome,
) -> None:
    queue_step(
        conn,
        settings,
        workflow,
        step.step_index,
        outcome,
        attempt=step.attempt + 1,
        notes=notes,
        rejected=rejected,
    )
    wrepo.set_workflow_state(conn, workflow.id, WorkflowState.RUNNING, current_step=step.step_index)


def _replay(
    conn: Connection,
    locations: Locations,
    settings: Settings,
    workflow_id: int,
    intent: dict[str, Any],
) -> Outcome | None:
    kind = intent.get("kind")
    if kind == "begin":
        return _begin(conn, settings, workflow_id)
    if kind == "finish_step":
        done = _finish_step(conn, locations, settings, int(intent["step_id"]))
        if done is None:  # nothing left to do: the error is stale
            with transaction(conn):
                wrepo.clear_error(conn, workflow_id)
        return done
    if kind == "resolve":
        resolution = _resolution(
            _stored_action(intent["action"]), intent.get("edited_text"), intent["rerun"]
        )
        return _resolve(
            conn,
            settings,
            int(intent["checkpoint_id"]),
            resolution,
            intent.get("edited_text"),
            intent.get("notes"),
            bool(intent["rerun"]),
            str(intent.get("who") or "user"),
        )
    raise CommandRefused(f"workflow {workflow_id}: unknown transition {kind!r} to retry")


# ---------------------------------------------------------------------- helpers


def _stored_action(value: object) -> Resolution:
    """The action of a transition recorded for a retry (its JSON holds the enum's value)."""
    try:
        return Resolution(str(value))
    except ValueError:
        raise CommandRefused(f"unknown action {value!r}; use approve, edit or reject") from None


def _resolution(action: Resolution, edited_text: str | None, rerun: bool) -> Resolution:
    resolution = action
    if resolution not in PERSON_RESOLUTIONS:
        raise CommandRefused(f"unknown action {action.value!r}; use approve, edit or reject")
    if resolution is Resolution.EDIT and not (edited_text or "").strip():
        raise CommandRefused("the edited text is empty; give the text later steps should receive")
    if resolution is not Resolution.EDIT and edited_text is not None:
        raise CommandRefused("only an edit carries edited text")
    if rerun and resolution is not Resolution.REJECT:
        raise CommandRefused("only a rejection can re-run the step")
    return resolution


def _workflow(conn: Connection, workflow_id: int) -> Workflow:
    try:
        return wrepo.get_workflow(conn, workflow_id)
    except wrepo.NotFound as exc:
        raise CommandRefused(str(exc)) from None


def _checkpoint(conn: Connection, checkpoint_id: int) -> Checkpoint:
    try:
        return wrepo.get_checkpoint(conn, checkpoint_id)
    except wrepo.NotFound as exc:
        raise CommandRefused(str(exc)) from None


def _pending_checkpoint(conn: Connection, checkpoint_id: int) -> Checkpoint:
    checkpoint = _checkpoint(conn, checkpoint_id)
    if checkpoint.state is not CheckpointState.PENDING:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(checkpoint.resolved_at or 0))
        raise CommandRefused(
            f"checkpoint {checkpoint_id} is already {checkpoint.state.value} "
            f"(by {checkpoint.resolved_by or '?'} at {when})"
        )
    return checkpoint


def _result_of(conn: Connection, locations: Locations, run: Run) -> str:
    agent = repo.get_task(conn, run.task_id).agent
    path = protocol.output_log(locations.run_dir(run.dir))
    return step_result(path, get_adapter_or_none(agent))


def _failure_message(step: Step, run: Run) -> str:
    text = f"step {step.name!r} ended {run.state.value}"
    if run.exit_code is not None:
        text += f" (exit code {run.exit_code})"
    return text + (f": {run.message}" if run.message else "")
