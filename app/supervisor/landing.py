"""The git side of a land (DESIGN §7a, :mod:`app.core.lands`): each step blocks, runs off
the event loop, and can be repeated after a crash at any point.

A step reads the land's recorded state and says what comes next (:class:`Step`); the
:class:`app.supervisor.lander.Lander` records that, so what git did and what the database
says can never disagree for longer than one repeatable step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.lands import Land, LandState
from app.core.models import Task
from app.core.workspaces import Workspace, WorkspaceState
from app.supervisor.git import Git
from app.supervisor.workspaces import checked_out, commit_message, exists


@dataclass(frozen=True)
class Step:
    """What a step found: the land's next state, what to record with it, and what to say."""

    state: LandState
    fields: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def failed(message: str) -> Step:
        return Step(LandState.FAILED, {"message": message})


def start(git: Git, land: Land, workspace: Workspace | None, task: Task) -> Step:
    """Commit what the agent left uncommitted, and note where the branch was."""
    problem = _unusable(git, land, workspace, task)
    if problem is not None:
        return Step.failed(problem)
    assert workspace is not None
    git.commit_all(Path(workspace.path), commit_message(task))
    head = git.resolve(Path(workspace.repo), workspace.branch)
    return Step(LandState.REBASING, {"head_before": head})


def rebase(git: Git, land: Land, workspace: Workspace | None, task: Task) -> Step:
    """Put the branch on the base's latest commit, in the task's worktree."""
    problem = _unusable(git, land, workspace, task)
    if problem is not None:
        return Step.failed(problem)
    assert workspace is not None
    repo, worktree = Path(workspace.repo), Path(workspace.path)
    git.rebase_abort(worktree)  # one a crash interrupted: start it over
    git.commit_all(worktree, commit_message(task))
    base_tip = git.resolve(repo, land.base)
    tip = git.resolve(repo, workspace.branch)
    if git.is_ancestor(repo, tip, base_tip):
        return Step.failed(
            f"{workspace.branch} has nothing that {land.base} does not have already; "
            "nothing to land"
        )
    if not git.is_ancestor(repo, base_tip, tip):
        conflicts = git.rebase(worktree, base_tip)
        if conflicts:
            return Step.failed(
                f"rebasing {workspace.branch} onto {land.base} conflicts in "
                f"{', '.join(conflicts)}; {land.base} and the branch were left as they were. "
                f"Ask the agent to rebase onto {land.base} and resolve them, then land again."
            )
        tip = git.resolve(repo, workspace.branch)
    next_state = LandState.CHECKING if land.check else LandState.LANDING
    return Step(next_state, {"base_sha": base_tip, "head_sha": tip})


def checked(
    land: Land, outcome: str, git: Git, workspace: Workspace | None, detail: str = ""
) -> Step:
    """After the check run ended with ``outcome`` (its state's value); ``detail`` says how
    ("exit code 2")."""
    if outcome == "cancelled":
        return Step(LandState.CANCELLED, {"message": f"the check `{land.check}` was cancelled"})
    if outcome in ("interrupted", "lost"):
        return Step.failed(
            f"the check `{land.check}` was interrupted before it finished (its runner "
            f"stopped with the machine or was killed); {land.base} was not changed. Land "
            "it again to run the check afresh."
        )
    if outcome != "succeeded":
        return Step.failed(
            f"the check `{land.check}` did not pass ({detail or outcome.replace('_', ' ')}; its "
            f"output is in the task's transcript); {land.base} was not changed"
        )
    if workspace is None or land.head_sha is None:
        return Step.failed("the land lost its worktree during the check")
    tip = git.resolve(Path(workspace.repo), workspace.branch)
    if tip != land.head_sha:
        return Step.failed(
            f"{workspace.branch} changed while its check ran ({land.head_sha[:10]} → "
            f"{tip[:10]}); land it again to check what it holds now"
        )
    return Step(LandState.LANDING)


def swap(git: Git, land: Land, workspace: Workspace | None) -> Step:
    """Move the base to the checked commit in one step, if it is still where it was."""
    if workspace is None or land.head_sha is None or land.base_sha is None:
        return Step.failed("the land lost its record of what to land")
    repo = Path(workspace.repo)
    now = git.resolve(repo, land.base)
    if now == land.head_sha:
        return _landed(land)  # moved before a crash: only the record was missing
    if now != land.base_sha:
        # Someone else moved the base after the rebase: rebase (and check) what is new.
        return Step(LandState.REBASING, {"message": f"{land.base} moved; rebasing again"})
    checkout = checked_out(git, repo, land.base)
    if checkout is not None:
        dirty = git.status(checkout)
        if dirty:
            names = ", ".join(change.path for change in dirty[:5])
            return Step.failed(
                f"{checkout} has {land.base} checked out with uncommitted changes ({names}); "
                f"{land.base} was not changed. Commit or stash them, then land again."
            )
        git.fast_forward(checkout, land.head_sha)
    else:
        git.update_branch(repo, land.base, land.head_sha, land.base_sha)
    return _landed(land)


def _landed(land: Land) -> Step:
    assert land.head_sha is not None
    return Step(LandState.LANDED, {"message": f"{land.base} is now at {land.head_sha[:10]}"})


def _unusable(git: Git, land: Land, workspace: Workspace | None, task: Task) -> str | None:
    if workspace is None or workspace.state is not WorkspaceState.READY:
        return f"task {task.id} has no worktree to land (it was discarded, or never made)"
    if not exists(git, workspace):
        return f"the worktree of task {task.id} ({workspace.path}) is missing"
    if not git.branch_exists(Path(workspace.repo), land.base):
        return f"{land.base} is not a branch of {workspace.repo} any more; nothing was changed"
    run = task.latest_run
    if run is not None and not run.state.is_terminal and land.state is LandState.QUEUED:
        return f"task {task.id} was running again when its turn came; land it when it ends"
    return None
