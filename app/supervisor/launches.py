"""Starting queued runs (DESIGN §3, step 1) for the supervisor.

One at a time, in queue order, with the file and process work off the event loop, so
output keeps flowing to the panes while twenty tasks start. The supervisor decides what
to start (:meth:`Launches.request`); this module prepares each run folder, moves the run
to ``starting``, starts its detached runner and records who it is, or fails the run with
the reason. How a run folder is prepared is :mod:`app.supervisor.launcher`'s job.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from app.core.errors import AgentryError
from app.core.models import Run, Task
from app.core.states import ExitReason, RunState
from app.core.workspaces import Workspace, WorkspaceState
from app.store import diskspace, repo, workspace_repo
from app.store.db import transaction
from app.supervisor import launcher, workspaces
from app.supervisor.commands import CommandRefused
from app.supervisor.events import Notice
from app.supervisor.git import Git
from app.supervisor.host import ExtensionHost

log = logging.getLogger(__name__)


class Launches:
    """The supervisor's launch queue, its runners' Popen objects and its hook probes."""

    def __init__(
        self,
        host: ExtensionHost,
        git: Git,
        *,
        accepting: Callable[[], bool],
        changed: Callable[[Run, RunState | None], None],
        ended: Callable[[Run], None],
        wake: Callable[[], None],
    ) -> None:
        self._host = host
        self._git = git
        self._accepting = accepting  # False: skip what is queued (stopping)
        self._changed = changed  # publish a run's state change
        self._ended = ended  # a run reached a terminal state
        self._wake = wake  # look at the run folders soon
        self._queue: asyncio.Queue[int | None] = asyncio.Queue()
        self._pending: set[int] = set()  # run ids requested, not yet done
        self._popens: dict[int, subprocess.Popen[bytes]] = {}
        self._prober = launcher.HookProber()  # hooks that started, while we live
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> frozenset[int]:
        """Run ids handed over and not launched (or failed) yet."""
        return frozenset(self._pending)

    def start(self, on_done: Callable[[asyncio.Task[None]], None]) -> None:
        self._task = asyncio.create_task(self._work(), name="launcher")
        self._task.add_done_callback(on_done)

    async def stop(self) -> None:
        """Let a launch in flight finish, so its runner's pid is on record; skip the rest."""
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task
            self._task = None
        self.reap()

    def request(self, run_id: int) -> None:
        self._pending.add(run_id)
        self._queue.put_nowait(run_id)

    def reap(self) -> None:
        """Collect runners that exited, so they do not linger as zombies under us."""
        for run_id, popen in list(self._popens.items()):
            if popen.poll() is not None:
                del self._popens[run_id]

    async def _work(self) -> None:
        while (run_id := await self._queue.get()) is not None:
            try:
                if self._accepting():
                    await self._launch(run_id)
            except Exception as exc:
                log.exception("launching run %s failed", run_id)
                # Left queued, it would be tried again every tick, ahead of everything else.
                try:
                    run = repo.get_run(self._host.conn, run_id)
                    self._fail(run, f"could not be launched ({type(exc).__name__}: {exc})")
                except Exception:
                    log.exception("could not mark run %s failed", run_id)
                    self._host.bus.publish(Notice("error", f"Could not launch run {run_id}: {exc}"))
            finally:
                self._pending.discard(run_id)

    async def _launch(self, run_id: int) -> None:
        conn = self._host.conn
        run = repo.get_run(conn, run_id)
        if run.state is not RunState.QUEUED:
            return  # cancelled by someone else a moment ago
        run_dir = self._host.locations.run_dir(run.dir)
        loop = asyncio.get_running_loop()
        task = repo.get_task(conn, run.task_id)
        cwd, setup = None, ""
        if task.spec.worktree:
            try:
                workspace = await self._worktree(task)
            except AgentryError as exc:  # git missing, not a repository, an unknown base
                self._fail(run, str(exc))
                return
            except OSError as exc:
                self._fail(run, _write_failure("create its worktree", exc, run_dir))
                return
            cwd = workspace.cwd
            if workspace.setup_done_at is None:  # a new worktree, or its setup never passed
                setup = self._host.settings.project(workspace.repo).setup
        try:
            argv = await loop.run_in_executor(None, self._preparation(run, cwd, setup))
        except launcher.LaunchError as exc:
            self._fail(run, str(exc))
            return
        except OSError as exc:
            self._fail(run, _write_failure(f"prepare its run folder {run_dir}", exc, run_dir))
            return
        with transaction(conn):
            moved = repo.transition(conn, run.id, RunState.STARTING, only_from={RunState.QUEUED})
            repo.record_argv(conn, run.id, argv)
        if moved is None:
            return
        self._changed(moved, RunState.QUEUED)
        try:
            popen = await loop.run_in_executor(None, launcher.launch, run_dir)
        except OSError as exc:
            self._fail(moved, _write_failure("start its runner", exc, run_dir))
            return
        self._popens[run.id] = popen
        pid, create_time = launcher.identity_of(popen)
        with transaction(conn):
            repo.update_run_processes(conn, run.id, runner_pid=pid, runner_create_time=create_time)
        self._wake()  # look for its runner.json soon

    async def _worktree(self, task: Task) -> Workspace:
        """The task's own worktree, made if need be (with the project's files to copy).

        The row (the intent) is committed before git creates anything, and each step is
        repeatable, so a crash at any point is completed by the next launch."""
        conn = self._host.conn
        loop = asyncio.get_running_loop()
        workspace = workspace_repo.get(conn, task.id)
        if workspace is None:
            plan = await loop.run_in_executor(
                None, workspaces.plan, self._git, self._host.locations, task
            )
            with transaction(conn):
                workspace = workspace_repo.record_intent(conn, task.id, **vars(plan))
        if workspace.state in (WorkspaceState.REMOVING, WorkspaceState.REMOVED):
            raise CommandRefused(
                f"the worktree of task {task.id} was discarded; submit the task again to "
                "start afresh"
            )
        if workspace.state is WorkspaceState.READY and not Path(workspace.cwd).is_dir():
            with transaction(conn):  # deleted behind our back: made again on its branch
                workspace = workspace_repo.transition(conn, task.id, WorkspaceState.CREATING)
        if workspace.state is WorkspaceState.CREATING:
            copy = self._host.settings.project(workspace.repo).copy_files
            await loop.run_in_executor(None, workspaces.create, self._git, workspace, copy)
            with transaction(conn):
                workspace = workspace_repo.transition(conn, task.id, WorkspaceState.READY)
        return workspace

    def _preparation(
        self, run: Run, cwd: str | None = None, setup: str = ""
    ) -> Callable[[], list[str]]:
        """launcher.prepare with everything it needs read now, on the loop. ``setup`` is
        the command line to run before the agent ("" for none)."""
        settings = self._host.settings
        task = repo.get_task(self._host.conn, run.task_id)
        return functools.partial(
            launcher.prepare,
            self._host.locations.run_dir(run.dir),
            task,
            run,
            settings.kill_grace_s,
            dict(settings.agent_paths),
            approvals=settings.approval_timeout_s if settings.approvals else None,
            prober=self._prober,
            cwd=cwd,
            setup=setup,
        )

    def _fail(self, run: Run, message: str) -> None:
        # A run that cannot start (its CLI is missing, its folder is gone) is the person's to
        # fix, and its message says how: a warning. A bug on the way here was logged above.
        log.warning("task %s: %s", run.task_id, message)
        conn = self._host.conn
        with transaction(conn):
            current = repo.get_run(conn, run.id)
            if current.state is RunState.QUEUED:
                current = repo.transition(conn, run.id, RunState.STARTING) or current
            if current.state is not RunState.STARTING:
                return  # cancelled (or ended) while it was being prepared: nothing to fail
            moved = repo.transition(
                conn,
                run.id,
                RunState.FAILED,
                only_from={RunState.STARTING},
                reason=ExitReason.SPAWN_ERROR,
                message=message,
                ended_at=time.time(),
            )
        if moved is not None:
            self._changed(moved, RunState.STARTING)
            self._ended(moved)
        self._host.bus.publish(
            Notice("error", f"Task {run.task_id}: {message}", task_id=run.task_id)
        )


def _write_failure(what: str, exc: OSError, folder: Path) -> str:
    """Why a launch failed; a full or read-only disk is named as such, with its folder."""
    trouble = diskspace.trouble(folder, exc)
    if trouble is None:
        return f"could not {what}: {exc}"
    return f"could not {what}: {trouble}. {diskspace.advice(folder, exc)}, then retry the task"
