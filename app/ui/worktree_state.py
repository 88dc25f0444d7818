"""What a worktree task's Changes tab may do now, and why not; how it names the worktree."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.models import Task
from app.core.workspaces import WorkspaceState
from app.supervisor.worktree_ops import WorktreeStatus


@dataclass(frozen=True)
class Availability:
    """Per action, "" when it may be done now, else why not (its button's tooltip)."""

    merge: str = ""
    push: str = ""
    discard: str = ""
    open: str = ""


def availability(
    task: Task, status: WorktreeStatus | None, *, uncommitted: bool, busy: str
) -> Availability:
    if status is None:
        return _all("Looking at the worktree…")
    if status.state in (None, WorkspaceState.CREATING):
        return _all("The worktree is made when the task's run starts")
    if status.state is WorkspaceState.REMOVING:
        return _all("The worktree is being removed")
    if status.state is WorkspaceState.REMOVED:
        return _all("The worktree was discarded, and its branch with it")
    if busy:
        return Availability(*(f"Wait: {busy}…",) * 3)
    if status.landing:
        why = f"Task #{task.id} is being landed on {status.base}: wait for the land to end"
        return Availability(why, why, why)
    if task.state is not None and not task.state.is_terminal:
        why = (f"Task #{task.id} is still {task.state.value} in its worktree: wait for it to "
               "end, or cancel it")  # fmt: skip
        return Availability(why, why, why)
    merge = ""
    if status.merged and not uncommitted:
        merge = f"{status.base} already has every commit of {status.branch}: nothing to merge"
    push = ""
    if status.remote is None:
        push = "The repository has no remote to push to: add one with `git remote add origin URL`"
    return Availability(merge, push)


def land_availability(
    task: Task, status: WorktreeStatus | None, *, uncommitted: bool, busy: str
) -> str:
    """ "" when Land may be clicked (Cancel land, while a land is under way), else why not."""
    if status is not None and status.state is WorkspaceState.READY and status.landing:
        return f"Wait: {busy}…" if busy else ""
    why = availability(task, status, uncommitted=uncommitted, busy=busy).merge
    return why.replace("nothing to merge", "nothing to land")


def _all(why: str) -> Availability:
    return Availability(why, why, why, why)


def size_text(size: int | None) -> str:
    if size is None:
        return "missing"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} bytes"
