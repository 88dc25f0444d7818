"""The local merge queue (DESIGN §7a, :mod:`app.core.lands`): asking for a land, and the
supervisor extension that carries lands through, one repository's at a time, in order.

Each step's git work (:mod:`app.supervisor.landing`) runs in the executor; its outcome is
recorded in one transaction on the loop. A land cancelled while a step was in flight keeps
its cancellation: the step's outcome is dropped (the step changed nothing on the base).
The check is a run of the task (kind ``check``), so it is launched, watched, reattached
after a crash and shown in the transcript like any other run.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import AgentryError
from app.core.lands import Land, LandState
from app.core.locations import Locations
from app.core.log import get_logger
from app.core.models import Run, RunKind
from app.core.settings import Settings
from app.core.states import RunState
from app.core.workspaces import Workspace, WorkspaceState
from app.runner import protocol
from app.store import land_repo, repo, workspace_repo
from app.store.db import Connection, transaction
from app.supervisor import commands, landing
from app.supervisor.commands import CommandRefused, resolve_timeout
from app.supervisor.events import Notice, RunStateChanged, TaskUpdated
from app.supervisor.git import Git
from app.supervisor.host import ExtensionHost

log = get_logger(__name__)

LOOK_S = 1.0  # how often the queue is looked at when nothing told us to look sooner


def request(conn: Connection, git: Git, settings: Settings, task_ref: str | int, *,
            check: bool = True) -> Land:  # fmt: skip
    """Queue a land of the task's branch on its base; refused (with what to do) when it
    cannot land. Blocks on git: the supervisor uses :meth:`Lander.land` instead."""
    wanted = _wanted(conn, settings, task_ref, check)
    _check_base(git, wanted)
    return _queue(conn, wanted)


@dataclass(frozen=True)
class _Wanted:
    task_id: int
    workspace: Workspace
    command: str


def _wanted(conn: Connection, settings: Settings, task_ref: str | int, check: bool) -> _Wanted:
    task = repo.resolve_task(conn, str(task_ref))
    workspace = workspace_repo.get(conn, task.id)
    if workspace is None or workspace.state is not WorkspaceState.READY:
        raise CommandRefused(
            f"task {task.id} has no worktree of its own to land; only tasks run with "
            '--worktree (or "In its own worktree" in the New task dialog) can land'
        )
    run = task.latest_run
    if run is not None and not run.state.is_terminal:
        raise CommandRefused(f"task {task.id} is still {run.state.value}; land it when it ends")
    command = settings.project(workspace.repo).check if check else ""
    if check and not command:
        raise CommandRefused(
            f"no check command is set for {workspace.repo}, so nothing would be checked before "
            f'{workspace.base} moves. Set one (`agentry project --check "make test"` in the '
            "repository, or Tools → Project settings…), or land with --no-check."
        )
    return _Wanted(task.id, workspace, command)


def _check_base(git: Git, wanted: _Wanted) -> None:
    workspace = wanted.workspace
    if not git.branch_exists(Path(workspace.repo), workspace.base):
        raise CommandRefused(
            f"task {wanted.task_id} was made from {workspace.base}, which is not a branch of "
            f"{workspace.repo}; push its branch {workspace.branch} instead"
        )


def _queue(conn: Connection, wanted: _Wanted) -> Land:
    workspace = wanted.workspace
    with transaction(conn):
        if any(land.is_active for land in land_repo.of_task(conn, wanted.task_id)):
            raise CommandRefused(f"task {wanted.task_id} is already being landed")
        return land_repo.create(conn, wanted.task_id, repo=workspace.repo, base=workspace.base,
                                check=wanted.command)  # fmt: skip


def cancel(conn: Connection, locations: Locations, task_ref: str | int) -> Land:
    """Cancel the task's land in progress. A running check is asked to stop (the land ends
    with it); a land moving its base right now cannot be cancelled."""
    task = repo.resolve_task(conn, str(task_ref))
    with transaction(conn):
        land = next((x for x in land_repo.of_task(conn, task.id) if x.is_active), None)
        if land is None:
            raise CommandRefused(f"task {task.id} has no land in progress")
        if land.state is LandState.LANDING:
            raise CommandRefused(f"task {task.id} is moving {land.base} right now; it ends soon")
        if land.state is not LandState.CHECKING or land.run_id is None:
            return land_repo.transition(conn, land.id, LandState.CANCELLED,
                                        message="cancelled")  # fmt: skip
        check = repo.get_run(conn, land.run_id)
    if check.state is RunState.QUEUED:
        with transaction(conn):
            commands.cancel_queued(conn, check.id, "the land was cancelled")
    elif not check.state.is_terminal:
        protocol.request_cancel(
            locations.run_dir(check.dir), (check.runner_pid, check.runner_create_time)
        )
    return land


class Lander:
    """Carries the lands the database holds through their steps; a supervisor extension."""

    def __init__(self, host: ExtensionHost, git: Git, *, wake: Callable[[], None]) -> None:
        self._host = host
        self._git = git
        self._wake = wake  # a check run was queued: schedule it soon
        self._job: asyncio.Task[None] | None = None
        self._next_look = 0.0

    # --- commands -------------------------------------------------------------------------

    async def land(self, task_id: int, *, check: bool = True) -> Land:
        """Queue a land of the task (see :func:`request`), git off the loop."""
        wanted = _wanted(self._host.conn, self._host.settings, task_id, check)
        await asyncio.get_running_loop().run_in_executor(None, _check_base, self._git, wanted)
        land = _queue(self._host.conn, wanted)
        self._next_look = 0.0
        self._host.bus.publish(TaskUpdated(task_id))
        return land

    def cancel(self, task_id: int) -> Land:
        land = cancel(self._host.conn, self._host.locations, task_id)
        self._next_look = 0.0
        self._host.bus.publish(TaskUpdated(task_id))
        return land

    def lands(self, task_id: int) -> list[Land]:
        """The task's lands, oldest first."""
        return land_repo.of_task(self._host.conn, task_id)

    # --- the supervisor's hooks ----------------------------------------------------------

    def on_started(self) -> None:
        self._next_look = 0.0  # lands a crash interrupted go on at the first tick

    def on_run_ended(self, run: Run) -> None:
        if run.kind is RunKind.CHECK:
            self._next_look = 0.0

    def on_tick(self) -> None:
        now = time.monotonic()
        if self._job is not None or now < self._next_look:
            return
        self._next_look = now + LOOK_S
        self._job = asyncio.create_task(self._advance(), name="lander")
        self._job.add_done_callback(self._done)

    async def stop(self) -> None:
        """Let a step in flight finish and be recorded, so nothing is done twice."""
        if self._job is not None:
            await asyncio.gather(self._job, return_exceptions=True)

    def _done(self, job: asyncio.Task[None]) -> None:
        self._job = None
        if not job.cancelled() and job.exception() is not None:
            log.error("the land queue stopped", exc_info=job.exception())

    # --- the queue -----------------------------------------------------------------------

    async def _advance(self) -> None:
        """Step each repository's first land until none of them can go further now."""
        moved = True
        while moved:
            moved = False
            heads: dict[str, Land] = {}
            for land in land_repo.active(self._host.conn):
                heads.setdefault(land.repo, land)
            for land in heads.values():
                step = await self._step(land)
                if step is not None and self._record(land, step):
                    moved = True

    async def _step(self, land: Land) -> landing.Step | None:
        conn = self._host.conn
        task = repo.get_task(conn, land.task_id)
        workspace = workspace_repo.get(conn, land.task_id)
        git = self._git
        work: Callable[[], landing.Step]
        if land.state is LandState.CHECKING:
            check = repo.get_run(conn, land.run_id) if land.run_id is not None else None
            if check is not None and not check.state.is_terminal:
                return None  # the check is queued or running
            outcome = check.state.value if check is not None else "lost"
            code = check.exit_code if check is not None else None
            detail = f"exit code {code}" if code is not None else ""
            work = functools.partial(landing.checked, land, outcome, git, workspace, detail)
        elif land.state is LandState.QUEUED:
            work = functools.partial(landing.start, git, land, workspace, task)
        elif land.state is LandState.REBASING:
            work = functools.partial(landing.rebase, git, land, workspace, task)
        else:
            work = functools.partial(landing.swap, git, land, workspace)
        try:
            return await asyncio.get_running_loop().run_in_executor(None, work)
        except AgentryError as exc:  # git missing, a ref gone, a hook refused a commit
            return landing.Step.failed(f"{exc}; {land.base} was not changed")
        except OSError as exc:
            return landing.Step.failed(f"{exc}; {land.base} was not changed")

    def _record(self, land: Land, step: landing.Step) -> bool:
        conn = self._host.conn
        fields = dict(step.fields)
        with transaction(conn):
            current = land_repo.get(conn, land.id)
            if current.state is not land.state:
                return False  # cancelled while the step ran
            if step.state is LandState.CHECKING:
                timeout = resolve_timeout(None, self._host.settings)
                fields["run_id"] = repo.add_run(conn, land.task_id, timeout, kind=RunKind.CHECK,
                                                prompt=land.check)  # fmt: skip
            now = land_repo.transition(conn, land.id, step.state, **fields)
        self._announce(now)
        return True

    def _announce(self, land: Land) -> None:
        bus = self._host.bus
        bus.publish(TaskUpdated(land.task_id))
        if land.state is LandState.CHECKING and land.run_id is not None:
            # a new run of the task, as a follow-up is: panes follow its output
            bus.publish(RunStateChanged(land.task_id, land.run_id, None, RunState.QUEUED))
            self._wake()
        elif land.state is LandState.LANDED:
            bus.publish(Notice("info", f"Task {land.task_id} landed: {land.message}",
                               task_id=land.task_id))  # fmt: skip
        elif land.state in (LandState.FAILED, LandState.CANCELLED):
            verb = "failed" if land.state is LandState.FAILED else "was cancelled"
            log.warning("land %s of task %s %s: %s", land.id, land.task_id, verb, land.message)
            bus.publish(Notice("warning", f"Land of task {land.task_id} {verb}: {land.message}",
                               task_id=land.task_id))  # fmt: skip
