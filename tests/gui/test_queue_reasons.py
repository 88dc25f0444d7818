"""A queued task says what it waits for; the Pause button shows a paused queue."""

from __future__ import annotations

import sys
from pathlib import Path

from helpers.agentry import Home
from helpers.gui import AppDriver

from app.core.models import TaskSpec
from app.core.states import RunState

SLEEP = (sys.executable, "-c", "import time; time.sleep(60)")


def _note(window: object, task_id: int) -> str:
    model = window.model  # type: ignore[attr-defined]
    task = model.task(task_id)
    return "" if task is None else str(model.queue_note(task))


def test_queued_tasks_say_whether_the_queue_is_paused_or_full(
    driver: AppDriver, home: Home, work_dir: Path, tmp_path: Path
) -> None:
    home.write_settings(max_concurrency=1)
    app = driver.start()
    window = app.window
    assert window is not None
    pause = window.action_set.pause_action
    assert pause.text() == "&Pause queue" and not pause.isChecked()

    pause.trigger()  # paused: a new task waits and says why
    assert pause.isChecked() and pause.text() == "&Resume queue"
    assert "click to start queued tasks again" in pause.toolTip()
    first = window.submit(TaskSpec(argv=SLEEP, cwd=str(work_dir), title="first"))
    assert first is not None
    task = window.model.task(first)
    assert task is not None and task.state is RunState.QUEUED
    driver.wait(lambda: _note(window, first) == "waiting: queue paused")

    pause.trigger()  # resumed: it runs; the next one waits for its slot
    assert pause.text() == "&Pause queue"
    driver.wait(lambda: home.run(first).state is RunState.RUNNING)
    other = tmp_path / "other"
    other.mkdir()
    second = window.submit(TaskSpec(argv=SLEEP, cwd=str(other), title="second"))
    assert second is not None
    driver.wait(lambda: _note(window, second) == "waiting: 1 of 1 running")
    running = window.model.task(first)
    assert running is not None and window.model.queue_note(running) == ""
    for task_id in (first, second):
        app.supervisor.cancel(task_id)
