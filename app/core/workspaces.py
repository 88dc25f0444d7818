"""A task's own git worktree, as a value (DESIGN §7a).

A task asked to run in a worktree gets one on a new branch ``agentry/<id>-<slug>`` under
the data folder. Its row is written *before* git is asked to create anything (state
``creating``) and *before* git is asked to remove it (``removing``), so a crash in either
leaves a record the next start completes, never a worktree nobody knows about.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from pathlib import Path, PurePath


class WorkspaceState(enum.StrEnum):
    CREATING = "creating"  # intent recorded; `git worktree add` may not have finished
    READY = "ready"  # the worktree exists; the task's runs work in it
    REMOVING = "removing"  # being discarded; `git worktree remove` may not have finished
    REMOVED = "removed"  # worktree and branch are gone


WORKSPACE_ALLOWED: dict[WorkspaceState, frozenset[WorkspaceState]] = {
    WorkspaceState.CREATING: frozenset({WorkspaceState.READY, WorkspaceState.REMOVING}),
    # A worktree deleted behind Agentry's back is created again on its branch.
    WorkspaceState.READY: frozenset({WorkspaceState.CREATING, WorkspaceState.REMOVING}),
    WorkspaceState.REMOVING: frozenset({WorkspaceState.REMOVED}),
    WorkspaceState.REMOVED: frozenset(),
}


class IllegalWorkspaceTransition(RuntimeError):
    """Always a bug, never user input."""


def check_workspace_transition(old: WorkspaceState, new: WorkspaceState) -> None:
    if new not in WORKSPACE_ALLOWED[old]:
        raise IllegalWorkspaceTransition(f"illegal workspace transition {old} -> {new}")


@dataclass(frozen=True)
class Workspace:
    task_id: int
    repo: str  # the repository's top folder (the user's checkout)
    path: str  # the worktree
    branch: str  # agentry/<id>-<slug>
    base: str  # the branch (or commit) it was made from, as the person named it
    base_sha: str  # what the base was when the worktree was made
    subdir: str  # where in the repository the task's folder is ("" for its top)
    state: WorkspaceState
    created_at: float
    updated_at: float
    # when the project's setup command last passed in this worktree; None: it has not (yet),
    # so the next run sets it up first (a worktree made again starts over)
    setup_done_at: float | None = None

    @property
    def cwd(self) -> str:
        """Where the task's runs work: its folder's place inside the worktree."""
        return str(Path(self.path, self.subdir)) if self.subdir else self.path


def slug(title: str, limit: int = 40) -> str:
    """A branch- and folder-safe short title: "Fix the login bug" → fix-the-login-bug."""
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return words[:limit].rstrip("-") or "task"


def branch_name(task_id: int, title: str) -> str:
    return f"agentry/{task_id}-{slug(title)}"


def folder_name(task_id: int, title: str) -> str:
    return f"{task_id}-{slug(title)}"


def subdir_of(folder: PurePath, top: PurePath) -> str:
    """``folder``'s place under the repository's ``top`` ("" when it is the top itself)."""
    relative = folder.relative_to(top)
    return "" if str(relative) == "." else relative.as_posix()
