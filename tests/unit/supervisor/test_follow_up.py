"""Follow-up and resume: a new run in the agent's own session, refused when it cannot be."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.agent_events import RunSummary
from app.core.models import TaskSpec
from app.core.settings import Settings
from app.core.states import RunState
from app.store import repo
from app.store.db import open_database, transaction
from app.supervisor import commands


@pytest.fixture
def conn(tmp_path: Path):
    connection = open_database(tmp_path / "agentry.db")
    yield connection
    connection.close()


def _ended_task(conn, agent: str = "claude", session: str | None = "sess-9") -> int:
    spec = TaskSpec(argv=(), cwd="/tmp", agent=agent, prompt="first")
    task_id, run_id = commands.submit(conn, spec, Settings())
    with transaction(conn):
        repo.transition(conn, run_id, RunState.STARTING)
        repo.transition(conn, run_id, RunState.INTERRUPTED, reason="interrupted")
        if session:
            repo.update_run_summary(conn, run_id, RunSummary(session_id=session))
    return task_id


def test_a_follow_up_queues_a_run_that_continues_the_known_session(conn) -> None:
    task_id = _ended_task(conn)
    _, run_id = commands.follow_up(conn, task_id, "and the docs", Settings())
    run = repo.get_run(conn, run_id)
    assert (run.kind, run.prompt, run.resume_session, run.attempt) == (
        "follow_up", "and the docs", "sess-9", 2)  # fmt: skip
    assert run.state is RunState.QUEUED


def test_resume_sends_the_continue_message_in_the_same_session(conn) -> None:
    task_id = _ended_task(conn)
    _, run_id = commands.resume(conn, task_id, Settings())
    run = repo.get_run(conn, run_id)
    assert run.kind == "resume" and run.resume_session == "sess-9"
    assert "Continue where you left off" in (run.prompt or "")


def test_without_a_known_session_follow_up_is_refused_and_points_to_retry(conn) -> None:
    task_id = _ended_task(conn, session=None)
    with pytest.raises(commands.CommandRefused, match="use Retry"):
        commands.follow_up(conn, task_id, "more", Settings())


def test_an_agent_without_sessions_refuses_follow_ups(conn) -> None:
    task_id = _ended_task(conn, agent="demo")
    with pytest.raises(commands.CommandRefused, match="cannot continue a session"):
        commands.follow_up(conn, task_id, "more", Settings())


def test_a_running_task_takes_no_follow_up_yet(conn) -> None:
    task_id, _ = commands.submit(conn, TaskSpec(argv=(), cwd="/tmp", agent="claude",
                                                prompt="go"), Settings())  # fmt: skip
    with pytest.raises(commands.CommandRefused, match="still queued"):
        commands.follow_up(conn, task_id, "more", Settings())


def test_an_agent_task_needs_a_prompt_and_an_unknown_agent_is_named(conn) -> None:
    with pytest.raises(commands.CommandRefused, match="Claude Code needs a prompt"):
        commands.submit(conn, TaskSpec(argv=(), cwd="/tmp", agent="claude"), Settings())
    with pytest.raises(commands.CommandRefused, match="unknown agent 'gpt'"):
        commands.submit(conn, TaskSpec(argv=(), cwd="/tmp", agent="gpt", prompt="x"), Settings())


def test_aider_continues_its_per_task_history_without_a_reported_session(conn) -> None:
    task_id = _ended_task(conn, agent="aider", session=None)
    _, run_id = commands.follow_up(conn, task_id, "more", Settings())
    assert repo.get_run(conn, run_id).resume_session == f"task-{task_id}"
