"""Turning run-folder facts into run states: used by recovery and by the live monitor.

The run folder owns how a run ended (``exit.json``) and which processes it has
(``runner.json``); the database row is brought in line with them here, and only here.
"""

from __future__ import annotations

import contextlib
import enum
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from app.core.log import get_logger
from app.core.models import RecoveryCause, Run
from app.core.states import ExitReason, RunState, state_for_exit
from app.runner import procs, protocol
from app.store import diskspace, repo, workspace_repo
from app.store.db import Connection

log = get_logger(__name__)


class Outcome(enum.Enum):
    ENDED = "ended"  # exit.json ingested
    ALIVE = "alive"  # runner alive (state running, or still starting)
    INTERRUPTED = "interrupted"  # neither: the run is marked interrupted
    REQUEUED = "requeued"  # its runner provably never started: queued again


@dataclass(frozen=True)
class Observation:
    outcome: Outcome
    run: Run
    old_state: RunState
    orphan: psutil.Process | None = None  # an agent left without its runner, to be stopped
    cause: RecoveryCause | None = None  # why an INTERRUPTED run was interrupted

    @property
    def changed(self) -> bool:
        return self.run.state is not self.old_state


def reconcile(
    conn: Connection, run: Run, run_dir: Path, *, check_spec: bool, requeue: bool = False
) -> Observation:
    """Bring one active run's row in line with its folder. Call inside a write transaction.

    ``requeue`` (recovery only): a run whose runner provably never started goes back to
    the queue. The live monitor never does that, so a runner that dies at start cannot be
    launched again and again."""
    if check_spec:
        bad_spec = _spec_problem(run_dir)
        if bad_spec:
            cause = RecoveryCause.CORRUPT_FILE
            if procs.is_alive(*_runner_identity(run, run_dir)):
                # we cannot vouch for what it runs: stop it
                protocol.request_cancel(run_dir, _runner_identity(run, run_dir))
                bad_spec += "; its runner was asked to stop"
                cause = RecoveryCause.CORRUPT_FILE_STOPPED
            return _interrupt(conn, run, bad_spec, cause)
    try:
        ended = protocol.read_exit(run_dir)
    except protocol.ProtocolError as exc:
        return _interrupt(conn, run, str(exc), RecoveryCause.CORRUPT_FILE)
    if ended is not None:
        return _ingest(conn, run, ended, run_dir)
    try:
        info = protocol.read_runner_info(run_dir)
    except protocol.ProtocolError as exc:
        if procs.is_alive(run.runner_pid, run.runner_create_time):
            protocol.request_cancel(run_dir, (run.runner_pid, run.runner_create_time))
        return _interrupt(conn, run, str(exc), RecoveryCause.CORRUPT_FILE)
    if info is None:
        return _not_started(conn, run, run_dir, requeue)
    return _started(conn, run, run_dir, info)


def _started(conn: Connection, run: Run, run_dir: Path, info: protocol.RunnerInfo) -> Observation:
    if run.state is RunState.STARTING:  # the first sight of runner.json
        _note_setup(conn, run, info)
    if procs.is_alive(info.runner_pid, info.runner_create_time):
        if run.state is RunState.STARTING:
            moved = repo.transition(
                conn,
                run.id,
                RunState.RUNNING,
                only_from={RunState.STARTING},
                started_at=info.started_at,
                runner_pid=info.runner_pid,
                runner_create_time=info.runner_create_time,
                agent_pid=info.agent_pid,
                agent_create_time=info.agent_create_time,
            )
            return Observation(Outcome.ALIVE, moved or run, run.state)
        return Observation(Outcome.ALIVE, run, run.state)
    # The runner may have written exit.json and exited between our two reads.
    late = _late_exit(conn, run, run_dir)
    if late is not None:
        return late
    orphan = procs.find_process(info.agent_pid, info.agent_create_time)
    why = f"its runner (pid {info.runner_pid}) is gone and left no exit.json"
    if orphan is not None:
        why += f"; the agent it left behind (pid {info.agent_pid}) is being stopped"
        return _interrupt(conn, run, why, RecoveryCause.AGENT_ORPHANED, orphan=orphan)
    why += " (killed, crashed, or the computer restarted)"
    return _interrupt(conn, run, why, RecoveryCause.RUNNER_DIED)


