"""The run folders as a second record (DESIGN §3): finding runs the database does not know,
and writing them back into it.

Every run folder holds ``spec.json`` (what ran, for which task), and ``runner.json`` and
``exit.json`` once it started and ended. A database that was emptied, deleted, replaced by
an older backup or lost its WAL forgets runs whose folders are still there; the supervisor
refuses to start over such a folder silently (:func:`check_nothing_lost`), and
``agentry recover --rebuild`` (or the app's button) brings them back
(:func:`ingest_unknown_runs`): tasks keep their ids where they are free, runs their
states, exit codes, times and, where the log says, session and cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.core.locations import Locations
from app.core.log import get_logger
from app.core.models import TaskSpec
from app.core.states import ExitReason, RunState, state_for_exit
from app.runner import procs, protocol
from app.runner.protocol import RunSpec
from app.store import rebuild_repo, repo
from app.store.db import Connection, transaction
from app.store.rebuild_repo import RecoveredRun
from app.supervisor.adapters import get_adapter_or_none
from app.supervisor.lost_runs import (
    EXIT_DATABASE_LOST,
    DatabaseLost,
    check_nothing_lost,
    unknown_run_folders,
)
from app.supervisor.summary import summarize

log = get_logger(__name__)


@dataclass
class RebuildReport:
    tasks: list[int] = field(default_factory=list)  # tasks written back (new in the database)
    runs: int = 0  # runs written back
    renumbered: dict[int, int] = field(default_factory=dict)  # folder's task id -> new id
    running: list[int] = field(default_factory=list)  # tasks whose runner is still alive
    skipped: dict[str, str] = field(default_factory=dict)  # folder name -> why not

    def describe(self) -> str:
        parts = [f"{len(self.tasks)} task(s) and {self.runs} run(s) brought back"]
        if self.running:
            parts.append(f"{len(self.running)} still running (followed again)")
        if self.renumbered:
            moved = ", ".join(f"#{old} is now #{new}" for old, new in self.renumbered.items())
            parts.append(f"ids already taken: {moved}")
        if self.skipped:
            parts.append(f"{len(self.skipped)} folder(s) could not be read")
        return "; ".join(parts)


# ---------------------------------------------------------------- reading one


@dataclass(frozen=True)
class FoundRun:
    """A run folder, read."""

    folder: Path
    spec: RunSpec
    run: RecoveredRun
    prompt: str | None

    def task_spec(self) -> TaskSpec:
        agent = self.spec.adapter
        argv = tuple(self.spec.argv) if agent == "shell" else ()
        return TaskSpec(argv=argv, cwd=self.spec.cwd, agent=agent, env=dict(self.spec.env),
                        prompt=self.prompt, timeout=self.spec.timeout)  # fmt: skip

    def title(self) -> str:
        if self.spec.title:
            return self.spec.title
        first = (self.prompt or "").strip().splitlines()[:1]
        text = first[0] if first else " ".join(self.spec.argv)
        return text if len(text) <= 80 else text[:79] + "…"


def read_run_folder(folder: Path) -> FoundRun:
    """What a run folder says about its run. Raises ProtocolError (a damaged file, named)
    or OSError."""
    spec = protocol.read_spec(folder)
    runner = protocol.read_runner_info(folder)
    ended = protocol.read_exit(folder)
    prompt = None
    if spec.stdin:
        prompt = (folder / spec.stdin).read_text(encoding="utf-8", errors="replace")
    created = (folder / protocol.SPEC).stat().st_mtime
    state, reason, message = _state(folder, runner, ended)
    session = model = cost = None
    adapter = get_adapter_or_none(spec.adapter)
    log_file = protocol.output_log(folder)
    if adapter is not None and adapter.structured and log_file.exists():
        summary = summarize(log_file, adapter)
        session, model, cost = summary.session_id, summary.model, summary.cost_usd
    run = RecoveredRun(
        run_id=spec.run_id, task_id=spec.task_id, dir=folder.name, state=state,
        created_at=created, argv=tuple(spec.argv), timeout=spec.timeout, prompt=prompt,
        started_at=runner.started_at if runner else None,
        ended_at=ended.ended_at if ended else None,
        exit_code=ended.returncode if ended else None, reason=reason, message=message,
        runner_pid=runner.runner_pid if runner else None,
        runner_create_time=runner.runner_create_time if runner else None,
        agent_pid=runner.agent_pid if runner else None,
        agent_create_time=runner.agent_create_time if runner else None,
        session_id=session, model=model, cost_usd=cost,
    )  # fmt: skip
    return FoundRun(folder, spec, run, prompt)


def _state(
    folder: Path, runner: protocol.RunnerInfo | None, ended: protocol.ExitInfo | None
) -> tuple[RunState, ExitReason | None, str | None]:
    if ended is not None:
        return state_for_exit(ended.reason, ended.returncode), ended.reason, ended.message or None
    if runner is not None and procs.is_alive(runner.runner_pid, runner.runner_create_time):
        return RunState.RUNNING, None, None  # the supervisor follows it again
    if runner is None and procs.find_runner(folder) is not None:
        return RunState.STARTING, None, None
    why = "brought back from its run folder: its runner is gone and left no exit.json"
    return RunState.INTERRUPTED, ExitReason.INTERRUPTED, why


# ---------------------------------------------------------------- writing them back


def ingest_unknown_runs(conn: Connection, locations: Locations) -> RebuildReport:
    """Write every run folder the database does not know back into it, with its task."""
    report = RebuildReport()
    found: list[FoundRun] = []
    for folder in unknown_run_folders(conn, locations):
        try:
            found.append(read_run_folder(folder))
        except (protocol.ProtocolError, OSError, ValueError) as exc:
            report.skipped[folder.name] = str(exc)
            log.warning("could not bring back %s: %s", folder, exc)
    found.sort(key=lambda f: (f.spec.task_id, f.spec.run_id))
    with transaction(conn):
        tasks: dict[int, int] = {}  # the folders' task id -> the database's
        for item in found:
            task_id = tasks.get(item.spec.task_id)
            if task_id is None:
                task_id = _task_for(conn, item, report)
                tasks[item.spec.task_id] = task_id
            run = item.run if task_id == item.run.task_id else _moved(item.run, task_id)
            free = not rebuild_repo.run_exists(conn, run.run_id)
            rebuild_repo.insert_run(conn, run, run_id=run.run_id if free else None)
            report.runs += 1
            if run.state.is_active and task_id not in report.running:
                report.running.append(task_id)
    log.info("rebuild from run folders: %s", report.describe())
    return report


def _task_for(conn: Connection, item: FoundRun, report: RebuildReport) -> int:
    """The task the folder's runs belong to: its own id when that is free (or the same
    task), else a new one."""
    wanted = item.spec.task_id
    spec = item.task_spec()
    if rebuild_repo.task_exists(conn, wanted):
        existing = repo.get_task(conn, wanted)
        if existing.agent == spec.agent and existing.spec.cwd == spec.cwd:
            return wanted  # the same task: its later runs were lost
        task_id = _new_task(conn, None, item, spec)
        report.renumbered[wanted] = task_id
    else:
        task_id = _new_task(conn, wanted, item, spec)
    report.tasks.append(task_id)
    return task_id


def _new_task(conn: Connection, task_id: int | None, item: FoundRun, spec: TaskSpec) -> int:
    if task_id is None:
        task_id = rebuild_repo.next_task_id(conn)
    rebuild_repo.insert_task(conn, task_id, item.title(), spec, item.run.created_at)
    return task_id


def _moved(run: RecoveredRun, task_id: int) -> RecoveredRun:
    from dataclasses import replace

    return replace(run, task_id=task_id)


# ---------------------------------------------------------------- the whole data folder


def rebuild_data_folder(locations: Locations) -> tuple[RebuildReport, Path | None]:
    """``agentry recover --rebuild`` (and the app's Rebuild button), while no supervisor
    holds the data folder (AlreadyRunning otherwise). The runs are written into the
    database when it can be opened and holds tasks (a consistent copy of it is kept
    first), else into a new one, the old file kept aside; returns what was done and where
    the old database is kept. Blocks: run it off the event loop."""
    from app.store.db import StoreError, copy_aside, open_database, set_aside
    from app.store.locations import ensure_folders
    from app.supervisor.lock import InstanceLock

    ensure_folders(locations)
    lock = InstanceLock(locations, "cli")
    lock.acquire()
    try:
        path = locations.database
        try:
            conn = open_database(path)
        except StoreError:
            kept = set_aside(path, "unreadable")
            conn = open_database(path)
        else:
            if rebuild_repo.count_tasks(conn) > 0:
                kept = copy_aside(conn, path, "before-rebuild")
            else:
                conn.close()
                kept = set_aside(path, "empty")
                conn = open_database(path)
        try:
            return ingest_unknown_runs(conn, locations), kept
        finally:
            conn.close()
    finally:
        lock.release()


__all__ = [  # check_nothing_lost and its kin live in app.supervisor.lost_runs, named here too
    "EXIT_DATABASE_LOST",
    "DatabaseLost",
    "FoundRun",
    "RebuildReport",
    "check_nothing_lost",
    "ingest_unknown_runs",
    "read_run_folder",
    "rebuild_data_folder",
    "unknown_run_folders",
]
