"""How the app names a state ("Timed out", "Denied"): the one mapping every view uses."""

from __future__ import annotations

from app.core.approvals import ApprovalState
from app.core.states import RunState

STATE_LABELS: dict[RunState, str] = {
    RunState.QUEUED: "Queued",
    RunState.STARTING: "Starting",
    RunState.RUNNING: "Running",
    RunState.SUCCEEDED: "Succeeded",
    RunState.FAILED: "Failed",
    RunState.TIMED_OUT: "Timed out",
    RunState.CANCELLED: "Cancelled",
    RunState.INTERRUPTED: "Interrupted",
}
NO_STATE = "—"  # a task with no run yet


def state_label(state: RunState | str | None) -> str:
    """The state as people read it; a value no version of Agentry knows is shown as it is."""
    if not state:
        return NO_STATE
    try:
        return STATE_LABELS[RunState(state)]
    except ValueError:
        return str(state)


APPROVAL_LABELS: dict[ApprovalState, str] = {
    state: state.value.capitalize() for state in ApprovalState
}
