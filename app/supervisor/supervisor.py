"""The supervisor: schedules queued runs, launches runners, ingests how they end.

Plain asyncio, no Qt: ``agentry serve --headless`` and the desktop app host the same
object. Every state change happens in synchronous code between two awaits, so two
changes never interleave; everything it learns is published on :attr:`bus`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from app.core.agent_events import RunSummary
from app.core.health import HealthReport
from app.core.locations import Locations
from app.core.log import get_logger
from app.core.models import RecoveryReport, Run, RunKind, Task, TaskSpec
from app.core.settings import Settings
from app.core.states import RunState
from app.runner import procs, protocol
from app.store import diskspace, recovery_repo, repo
from app.store.backup import check_sound
from app.store.db import (
    Connection,
    DatabaseError,
    StoreError,
    data_version,
    describe_sqlite_error,
    open_database,
    sqlite_cause,
    transaction,
)
from app.store.locations import ensure_folders
from app.store.settings import load_settings, peek_theme, save_settings
from app.supervisor import changes as task_changes
from app.supervisor import (
    commands,
    diagnostics,
    doctor,
    followups,
    organise,
    pauses,
    rebuild,
    restarts,
    workspaces,
)
from app.supervisor.adapters import Detection, detect_all, get_adapter_or_none
from app.supervisor.approvals import ApprovalWatcher
from app.supervisor.background import BackgroundJobs, on_own_connection
from app.supervisor.backups import Backups
from app.supervisor.deliveries import Deliverer
from app.supervisor.events import (
    AgentsDetected,
    EventBus,
    Notice,
    RecoveryFinished,
    RunStateChanged,
    StoreChanged,
    TaskAdded,
    TaskUpdated,
)
from app.supervisor.filewatch import FolderWatcher, RunFolders
from app.supervisor.gate import Hold, ResourceGate
from app.supervisor.git import Git
from app.supervisor.host import Extension
from app.supervisor.housekeeping import Housekeeping
from app.supervisor.lander import Lander
from app.supervisor.launches import Launches
from app.supervisor.lock import InstanceLock, SupervisorMode
from app.supervisor.notify_service import NotifyService
from app.supervisor.output import TailHub
from app.supervisor.reconcile import Observation, reconcile, stop_orphans
from app.supervisor.recovery import mark_clean_shutdown, mark_seen, recover
from app.supervisor.schedules import Scheduler
from app.supervisor.summary import summarize, summarize_recovered
from app.supervisor.workflows import WorkflowEngine
from app.supervisor.worktree_ops import WorktreeOps

log = get_logger(__name__)

T = TypeVar("T")

TICK_S = 0.25  # also bounds how late a task enqueued by another process is picked up
LIVENESS_S = 2.0
# Changes tabs read at once: each read is git passing over the whole worktree (CPU and
# disk), so more at a time only share the cores more thinly, slow the UI thread, and hold
# the executor's threads that launches need (tests/benchmarks/test_bench_worktrees).
CHANGES_AT_ONCE = 2


class NotStarted(RuntimeError):
    pass


class Supervisor:
    def __init__(
        self,
        locations: Locations,
        *,
        mode: SupervisorMode = "headless",
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock``: the wall clock that says when a waiting run may start (a restart's
        backoff, a limit's reset); tests move it on instead of sleeping."""
        self.locations = locations
        self.mode = mode
        self.clock = clock
        self.bus = EventBus()
        self.settings = Settings()
        self._settings_stamp: tuple[int, int, int] | None = None  # of the file we last read
        self.report: RecoveryReport | None = None
        self._conn: Connection | None = None
        self._lock = InstanceLock(locations, mode)
        self._loop_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._changes_slots = asyncio.Semaphore(CHANGES_AT_ONCE)
        self._accepting = False
        self._paused = False
        self._seen_version = 0
        self._next_liveness = 0.0
        self._gate: ResourceGate | None = None
        self._tick_error: str | None = None  # what the last failed tick announced
        self._jobs = BackgroundJobs()
        self.git = Git()  # every git call of this supervisor; checks git's version once
        self._launches = Launches(
            self,
            self.git,
            accepting=lambda: self._accepting,
            changed=self._publish_run,
            ended=self._run_ended,
            wake=self._wake.set,
        )
        self.files = FolderWatcher()  # woken by run folders' changes, not only by the tick
        self.tails = TailHub(self.bus, self.files)
        self._exits = RunFolders(self.files, self._wake.set)
        self._detections: dict[str, Detection] | None = None
        # Extensions are built here, so no host can forget one; the loop calls them
        # through their on_started / on_run_ended / on_tick hooks (app.supervisor.host).
        self.approvals = ApprovalWatcher(self)
        self.workflows = WorkflowEngine(self)
        self.lander = Lander(self, self.git, wake=self._wake.set)
        self.housekeeping = Housekeeping(self, self.git)  # clean-up and pruning, off the loop
        self.worktrees = WorktreeOps(self)  # merge, push, discard, open: off the loop
        self.backups = Backups(self)  # of the database: scheduled and at a clean stop
        self.schedules = Scheduler(self, wake=self._wake.set)  # starts scheduled tasks
        self.deliveries = Deliverer(self)  # sends the outbox's notifications
        self.notifications = NotifyService(  # their targets and log, for the app
            self.locations, self.bus, lambda: self.settings, wake=self._wake.set
        )

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> RecoveryReport:
        """Take the data folder, reconcile it, and begin scheduling. Raises AlreadyRunning,
        StoreError, DataFolderError (a full or read-only disk) or RecoveryFailed with a
        message for the user; nothing runs then."""
        try:
            ensure_folders(self.locations)
        except OSError as exc:
            raise diskspace.folder_error(exc, self.locations.data) from exc
        self._lock.acquire()
        try:
            if not _has_database(self.locations):  # lost: say so before making a new one
                rebuild.check_nothing_lost(None, self.locations)
            self._conn = open_database(self.locations.database)
            check_sound(self._conn, self.locations)  # damage stops us here, naming a backup
            self._settings_stamp = self._settings_file_stamp()
            self.settings = load_settings(self.locations.settings)
            rebuild.check_nothing_lost(self._conn, self.locations)  # never a silent fresh start
            repaired = await workspaces.repair_recorded(self._conn, self.git)
            self.report = recover(
                self._conn,
                self.locations,
                grace=self.settings.kill_grace_s,
                settings=self.settings,
                worktrees=repaired,
                unseen=self.mode == "gui",
            )
        except DatabaseError as exc:  # a full disk, a read-only folder, a damaged file
            self._close()
            raise StoreError(describe_sqlite_error(exc, self.locations.database)) from exc
        except OSError as exc:
            self._close()
            if diskspace.is_disk_trouble(exc):
                raise diskspace.folder_error(exc, self.locations.data) from exc
            raise
        except BaseException:
            self._close()
            raise
        self._seen_version = data_version(self._conn)
        self._gate = ResourceGate((self.locations.data, self.locations.runs))
        self._accepting = True
        self.files.start()
        self._exits.start(asyncio.get_running_loop())
        self._loop_task = asyncio.create_task(self._run(), name="supervisor")
        self._loop_task.add_done_callback(self._loop_ended)
        self._launches.start(self._loop_ended)
        self.tails.start()
        summarize_recovered(self.conn, self.locations, self.report)
        self._call_hooks([ext.on_started for ext in self._extensions])
        elsewhere = set(self.report.recorded_elsewhere)  # their ends were handled then
        for task_id in (*self.report.finished, *self.report.interrupted):
            if task_id in elsewhere:
                continue
            latest = repo.get_task(self.conn, task_id).latest_run
            if latest is not None:
                self._run_ended(latest)
        self.bus.publish(RecoveryFinished(self.report))
        return self.report

    async def stop(self) -> None:
        """Stop taking work and let go of the data folder. Agents keep running; the next
        start reattaches them. Safe to call more than once."""
        if self._conn is None:
            return
        self._accepting = False
        self.schedules.stop()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        await self._launches.stop()
        await self.lander.stop()
        await self.deliveries.stop()
        await self.tails.stop()
        self._exits.stop()
        self.files.stop()
        await self._jobs.drain()
        await self.housekeeping.drain()
        try:
            mark_clean_shutdown(self._conn)
            await self.backups.at_shutdown()
        finally:
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._lock.release()

    @property
    def running(self) -> bool:
        return self._conn is not None and self._accepting

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise NotStarted("the supervisor is not running")
        return self._conn

    # ------------------------------------------------------------------ commands

    def submit(self, spec: TaskSpec) -> int:
        task_id, run_id = commands.submit(self.conn, spec, self.settings)
        self.bus.publish(TaskAdded(task_id, run_id))
        self.bus.publish(RunStateChanged(task_id, run_id, None, RunState.QUEUED))
        self._wake.set()
        return task_id

    def cancel(self, task_ref: str | int) -> commands.CancelResult:
        result = commands.cancel(self.conn, self.locations, task_ref)
        if not result.requested:
            self._publish_run(result.run, RunState.QUEUED)
            self._run_ended(result.run)
        self._wake.set()
        return result

    def retry(self, task_ref: str | int) -> int:
        task_id, run_id = commands.retry(self.conn, task_ref, self.settings)
        self.bus.publish(RunStateChanged(task_id, run_id, None, RunState.QUEUED))
        self._wake.set()
        return run_id

    def follow_up(self, task_ref: str | int, message: str) -> int:
        """The next message in the agent's own session, as a new run of the task."""
        task_id, run_id = commands.follow_up(self.conn, task_ref, message, self.settings)
        self.bus.publish(RunStateChanged(task_id, run_id, None, RunState.QUEUED))
        self._wake.set()
        return run_id

    def resume(self, task_ref: str | int) -> int:
        """Continue an interrupted task's agent session instead of starting over; a task
        whose run waits for a time (a restart's backoff, a limit) starts now."""
        waited = commands.start_now(self.conn, task_ref)
        if waited is not None:
            self.bus.publish(TaskUpdated(waited[0]))
            self._wake.set()
            return waited[1].id
        task_id, run_id = commands.resume(self.conn, task_ref, self.settings)
        self.bus.publish(RunStateChanged(task_id, run_id, None, RunState.QUEUED))
        self._wake.set()
        return run_id

    def set_paused(self, paused: bool) -> None:
        """A paused queue starts nothing new; running agents are not touched."""
        self._paused = paused
        self._wake.set()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def holding(self) -> Hold | None:
        """Why the resource gate holds queued tasks back now (memory, CPU, a full disk)."""
        return self._gate.holding if self._gate is not None else None

    def theme_before_start(self) -> str:
        """The theme the settings file names, for screens shown before ``start()``: read
        without loading, so a bad file stays where it is for whoever holds the folder."""
        return peek_theme(self.locations.settings)

    def apply_settings(self, settings: Settings) -> None:
        save_settings(self.locations.settings, settings)
        self._settings_stamp = self._settings_file_stamp()
        self._use_settings(settings)

    def _use_settings(self, settings: Settings) -> None:
        paths_changed = settings.agent_paths != self.settings.agent_paths
        self.settings = settings
        self._wake.set()
        if paths_changed and self._detections is not None:
            self.agent_detections(refresh=True)

    def _settings_file_stamp(self) -> tuple[int, int, int] | None:
        try:
            found = self.locations.settings.stat()
        except OSError:
            return None
        return found.st_ino, found.st_mtime_ns, found.st_size

    def _reload_settings(self) -> None:
        """Use settings another process saved (``agentry project --setup …``): a run that
        starts after the change follows it, and the app does not save over it later."""
        stamp = self._settings_file_stamp()
        if stamp == self._settings_stamp:
            return
        self._settings_stamp = stamp
        if stamp is not None:  # a deleted file changes nothing until someone saves again
            self._use_settings(load_settings(self.locations.settings))

    async def repository_of(self, folder: str) -> str | None:
        """The top folder of the git repository that holds ``folder``; None when it is not
        a folder or not in a repository. Asked off the event loop (the New task dialog asks
        as the person types). Raises GitError, whose message is for the person, when git is
        missing, too old or fails: "not a repository" would be the wrong reason to give."""

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, workspaces.repository_of, self.git, folder)

    def agent_detections(self, *, refresh: bool = False) -> dict[str, Detection]:
        """Which agent CLIs are installed: looked up once (it runs `--version`), again on
        request or when their configured paths change, announced with AgentsDetected."""
        if refresh or self._detections is None:
            self._detections = detect_all(self.settings.agent_paths)
            self.bus.publish(AgentsDetected(dict(self._detections)))
        return dict(self._detections)

    def memory_use(self, task: Task) -> int | None:
        """What the task's running agent and its processes use now (bytes), if it runs."""
        run = task.latest_run
        if run is None or run.state is not RunState.RUNNING or run.agent_pid is None:
            return None
        if procs.find_process(run.agent_pid, run.agent_create_time) is None:
            return None
        return procs.tree_memory(run.agent_pid)

    def run_dir(self, run: Run) -> Path:
        return self.locations.run_dir(run.dir)

    def output_log(self, run: Run) -> Path:
        """The file a run's agent writes its output to (complete, whatever a pane shows)."""
        return protocol.output_log(self.run_dir(run))

    def watch_output(self, run_id: int, *, from_end: bool = False) -> None:
        run = repo.get_run(self.conn, run_id)
        self.tails.watch(run_id, run.task_id, self.output_log(run), from_end=from_end)
        if run.state.is_terminal:  # nothing more will come: deliver all, the last line too
            self.tails.finish(run_id)

    def unwatch_output(self, run_id: int) -> None:
        self.tails.unwatch(run_id)

    def dismiss(self, task_id: int) -> None:
        """The person has seen what happened to this task and chose not to retry it: it no
        longer counts as needing attention (until a later run of it ends)."""
        organise.dismiss(self.conn, task_id)
        self.bus.publish(TaskUpdated(task_id))

    # ------------------------------------------------------------------ organising

    def archive(self, task_id: int) -> Task:
        """Out of the default view and of "needs attention"; CommandRefused while it runs
        or waits in the queue."""
        task = organise.archive(self.conn, task_id)
        self.bus.publish(TaskUpdated(task_id))
        return task

    def unarchive(self, task_id: int) -> Task:
        task = organise.unarchive(self.conn, task_id)
        self.bus.publish(TaskUpdated(task_id))
        return task

    async def delete_plan(self, task_ids: list[int]) -> list[organise.DeletePlan]:
        """What deleting each task would remove (its run folders and their size), or why
        it may not be deleted; measured off the loop."""
        return await self._off_loop(
            lambda conn: organise.plan(conn, self.locations, task_ids, measure=True)
        )

    async def delete(self, task_id: int) -> organise.Deleted:
        """Delete an ended task with its run folders (CommandRefused for one that runs,
        waits, lands or still has a worktree); the audit trail keeps that it was."""
        try:
            return await self._off_loop(lambda conn: organise.delete(conn, self.locations, task_id))
        finally:
            self.bus.publish(StoreChanged())

    def clearable(self, which: organise.ClearFilter) -> list[Task]:
        """The ended tasks "Clear finished…" would take, newest first."""
        return organise.clearable(self.conn, which)

    async def clear(self, task_ids: list[int], *, delete: bool) -> organise.Cleared:
        """Archive (or delete) the tasks a person chose from :meth:`clearable`."""
        try:
            return await self._off_loop(
                lambda conn: organise.clear(conn, self.locations, task_ids, delete_them=delete)
            )
        finally:
            self.bus.publish(StoreChanged())

    def mark_seen(self, at: float | None = None) -> None:
        """The app showed the person the task list up to now: what ends after this is what
        the next start's recovery screen shows, whoever records that it ended."""
        try:
            mark_seen(self.conn, time.time() if at is None else at)
        except DatabaseError as exc:  # the next start shows more than needed, nothing less
            log.warning("could not note what the app has shown: %s", exc)

    async def _off_loop(self, job: Callable[[Connection], T]) -> T:
        return await on_own_connection(self.locations.database, job)

    async def stop_agents(self, timeout: float = 30.0) -> list[int]:
        """Cancel every active run and wait until each has ended; returns their task ids.

        Nothing new starts from here on (queued tasks stay queued for the next start), and
        a run that became active meanwhile (one being launched) is cancelled too.
        """
        self._accepting = False
        stopped: dict[int, int] = {}  # run id -> task id
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            active = repo.active_runs(self.conn)
            for run in active:
                if run.id not in stopped:
                    try:
                        protocol.request_cancel(
                            self.run_dir(run), (run.runner_pid, run.runner_create_time)
                        )
                    except OSError as exc:  # its folder is not there yet: try next pass
                        log.warning("could not ask run %s to stop yet: %s", run.id, exc)
                        continue
                    stopped[run.id] = run.task_id
            if not active and not self._launches.pending:
                break
            self._wake.set()
            await asyncio.sleep(0.05)
        return list(dict.fromkeys(stopped.values()))

    # ------------------------------------------------------------------ queries for views

    def tasks(self, limit: int | None = None) -> list[Task]:
        return repo.list_tasks(self.conn, limit)

    def task(self, task_id: int) -> Task:
        return repo.get_task(self.conn, task_id)

    def event_mark(self) -> int:
        """Where the audit trail stands: what :meth:`tasks_changed_since` counts from."""
        return repo.last_event_id(self.conn)

    def tasks_changed_since(self, mark: int) -> tuple[int, dict[int, Task | None]]:
        """(the new mark, each task an event after ``mark`` names: as it is now, None when
        it is gone), so a view re-reads what another process changed, not every task."""
        new_mark, task_ids = repo.tasks_named_since(self.conn, mark)
        changed: dict[int, Task | None] = {}
        for task_id in task_ids:
            try:
                changed[task_id] = repo.get_task(self.conn, task_id)
            except repo.UnknownTask:
                changed[task_id] = None
        return new_mark, changed

    def runs(self, task_id: int) -> list[Run]:
        return repo.runs_for_task(self.conn, task_id)

    @property
    def launching(self) -> frozenset[int]:
        """Run ids handed to the launcher and not yet started (or failed)."""
        return self._launches.pending

    async def changes(self, task_id: int) -> task_changes.Changes | None:
        """What the task changed in its worktree (None without a ready one); git runs in the
        executor, so the loop and the UI never wait on it; ``CHANGES_AT_ONCE`` at a time."""
        async with self._changes_slots:
            wanted = task_changes.request(self.conn, task_id)
            if wanted is None:
                return None
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, task_changes.build, self.git, wanted)

    def counts(self) -> dict[str, int]:
        """Tasks by the state of their latest run."""
        return repo.count_by_state(self.conn)

    def recovery_history(self, limit: int = 50) -> list[RecoveryReport]:
        return recovery_repo.recovery_reports(self.conn, limit)

    async def health(self) -> HealthReport:
        """Every health check (Help → Health…), read in the executor: the files, the disk,
        the database on a connection of its own. The agents are those already detected
        (their ``--version`` is not run again); the integrity check shown is the last one
        recorded (at start, or by ``agentry doctor``)."""
        detections = self._detections
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            None, lambda: doctor.collect(self.locations, detections=detections, run_integrity=False)
        )

    async def export_diagnostics(self, target: Path, *, include_private: bool) -> Path:
        """Help → Export diagnostics…: the zip of :mod:`app.supervisor.diagnostics`, written
        in the executor; raises DiagnosticsError naming the path when it cannot be."""
        detections = self._detections
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            None,
            lambda: diagnostics.export(
                self.locations, target, include_private=include_private, detections=detections
            ),
        )

    # ------------------------------------------------------------------ the loop

    async def _run(self) -> None:
        while True:
            try:
                self.tick()
            except Exception as exc:  # keep supervising; a bug must still reach a person
                self._tick_failed(exc)
            else:
                self._tick_error = None
            # Not wait_for: on Python 3.11 it swallows a cancel (stop) that comes as the
            # wake does, and the loop would run on while stop() waits for it forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK_S):
                    await self._wake.wait()
            self._wake.clear()

    def _tick_failed(self, exc: Exception) -> None:
        """A full or read-only disk is the person's to fix and is said as such; anything
        else is a bug, with its traceback. Either is announced once, not every tick."""
        problem = self._disk_problem(exc)
        if problem is None:
            log.exception("supervisor tick failed")
            text = f"Supervisor error: {exc}"
        else:
            log.warning("supervisor tick failed: %s", problem)
            text = problem
        if text != self._tick_error:
            self._tick_error = text
            self.bus.publish(Notice("error", text))

    def _disk_problem(self, exc: Exception) -> str | None:
        if isinstance(exc, DatabaseError):
            if sqlite_cause(exc, self.locations.database) in ("full", "read-only"):
                return describe_sqlite_error(exc, self.locations.database)
        elif isinstance(exc, OSError) and diskspace.is_disk_trouble(exc):
            return diskspace.describe(exc, self.locations.data)
        return None

    def _loop_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("supervisor loop died", exc_info=task.exception())
            self.bus.publish(Notice("error", f"Supervisor stopped: {task.exception()}"))

    def tick(self) -> None:
        """One round: notice other processes' writes, ingest run folders, start queued runs."""
        self._launches.reap()
        self._reload_settings()  # one stat; a run this tick starts follows a change just saved
        version = data_version(self.conn)
        if version != self._seen_version:
            self._seen_version = version
            self.bus.publish(StoreChanged())
        now = time.monotonic()
        full = now >= self._next_liveness
        if full:
            self._next_liveness = now + LIVENESS_S
        active = self._monitor(full)
        self._call_hooks([ext.on_tick for ext in self._extensions])
        if self._accepting and not self._paused:
            self._schedule(active)

    def _monitor(self, full: bool) -> int:
        """Ingest what the run folders say, all in one transaction; returns how many runs
        are still active."""
        runs = repo.active_runs(self.conn)
        launching = self._launches.pending
        settled = {run.id: self.run_dir(run) for run in runs if run.id not in launching}
        stirred = self._exits.track(settled)  # told of a change, or new to us
        look = [
            run
            for run in runs
            if run.id in settled
            and (full or run.id in stirred)
            and self._worth_a_look(run, settled[run.id], full)
        ]
        if not look:
            return len(runs)
        try:
            with transaction(self.conn):
                observations = [
                    reconcile(self.conn, run, self.run_dir(run), check_spec=False) for run in look
                ]
                followed = [  # a pause or a restart is committed with the ending
                    after
                    for obs in observations
                    if obs.changed
                    and (after := followups.after_ending(
                        self.conn, obs.run, self.run_dir(obs.run), self.settings, self.clock()))
                ]  # fmt: skip
        except BaseException:
            self._exits.keep(stirred)  # not taken in: looked at again next tick
            raise
        for obs in observations:
            self._observed(obs)
        self._followed(followed)
        return len(runs) - sum(1 for obs in observations if not obs.run.state.is_active)

    def _followed(self, followed: list[followups.Followed]) -> None:
        for after in followed:
            if isinstance(after, restarts.Restarted | pauses.Paused):
                queued = RunStateChanged(after.task_id, after.run_id, None, RunState.QUEUED)
                self.bus.publish(queued)
                self.bus.publish(Notice("info", followups.notice_of(after), after.task_id))
            else:
                self.bus.publish(TaskUpdated(after.task_id))
                self.bus.publish(Notice("warning", followups.notice_of(after), after.task_id))

    def _worth_a_look(self, run: Run, run_dir: Path, full: bool) -> bool:
        if (run_dir / protocol.EXIT).exists():
            return True
        if run.state is RunState.STARTING and (run_dir / protocol.RUNNER).exists():
            return True
        if not full:
            return False
        return not procs.is_alive(run.runner_pid, run.runner_create_time)

    def _observed(self, obs: Observation) -> None:
        if obs.changed:
            self._publish_run(obs.run, obs.old_state)
            if obs.run.state.is_terminal:
                self.tails.finish(obs.run.id)
                self._summarize_later(obs.run)
                self._run_ended(obs.run)
        if obs.orphan is not None:
            self._jobs.run("stopping orphans", stop_orphans, [obs], self.settings.kill_grace_s)

    def _schedule(self, active: int) -> None:
        launching = self._launches.pending
        capacity = self.settings.max_concurrency - active - len(launching)
        if capacity <= 0:
            return
        queued = repo.startable_runs(self.conn, capacity + len(launching), now=self.clock())
        queued = [run for run in queued if run.id not in launching][:capacity]
        assert self._gate is not None
        if not queued:
            self._gate.idle()
            return
        if self._gate.holds(self.settings, len(queued), self.bus.publish):
            return
        for run in queued:
            self._launches.request(run.id)

    def _publish_run(self, run: Run, old: RunState | None) -> None:
        self.bus.publish(
            RunStateChanged(
                run.task_id, run.id, old, run.state, run.exit_code, run.reason, run.message
            )
        )

    @property
    def _extensions(self) -> tuple[Extension, ...]:
        return (self.approvals, self.workflows, self.lander, self.housekeeping, self.backups,
                self.schedules, self.deliveries)  # fmt: skip

    def _run_ended(self, run: Run) -> None:
        self._call_hooks([ext.on_run_ended for ext in self._extensions], run)

    def _call_hooks(self, hooks: list[Callable[..., None]], *args: object) -> None:
        for hook in list(hooks):
            try:
                hook(*args)
            except Exception as exc:  # an extension's bug must not stop supervision
                log.exception("hook %r failed", hook)
                self.bus.publish(Notice("error", f"Internal error in {hook!r}: {exc}"))

    def _summarize_later(self, run: Run) -> None:
        """Read the session id and totals from a structured agent's log, off the loop."""
        adapter = get_adapter_or_none(repo.get_task(self.conn, run.task_id).agent)
        if adapter is None or not adapter.structured or run.kind is RunKind.CHECK:
            return

        def record(summary: RunSummary) -> None:
            if self._conn is None:
                return  # stopped meanwhile: the next start reads it again
            with transaction(self.conn):
                repo.update_run_summary(self.conn, run.id, summary)
            self.bus.publish(TaskUpdated(run.task_id))

        path = self.output_log(run)
        self._jobs.run(f"summarizing run {run.id}", summarize, path, adapter, then=record)


def _has_database(locations: Locations) -> bool:
    try:
        return locations.database.stat().st_size > 0
    except FileNotFoundError:
        return False
