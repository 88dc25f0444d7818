"""Workflow, step and checkpoint states and their transition tables (DESIGN §4).

A leaf module: the tables are checked by the store on every change
(:mod:`app.store.workflow_repo`), and read by views to show where a workflow is.
"""

from __future__ import annotations

import enum


class WorkflowState(enum.StrEnum):
    PENDING = "pending"  # created; its first step is not queued yet
    RUNNING = "running"  # a step's run is queued or running
    AWAITING_CHECKPOINT = "awaiting_checkpoint"
    COMPLETED = "completed"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """Ended: nothing runs and nothing waits (a failed or cancelled step can still be
        retried, which starts the workflow running again)."""
        return self in _ENDED


WORKFLOW_ALLOWED: dict[WorkflowState, frozenset[WorkflowState]] = {
    WorkflowState.PENDING: frozenset(
        {WorkflowState.RUNNING, WorkflowState.FAILED, WorkflowState.CANCELLED}
    ),
    WorkflowState.RUNNING: frozenset(
        {
            WorkflowState.AWAITING_CHECKPOINT,
            WorkflowState.COMPLETED,
            WorkflowState.FAILED,
            WorkflowState.CANCELLED,
        }
    ),
    # Approving the last step's checkpoint completes the workflow without running anything.
    WorkflowState.AWAITING_CHECKPOINT: frozenset(
        {
            WorkflowState.RUNNING,
            WorkflowState.COMPLETED,
            WorkflowState.REJECTED,
            WorkflowState.FAILED,
            WorkflowState.CANCELLED,
        }
    ),
    WorkflowState.COMPLETED: frozenset(),
    WorkflowState.REJECTED: frozenset(),
    # Retrying the step that failed or was cancelled (a new attempt, same context).
    WorkflowState.FAILED: frozenset({WorkflowState.RUNNING}),
    WorkflowState.CANCELLED: frozenset({WorkflowState.RUNNING}),
}
_ENDED = frozenset(
    {WorkflowState.COMPLETED, WorkflowState.REJECTED, WorkflowState.FAILED, WorkflowState.CANCELLED}
)


class StepState(enum.StrEnum):
    """One attempt of one step; a re-run after a rejection is a new attempt."""

    RUNNING = "running"  # its run is queued or running
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


STEP_ALLOWED: dict[StepState, frozenset[StepState]] = {
    StepState.RUNNING: frozenset({StepState.SUCCEEDED, StepState.FAILED, StepState.CANCELLED}),
    StepState.SUCCEEDED: frozenset(),
    StepState.FAILED: frozenset(),
    StepState.CANCELLED: frozenset(),
}


class CheckpointState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    EDITED = "edited"
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # the workflow was cancelled while it waited


CHECKPOINT_ALLOWED: dict[CheckpointState, frozenset[CheckpointState]] = {
    CheckpointState.PENDING: frozenset(
        {
            CheckpointState.APPROVED,
            CheckpointState.EDITED,
            CheckpointState.REJECTED,
            CheckpointState.CANCELLED,
        }
    ),
    CheckpointState.APPROVED: frozenset(),
    CheckpointState.EDITED: frozenset(),
    CheckpointState.REJECTED: frozenset(),
    CheckpointState.CANCELLED: frozenset(),
}


class Resolution(enum.StrEnum):
    """How a pending checkpoint was resolved (its recorded ``action``): a person approves,
    edits or rejects it; CANCEL is recorded when its workflow is cancelled meanwhile."""

    APPROVE = "approve"
    EDIT = "edit"
    REJECT = "reject"
    CANCEL = "cancel"

    @property
    def state(self) -> CheckpointState:
        return {
            Resolution.APPROVE: CheckpointState.APPROVED,
            Resolution.EDIT: CheckpointState.EDITED,
            Resolution.REJECT: CheckpointState.REJECTED,
            Resolution.CANCEL: CheckpointState.CANCELLED,
        }[self]


PERSON_RESOLUTIONS = frozenset({Resolution.APPROVE, Resolution.EDIT, Resolution.REJECT})
"""What a person may choose for a checkpoint (cancelling is done to the whole workflow)."""


class IllegalWorkflowTransition(RuntimeError):
    """A workflow, step or checkpoint change its table does not allow: always a bug."""

    def __init__(self, what: str, old: enum.StrEnum, new: enum.StrEnum) -> None:
        super().__init__(f"illegal {what} transition {old.value} -> {new.value}")
        self.old = old
        self.new = new


def check_workflow_transition(old: WorkflowState, new: WorkflowState) -> None:
    if new not in WORKFLOW_ALLOWED[old]:
        raise IllegalWorkflowTransition("workflow", old, new)


def check_step_transition(old: StepState, new: StepState) -> None:
    if new not in STEP_ALLOWED[old]:
        raise IllegalWorkflowTransition("workflow step", old, new)


def check_checkpoint_transition(old: CheckpointState, new: CheckpointState) -> None:
    if new not in CHECKPOINT_ALLOWED[old]:
        raise IllegalWorkflowTransition("checkpoint", old, new)
