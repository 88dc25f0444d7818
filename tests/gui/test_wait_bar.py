"""A task waiting for a restart's backoff or its agent's usage limit, in the app (issue
#15): the list says what it waits for, its pane counts down with Resume now and Stop,
and both do what they say. Real app, runs and database."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from helpers.agentry import Home
from helpers.gui import AppDriver

from app.core.limits import LimitHit
from app.core.models import TaskSpec
from app.core.policies import RestartMode, RestartPolicy
from app.core.settings import Settings
from app.core.states import ExitReason, RunState
from app.store import repo
from app.store.db import transaction
from app.supervisor import pauses
from app.ui.application import AgentryApp
from app.ui.output_pane import OutputPane
from app.ui.task_list import meta_line

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shells drive the tasks")

HOUR = RestartPolicy(RestartMode.ON_FAILURE, max_restarts=3, backoff_min_s=3600,
                     backoff_max_s=3600)  # fmt: skip


def _waiting_restart(driver: AppDriver, home: Home, app: AgentryApp, cwd: Path) -> int:
    assert app.window is not None
    spec = TaskSpec(argv=("sh", "-c", "exit 1"), cwd=str(cwd), title="Flaky", restart=HOUR)
    task_id = app.window.submit(spec)
    assert task_id is not None
    driver.wait(lambda: len(home.runs(task_id)) == 2)
    return task_id


def _waiting_restart_shown(
    driver: AppDriver, home: Home, cwd: Path
) -> tuple[AgentryApp, int, OutputPane]:
    """The app with a task waiting for its first restart, its pane open and counting down."""
    app = driver.start()
    assert app.window is not None
    task_id = _waiting_restart(driver, home, app, cwd)
    pane = app.window.open_task(task_id)
    assert pane is not None
    driver.wait(lambda: pane.wait_bar.isVisible())
    return app, task_id, pane


def test_a_waiting_restart_counts_down_and_resume_now_starts_it(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app, task_id, pane = _waiting_restart_shown(driver, home, work_dir)
    assert app.window is not None
    assert pane.wait_bar.text.startswith("Restart 1 of 3 at ")
    assert pane.wait_bar.text.endswith("(in 1 h)")
    task = app.window.supervisor.task(task_id)
    assert "restart at " in meta_line(task, queue=app.window.model.queue_note(task))

    assert app.attention is not None
    notes = app.attention.notifier.history
    failed = next(n for n in notes if n.title == "Task failed (exit code 1)")
    assert failed.text.startswith(f"#{task_id} Flaky: restarts at ")  # not a plain failure

    pane.wait_bar.resume_button.click()
    driver.wait(lambda: home.runs(task_id)[1].state.is_terminal)  # it ran: failed again
    driver.wait(lambda: len(home.runs(task_id)) == 3)  # ... and waits for the next restart
    driver.wait(lambda: pane.wait_bar.text.startswith("Restart 2 of 3 at "))


def test_stop_ends_the_wait_and_the_task(driver: AppDriver, home: Home, work_dir: Path) -> None:
    app, task_id, pane = _waiting_restart_shown(driver, home, work_dir)
    assert app.window is not None
    pane.wait_bar.stop_button.click()
    driver.wait(lambda: home.run(task_id).state is RunState.CANCELLED)
    driver.wait(lambda: not pane.wait_bar.isVisible())
    assert len(home.runs(task_id)) == 2


def test_a_task_paused_for_its_agents_limit_says_until_when(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    task_id = home.submit([], work_dir, agent="demo", prompt="work", title="Big job")
    now = time.time()
    with home.db() as conn, transaction(conn):
        run_id = home.run(task_id).id
        repo.transition(conn, run_id, RunState.STARTING)
        repo.transition(conn, run_id, RunState.RUNNING, started_at=now - 60)
        run = repo.transition(conn, run_id, RunState.FAILED, ended_at=now, exit_code=1,
                              reason=ExitReason.EXIT)  # fmt: skip
        assert run is not None
        hit = LimitHit("usage", now + 2 * 3600, "You've hit your session limit · resets 8pm")
        assert pauses.after_limit(conn, run, hit, Settings(), now=now) is not None
    app = driver.start()
    assert app.window is not None
    pane = app.window.open_task(task_id)
    assert pane is not None
    driver.wait(lambda: pane.wait_bar.isVisible())
    assert pane.wait_bar.text.startswith("Paused — demo usage limit; resumes at ")
    assert pane.wait_bar.text.endswith("(in 2 h 2 min)")
    task = app.window.supervisor.task(task_id)
    assert "paused: demo limit, resumes " in app.window.model.queue_note(task)
    assert pane.wait_bar.resume_button.isEnabled() and pane.wait_bar.stop_button.isEnabled()
