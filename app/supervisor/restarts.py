"""Acting on a task's restart policy when one of its runs has ended (app.core.restarts
decides). Called inside the transaction that records the ending — by the supervisor's
tick and by recovery — so the next run, with its backoff as ``not_before``, is committed
with the ending or not at all: a crash can neither lose a restart nor make two."""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.core.models import Run, RunKind
from app.core.restarts import GiveUp, Restart, RunEnding, decide
from app.store import repo
from app.store.db import Connection
from app.supervisor.adapters import session_ability

WAIT_RESTART = "restart"
RESTART_MESSAGE = (
    "Your previous run ended before the task was done (it failed or was interrupted). "
    "Continue where you left off."
)


@dataclass(frozen=True)
class Restarted:
    task_id: int
    run_id: int  # the queued run
    decision: Restart
    not_before: float


@dataclass(frozen=True)
class GaveUp:
    task_id: int
    run: Run  # the ended run, its message saying why nothing follows
    decision: GiveUp


Followed = Restarted | GaveUp


def after_ending(conn: Connection, run: Run, now: float | None = None) -> Followed | None:
    """Queue the task's next run if its policy calls for one, or say on the ended run that
    it gave up; None when nothing follows (no policy, a cancel or a timeout, a newer run)."""
    if run.kind is RunKind.CHECK or not run.state.is_terminal:
        return None
    task = repo.get_task(conn, run.task_id)
    if task.latest_run is None or task.latest_run.id != run.id or not task.spec.restart.restarts:
        return None  # a person queued another run meanwhile: theirs is what follows
    runs = [r for r in repo.runs_for_task(conn, task.id) if r.kind is not RunKind.CHECK]
    endings = [
        RunEnding(r.state, r.reason, r.kind is RunKind.RESTART, r.started_at, r.ended_at,
                  automatic=r.kind in (RunKind.RESTART, RunKind.AFTER_LIMIT))
        for r in runs
    ]  # fmt: skip
    decision = decide(task.spec.restart, endings)
    if isinstance(decision, GiveUp):
        repo.add_to_run_message(conn, run, decision.message)
        repo.add_event(conn, "restart_gave_up", task_id=task.id, run_id=run.id,
                       detail={"message": decision.message})  # fmt: skip
        return GaveUp(task.id, repo.get_run(conn, run.id), decision)
    if decision is None:
        return None
    ability = session_ability(task)
    session = ability.session if ability.can_continue else None
    prompt = RESTART_MESSAGE if session else task.spec.prompt
    not_before = (run.ended_at or now or time.time()) + decision.delay_s
    run_id = repo.add_run(
        conn, task.id, run.timeout, kind=RunKind.RESTART, prompt=prompt,
        resume_session=session, not_before=not_before, wait_reason=WAIT_RESTART,
    )  # fmt: skip
    repo.add_event(
        conn, "restart_scheduled", task_id=task.id, run_id=run_id,
        detail={"restart": decision.number, "of": decision.of, "not_before": not_before,
                "after_run": run.id, "resumes_session": session is not None},
    )  # fmt: skip
    return Restarted(task.id, run_id, decision, not_before)
