"""A queued task says what it waits for."""

from __future__ import annotations

import dataclasses

from app.core.models import Run, Task, TaskSpec
from app.core.states import RunState
from app.ui.labels import queue_label


def _task(state: RunState, **fields: object) -> Task:
    run = Run(id=1, task_id=1, attempt=1, state=state, dir="d", priority=0, timeout=None,
              created_at=0.0)  # fmt: skip
    task = Task(id=1, title="t", agent="shell", spec=TaskSpec(argv=("true",), cwd="/p"),
                priority=0, created_at=0.0, latest_run=run)  # fmt: skip
    return dataclasses.replace(task, **fields)  # type: ignore[arg-type]


def test_a_queued_task_names_what_holds_it_most_specific_first() -> None:
    queued = _task(RunState.QUEUED)
    assert queue_label(queued, paused=False, running=2, limit=4) == ""
    assert queue_label(queued, paused=False, running=4, limit=4) == "waiting: 4 of 4 running"
    held = queue_label(queued, paused=False, running=4, limit=4, hold="memory 93%")
    assert held == "waiting: memory 93%"
    assert queue_label(queued, paused=True, running=4, limit=4, hold="memory 93%") == (
        "waiting: queue paused"
    )
    behind = _task(RunState.QUEUED, waiting_for=7, lock_key="/home/u/project")
    assert queue_label(behind, paused=True, running=0, limit=4) == "waiting for #7 on project"


def test_only_a_queued_task_waits() -> None:
    running = _task(RunState.RUNNING)
    assert queue_label(running, paused=True, running=4, limit=4, hold="disk full") == ""
