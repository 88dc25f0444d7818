"""Workflows as the store keeps them: a started workflow, each attempt of a step, and
each checkpoint. Plain frozen records, no I/O; :mod:`app.store.workflow_repo` fills them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.workflow_defs import WorkflowDef
from app.core.workflow_states import CheckpointState, Resolution, StepState, WorkflowState


@dataclass(frozen=True)
class Workflow:
    id: int
    name: str
    definition: WorkflowDef
    input: str
    cwd: str
    state: WorkflowState
    current_step: int
    created_at: float
    updated_at: float
    ended_at: float | None = None
    message: str | None = None  # why it ended (failed, cancelled, rejected)
    error: str | None = None  # a transition that failed and was rolled back: Retry offered
    error_at: float | None = None
    retry: dict[str, Any] | None = None  # what Retry transition replays

    def summary(self) -> dict[str, Any]:
        step = self.definition.steps[min(self.current_step, len(self.definition.steps) - 1)]
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state.value,
            "current_step": self.current_step,
            "current_step_name": step.name,
            "steps": len(self.definition.steps),
            "input": self.input,
            "cwd": self.cwd,
            "message": self.message,
            "error": self.error,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "ended_at": self.ended_at,
        }


@dataclass(frozen=True)
class Step:
    id: int
    workflow_id: int
    step_index: int
    name: str
    attempt: int
    task_id: int
    run_id: int
    state: StepState
    prompt: str | None
    argv: tuple[str, ...]
    created_at: float
    notes: str | None = None  # the reviewer's notes this attempt was re-run with
    result_text: str | None = None  # what the step produced, kept as it was
    final_text: str | None = None  # what later steps receive (the edited text, if edited)
    ended_at: float | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "index": self.step_index,
            "name": self.name,
            "attempt": self.attempt,
            "task_id": self.task_id,
            "run_id": self.run_id,
            "state": self.state.value,
            "prompt": self.prompt,
            "argv": list(self.argv),
            "notes": self.notes,
            "result": self.result_text,
            "final": self.final_text,
        }


@dataclass(frozen=True)
class Checkpoint:
    id: int
    workflow_id: int
    step_id: int
    state: CheckpointState
    result_text: str  # the original result, never changed
    created_at: float
    step_name: str = ""
    workflow_name: str = ""
    task_id: int | None = None  # the step's task, which "needs you" while this waits
    action: Resolution | None = None
    resolved_by: str | None = None
    resolved_at: float | None = None
    edited_text: str | None = None
    notes: str | None = None
    rerun: bool = False

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "workflow_id": self.workflow_id,
            "workflow": self.workflow_name,
            "step": self.step_name,
            "step_id": self.step_id,
            "state": self.state.value,
            "result": self.result_text,
            "created_at": self.created_at,
            "action": self.action,
            "resolved_by": self.resolved_by,
            "resolved_at": self.resolved_at,
            "edited_text": self.edited_text,
            "notes": self.notes,
            "rerun": self.rerun,
        }


@dataclass(frozen=True)
class WorkflowDetail:
    """A workflow with every attempt of its steps and its checkpoints, as views show it."""

    workflow: Workflow
    steps: list[Step]
    checkpoints: list[Checkpoint]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.workflow.summary(),
            "attempts": [step.summary() for step in self.steps],
            "checkpoints": [c.summary() for c in self.checkpoints],
        }