def _not_started(conn: Connection, run: Run, run_dir: Path, requeue: bool) -> Observation:
    if procs.is_alive(run.runner_pid, run.runner_create_time):
        return Observation(Outcome.ALIVE, run, run.state)
    if run.runner_pid is None:
        # Agentry may have stopped between starting the runner and noting its pid: look
        # for a runner of this folder before calling the run interrupted (and inviting a
        # second launch of it).
        runner = procs.find_runner(run_dir)
        if runner is not None:
            pid, stamp = procs.identity(runner)
            repo.update_run_processes(conn, run.id, runner_pid=pid, runner_create_time=stamp)
            return Observation(Outcome.ALIVE, run, run.state)
    late = _late_exit(conn, run, run_dir)
    if late is not None:
        return late
    try:
        setup = protocol.read_setup_info(run_dir)
    except protocol.ProtocolError as exc:
        return _interrupt(conn, run, str(exc), RecoveryCause.CORRUPT_FILE)
    if setup is not None:
        return _died_in_setup(conn, run, setup)
    if requeue and not protocol.output_log(run_dir).exists():
        # The runner opens output.log before it starts the agent: without it, the agent
        # never ran, so running it now cannot run it twice.
        return _requeue(conn, run)
    trouble = diskspace.trouble(run_dir)
    if trouble is not None:  # it died unable to write runner.json, not because we stopped
        why = f"its runner could not write in its run folder and ended: {trouble}"
        return _interrupt(conn, run, why, RecoveryCause.NEVER_STARTED)
    why = "its runner never started (Agentry stopped while launching it)"
    return _interrupt(conn, run, why, RecoveryCause.NEVER_STARTED)


def _requeue(conn: Connection, run: Run) -> Observation:
    log.warning("run %s of task %s never started; queued again", run.id, run.task_id)
    moved = repo.transition(
        conn,
        run.id,
        RunState.QUEUED,
        only_from={RunState.STARTING},
        runner_pid=None,
        runner_create_time=None,
        message="Agentry stopped before its runner started; queued again",
    )
    return Observation(Outcome.REQUEUED, moved or run, run.state, cause=RecoveryCause.REQUEUED)


def _died_in_setup(conn: Connection, run: Run, setup: protocol.SetupInfo) -> Observation:
    """The runner died while the worktree's setup command ran: the agent never started."""
    why = "its runner died during the worktree's setup and left no exit.json"
    orphan = procs.find_process(setup.pid, setup.create_time)
    if orphan is not None:
        why += f"; the setup command it left behind (pid {setup.pid}) is being stopped"
        return _interrupt(conn, run, why, RecoveryCause.AGENT_ORPHANED, orphan=orphan)
    return _interrupt(conn, run, why, RecoveryCause.RUNNER_DIED)


def _late_exit(conn: Connection, run: Run, run_dir: Path) -> Observation | None:
    try:
        ended = protocol.read_exit(run_dir)
    except protocol.ProtocolError as exc:
        return _interrupt(conn, run, str(exc), RecoveryCause.CORRUPT_FILE)
    return _ingest(conn, run, ended, run_dir) if ended is not None else None


def _ingest(conn: Connection, run: Run, ended: protocol.ExitInfo, run_dir: Path) -> Observation:
    new = state_for_exit(ended.reason, ended.returncode)
    started: dict[str, float] = {}
    if run.started_at is None:  # it ended before we saw it running: its start is in runner.json
        with contextlib.suppress(protocol.ProtocolError, OSError):
            info = protocol.read_runner_info(run_dir)
            if info is not None:
                started["started_at"] = info.started_at
                _note_setup(conn, run, info)
    moved = repo.transition(
        conn,
        run.id,
        new,
        only_from={RunState.STARTING, RunState.RUNNING},
        exit_code=ended.returncode,
        reason=ended.reason,
        message=ended.message or None,
        ended_at=ended.ended_at,
        **started,
    )
    return Observation(Outcome.ENDED, moved or run, run.state)


def _note_setup(conn: Connection, run: Run, info: protocol.RunnerInfo) -> None:
    """A runner.json after a setup means the setup passed (the agent starts only then):
    the task's worktree is set up, and its later runs skip the setup."""
    if info.setup_s is not None:
        workspace_repo.record_setup_done(conn, run.task_id, run.id)


def _interrupt(
    conn: Connection,
    run: Run,
    why: str,
    cause: RecoveryCause,
    orphan: psutil.Process | None = None,
) -> Observation:
    log.warning("run %s of task %s interrupted: %s", run.id, run.task_id, why)
    moved = repo.transition(
        conn,
        run.id,
        RunState.INTERRUPTED,
        only_from={RunState.STARTING, RunState.RUNNING},
        reason=ExitReason.INTERRUPTED,
        message=why,
        ended_at=time.time(),
    )
    return Observation(Outcome.INTERRUPTED, moved or run, run.state, orphan, cause)


def _spec_problem(run_dir: Path) -> str | None:
    try:
        protocol.read_spec(run_dir)
    except protocol.ProtocolError as exc:
        return str(exc)
    except FileNotFoundError:
        return f"{run_dir / protocol.SPEC} is missing"
    return None


def _runner_identity(run: Run, run_dir: Path) -> tuple[int | None, float | None]:
    try:
        info = protocol.read_runner_info(run_dir)
    except protocol.ProtocolError:
        info = None
    if info is not None:
        return info.runner_pid, info.runner_create_time
    return run.runner_pid, run.runner_create_time


def stop_orphans(observations: list[Observation], grace: float) -> None:
    """Stop agents whose runner died: nobody would enforce their timeout or record their end."""
    for obs in observations:
        if obs.orphan is not None:
            log.warning("stopping orphaned agent pid %s of run %s", obs.orphan.pid, obs.run.id)
            procs.kill_tree(obs.orphan, grace)
