"""Tasks' own git worktrees (DESIGN §7a): planning, creating, repairing and discarding them.

Every git call goes through :class:`app.supervisor.git.Git`; everything here blocks and is
run off the event loop. The database row is the intent: it is committed before git is
asked to create or remove a worktree, so a crash in between leaves a row in ``creating``
or ``removing`` that :func:`repair` (at start-up) or the next launch completes.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import AgentryError
from app.core.locations import Locations
from app.core.log import get_logger
from app.core.models import Task, WorktreeRepair
from app.core.settings import DEFAULT_COPY_FILES
from app.core.workspaces import Workspace, WorkspaceState, branch_name, folder_name, subdir_of
from app.store import fsops, workspace_repo
from app.store.db import Connection, transaction
from app.supervisor.commands import CommandRefused
from app.supervisor.git import Git, GitError, MergeHow, NotARepository
from app.supervisor.git_output import FileChange

log = get_logger(__name__)


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


def repository_of(git: Git, folder: str) -> str | None:
    """The top folder of the repository holding ``folder``; None when it is not a folder
    or not in a repository (GitError when git itself is missing or fails)."""
    path = Path(folder)
    if not path.is_dir():
        return None
    try:
        return str(git.toplevel(path).resolve())  # as plan() records it: the settings' key
    except NotARepository:
        return None


def project_of(folder: str) -> str:
    """The project a task in ``folder`` belongs to, as the task list groups them: the
    repository's main checkout (also for a linked worktree of it), else the folder itself.

    Read from the ``.git`` entries on the way up, not by running git: a few stat calls
    and at most two small reads, cheap enough for the task list to ask as it draws (it
    caches the answer per folder). A linked worktree's ``.git`` file names its git folder
    (``<main>/.git/worktrees/<name>``), whose ``commondir`` leads to the main checkout's
    ``.git``; anything unexpected (a submodule, a folder gone, an unreadable file) makes
    the nearest checkout, or the folder itself, the project."""
    path = Path(folder)
    for top in (path, *path.parents):
        dotgit = top / ".git"
        try:
            if dotgit.is_dir():
                return str(top)
            if dotgit.is_file():
                return str(_main_checkout(top, dotgit) or top)
        except OSError:
            return folder
    return folder


def _main_checkout(top: Path, dotgit: Path) -> Path | None:
    text = dotgit.read_text(encoding="utf-8", errors="replace").strip()
    if not text.startswith("gitdir:"):
        return None
    gitdir = Path(text.removeprefix("gitdir:").strip())
    gitdir = gitdir if gitdir.is_absolute() else top / gitdir
    commondir = gitdir / "commondir"
    if not commondir.is_file():  # a submodule: a project of its own
        return None
    common = Path(commondir.read_text(encoding="utf-8", errors="replace").strip())
    common = (common if common.is_absolute() else gitdir / common).resolve()
    return common.parent if common.name == ".git" else None


def exists(git: Git, workspace: Workspace) -> bool:
    """Git knows the worktree and its folder is there."""
    path = Path(workspace.path)
    if not path.is_dir():
        return False
    return any(w.path.resolve() == path.resolve() for w in git.worktrees(Path(workspace.repo)))


def create(
    git: Git, workspace: Workspace, copy_files: tuple[str, ...] = DEFAULT_COPY_FILES
) -> None:
    """Make the worktree the row describes, with the checkout's ``copy_files`` (the
    project's patterns) copied in; safe to repeat after a crash at any point."""
    if exists(git, workspace):
        return
    repo = Path(workspace.repo)
    git.worktree_prune(repo)  # a folder deleted behind git's back blocks adding it again
    fsops.make_private_dir(Path(workspace.path).parent)  # the worktree itself is git's
    git.worktree_add(repo, Path(workspace.path), workspace.branch, workspace.base_sha)
    copied = copy_untracked_setup(repo, Path(workspace.path), copy_files)
    if copied:
        log.info("copied into the worktree of task %s: %s", workspace.task_id, ", ".join(copied))


def copy_untracked_setup(
    checkout: Path, worktree: Path, patterns: tuple[str, ...] = DEFAULT_COPY_FILES
) -> list[str]:
    """Copy the checkout's files that git leaves out (``.env`` and the like: ignored, so
    never committed) into a new worktree, where the agent and its tests expect them.

    ``patterns`` are globs relative to the checkout's top (``config/*.local.toml``); each
    file keeps its place, its folders made as needed. Only regular files inside the
    checkout are copied: never a folder, a symlink, anything reached through a symlink
    that leads out, or git's own files. A file the worktree already has (tracked, or
    copied before a crash) is left alone. Returns the copied paths, relative."""
    top, into = checkout.resolve(), worktree.resolve()
    copied: list[str] = []
    for pattern in patterns:
        try:
            matches = sorted(top.glob(pattern))
        except (ValueError, NotImplementedError) as exc:  # checked in settings; never fatal
            log.warning("files to copy: skipping the pattern %r: %s", pattern, exc)
            continue
        for source in matches:
            if not source.is_file() or source.is_symlink():
                continue  # folders, and links that could point anywhere
            relative = _real_relative(source, top)
            if relative is None or relative.as_posix() in copied:
                continue
            target = into / relative
            if target.is_symlink() or target.exists():
                continue
            if _real_relative(target.parent, into) is None:
                continue  # the worktree has a link there: writing through it could go anywhere
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
            copied.append(relative.as_posix())
    return copied


