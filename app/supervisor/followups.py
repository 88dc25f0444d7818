"""What follows a run's ending, decided in the transaction that takes the ending in (by
the supervisor's tick and by recovery): a pause when the agent stopped on its usage or
rate limit (:mod:`app.supervisor.pauses`), else the task's restart policy
(:mod:`app.supervisor.restarts`). A limit is not a failure: it never uses up a restart."""

from __future__ import annotations

import time
from pathlib import Path

from app.core import limits
from app.core.durations import format_duration
from app.core.limits import LimitHit
from app.core.log import get_logger
from app.core.models import Run, RunKind
from app.core.settings import Settings
from app.core.states import RunState
from app.runner import protocol
from app.store import repo
from app.store.db import Connection
from app.supervisor import pauses, restarts
from app.supervisor.adapters import get_adapter_or_none
from app.supervisor.summary import limit_of, summarize

log = get_logger(__name__)

Followed = restarts.Restarted | restarts.GaveUp | pauses.Paused | pauses.Stayed


def after_ending(
    conn: Connection, run: Run, run_dir: Path, settings: Settings, now: float | None = None
) -> Followed | None:
    hit = limit_hit(conn, run, run_dir)
    if hit is not None:
        _know_session(conn, run, run_dir)
        paused = pauses.after_limit(conn, run, hit, settings, now)
        if paused is not None:
            return paused
    return restarts.after_ending(conn, run, now)


def _know_session(conn: Connection, run: Run, run_dir: Path) -> None:
    """The run's summary now, not later off the loop: the pause resumes the session the
    log names, which is known only once the log has been read."""
    adapter = get_adapter_or_none(repo.get_task(conn, run.task_id).agent)
    if adapter is None:
        return
    try:
        summary = summarize(protocol.output_log(run_dir), adapter)
    except OSError as exc:
        log.warning("could not read the session of run %s: %s", run.id, exc)
        return
    repo.update_run_summary(conn, run.id, summary)


def limit_hit(conn: Connection, run: Run, run_dir: Path) -> LimitHit | None:
    """The limit a structured agent's run ended on, read from the end of its log; None for
    any other ending (a cancel or a timeout is never taken for one)."""
    if run.kind is RunKind.CHECK or run.state in (RunState.CANCELLED, RunState.TIMED_OUT):
        return None
    adapter = get_adapter_or_none(repo.get_task(conn, run.task_id).agent)
    if adapter is None or not adapter.structured:
        return None
    try:
        limit = limit_of(protocol.output_log(run_dir), adapter)
    except OSError as exc:  # unreadable: the ending stands as it is, said in the log
        log.warning("could not read how run %s ended: %s", run.id, exc)
        return None
    return None if limit is None else LimitHit(limit.kind, limit.resets_at, limit.message)


def notice_of(after: Followed) -> str:
    """What a person is told of what followed an ending (the supervisor's notice)."""
    task = f"Task {after.task_id}"
    if isinstance(after, restarts.Restarted):
        wait = format_duration(after.decision.delay_s, none="at once")
        when = wait if wait == "at once" else f"in {wait}"
        return f"{task}: restart {after.decision.number} of {after.decision.of} {when}"
    if isinstance(after, pauses.Paused):
        at = time.strftime("%H:%M", time.localtime(after.pause.resume_at))
        return f"{task} paused: {after.agent} {limits.describe(after.hit)}; resumes at {at}"
    if isinstance(after, pauses.Stayed):
        return f"{task}: {after.agent} {after.stay.message}"
    return f"{task}: {after.decision.message}"
