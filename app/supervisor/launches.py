"""Starting queued runs (DESIGN §3, step 1) for the supervisor.

In queue order, with the file and process work off the event loop, so output keeps
flowing to the panes while twenty tasks start. The supervisor decides what to start
(:meth:`Launches.request`); this module prepares each run folder, moves the run to
``starting``, starts its detached runner and records who it is, or fails the run with
the reason. How a run folder is prepared is :mod:`app.supervisor.launcher`'s job.

What is requested while a batch is in flight forms the next batch. Within one, the run
folders are prepared and the runners started side by side (a drain of short tasks would
otherwise wait on each launch's disk syncs and fork in turn), while what the one-at-a-
time launcher guaranteed stays: runs move to ``starting`` in the order requested, in one
commit, and only after their folders are written; worktrees are made one at a time; a
hook is probed once (:class:`launcher.HookProber`).
"""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from app.core.errors import AgentryError
from app.core.log import get_logger
from app.core.models import Run, Task
from app.core.states import ExitReason, RunState
from app.core.workspaces import Workspace, WorkspaceState
from app.store import diskspace, repo, workspace_repo
from app.store.db import DatabaseError, abandon_transaction, cache_transaction, transaction
from app.supervisor import launcher, workspaces
from app.supervisor.commands import CommandRefused
from app.supervisor.events import Notice
from app.supervisor.git import Git
from app.supervisor.host import ExtensionHost

log = get_logger(__name__)

