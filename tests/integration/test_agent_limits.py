"""An agent's usage limit as rows (issue #15): the task that hit it pauses with a queued
run that resumes after the reset, the agent's other queued tasks wait, other agents run,
Resume now lifts it, a task that says no auto-resume stays stopped. Real SQLite; the
agent's ending is recorded as the supervisor records one."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path

from helpers.agentry import Home

from app.core.limits import LimitHit
from app.core.models import Run, RunKind
from app.core.policies import LimitPolicy
from app.core.settings import Settings
from app.core.states import ExitReason, RunState
from app.store import limit_repo, repo
from app.store.db import transaction
from app.supervisor import pauses
from app.supervisor.pauses import Paused, Stayed

NOW = time.time()
RESET = NOW + 3600


def _ended(home: Home, task_id: int, code: int = 1) -> Run:
    """The task's run as if its agent ran and exited with ``code``."""
    with home.db() as conn, transaction(conn):
        run_id = repo.get_task(conn, task_id).latest_run.id  # type: ignore[union-attr]
        repo.transition(conn, run_id, RunState.STARTING)
        repo.transition(conn, run_id, RunState.RUNNING, started_at=NOW - 60)
        return repo.transition(conn, run_id, RunState.FAILED, ended_at=NOW, exit_code=code,
                               reason=ExitReason.EXIT, message=f"exit code {code}")  # type: ignore[return-value]  # fmt: skip


def _hit(home: Home, run: Run, settings: Settings | None = None) -> Paused | Stayed | None:
    hit = LimitHit("usage", RESET, "You've hit your session limit · resets 8pm")
    with home.db() as conn, transaction(conn):
        return pauses.after_limit(conn, run, hit, settings or Settings(), now=NOW)


def _startable(home: Home, at: float) -> set[int]:
    with home.db() as conn:
        return {run.task_id for run in repo.startable_runs(conn, 50, now=at)}


def test_a_limit_pauses_its_task_and_holds_the_agents_other_tasks_until_the_reset(
    home: Home, work_dir: Path
) -> None:
    hit_it = home.submit([], work_dir, agent="demo", prompt="work")
    same_agent = home.submit([], work_dir, agent="demo", prompt="more work")
    other = home.submit(["true"], work_dir)
    paused = _hit(home, _ended(home, hit_it))
    assert isinstance(paused, Paused)
    assert (paused.pause.until, paused.pause.resume_at) == (RESET, RESET + 120)

    waiting = home.run(hit_it)
    assert (waiting.kind, waiting.state, waiting.wait_reason) == (
        RunKind.AFTER_LIMIT, RunState.QUEUED, "limit")  # fmt: skip
    assert waiting.not_before == RESET + 120
    ended = home.runs(hit_it)[0]
    assert (
        ended.message
        == "exit code 1; Demo agent (built in) hit its usage limit; paused until the reset"
    )

    assert _startable(home, NOW) == {other}  # another agent's task is not held back
    assert _startable(home, RESET + 1) == {other, same_agent}
    assert _startable(home, RESET + 121) == {other, same_agent, hit_it}

    listed = {t["id"]: t for t in json.loads(home.cli("list", "--json", check=True).stdout)}
    assert (listed[hit_it]["wait_reason"], listed[hit_it]["not_before"]) == ("limit", RESET + 120)
    assert (listed[same_agent]["wait_reason"], listed[same_agent]["not_before"]) == ("limit", RESET)
    assert listed[other]["not_before"] is None
    assert "(waiting: demo limit until " in home.cli("list").stdout


def test_resume_now_lifts_the_agents_limit_for_all_its_tasks(home: Home, work_dir: Path) -> None:
    hit_it = home.submit([], work_dir, agent="demo", prompt="work")
    same_agent = home.submit([], work_dir, agent="demo", prompt="more work")
    _hit(home, _ended(home, hit_it))
    said = home.cli("resume", str(hit_it), check=True).stdout
    assert "starting now" in said
    assert _startable(home, NOW) == {hit_it, same_agent}
    with home.db() as conn:
        assert limit_repo.agent_limits(conn, NOW) == {}


def test_a_task_that_says_no_auto_resume_stays_stopped_and_says_why(
    home: Home, work_dir: Path
) -> None:
    task_id = home.submit([], work_dir, agent="demo", prompt="work", limits=LimitPolicy(False))
    stayed = _hit(home, _ended(home, task_id))
    assert isinstance(stayed, Stayed)
    assert len(home.runs(task_id)) == 1
    message = home.run(task_id).message or ""
    assert message.endswith("auto-resume is off: resume it when the limit resets")
    with home.db() as conn:
        assert limit_repo.agent_limits(conn, NOW)["demo"].until == RESET  # others still wait


def test_resumes_are_capped_per_task_since_a_person_last_started_it(
    home: Home, work_dir: Path
) -> None:
    task_id = home.submit([], work_dir, agent="demo", prompt="work")
    capped = Settings(limit_max_resumes=1)
    assert isinstance(_hit(home, _ended(home, task_id), capped), Paused)
    assert isinstance(_hit(home, _ended(home, task_id), capped), Stayed)  # the resume hit it too
    assert [r.kind for r in home.runs(task_id)] == [RunKind.START, RunKind.AFTER_LIMIT]


def test_a_cancelled_or_superseded_run_is_not_paused(home: Home, work_dir: Path) -> None:
    task_id = home.submit([], work_dir, agent="demo", prompt="work")
    with home.db() as conn, transaction(conn):
        run = repo.transition(conn, home.run(task_id).id, RunState.CANCELLED, ended_at=NOW,
                              reason=ExitReason.CANCELLED)  # fmt: skip
    assert run is not None and _hit(home, run) is None
    with home.db() as conn:
        assert limit_repo.agent_limits(conn, NOW) == {}


def test_a_tasks_own_quiet_hours_move_its_resume_out_of_them(home: Home, work_dir: Path) -> None:
    start = datetime.fromtimestamp(RESET + 120).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=2)
    quiet = f"{start:%H:%M}-{end:%H:%M}"
    done = home.cli("run", "--agent", "demo", "--cwd", str(work_dir), "--quiet-hours", quiet,
                    "work", check=True)  # fmt: skip
    task_id = int(done.stdout)
    paused = _hit(home, _ended(home, task_id))
    assert isinstance(paused, Paused)
    assert paused.pause.resume_at == end.timestamp()  # not at the reset: after the quiet hours
    refused = home.cli("run", "--quiet-hours", "25:00-07:00", "--", "true")
    assert refused.returncode == 2
    assert "--quiet-hours: quiet hours '25:00-07:00' are not two different times" in refused.stderr
