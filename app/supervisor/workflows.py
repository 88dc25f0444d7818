"""The workflow engine: moves workflows on as their step runs end, inside the supervisor.

The supervisor builds one (``supervisor.workflows``) and calls it as an
:class:`~app.supervisor.host.Extension`, never the other way into its loop: ``on_started``
finishes transitions a crash or an absence left undone, ``on_run_ended`` makes the
transition for the step that owns the run, ``on_tick`` catches up when another process
(the CLI) changed the database. The transitions themselves live in
:mod:`app.supervisor.workflow_transitions`, so the CLI can make them without a supervisor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.core.log import get_logger
from app.core.models import Run
from app.core.states import RunState
from app.core.workflow_models import Checkpoint, Workflow, WorkflowDetail
from app.core.workflow_states import Resolution
from app.store import workflow_repo as wrepo
from app.store.db import Connection, data_version
from app.supervisor import workflow_transitions as transitions
from app.supervisor.events import (
    CheckpointRequested,
    Notice,
    RunStateChanged,
    TaskAdded,
    WorkflowChanged,
)
from app.supervisor.host import ExtensionHost
from app.supervisor.workflow_attempts import Outcome
from app.supervisor.workflow_catalog import Catalog, load_catalog
from app.supervisor.workflow_guard import TransitionFailed

log = get_logger(__name__)


def workflow_detail(conn: Connection, workflow_id: int) -> WorkflowDetail:
    return WorkflowDetail(
        wrepo.get_workflow(conn, workflow_id),
        wrepo.steps_of(conn, workflow_id),
        wrepo.checkpoints_of(conn, workflow_id),
    )


class WorkflowEngine:
    def __init__(self, supervisor: ExtensionHost) -> None:
        self._sup = supervisor
        self._seen_version: int | None = None
        self._marks: dict[int, tuple[Any, ...]] = {}
        self._last_checkpoint = 0

    @property
    def _conn(self) -> Connection:
        return self._sup.conn

    # ------------------------------------------------------------------ commands

    def definitions(self) -> Catalog:
        """Built-ins and the person's own files; bad files are in ``problems``."""
        return load_catalog(self._sup.locations)

    def start(self, name: str, input_text: str, cwd: str | Path) -> int:
        definition = self.definitions().get(name)
        try:
            workflow_id, outcome = transitions.start_workflow(
                self._conn, self._sup.settings, definition, input_text, str(cwd)
            )
        except TransitionFailed as exc:
            self._failed(exc)
            raise
        self._announce(outcome)
        return workflow_id

    def resolve(
        self,
        checkpoint_id: int,
        action: Resolution,
        *,
        edited_text: str | None = None,
        notes: str | None = None,
        rerun: bool = False,
        who: str = "user",
    ) -> Outcome:
        try:
            outcome = transitions.resolve_checkpoint(
                self._conn,
                self._sup.settings,
                checkpoint_id,
                action,
                edited_text=edited_text,
                notes=notes,
                rerun=rerun,
                who=who,
            )
        except TransitionFailed as exc:
            self._failed(exc)
            raise
        self._announce(outcome)
        return outcome

    def retry_transition(self, workflow_id: int) -> Outcome | None:
        try:
            outcome = transitions.retry_transition(
                self._conn, self._sup.locations, self._sup.settings, workflow_id
            )
        except TransitionFailed as exc:
            self._failed(exc)
            raise
        self._announce(outcome or Outcome(workflow_id))
        return outcome

    def cancel(self, workflow_id: int, *, who: str = "user") -> Outcome:
        outcome = transitions.cancel_workflow(self._conn, self._sup.locations, workflow_id, who=who)
        self._announce(outcome)
        return outcome

    # ------------------------------------------------------------------ queries for views

    def workflows(self, limit: int | None = None) -> list[Workflow]:
        return wrepo.list_workflows(self._conn, limit)

    def workflow(self, workflow_id: int) -> WorkflowDetail:
        return workflow_detail(self._conn, workflow_id)

    def pending_checkpoints(self) -> list[Checkpoint]:
        return wrepo.pending_checkpoints(self._conn)

    def checkpoint(self, checkpoint_id: int) -> Checkpoint:
        return wrepo.get_checkpoint(self._conn, checkpoint_id)

    # ------------------------------------------------------------------ supervisor hooks

    def on_started(self) -> None:
        self._catch_up()
        self._seen_version = data_version(self._conn)
        self._marks = wrepo.change_marks(self._conn)
        for checkpoint in wrepo.pending_checkpoints(self._conn):
            self._last_checkpoint = max(self._last_checkpoint, checkpoint.id)
            self._publish(CheckpointRequested(checkpoint.id, checkpoint.workflow_id))

    def on_run_ended(self, run: Run) -> None:
        step = wrepo.step_for_run(self._conn, run.id)
        if step is not None:
            self._finish(step.id)

    def on_tick(self) -> None:
        """Only when another process committed: a run it cancelled, a checkpoint it resolved."""
        version = data_version(self._conn)
        if version == self._seen_version:
            return
        self._seen_version = version
        self._catch_up()
        self._announce_outside_changes()

    # ------------------------------------------------------------------ internals

    def _catch_up(self) -> None:
        for step_id in transitions.steps_to_finish(self._conn):
            self._finish(step_id)

    def _finish(self, step_id: int) -> None:
        try:
            outcome = transitions.finish_step(
                self._conn, self._sup.locations, self._sup.settings, step_id
            )
        except TransitionFailed as exc:
            self._failed(exc)
            return
        if outcome is not None:
            self._announce(outcome)

    def _announce_outside_changes(self) -> None:
        marks = wrepo.change_marks(self._conn)
        for workflow_id, mark in marks.items():
            if self._marks.get(workflow_id) != mark:
                self._publish(WorkflowChanged(workflow_id))
        self._marks = marks
        for checkpoint in wrepo.newest_pending_checkpoints(self._conn, self._last_checkpoint):
            self._last_checkpoint = checkpoint.id
            self._publish(CheckpointRequested(checkpoint.id, checkpoint.workflow_id))

    def _announce(self, outcome: Outcome) -> None:
        bus = self._sup.bus
        for task_id, run_id in outcome.queued:
            bus.publish(TaskAdded(task_id, run_id))
            bus.publish(RunStateChanged(task_id, run_id, None, RunState.QUEUED))
        for run in outcome.cancelled_runs:
            bus.publish(
                RunStateChanged(
                    run.task_id,
                    run.id,
                    RunState.QUEUED,
                    run.state,
                    run.exit_code,
                    run.reason,
                    run.message,
                )
            )
        if outcome.checkpoint_id is not None:
            self._last_checkpoint = max(self._last_checkpoint, outcome.checkpoint_id)
            self._publish(CheckpointRequested(outcome.checkpoint_id, outcome.workflow_id))
        self._publish(WorkflowChanged(outcome.workflow_id))
        self._marks = wrepo.change_marks(self._conn)

    def _failed(self, exc: TransitionFailed) -> None:
        self._sup.bus.publish(Notice("error", str(exc)))
        self._publish(WorkflowChanged(exc.workflow_id))

    def _publish(self, event: WorkflowChanged | CheckpointRequested) -> None:
        self._sup.bus.publish(event)
