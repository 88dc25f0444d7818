"""Tests for app.supervisor.workflow_transitions that need no database."""

from __future__ import annotations

import pytest

from app.core.workflow_states import CheckpointState, Resolution
from app.supervisor.commands import CommandRefused
from app.supervisor.workflow_transitions import _resolution


@pytest.mark.parametrize("action", [Resolution.APPROVE, Resolution.EDIT, Resolution.REJECT])
def test_a_person_approves_edits_or_rejects_a_checkpoint(action: Resolution) -> None:
    text = "the plan" if action is Resolution.EDIT else None
    assert _resolution(action, text, False) is action


def test_cancel_is_recorded_on_a_checkpoint_but_is_not_a_persons_resolution() -> None:
    with pytest.raises(CommandRefused, match="use approve, edit or reject"):
        _resolution(Resolution.CANCEL, None, False)
    assert Resolution.CANCEL.state is CheckpointState.CANCELLED
