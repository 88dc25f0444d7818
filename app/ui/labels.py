"""How the app names a state ("Timed out", "Denied"): the one mapping every view uses."""

from __future__ import annotations

import os
import time
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


def task_state_label(task: Task) -> str:
    """The task's state as its header says it: a queued run that waits for its agent's
    limit is "Paused — limit", one that waits for a restart's backoff "Restarting"."""
    reason = task.wait_reason
    if reason == "limit":
        return "Paused — limit"
    if reason == "restart":
        return "Restarting"
    return state_label(task.state)


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
    if task.waits_until is not None:
        return wait_label(task)
    if task.waiting_for is not None:
        return waiting_label(task, where="name")
    if paused:
        return "waiting: queue paused"
    if hold:
        return f"waiting: {hold}"
    if running >= limit:
        return f"waiting: {running} of {limit} running"
    return ""


def wait_label(task: Task) -> str:
    """What a queued task waits for when it waits for a time, "" if it does not: "paused:
    claude limit, resumes 20:02" (it hit the limit), "waiting: claude limit until 20:00"
    (another task of that agent hit it), "restart at 14:05" (a restart's backoff)."""
    until = task.waits_until
    if until is None:
        return ""
    at = clock(until)
    own = task.latest_run.not_before if task.latest_run else None
    if task.wait_reason == "limit" and own is None:  # another task hit it: this one waits
        return f"waiting: {task.agent} limit until {at}"
    if task.wait_reason == "limit":
        return f"paused: {task.agent} limit, resumes {at}"
    if task.wait_reason == "restart":
        return f"restart at {at}"
    return f"waiting until {at}"


def countdown(seconds: float) -> str:
    """ "in 40 s", "in 12 min", "in 1 h 5 min"; "now" once it is due."""
    left = int(seconds + 0.999)
    if left <= 0:
        return "now"
    if left < 60:
        return f"in {left} s"
    minutes = (left + 59) // 60
    if minutes < 60:
        return f"in {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"in {hours} h {minutes} min" if minutes else f"in {hours} h"


def clock(at: float) -> str:
    """A time of day, with the date when it is not today: "20:00", "Mon 5 Jan 09:00"."""
    when = time.localtime(at)
    if time.strftime("%Y%m%d", when) == time.strftime("%Y%m%d"):
        return time.strftime("%H:%M", when)
    return time.strftime("%a %d %b %H:%M", when)


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
