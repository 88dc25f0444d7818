"""What a person does with a task's worktree (DESIGN §7a): merge, push, discard, how big it
is, and opening it in an editor or a terminal. The Changes tab's buttons and the
``agentry merge / push / discard`` commands share the checks and the git work below, so
the two can never disagree about what is allowed.

The checks read the database on the event loop; git, the disk and starting programs run
in the executor, so neither the loop nor the UI waits on them. Two operations on one
worktree never overlap: the second is refused, with what is under way.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from app.core.models import Task
from app.core.workspaces import Workspace, WorkspaceState
from app.store import land_repo, repo, workspace_repo
from app.store.db import Connection, transaction
from app.supervisor import forges, opener, workspaces
from app.supervisor.commands import CommandRefused
from app.supervisor.disk_use import disk_use
from app.supervisor.git import Git, GitError, MergeHow

if TYPE_CHECKING:
    from app.supervisor.host import ExtensionHost

    class OpsHost(ExtensionHost, Protocol):
        git: Git


T = TypeVar("T")


@dataclass(frozen=True)
class WorktreeStatus:
    """What the Changes tab's header and buttons show; read rarely (it measures the disk)."""

    task_id: int
    state: WorkspaceState | None  # None: the task has no worktree of its own
    path: str = ""
    branch: str = ""
    base: str = ""
    size: int | None = None  # bytes on disk; None when the folder is not there
    merged: bool = False  # the base has every commit of the branch
    remote: str | None = None  # where Push sends the branch; None: nowhere
    landing: bool = False  # a land of the task is queued or under way
    repo: str = ""  # the repository's top folder (whose project settings apply)


@dataclass(frozen=True)
class Pushed:
    remote: str
    branch: str
    compare_url: str | None  # where a person opens the pull request (GitHub, GitLab only)
    request: str | None = None  # the request gh/glab opened (its URL, or what they said)
    request_failed: str | None = None  # why gh/glab did not open one


# ---------------------------------------------------------------- checks (on the loop)


def ready_workspace(conn: Connection, task_ref: str | int) -> Workspace:
    """The task's worktree, refused (with why) when it has none, or none that is there."""
    task = repo.resolve_task(conn, str(task_ref))
    workspace = workspace_repo.get(conn, task.id)
    if workspace is None:
        raise CommandRefused(
            f"task {task.id} has no worktree of its own (it runs in {task.spec.cwd}); "
            "`git diff` there shows its changes"
        )
    if workspace.state is WorkspaceState.REMOVED:
        raise CommandRefused(f"the worktree of task {task.id} was discarded")
    if workspace.state is not WorkspaceState.READY:
        raise CommandRefused(
            f"the worktree of task {task.id} is {workspace.state.value}; try again when its "
            "run has started"
        )
    return workspace


def ended_task(conn: Connection, workspace: Workspace, doing: str) -> Task:
    """The worktree's task, refused while a run of it may still change the worktree."""
    task = repo.get_task(conn, workspace.task_id)
    run = task.latest_run
    if run is not None and not run.state.is_terminal:
        raise CommandRefused(
            f"task {task.id} is still {run.state.value} in its worktree; cancel it first or "
            f"wait for it to end, then {doing}"
        )
    if landing(conn, task.id):
        raise CommandRefused(
            f"task {task.id} is being landed on {workspace.base}; wait for the land to end "
            f"(or cancel it: `agentry land {task.id} --cancel`), then {doing}"
        )
    return task


def landing(conn: Connection, task_id: int) -> bool:
    """A land of the task is queued or under way (it works on the same branch)."""
    return any(land.is_active for land in land_repo.of_task(conn, task_id))


def rebase_request(branch: str, base: str, files: list[str]) -> str:
    """The follow-up that asks a task's agent to resolve what made its merge conflict."""
    return (
        f"Merging your branch {branch} into {base} conflicts in: {', '.join(files)}. "
        f"Rebase your branch onto {base} (`git rebase {base}`), resolve the conflicts in "
        f"those files so that both your change and what {base} changed meanwhile are kept, "
        "finish the rebase (`git rebase --continue`), then run the tests and commit any fix. "
        f"Do not merge into {base} yourself: it is merged once you are done."
    )


# ---------------------------------------------------------------- git work (blocking)


def push(git: Git, workspace: Workspace, task: Task, *, request: bool) -> Pushed:
    """Push the task's branch to the base's remote and, with ``request``, open a pull (or
    merge) request for it with gh or glab; the compare URL is there when they cannot."""
    top = Path(workspace.repo)
    remote = git.remote_for(top, workspace.base)
    if remote is None:
        raise CommandRefused(
            f"{top} has no remote to push to (or several and none is origin); add one with "
            "`git remote add origin URL`"
        )
    git.push(Path(workspace.path), remote, workspace.branch)
    forge = forges.forge_of(git.remote_url(top, remote))
    if forge is None:
        return Pushed(remote, workspace.branch, None)
    url = forge.compare_url(workspace.base, workspace.branch)
    if not request:
        return Pushed(remote, workspace.branch, url)
    body = f"{task.spec.prompt or task.title}\n\n(Agentry task {task.id})"
    opened, said = forges.open_request(
        forge, Path(workspace.path), workspace.base, workspace.branch, task.title, body
    )
    if opened:
        return Pushed(remote, workspace.branch, url, request=said)
    return Pushed(remote, workspace.branch, url, request_failed=said)


