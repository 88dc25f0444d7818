"""How the app names a state ("Timed out", "Denied"): the one mapping every view uses."""

from __future__ import annotations

import os
from typing import Literal

from app.core.approvals import ApprovalState
from app.core.models import Task
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


def waiting_label(task: Task, *, where: Literal["path", "name", ""] = "path") -> str:
    """ "waiting for #7 on ~/project" for a queued task held back by another's hold on its
    folder ("" when it is not). ``where``: the folder's path, only its name (a header whose
    next line shows the path), or nothing (a narrow column)."""
    if task.waiting_for is None:
        return ""
    text = f"waiting for #{task.waiting_for}"
    if not where or not task.lock_key:
        return text
    folder = short_path(task.lock_key) if where == "path" else os.path.basename(task.lock_key)
    return f"{text} on {folder or task.lock_key}"


def queue_label(
    task: Task, *, paused: bool, running: int, limit: int, hold: str | None = None
) -> str:
    """Why a queued task has not started: "waiting for #7 on ~/p", "waiting: queue
    paused", "waiting: memory 93%" (``hold``: the gate's brief figure), "waiting: 4 of 4
    running"; "" for a task that is not queued or is about to start."""
    if task.state is not RunState.QUEUED:
        return ""
    if task.waiting_for is not None:
        return waiting_label(task, where="name")
    if paused:
        return "waiting: queue paused"
    if hold:
        return f"waiting: {hold}"
    if running >= limit:
        return f"waiting: {running} of {limit} running"
    return ""


def plural(n: int, one: str) -> str:
    """ "1 task", "3 tasks" (regular nouns only)."""
    return f"{n} {one}{'' if n == 1 else 's'}"


def capitalized(text: str) -> str:
    """A message that may start a sentence or follow a colon, as a sentence's start."""
    return text[:1].upper() + text[1:]


def short_path(path: str) -> str:
    """The home folder as ``~`` (the rest is elided in the middle when it must be)."""
    home = os.path.expanduser("~")
    if home and home != "~" and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path


APPROVAL_LABELS: dict[ApprovalState, str] = {
    state: state.value.capitalize() for state in ApprovalState
}
