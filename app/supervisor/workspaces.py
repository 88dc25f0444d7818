"""Tasks' own git worktrees (DESIGN §7a): planning, creating, repairing and discarding them.

Every git call goes through :class:`app.supervisor.git.Git`; everything here blocks and is
run off the event loop. The database row is the intent: it is committed before git is
asked to create or remove a worktree, so a crash in between leaves a row in ``creating``
or ``removing`` that :func:`repair` (at start-up) or the next launch completes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from app.core.locations import Locations
from app.core.models import Task
from app.core.workspaces import Workspace, WorkspaceState, branch_name, folder_name, subdir_of
from app.store import workspace_repo
from app.store.db import Connection, transaction
from app.supervisor.git import Git, GitError
from app.supervisor.git_output import FileChange

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """Where a task's worktree will be, decided before anything is created."""

    repo: str
    path: str
    branch: str
    base: str
    base_sha: str
    subdir: str


def plan(git: Git, locations: Locations, task: Task) -> Plan:
    """Check git and the task's folder, and pick the worktree's branch, base and place.

    Raises GitMissing, NotARepository or UnknownRef with a message for the person."""
    git.check()
    folder = Path(task.spec.cwd).resolve()
    top = git.toplevel(folder).resolve()
    base = task.spec.base or git.current_branch(top) or "HEAD"
    sha = git.resolve(top, base)
    return Plan(
        repo=str(top),
        path=str(locations.worktrees / folder_name(task.id, task.title)),
        branch=branch_name(task.id, task.title),
        base=sha if base == "HEAD" else base,
        base_sha=sha,
        subdir=subdir_of(folder, top),
    )


def exists(git: Git, workspace: Workspace) -> bool:
    """Git knows the worktree and its folder is there."""
    path = Path(workspace.path)
    if not path.is_dir():
        return False
    return any(w.path.resolve() == path.resolve() for w in git.worktrees(Path(workspace.repo)))


def create(git: Git, workspace: Workspace) -> None:
    """Make the worktree the row describes; safe to repeat after a crash at any point."""
    if exists(git, workspace):
        return
    repo = Path(workspace.repo)
    git.worktree_prune(repo)  # a folder deleted behind git's back blocks adding it again
    Path(workspace.path).parent.mkdir(parents=True, exist_ok=True)
    git.worktree_add(repo, Path(workspace.path), workspace.branch, workspace.base_sha)


def remove(git: Git, workspace: Workspace) -> None:
    """Remove the worktree and its branch; safe to repeat after a crash at any point."""
    repo = Path(workspace.repo)
    git.worktree_remove(repo, Path(workspace.path), force=True)
    git.delete_branch(repo, workspace.branch, force=True)
    git.worktree_prune(repo)


@dataclass(frozen=True)
class AtRisk:
    """What discarding a worktree would lose."""

    uncommitted: list[FileChange]
    commits: list[tuple[str, str]]  # (sha, subject) on the task branch, not on its base

    @property
    def nothing(self) -> bool:
        return not self.uncommitted and not self.commits


def at_risk(git: Git, workspace: Workspace) -> AtRisk:
    if not exists(git, workspace):
        return AtRisk([], [])
    path = Path(workspace.path)
    return AtRisk(git.status(path), git.commits(path, workspace.base_sha))


def repair(git: Git, workspaces: list[Workspace]) -> list[tuple[Workspace, WorkspaceState]]:
    """At start-up: finish what a crash interrupted. Returns (workspace, state it reached).

    A worktree left ``creating`` is completed if git made it, else left for its run's next
    launch; one left ``removing`` is removed. Failures are logged and retried next time."""
    done: list[tuple[Workspace, WorkspaceState]] = []
    for workspace in workspaces:
        try:
            if workspace.state is WorkspaceState.REMOVING:
                remove(git, workspace)
                done.append((workspace, WorkspaceState.REMOVED))
            elif workspace.state is WorkspaceState.CREATING and exists(git, workspace):
                done.append((workspace, WorkspaceState.READY))
        except (GitError, OSError) as exc:  # git gone, a repository moved: start anyway
            log.warning("could not repair the worktree of task %s: %s", workspace.task_id, exc)
    return done


async def repair_recorded(conn: Connection, git: Git) -> dict[int, str]:
    """At start-up, before recovery: complete what the database says a crash left half
    done. Returns task id -> "created" or "removed", for the recovery report."""
    pending = workspace_repo.in_states(conn, WorkspaceState.CREATING, WorkspaceState.REMOVING)
    if not pending:
        return {}
    done = await asyncio.get_running_loop().run_in_executor(None, repair, git, pending)
    repaired: dict[int, str] = {}
    with transaction(conn):
        for workspace, state in done:
            workspace_repo.transition(conn, workspace.task_id, state)
            repaired[workspace.task_id] = "created" if state is WorkspaceState.READY else "removed"
    return repaired