def read_status(git: Git, workspace: Workspace) -> WorktreeStatus:
    """Its size on disk, whether the base has all of it, and where it would be pushed."""
    top, folder = Path(workspace.repo), Path(workspace.path)
    size = disk_use(folder) if folder.is_dir() else None
    try:
        merged = git.is_ancestor(top, workspace.branch, workspace.base)
    except GitError:  # the base or the branch is gone: nothing to say it is merged
        merged = False
    try:
        remote = git.remote_for(top, workspace.base)
    except GitError:
        remote = None
    return WorktreeStatus(workspace.task_id, workspace.state, workspace.path,
                          workspace.branch, workspace.base, size, merged, remote,
                          repo=workspace.repo)  # fmt: skip


# ---------------------------------------------------------------- the facade


class WorktreeOps:
    """The supervisor's worktree actions, as the GUI calls them (``supervisor.worktrees``).

    Errors are AgentryErrors with a message for the person: CommandRefused (not now, or
    not possible), GitError, :class:`workspaces.MergeConflict` (nothing was changed) and
    :class:`opener.CannotOpen`."""

    def __init__(self, host: OpsHost) -> None:
        self._host = host
        self._busy: dict[int, str] = {}  # task id -> what is being done to its worktree

    async def status(self, task_id: int) -> WorktreeStatus:
        workspace = workspace_repo.get(self._host.conn, task_id)
        if workspace is None:
            return WorktreeStatus(task_id, None)
        if workspace.state is not WorkspaceState.READY:
            return WorktreeStatus(task_id, workspace.state, workspace.path, workspace.branch,
                                  workspace.base)  # fmt: skip
        landed_on = landing(self._host.conn, task_id)  # the database, before leaving the loop
        status = await self._off_loop(read_status, self._host.git, workspace)
        return dataclasses.replace(status, landing=landed_on)

    async def merge(self, task_id: int, how: MergeHow = "merge") -> workspaces.Merged:
        workspace = ready_workspace(self._host.conn, task_id)
        task = ended_task(self._host.conn, workspace, "merge")
        with self._doing(task_id, "merging"):
            return await self._off_loop(
                workspaces.merge, self._host.git, self._host.locations, workspace, task, how
            )

    async def push(self, task_id: int, *, request: bool = False) -> Pushed:
        workspace = ready_workspace(self._host.conn, task_id)
        task = ended_task(self._host.conn, workspace, "push")
        with self._doing(task_id, "pushing"):
            return await self._off_loop(push, self._host.git, workspace, task, request=request)

    async def at_risk(self, task_id: int) -> workspaces.AtRisk:
        """What discarding the worktree would lose: ask before :meth:`discard`."""
        workspace = ready_workspace(self._host.conn, task_id)
        return await self._off_loop(workspaces.at_risk, self._host.git, workspace)

    async def discard(self, task_id: int) -> Workspace:
        """Remove the worktree and its branch (the row first says so: a crash in between is
        completed at the next start, as is a git failure)."""
        conn = self._host.conn
        workspace = ready_workspace(conn, task_id)
        ended_task(conn, workspace, "discard")
        with self._doing(task_id, "discarding"):
            with transaction(conn):
                workspace_repo.transition(conn, task_id, WorkspaceState.REMOVING)
            try:
                await self._off_loop(workspaces.remove, self._host.git, workspace)
            except GitError as exc:
                raise GitError(f"{exc}. Agentry tries again to remove it at its next start.",
                               argv=exc.argv, returncode=exc.returncode) from exc  # fmt: skip
            with transaction(conn):
                workspace_repo.transition(conn, task_id, WorkspaceState.REMOVED)
        return workspace

    async def open_in_editor(self, task_id: int) -> bool:
        """Start the person's editor on the worktree; False when there is none to start
        (no editor set, no ``code``): the caller lets the OS open the folder instead."""
        workspace = ready_workspace(self._host.conn, task_id)
        argv = opener.editor_argv(self._host.settings.editor_command, workspace.path)
        if argv is None:
            return False
        await self._off_loop(opener.launch, argv, workspace.path)
        return True

    async def open_in_terminal(self, task_id: int) -> None:
        """A terminal window in the task's folder of its worktree."""
        workspace = ready_workspace(self._host.conn, task_id)
        argv = opener.terminal_argv(workspace.cwd)
        if argv is None:
            raise opener.CannotOpen(opener.NO_TERMINAL)
        await self._off_loop(opener.launch, argv, workspace.cwd, console=True)

    @contextlib.contextmanager
    def _doing(self, task_id: int, what: str) -> Iterator[None]:
        under_way = self._busy.get(task_id)
        if under_way is not None:
            raise CommandRefused(
                f"the worktree of task {task_id} is busy {under_way}; try again when that is done"
            )
        self._busy[task_id] = what
        try:
            yield
        finally:
            del self._busy[task_id]

    async def _off_loop(self, call: Callable[..., T], *args: object, **kwargs: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: call(*args, **kwargs))
