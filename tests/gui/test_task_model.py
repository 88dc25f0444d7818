"""The task table: columns, updates in place, search and state filters."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from app.core.models import Run, Task, TaskSpec
from app.core.states import RunState
from app.ui.sidebar_model import SidebarModel
from app.ui.task_model import TaskTableModel


def _task(task_id: int, title: str, state: RunState, exit_code: int | None = None) -> Task:
    run = Run(id=task_id, task_id=task_id, attempt=1, state=state, dir="d", priority=0,
              timeout=None, created_at=0.0, started_at=100.0, ended_at=165.0,
              exit_code=exit_code)  # fmt: skip
    spec = TaskSpec(argv=("make", title), cwd="/tmp", title=title)
    return Task(task_id, title, "shell", spec, 0, 0.0, run)


def test_columns_show_title_agent_state_duration_and_exit_code(qtbot: Any) -> None:
    model = TaskTableModel()
    model.reload([_task(1, "build", RunState.FAILED, 2)])
    row = [model.data(model.index(0, c)) for c in range(model.columnCount())]
    assert row[TaskTableModel.TITLE] == "build"
    assert row[TaskTableModel.AGENT] == "shell"
    assert row[TaskTableModel.STATE] == "Failed"
    assert row[TaskTableModel.DURATION] == "1:05"
    assert row[TaskTableModel.EXIT] == "2"
    assert model.headerData(TaskTableModel.STATE, Qt.Orientation.Horizontal) == "State"


def test_upsert_updates_a_row_in_place_and_adds_new_tasks_on_top(qtbot: Any) -> None:
    model = TaskTableModel()
    model.reload([_task(1, "a", RunState.RUNNING)])
    changed: list[int] = []
    model.dataChanged.connect(lambda top, _bottom: changed.append(top.row()))
    model.upsert(_task(1, "a", RunState.SUCCEEDED, 0))
    assert changed == [0] and model.rowCount() == 1
    model.upsert(_task(2, "b", RunState.QUEUED))
    assert [model.task_at(r).id for r in range(2)] == [2, 1]  # type: ignore[union-attr]


def test_search_and_state_filter_narrow_the_list(qtbot: Any) -> None:
    model = TaskTableModel()
    model.reload([
        _task(1, "lint", RunState.SUCCEEDED), _task(2, "tests", RunState.FAILED, 1),
        _task(3, "deploy", RunState.INTERRUPTED), _task(4, "docs", RunState.RUNNING),
    ])  # fmt: skip
    sidebar = SidebarModel(model)

    def titles() -> list[str]:
        shown = (sidebar.task_at(r) for r in range(sidebar.rowCount()))
        return sorted(t.title for t in shown if t is not None)

    sidebar.set_search("t")
    assert titles() == ["lint", "tests"]
    sidebar.set_search("")
    sidebar.set_state_filter("Needs attention")
    assert titles() == ["deploy", "tests"]
    sidebar.set_state_filter("Running")
    assert titles() == ["docs"]
    sidebar.set_state_filter("All tasks")
    sidebar.set_search("#3")
    assert titles() == ["deploy"]


def test_an_exit_by_signal_shows_the_signals_name() -> None:
    from app.ui.task_model import exit_label

    assert (exit_label(0), exit_label(1), exit_label(-15), exit_label(-9)) == (
        "0", "1", "SIGTERM", "SIGKILL",
    )  # fmt: skip
    assert exit_label(-200) == "signal 200"


def test_every_run_state_has_one_label_and_no_state_reads_as_a_dash() -> None:
    from app.ui.labels import STATE_LABELS, state_label

    assert set(STATE_LABELS) == set(RunState)
    assert state_label(RunState.TIMED_OUT) == state_label("timed_out") == "Timed out"
    assert state_label(None) == "—"
    assert state_label("from_a_newer_version") == "from_a_newer_version"


def test_the_clock_refreshes_running_durations_in_one_change(qtbot: Any) -> None:
    model = TaskTableModel()
    model.reload([
        _task(5, "e", RunState.SUCCEEDED, 0), _task(4, "d", RunState.RUNNING),
        _task(3, "c", RunState.FAILED, 1), _task(2, "b", RunState.STARTING),
        _task(1, "a", RunState.SUCCEEDED, 0),
    ])  # fmt: skip
    changes: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles: changes.append(
            (top.row(), bottom.row(), top.column(), bottom.column())
        )
    )
    model.tick()
    duration = TaskTableModel.DURATION
    assert changes == [(1, 3, duration, duration)]  # the span of the active rows, once
    model.reload([_task(1, "a", RunState.SUCCEEDED, 0)])
    changes.clear()
    model.tick()
    assert changes == []  # nothing running: nothing to redraw
