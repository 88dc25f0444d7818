"""Tests for app.core.workflow_states: the workflow and checkpoint transition tables."""

from __future__ import annotations

import itertools

import pytest

from app.core.workflow_states import (
    CHECKPOINT_ALLOWED,
    WORKFLOW_ALLOWED,
    CheckpointState,
    IllegalWorkflowTransition,
    WorkflowState,
    check_checkpoint_transition,
    check_workflow_transition,
)


def test_workflow_states_follow_design_section_4() -> None:
    allowed = {
        (old, new) for old, new in itertools.product(WorkflowState, WorkflowState)
        if new in WORKFLOW_ALLOWED[old]
    }  # fmt: skip
    s = WorkflowState
    assert allowed == {
        (s.PENDING, s.RUNNING), (s.PENDING, s.FAILED), (s.PENDING, s.CANCELLED),
        (s.RUNNING, s.AWAITING_CHECKPOINT), (s.RUNNING, s.COMPLETED), (s.RUNNING, s.FAILED),
        (s.RUNNING, s.CANCELLED), (s.AWAITING_CHECKPOINT, s.RUNNING),
        (s.AWAITING_CHECKPOINT, s.COMPLETED), (s.AWAITING_CHECKPOINT, s.REJECTED),
        (s.AWAITING_CHECKPOINT, s.FAILED), (s.AWAITING_CHECKPOINT, s.CANCELLED),
        # retrying the step a workflow failed or was cancelled on
        (s.FAILED, s.RUNNING), (s.CANCELLED, s.RUNNING),
    }  # fmt: skip
    assert {x for x in s if x.is_terminal} == {s.COMPLETED, s.REJECTED, s.FAILED, s.CANCELLED}


@pytest.mark.parametrize("old", list(WorkflowState))
@pytest.mark.parametrize("new", list(WorkflowState))
def test_every_workflow_change_is_checked_against_the_table(
    old: WorkflowState, new: WorkflowState
) -> None:
    if new in WORKFLOW_ALLOWED[old]:
        check_workflow_transition(old, new)
    else:
        with pytest.raises(IllegalWorkflowTransition):
            check_workflow_transition(old, new)


def test_a_checkpoint_is_resolved_exactly_once() -> None:
    for new in CHECKPOINT_ALLOWED[CheckpointState.PENDING]:
        check_checkpoint_transition(CheckpointState.PENDING, new)
        for again in CheckpointState:
            with pytest.raises(IllegalWorkflowTransition):
                check_checkpoint_transition(new, again)
