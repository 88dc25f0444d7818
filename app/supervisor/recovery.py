"""Start-up reconciliation (DESIGN §3): what survived, what ended, what was lost.

Runs before the supervisor takes any new work, while it holds the data-folder lock, so a
run that is still alive is reattached and never launched a second time.
"""

from __future__ import annotations

import time
from pathlib import Path

from app.core.errors import AgentryError
from app.core.locations import Locations
from app.core.log import get_logger
from app.core.models import RecoveryCause, RecoveryReport, WorktreeRepair
from app.core.settings import Settings
from app.core.states import RunState
from app.runner import procs
from app.store import approval_repo, fsops, organise_repo, recovery_repo, repo
from app.store.db import Connection, transaction
from app.supervisor import followups, pauses, restarts
from app.supervisor.reconcile import Observation, Outcome, reconcile, stop_orphans

log = get_logger(__name__)

SESSION_KEY = "session"  # "running" while a supervisor runs, "clean" after a graceful stop


class RecoveryFailed(AgentryError, RuntimeError):
    """Reconciliation could not finish; starting anyway would mean an inconsistent state."""


def recover(
    conn: Connection,
    locations: Locations,
    *,
    grace: float,
    worktrees: dict[int, WorktreeRepair] | None = None,
    unseen: bool = False,
    settings: Settings | None = None,
) -> RecoveryReport:
    """``worktrees``: what the caller completed of worktrees a crash left half done.
    ``unseen`` (the app): the report also lists the tasks that ended since the app last
    showed them (:func:`mark_seen`), though another agentry command recorded their end."""
    started = time.perf_counter()
    report = RecoveryReport(started_at=time.time(), worktrees=dict(worktrees or {}))
    try:
        observations = _reconcile_all(
            conn, locations, report, started, unseen, settings or Settings()
        )
    except Exception as exc:
        raise RecoveryFailed(
            f"recovery of {locations.data} failed: {exc}. Nothing was started. "
            f"Run `agentry doctor` for details."
        ) from exc
    stop_orphans(observations, grace)
    log.info(report.describe())
    return report


def _reconcile_all(
    conn: Connection,
    locations: Locations,
    report: RecoveryReport,
    started: float,
    unseen: bool,
    settings: Settings,
) -> list[Observation]:
    with transaction(conn):
        report.previous_clean = recovery_repo.get_meta(conn, SESSION_KEY, "clean") == "clean"
        seen = recovery_repo.get_meta(conn, organise_repo.SEEN_KEY) if unseen else None
        report.temp_files_removed = _clean_temp_files(locations.data)
        observations = []
        for run in repo.active_runs(conn):
            run_dir = locations.run_dir(run.dir)
            report.temp_files_removed += _clean_temp_files(run_dir)
            obs = reconcile(conn, run, run_dir, check_spec=True, requeue=True)
            _record(report, obs)
            observations.append(obs)
            if obs.changed:  # ended while Agentry was away: a pause or restart follows it
                after = followups.after_ending(conn, obs.run, run_dir, settings)
                if after is not None:
                    _note_followed(report, after)
        if seen is not None:
            _add_unseen(conn, report, float(seen))
        report.queued = repo.queued_task_ids(conn)
        report.approvals = [a.id for a in approval_repo.pending(conn)]
        recovery_repo.set_meta(conn, SESSION_KEY, "running")
        report.duration_ms = (time.perf_counter() - started) * 1000
        recovery_repo.save_recovery_report(conn, report)
    return observations


def _note_followed(report: RecoveryReport, after: followups.Followed) -> None:
    """Say on the recovery screen what follows a run that ended while Agentry was away: in
    its row (``next_steps``) and, as before, in its note."""
    if isinstance(after, pauses.Paused):
        at = time.strftime("%H:%M", time.localtime(after.pause.resume_at))
        said, step = (f"its agent hit its limit: paused, resumes at {at}",
                      f"paused for its agent's limit until {at}")  # fmt: skip
    elif isinstance(after, restarts.Restarted):
        at = time.strftime("%H:%M:%S", time.localtime(after.not_before))
        said = f"restart {after.decision.number} of {after.decision.of} at {at}"
        step = said
    elif isinstance(after, pauses.Stayed):
        said = step = after.stay.message
    else:
        said = step = after.decision.message
    note = report.notes.get(after.task_id)
    report.notes[after.task_id] = f"{note}; {said}" if note else said
    report.next_steps[after.task_id] = step


def _record(report: RecoveryReport, obs: Observation) -> None:
    task_id = obs.run.task_id
    if obs.outcome is Outcome.ALIVE:
        report.reattached.append(task_id)
        report.causes[task_id] = RecoveryCause.REATTACHED
        return
    if obs.outcome is Outcome.ENDED:
        report.finished.append(task_id)
        code = obs.run.exit_code
        report.causes[task_id] = RecoveryCause.FINISHED_AWAY
        report.exit_codes[task_id] = code
        # No exit code of its own: it never ran (its setup failed, it could not start).
        said = f"exit code {code}" if code is not None else obs.run.message or "did not start"
        report.notes[task_id] = f"ended while Agentry was away — {said}"
        return
    if obs.outcome is Outcome.REQUEUED:  # listed with the queue, which is read afterwards
        report.causes[task_id] = RecoveryCause.REQUEUED
        report.notes[task_id] = obs.run.message or "queued again"
        return
    report.interrupted.append(task_id)
    report.causes[task_id] = obs.cause or RecoveryCause.INTERRUPTED
    report.notes[task_id] = obs.run.message or "interrupted"


def _add_unseen(conn: Connection, report: RecoveryReport, since: float) -> None:
    """Tasks that ended after the app last showed the list, recorded by someone else."""
    listed = {*report.finished, *report.interrupted, *report.reattached}
    for task in organise_repo.ended_since(conn, since):
        run = task.latest_run
        if task.id in listed or run is None:
            continue
        report.recorded_elsewhere.append(task.id)
        if run.state is RunState.INTERRUPTED:
            report.interrupted.append(task.id)
            report.causes[task.id] = RecoveryCause.INTERRUPTED
            report.notes[task.id] = run.message or "interrupted while Agentry was away"
            continue
        report.finished.append(task.id)
        report.causes[task.id] = RecoveryCause.FINISHED_AWAY
        report.exit_codes[task.id] = run.exit_code
        said = f"exit code {run.exit_code}" if run.exit_code is not None else run.message or ""
        report.notes[task.id] = "ended while Agentry was away" + (f" — {said}" if said else "")


def mark_seen(conn: Connection, at: float) -> None:
    """The app showed the task list at ``at`` (never moved back: a late write of an older
    time must not bring back what was seen)."""
    with transaction(conn):
        old = recovery_repo.get_meta(conn, organise_repo.SEEN_KEY)
        if old is None or float(old) < at:
            recovery_repo.set_meta(conn, organise_repo.SEEN_KEY, repr(at))


def mark_clean_shutdown(conn: Connection) -> None:
    with transaction(conn):
        recovery_repo.set_meta(conn, SESSION_KEY, "clean")


def _clean_temp_files(folder: Path) -> int:
    """Temp files of writers that died mid-write (ours: the supervisor checks processes)."""
    return len(fsops.cleanup_temp_files(folder, writer_alive=procs.pid_exists))
