"""The sidebar at a few hundred tasks: a changed task redraws its own row (and its group's
header), never a regrouping of every task, and keeps the selection, the scroll position
and the folded groups; a new task appears in its group; after any mix of changes the rows
are those a sidebar built afresh would show, and the counts those of a count afresh. In the
app, what another process changed is read task by task from the audit trail's events."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import pytest
from helpers.agentry import Home
from helpers.gui import AppDriver
from PySide6.QtWidgets import QApplication

from app.core.models import Run, Task, TaskSpec
from app.core.states import ACTIVE, RunState
from app.store import organise_repo, repo
from app.store.db import transaction
from app.ui.sidebar_model import GroupHeader, Row, SidebarModel
from app.ui.task_list import TaskList
from app.ui.task_model import NEEDS_ATTENTION, STATE_FILTERS, TaskTableModel

TASKS = 300
PROJECTS = 3


def _task(task_id: int, folder: Path, state: RunState, created: float | None = None) -> Task:
    at = float(task_id) if created is None else created
    ended = at + 5 if state.is_terminal else None
    run = Run(id=task_id, task_id=task_id, attempt=1, state=state, dir=f"d{task_id}",
              priority=0, timeout=None, created_at=at, started_at=at + 1, ended_at=ended,
              exit_code=0 if state is RunState.SUCCEEDED else None)  # fmt: skip
    spec = TaskSpec(argv=("make", f"t{task_id}"), cwd=str(folder))
    return Task(task_id, f"task {task_id}", "shell", spec, 0, float(task_id), run)


def _with_state(task: Task, state: RunState) -> Task:
    assert task.latest_run is not None
    run = dataclasses.replace(task.latest_run, state=state)
    return dataclasses.replace(task, latest_run=run)


class Recorder:
    """What the sidebar told its view."""

    def __init__(self, sidebar: SidebarModel) -> None:
        self.changed: list[tuple[int, int]] = []
        self.layouts = 0
        self.resets = 0
        sidebar.dataChanged.connect(lambda top, bottom, *_: self.changed.append(
            (top.row(), bottom.row())))  # fmt: skip
        sidebar.layoutChanged.connect(self._layout)
        sidebar.modelReset.connect(self._reset)

    def _layout(self) -> None:
        self.layouts += 1

    def _reset(self) -> None:
        self.resets += 1

    def clear(self) -> None:
        self.changed.clear()
        self.layouts = self.resets = 0


@pytest.fixture
def folders(tmp_path: Path) -> list[Path]:
    made = [tmp_path / f"project-{n}" for n in range(PROJECTS)]
    for folder in made:
        folder.mkdir()
    return made


@pytest.fixture
def listing(qtbot: Any, folders: list[Path]) -> TaskList:
    """A task list of 300 finished tasks over three projects, shown at sidebar size."""
    model = TaskTableModel()
    model.reload([_task(n, folders[n % PROJECTS], RunState.SUCCEEDED)
                  for n in range(TASKS, 0, -1)])  # fmt: skip
    widget = TaskList(model)
    qtbot.addWidget(widget)
    widget.resize(330, 600)
    widget.show()
    QApplication.processEvents()
    return widget


def _rows(sidebar: SidebarModel) -> list[Row | None]:
    return [sidebar.entry(r) for r in range(sidebar.rowCount())]


def test_a_changed_task_redraws_its_row_and_keeps_selection_scroll_and_folds(
    listing: TaskList, folders: list[Path]
) -> None:
    sidebar, view, model = listing.sidebar, listing.view, listing.model
    folded = str(folders[2])  # the second group: project-0 has the newest task, 300
    sidebar.set_collapsed(folded, True)
    listing.select(150)  # project-0, half way down
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum() // 2)
    QApplication.processEvents()
    scrolled, before = view.verticalScrollBar().value(), _rows(sidebar)
    recorder = Recorder(sidebar)

    task = model.task(120)
    assert task is not None and sidebar.group_of(120) == str(folders[0])
    model.upsert(_with_state(task, RunState.RUNNING))  # no count or attention changes
    row = sidebar.row_of(120)
    assert recorder.changed == [(row, row)] and recorder.layouts == recorder.resets == 0

    recorder.clear()
    model.upsert(_with_state(task, RunState.FAILED))  # now it needs attention
    header_row = sidebar.header_row(str(folders[0]))
    assert header_row is not None
    assert sorted(recorder.changed) == sorted([(header_row, header_row), (row, row)])
    assert recorder.layouts == recorder.resets == 0
    header = sidebar.entry(header_row)
    assert isinstance(header, GroupHeader) and header.attention == 1

    recorder.clear()
    hidden = model.task(TASKS - 1)  # project-2's, folded away
    assert hidden is not None and sidebar.row_of(hidden.id) is None
    model.upsert(_with_state(hidden, RunState.INTERRUPTED))
    assert recorder.layouts == recorder.resets == 0
    folded_row = sidebar.header_row(folded)
    assert recorder.changed == [(folded_row, folded_row)]  # its folded group's header only

    QApplication.processEvents()
    selected = listing.selected_task()
    assert selected is not None and selected.id == 150
    assert view.verticalScrollBar().value() == scrolled
    assert sidebar.collapsed == {folded}
    rows = _rows(sidebar)
    assert [r for r in rows if isinstance(r, int)] == [r for r in before if isinstance(r, int)]


def test_a_new_task_appears_at_the_top_of_its_group(listing: TaskList, folders: list[Path]) -> None:
    sidebar, model = listing.sidebar, listing.model
    sidebar.set_collapsed(str(folders[1]), True)
    listing.select(150)
    assert sidebar.header_row(str(folders[2])) == TASKS // PROJECTS + 1  # second, below 0's
    recorder = Recorder(sidebar)
    model.upsert(_task(TASKS + 1, folders[2], RunState.QUEUED))
    QApplication.processEvents()
    assert recorder.resets == 0 and recorder.layouts == 1
    header = sidebar.entry(0)  # its group has the newest activity now: first
    assert isinstance(header, GroupHeader) and header.key == str(folders[2])
    assert header.count == TASKS // PROJECTS + 1
    assert sidebar.entry(1) == TASKS + 1 and sidebar.entry(2) == TASKS - 1
    selected = listing.selected_task()
    assert selected is not None and selected.id == 150
    assert sidebar.collapsed == {str(folders[1])}
    assert sidebar.row_of(TASKS - 2) is None, "project-1 stays folded"


def test_a_retried_task_brings_its_group_up_and_the_clock_touches_only_running_rows(
    listing: TaskList, folders: list[Path]
) -> None:
    sidebar, model = listing.sidebar, listing.model
    last = sidebar.entry(sidebar.rowCount() - 1)
    assert isinstance(last, int)
    bottom_group = sidebar.group_of(last)
    task = model.task(last)
    assert task is not None and task.latest_run is not None
    recorder = Recorder(sidebar)
    retried = dataclasses.replace(task, latest_run=dataclasses.replace(
        task.latest_run, id=TASKS + 50, state=RunState.RUNNING, created_at=10_000.0,
        ended_at=None))  # fmt: skip
    model.upsert(retried)
    assert recorder.layouts == 1
    top = sidebar.entry(0)
    assert isinstance(top, GroupHeader) and top.key == bottom_group
    recorder.clear()
    model.tick()
    row = sidebar.row_of(last)
    assert recorder.changed == [(row, row)]


@pytest.mark.parametrize("seed", range(3))
def test_after_any_changes_the_rows_are_those_of_a_fresh_sidebar(
    qtbot: Any, folders: list[Path], seed: int
) -> None:
    rng = random.Random(seed)
    states = list(RunState)
    model = TaskTableModel()
    model.reload([_task(n, folders[n % PROJECTS], rng.choice(states))
                  for n in range(TASKS, 0, -1)])  # fmt: skip
    sidebar = SidebarModel(model)
    next_id, clock, shown = TASKS + 1, 1000.0, "All tasks"
    for step in range(400):
        if step % 50 == 0:
            shown = rng.choice(list(STATE_FILTERS))
            sidebar.set_state_filter(shown)
        if step % 70 == 0:
            sidebar.set_collapsed(str(rng.choice(folders)), rng.random() < 0.5)
        choice = rng.random()
        if choice < 0.1:  # a new task
            model.upsert(_task(next_id, rng.choice(folders), RunState.QUEUED, clock))
            next_id += 1
        else:
            task = model.task(rng.randrange(1, next_id))
            assert task is not None and task.latest_run is not None
            if choice < 0.2:  # archived or back
                archived_at = None if task.archived else clock
                model.upsert(dataclasses.replace(task, archived_at=archived_at))
            elif choice < 0.3:  # retried: newer activity
                run = dataclasses.replace(task.latest_run, created_at=clock,
                                          state=RunState.QUEUED)  # fmt: skip
                model.upsert(dataclasses.replace(task, latest_run=run))
            elif choice < 0.35:  # dismissed
                model.upsert(dataclasses.replace(task, dismissed_at=clock + 10))
            else:
                model.upsert(_with_state(task, rng.choice(states)))
        clock += 1
        fresh = SidebarModel(model)
        fresh.set_state_filter(shown)
        for key in sidebar.collapsed:
            fresh.set_collapsed(key, True)
        assert _rows(sidebar) == _rows(fresh), f"step {step}"
        assert all(sidebar.row_of(e) == r for r, e in enumerate(_rows(sidebar))
                   if isinstance(e, int))  # fmt: skip
        everyone = model.tasks()
        assert model.counts() == (
            sum(t.state in ACTIVE for t in everyone),
            sum(t.state is RunState.QUEUED for t in everyone),
            sum(t.state in NEEDS_ATTENTION and not (t.archived or t.dismissed) for t in everyone),
        ), f"step {step}"
        assert model.active_ids() == {t.id for t in everyone if t.state in ACTIVE}


# ---------------------------------------------------------------------- changes made elsewhere


def _ended_tasks(home: Home, folders: list[Path], count: int) -> None:
    """``count`` finished tasks, written as earlier sessions would have left them."""
    with home.db() as conn, transaction(conn):
        for n in range(count):
            spec = TaskSpec(argv=("true",), cwd=str(folders[n % len(folders)]), title=f"old {n}")
            _, run_id = repo.create_task(conn, spec, None)
            for state in (RunState.STARTING, RunState.RUNNING, RunState.SUCCEEDED):
                repo.transition(conn, run_id, state)


def test_a_task_added_or_archived_elsewhere_changes_its_row_not_the_whole_list(
    driver: AppDriver, home: Home, folders: list[Path]
) -> None:
    _ended_tasks(home, folders, TASKS)
    app = driver.start()
    window = app.window
    assert window is not None and window.model.rowCount() == TASKS
    window.task_list.select(150)
    sidebar = window.task_list.sidebar
    resets: list[int] = []
    window.model.modelReset.connect(lambda: resets.append(1))
    recorder = Recorder(sidebar)

    new_id = home.submit(["true"], folders[1], title="from the command line")  # agentry run
    driver.wait(lambda: sidebar.row_of(new_id) is not None)
    assert sidebar.group_of(new_id) == str(folders[1])
    header = sidebar.header_row(str(folders[1]))
    assert header is not None and sidebar.row_of(new_id) == header + 1, "on top of its group"
    with home.db() as conn, transaction(conn):  # agentry archive, say
        organise_repo.set_archived(conn, 140, True)
    driver.wait(lambda: sidebar.row_of(140) is None)
    task = window.model.task(140)
    assert task is not None and task.archived
    assert resets == [] and recorder.resets == 0, "the list was not read again as a whole"
    selected = window.task_list.selected_task()
    assert selected is not None and selected.id == 150
    assert window.counts()[1] <= 1  # the new task: queued, or running, or done by now

    window.open_task(130)
    assert 130 in window.panes
    with home.db() as conn, transaction(conn):  # deleted elsewhere: the whole list again
        organise_repo.delete_task(conn, 130, detail={})
    driver.wait(lambda: window.model.task(130) is None)
    assert resets == [1]
    assert 130 not in window.panes, "a deleted task's tab closes"