def _real_relative(path: Path, top: Path) -> Path | None:
    """``path`` relative to ``top``, when no symlink on the way leads elsewhere and it is
    not git's own; None otherwise."""
    try:
        relative = path.relative_to(top)
        real = path.resolve()
    except (ValueError, OSError):
        return None
    if relative.parts[:1] == (".git",) or real != top / relative:
        return None
    return relative


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
    """Against the base as it is now, so commits already merged into it are not named."""
    if not exists(git, workspace):
        return AtRisk([], [])
    path = Path(workspace.path)
    top = Path(workspace.repo)
    base = workspace.base if git.branch_exists(top, workspace.base) else workspace.base_sha
    return AtRisk(git.status(path), git.commits(path, base))


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


async def repair_recorded(conn: Connection, git: Git) -> dict[int, WorktreeRepair]:
    """At start-up, before recovery: complete what the database says a crash left half
    done. Returns task id -> what was completed, for the recovery report."""
    pending = workspace_repo.in_states(conn, WorkspaceState.CREATING, WorkspaceState.REMOVING)
    if not pending:
        return {}
    done = await asyncio.get_running_loop().run_in_executor(None, repair, git, pending)
    repaired: dict[int, WorktreeRepair] = {}
    with transaction(conn):
        for workspace, state in done:
            workspace_repo.transition(conn, workspace.task_id, state)
            ready = state is WorkspaceState.READY
            repaired[workspace.task_id] = (
                WorktreeRepair.CREATED if ready else WorktreeRepair.REMOVED
            )
    return repaired


class MergeConflict(AgentryError):
    """Merging would conflict; nothing was changed. ``files`` are the conflicting paths."""

    def __init__(self, message: str, files: list[str]) -> None:
        super().__init__(message)
        self.files = files


@dataclass(frozen=True)
class Merged:
    base: str  # the branch that moved
    commit: str  # where it is now
    fast_forward: bool
    committed_changes: bool  # the task's uncommitted changes were committed first


def merge(
    git: Git, locations: Locations, workspace: Workspace, task: Task, how: MergeHow
) -> Merged:
    """Merge (or squash, or rebase) the task's branch into its base, or change nothing.

    Uncommitted changes are committed on the task branch first. The combining happens in
    a scratch worktree, so a conflict never reaches the base or the person's checkout;
    the base then moves in one step: a fast-forward of the checkout that has it checked
    out (which must be clean), or a compare-and-swap of the branch."""
    repo, worktree = Path(workspace.repo), Path(workspace.path)
    if not exists(git, workspace):
        raise CommandRefused(f"the worktree of task {task.id} ({workspace.path}) is missing")
    if not git.branch_exists(repo, workspace.base):
        raise CommandRefused(
            f"task {task.id} was made from {workspace.base}, which is not a branch of {repo}; "
            f"merge or push its branch {workspace.branch} yourself"
        )
    committed = git.commit_all(worktree, commit_message(task))
    base_tip = git.resolve(repo, workspace.base)
    tip = git.resolve(repo, workspace.branch)
    if git.is_ancestor(repo, tip, base_tip):
        raise CommandRefused(
            f"{workspace.branch} has nothing that {workspace.base} does not have already"
        )
    checkout = checked_out(git, repo, workspace.base)
    if checkout is not None:
        dirty = git.status(checkout)
        if dirty:
            names = ", ".join(change.path for change in dirty[:5])
            raise CommandRefused(
                f"{checkout} has {workspace.base} checked out with uncommitted changes "
                f"({names}); commit or stash them, then merge again. Nothing was changed."
            )
    fast_forward = how == "merge" and git.is_ancestor(repo, base_tip, tip)
    new = tip if fast_forward else _combined(git, locations, workspace, task, base_tip, how)
    if checkout is not None:
        git.fast_forward(checkout, new)
    else:
        git.update_branch(repo, workspace.base, new, base_tip)
    return Merged(workspace.base, new, fast_forward, committed)


def checked_out(git: Git, repo: Path, branch: str) -> Path | None:
    return next((w.path for w in git.worktrees(repo) if w.branch == branch), None)


def _combined(
    git: Git, locations: Locations, workspace: Workspace, task: Task, onto: str, how: MergeHow
) -> str:
    repo = Path(workspace.repo)
    scratch = locations.data / "scratch" / f"{workspace.task_id}-merge"
    git.worktree_remove(repo, scratch, force=True)  # what a crash mid-merge left
    fsops.make_private_dir(scratch.parent)
    git.worktree_add_detached(repo, scratch, onto)
    try:
        message = _merge_message(task, workspace, how)
        conflicts = git.combine(scratch, workspace.branch, onto, how, message)
        if conflicts:
            raise MergeConflict(
                f"merging task {task.id} ({workspace.branch}) into {workspace.base} conflicts "
                f"in {', '.join(conflicts)}; nothing was changed. Ask the agent to rebase onto "
                f"{workspace.base} and resolve them, or merge it yourself.",
                conflicts,
            )
        return git.resolve(scratch, "HEAD")
    finally:
        git.worktree_remove(repo, scratch, force=True)


def commit_message(task: Task) -> str:
    """For the task's own uncommitted changes: its title, then its prompt's first line."""
    first = (task.spec.prompt or "").strip().splitlines()[:1]
    return "\n\n".join([task.title, *first]) + f"\n\nAgentry task {task.id}\n"


def _merge_message(task: Task, workspace: Workspace, how: MergeHow) -> str:
    if how == "squash":
        return commit_message(task)
    return f"Merge task {task.id}: {task.title}\n\nBranch {workspace.branch}\n"
