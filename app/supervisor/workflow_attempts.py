"""One attempt of a workflow step, queued or cancelled inside the caller's transaction.

A step attempt is a normal task whose prompt (and a shell step's argv) is rendered from
the step's templates; its run is queued in the same transaction as the workflow's state
change, and :class:`Outcome` collects what the caller announces once it commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.models import Run, TaskSpec
from app.core.settings import Settings
from app.core.states import RunState
from app.core.workflow_models import Step, Workflow
from app.core.workflow_states import StepState, WorkflowState
from app.core.workflow_templates import StepContext, render_step, with_notes
from app.store import repo
from app.store import workflow_repo as wrepo
from app.store.db import Connection
from app.supervisor.commands import cancel_queued, resolve_timeout


@dataclass
class Outcome:
    """What a committed transition did, for the caller to announce."""

    workflow_id: int
    queued: list[tuple[int, int]] = field(default_factory=list)  # (task id, run id)
    checkpoint_id: int | None = None
    cancelled_runs: list[Run] = field(default_factory=list)  # queued runs cancelled in the db
    stopping_runs: list[Run] = field(default_factory=list)  # active runs asked to stop


def advance(
    conn: Connection,
    settings: Settings,
    workflow: Workflow,
    index: int,
    outcome: Outcome,
) -> None:
    """Queue step ``index`` and run the workflow on it, or complete it after its last step."""
    if index >= len(workflow.definition.steps):
        wrepo.set_workflow_state(conn, workflow.id, WorkflowState.COMPLETED)
        return
    queue_step(conn, settings, workflow, index, outcome)
    wrepo.set_workflow_state(conn, workflow.id, WorkflowState.RUNNING, current_step=index)


def queue_step(
    conn: Connection,
    settings: Settings,
    workflow: Workflow,
    index: int,
    outcome: Outcome,
    *,
    attempt: int = 1,
    notes: str | None = None,
    rejected: str | None = None,
) -> None:
    """A normal task for one step attempt, its run queued in this same transaction."""
    definition = workflow.definition
    step = definition.steps[index]
    results = wrepo.final_results(conn, workflow.id)
    previous = results.get(definition.steps[index - 1].name, "") if index else ""
    context = StepContext(workflow.input, results, previous, notes or "")
    prompt, argv = render_step(step, context)
    if rejected is not None:
        prompt = with_notes(prompt, rejected, notes or "")
    add_attempt(
        conn, settings, workflow, index, outcome,
        attempt=attempt, prompt=prompt, argv=argv, notes=notes,
    )  # fmt: skip


def add_attempt(
    conn: Connection,
    settings: Settings,
    workflow: Workflow,
    index: int,
    outcome: Outcome,
    *,
    attempt: int,
    prompt: str | None,
    argv: tuple[str, ...],
    notes: str | None,
) -> None:
    """The task of one attempt of step ``index``, its run queued in this transaction."""
    step = workflow.definition.steps[index]
    title = f"{workflow.definition.name} #{workflow.id} · {step.name}"
    spec = TaskSpec(
        argv=argv,
        cwd=workflow.cwd,
        agent=step.agent,
        prompt=prompt,
        title=title if attempt == 1 else f"{title} (attempt {attempt})",
        timeout=step.timeout,
        options={"model": step.model} if step.model else {},
    )
    task_id, run_id = repo.create_task(conn, spec, resolve_timeout(step.timeout, settings))
    wrepo.insert_step(
        conn,
        workflow.id,
        index,
        step.name,
        attempt,
        task_id=task_id,
        run_id=run_id,
        prompt=prompt,
        argv=argv,
        notes=notes,
    )
    outcome.queued.append((task_id, run_id))


def cancel_step(conn: Connection, step: Step, outcome: Outcome) -> None:
    """End a running attempt: its queued run is cancelled, an active one is left to stop."""
    run = repo.get_run(conn, step.run_id)
    if run.state is RunState.QUEUED:
        moved = cancel_queued(conn, run.id, "its workflow was cancelled")
        wrepo.end_step(conn, step.id, StepState.CANCELLED)
        if moved is not None:
            outcome.cancelled_runs.append(moved)
    elif run.state.is_active:
        outcome.stopping_runs.append(run)  # the step ends when its run does
    else:
        wrepo.end_step(conn, step.id, step_state_for(run))


def step_state_for(run: Run) -> StepState:
    if run.state is RunState.SUCCEEDED:
        return StepState.SUCCEEDED
    return StepState.CANCELLED if run.state is RunState.CANCELLED else StepState.FAILED