T = TypeVar("T")


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
        self._worktree_lock = asyncio.Lock()
        self._exit_watches: dict[int, tuple[asyncio.AbstractEventLoop, int]] = {}  # pidfds
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
        for run_id in list(self._exit_watches):
            self._unwatch_exit(run_id)

    def request(self, run_id: int) -> None:
        self._pending.add(run_id)
        self._queue.put_nowait(run_id)

    def reap(self) -> None:
        """Collect runners that exited, so they do not linger as zombies under us."""
        for run_id, popen in list(self._popens.items()):
            if popen.poll() is not None:
                del self._popens[run_id]
                self._unwatch_exit(run_id)

    def _watch_exit(self, run_id: int, popen: subprocess.Popen[bytes]) -> None:
        """Wake the loop the moment a runner we started exits: it writes exit.json just
        before, so the run's end (and the next queued run's start) need not wait for a
        tick. Where the OS has no process handle to wait on without a thread (pidfd,
        Linux), the tick and the run folder's watch notice it."""
        pidfd_open = getattr(os, "pidfd_open", None)
        if pidfd_open is None:
            return
        try:
            fd = pidfd_open(popen.pid)
        except OSError:  # an old kernel (ENOSYS), or no such process any more
            return
        loop = asyncio.get_running_loop()
        self._exit_watches[run_id] = (loop, fd)

        def exited() -> None:
            self._unwatch_exit(run_id)
            if popen.poll() is not None:
                self._popens.pop(run_id, None)
            self._wake()

        loop.add_reader(fd, exited)

    def _unwatch_exit(self, run_id: int) -> None:
        watch = self._exit_watches.pop(run_id, None)
        if watch is not None:
            loop, fd = watch
            loop.remove_reader(fd)
            os.close(fd)

    async def _work(self) -> None:
        stopping = False
        while not stopping:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            stopping = None in batch
            run_ids = [run_id for run_id in batch if run_id is not None]
            try:
                if run_ids and self._accepting():
                    await self._launch_all(run_ids)
            finally:
                self._pending.difference_update(run_ids)

    async def _launch_all(self, run_ids: list[int]) -> None:
        """Launch what was requested meanwhile, together: the folders are prepared and the
        runners started side by side, the runs move to ``starting`` in the order they were
        requested (the queue's) in one transaction, before any of their runners starts."""
        prepared = await asyncio.gather(*(self._guarded(i, self._prepare(i)) for i in run_ids))
        ready = [each for each in prepared if each is not None]
        moved = self._mark_starting(ready)
        started = await asyncio.gather(*(self._guarded(r.id, self._start(r, d)) for r, d in moved))
        self._record_runners([each for each in started if each is not None])
        if moved:
            self._wake()  # look for their runner.json soon

    async def _guarded(self, run_id: int, step: Awaitable[T]) -> T | None:
        """One run's step; a bug in it fails that run (with the reason), not its batch."""
        try:
            return await step
        except Exception as exc:
            self._failed_by_bug(run_id, exc)
            return None

    def _failed_by_bug(self, run_id: int, exc: Exception) -> None:
        log.exception("launching run %s failed", run_id, exc_info=exc)
        # Left queued, it would be tried again every tick, ahead of everything else.
        try:
            run = repo.get_run(self._host.conn, run_id)
            self._fail(run, f"could not be launched ({type(exc).__name__}: {exc})")
        except Exception:
            log.exception("could not mark run %s failed", run_id)
            self._host.bus.publish(Notice("error", f"Could not launch run {run_id}: {exc}"))

    async def _prepare(self, run_id: int) -> _Prepared | None:
        """Its worktree made and its run folder written; None when it is not to start."""
        conn = self._host.conn
        run = repo.get_run(conn, run_id)
        if run.state is not RunState.QUEUED:
            return None  # cancelled by someone else a moment ago
        run_dir = self._host.locations.run_dir(run.dir)
        loop = asyncio.get_running_loop()
        task = repo.get_task(conn, run.task_id)
        cwd, setup = None, ""
        if task.spec.worktree:
            try:
                async with self._worktree_lock:  # git's records of a repository: one writer
                    workspace = await self._worktree(task)
            except AgentryError as exc:  # git missing, not a repository, an unknown base
                self._fail(run, str(exc))
                return None
            except OSError as exc:
                self._fail(run, _write_failure("create its worktree", exc, run_dir))
                return None
            cwd = workspace.cwd
            if workspace.setup_done_at is None:  # a new worktree, or its setup never passed
                setup = self._host.settings.project(workspace.repo).setup
        try:
            argv = await loop.run_in_executor(None, self._preparation(task, run, cwd, setup))
        except launcher.LaunchError as exc:
            self._fail(run, str(exc))
            return None
        except OSError as exc:
            self._fail(run, _write_failure(f"prepare its run folder {run_dir}", exc, run_dir))
            return None
        return _Prepared(run, run_dir, argv)

    def _mark_starting(self, ready: list[_Prepared]) -> list[tuple[Run, Path]]:
        """Move the prepared runs to ``starting`` with one commit, in the queue's order."""
        if not ready:
            return []
        conn = self._host.conn
        moved: list[tuple[Run, Path]] = []
        try:
            with transaction(conn):
                for each in ready:
                    run = repo.transition(
                        conn, each.run.id, RunState.STARTING, only_from={RunState.QUEUED}
                    )
                    if run is not None:
                        repo.record_argv(conn, run.id, each.argv)
                        moved.append((run, each.run_dir))
        except Exception as exc:  # nothing was committed: each run says why
            abandon_transaction(conn)  # a failed COMMIT leaves its transaction open
            for each in ready:
                self._failed_by_bug(each.run.id, exc)
            return []
        for run, _ in moved:
            self._changed(run, RunState.QUEUED)
        return moved

    async def _start(self, run: Run, run_dir: Path) -> _Started | None:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, _start_runner, run, run_dir)
        except OSError as exc:
            self._fail(run, _write_failure("start its runner", exc, run_dir))
            return None

    def _record_runners(self, started: list[_Started]) -> None:
        """Note who the runners are. A cache of their runner.json, so its commit does not
        wait for the disk: a run whose pid is missing after a crash is found by its folder
        (reconcile), and a power loss ends the runners anyway."""
        for each in started:
            self._popens[each.run_id] = each.popen
            self._watch_exit(each.run_id, each.popen)
        if not started:
            return
        conn = self._host.conn
        try:
            with cache_transaction(conn):
                for each in started:
                    repo.update_run_processes(
                        conn, each.run_id, runner_pid=each.pid, runner_create_time=each.stamp
                    )
        except DatabaseError as exc:  # a full disk: reconcile finds them by their folders
            ids = [each.run_id for each in started]
            log.warning("could not note the runners of runs %s: %s", ids, exc)
        except Exception:  # a bug; their runners run, and are found the same way
            log.exception("could not note the runners of runs %s", [s.run_id for s in started])

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
        self, task: Task, run: Run, cwd: str | None = None, setup: str = ""
    ) -> Callable[[], list[str]]:
        """launcher.prepare with everything it needs read now, on the loop. ``setup`` is
        the command line to run before the agent ("" for none)."""
        settings = self._host.settings
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
            memory_limit_mb=_memory_limit(task, settings.default_memory_limit_mb),
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


@dataclass(frozen=True)
class _Prepared:
    """A run whose folder is written, ready to move to ``starting``."""

    run: Run
    run_dir: Path
    argv: list[str]


@dataclass(frozen=True)
class _Started:
    run_id: int
    popen: subprocess.Popen[bytes]
    pid: int
    stamp: float | None


def _memory_limit(task: Task, default_mb: float) -> float | None:
    """The task's own memory limit (0: none), else Settings' (0: none); None for no limit."""
    own = task.spec.memory_limit_mb
    return (own if own is not None else default_mb) or None


def _start_runner(run: Run, run_dir: Path) -> _Started:
    """Start the runner and read who it is (a /proc read), both off the loop."""
    popen = launcher.launch(run_dir)
    pid, stamp = launcher.identity_of(popen)
    return _Started(run.id, popen, pid, stamp)


def _write_failure(what: str, exc: OSError, folder: Path) -> str:
    """Why a launch failed; a full or read-only disk is named as such, with its folder."""
    trouble = diskspace.trouble(folder, exc)
    if trouble is None:
        return f"could not {what}: {exc}"
    return f"could not {what}: {trouble}. {diskspace.advice(folder, exc)}, then retry the task"
