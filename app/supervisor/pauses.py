"""A task stopped by its agent's usage or rate limit waits for the reset and resumes its
session (issue #15; app.core.limits decides). Called inside the transaction that takes
the ending in, so the pause — the agent's limit row and the task's queued run with its
``not_before`` — is committed with it: it survives Agentry being closed or killed, and a
resume that came due meanwhile happens at the next start."""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.core import limits
from app.core.limits import AgentLimit, LimitHit, Pause, Stay
from app.core.models import Run, RunKind, Task
from app.core.policies import WAIT_LIMIT
from app.core.settings import Settings
from app.core.states import RunState
from app.store import limit_repo, repo
from app.store.db import Connection
from app.supervisor.adapters import get_adapter_or_none, session_ability

_PEOPLE = frozenset({RunKind.START, RunKind.RETRY, RunKind.RESUME, RunKind.FOLLOW_UP})
"""Runs a person queued: the count of resumes starts again after one."""


@dataclass(frozen=True)
class Paused:
    task_id: int
    run_id: int  # the queued run that resumes
    agent: str
    pause: Pause
    hit: LimitHit


@dataclass(frozen=True)
class Stayed:
    task_id: int
    run: Run  # the ended run, its message saying why it does not resume
    agent: str
    stay: Stay
    hit: LimitHit


def after_limit(
    conn: Connection, run: Run, hit: LimitHit, settings: Settings, now: float | None = None
) -> Paused | Stayed | None:
    """Record the agent's limit and pause the task (or say why it stays stopped); None
    when the ending was a person's or a deadline's, or a newer run follows already."""
    if run.kind is RunKind.CHECK or run.state in (RunState.CANCELLED, RunState.TIMED_OUT):
        return None
    task = repo.get_task(conn, run.task_id)
    if task.latest_run is None or task.latest_run.id != run.id:
        return None
    at = time.time() if now is None else now
    own = task.spec.limits
    decision = limits.decide(
        hit,
        run.ended_at or at,
        _resumes_so_far(repo.runs_for_task(conn, task.id)),
        auto_resume=settings.limit_auto_resume if own.auto_resume is None else own.auto_resume,
        max_resumes=settings.limit_max_resumes if own.max_resumes is None else own.max_resumes,
        margin_s=settings.limit_resume_margin_s,
        quiet=limits.parse_quiet_hours(
            settings.limit_quiet_hours if own.quiet_hours is None else own.quiet_hours
        ),
    )
    limit = AgentLimit(task.agent, decision.until, hit.kind, hit.message, at, run.id)
    limit_repo.set_agent_limit(conn, limit)
    detail = {"kind": hit.kind, "until": decision.until, "said": hit.message}
    if isinstance(decision, Stay):
        repo.add_to_run_message(conn, run, decision.message)
        repo.add_event(conn, "limit_stayed", task_id=task.id, run_id=run.id,
                       detail={**detail, "message": decision.message})  # fmt: skip
        return Stayed(task.id, repo.get_run(conn, run.id), task.agent, decision, hit)
    session = _session_to_resume(conn, task, run)
    run_id = repo.add_run(
        conn, task.id, run.timeout, kind=RunKind.AFTER_LIMIT,
        prompt=settings.limit_resume_message if session else task.spec.prompt,
        resume_session=session, not_before=decision.resume_at, wait_reason=WAIT_LIMIT,
    )  # fmt: skip
    repo.add_to_run_message(
        conn, run, f"{label(task.agent)} {limits.describe(hit)}; paused until the reset"
    )
    detail |= {"resume_at": decision.resume_at, "resume": decision.resume, "after_run": run.id,
               "resumes_session": session is not None}  # fmt: skip
    repo.add_event(conn, "limit_paused", task_id=task.id, run_id=run_id, detail=detail)
    return Paused(task.id, run_id, task.agent, decision, hit)


def _session_to_resume(conn: Connection, task: Task, run: Run) -> str | None:
    """The session the resume continues; None to start afresh with the task's prompt (an
    agent that cannot resume a session its model never answered, and got no answer)."""
    ability = session_ability(task)
    if not ability.can_continue:
        return None
    adapter = get_adapter_or_none(task.agent)
    answered = repo.get_run(conn, run.id).output_tokens  # its summary was just read
    if adapter is not None and not adapter.keeps_unanswered_sessions and not answered:
        return None
    return ability.session


def label(agent: str) -> str:
    adapter = get_adapter_or_none(agent)
    return adapter.label if adapter is not None else agent


def _resumes_so_far(runs: list[Run]) -> int:
    """Resumes after a limit since a person last queued a run of the task."""
    count = 0
    for run in reversed(runs):
        if run.kind in _PEOPLE:
            break
        count += run.kind is RunKind.AFTER_LIMIT
    return count
