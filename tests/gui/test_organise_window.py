"""Organising tasks from the window: the right-click menus, the Delete keys, the Archived
filter, "Clear finished…" and Duplicate / Edit & rerun. The real app with real tasks."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TypeVar

import pytest
from helpers.agentry import Home, py
from helpers.gui import AppDriver
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QMenu

from app.core.models import TaskSpec
from app.core.states import RunState
from app.ui.application import AgentryApp
from app.ui.dialogs.clear_finished import ClearFinishedDialog
from app.ui.dialogs.delete_tasks import DeleteTasksDialog
from app.ui.dialogs.new_task import NewTaskDialog
from app.ui.main_window import MainWindow

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shells drive the tasks")

D = TypeVar("D", bound=QDialog)
WAIT_FOR_FILE = "import os, sys, time\nwhile not os.path.exists(sys.argv[1]): time.sleep(0.05)"


def window_of(app: AgentryApp) -> MainWindow:
    assert app.window is not None
    return app.window


def ended(driver: AppDriver, app: AgentryApp, code: int, title: str, cwd: Path) -> int:
    window = window_of(app)
    spec = TaskSpec(argv=("sh", "-c", f"exit {code}"), cwd=str(cwd), title=title)
    task_id = window.submit(spec)
    assert task_id is not None
    driver.wait(lambda: (t := window.model.task(task_id)) and t.state and t.state.is_terminal)
    return task_id


def running(driver: AppDriver, app: AgentryApp, flag: Path, title: str, cwd: Path) -> int:
    window = window_of(app)
    spec = TaskSpec(argv=(*py(WAIT_FOR_FILE), str(flag)), cwd=str(cwd), title=title)
    task_id = window.submit(spec)
    assert task_id is not None
    driver.wait(lambda: (t := window.model.task(task_id)) and t.state is RunState.RUNNING)
    return task_id


def listed(window: MainWindow) -> list[int]:
    sidebar = window.task_list.sidebar
    return [e for r in range(sidebar.rowCount()) if isinstance(e := sidebar.entry(r), int)]


def right_click(window: MainWindow, row: int) -> QMenu:
    """What a right click on a sidebar row shows (the view's context-menu request)."""
    view = window.task_list.view
    rect = view.visualRect(window.task_list.sidebar.index(row, 0))
    view.customContextMenuRequested.emit(rect.center())
    menu = window.organiser.menu
    assert menu is not None and menu.isVisible()
    return menu


def items(menu: QMenu) -> dict[str, QAction]:
    """The menu's items by their text as shown (mnemonics removed, "&&" shown as "&")."""
    return {re.sub("&(.)", r"\1", a.text()): a for a in menu.actions() if a.text()}


def dialogs(window: MainWindow, kind: type[D]) -> list[D]:
    return [d for d in window.findChildren(kind) if d.isVisible()]


def test_a_task_rows_menu_offers_what_its_state_allows_and_a_headers_menu_clears_and_folds(
    driver: AppDriver, home: Home, work_dir: Path, tmp_path: Path
) -> None:
    app = driver.start()
    window = window_of(app)
    done = ended(driver, app, 0, "Tidy the docs", work_dir)
    flag = tmp_path / "finish"
    busy = running(driver, app, flag, "Still going", work_dir)

    menu = right_click(window, window.task_list.sidebar.row_of(done) or 0)
    found = items(menu)
    assert list(found) == [
        "Open", "Cancel task", "Retry task", "Duplicate…", "Edit & rerun…", "Archive",
        "Delete…", "Open working folder", "Reveal run folder",
    ]  # fmt: skip
    assert window.selected_task() is not None and window.selected_task().id == done  # type: ignore[union-attr]
    assert not found["Cancel task"].isEnabled()
    assert all(found[k].isEnabled() for k in ("Retry task", "Edit & rerun…", "Delete…", "Archive"))
    menu.close()

    found = items(right_click(window, window.task_list.sidebar.row_of(busy) or 0))
    assert found["Cancel task"].isEnabled() and found["Duplicate…"].isEnabled()
    for name in ("Retry task", "Edit & rerun…", "Delete…", "Archive"):
        assert not found[name].isEnabled(), name
    # the same actions, in the same state, in the Task menu
    task_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Task")
    assert isinstance(task_menu, QMenu)
    assert "Delete…" in items(task_menu) and not items(task_menu)["Delete…"].isEnabled()

    header = items(right_click(window, 0))
    assert list(header) == ["Clear finished in this project…", "Collapse"]
    header["Collapse"].trigger()
    key = str(work_dir)
    assert key in window.task_list.sidebar.collapsed and listed(window) == []
    assert list(items(right_click(window, 0))) == ["Clear finished in this project…", "Expand"]
    items(window.organiser.menu)["Expand"].trigger()  # type: ignore[arg-type]
    assert listed(window) == [busy, done]
    flag.touch()


def test_delete_key_asks_then_deletes_closes_the_tab_and_never_for_a_running_task(
    driver: AppDriver, home: Home, work_dir: Path, tmp_path: Path
) -> None:
    app = driver.start()
    window = window_of(app)
    done = ended(driver, app, 0, "Write the changelog", work_dir)
    flag = tmp_path / "finish"
    busy = running(driver, app, flag, "Still going", work_dir)
    folder = home.run_dir(done)
    view = window.task_list.view
    window.activateWindow()

    window.open_task(busy)
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert not dialogs(window, DeleteTasksDialog)
    message = window.statusBar().currentMessage()
    assert f"Task #{busy} “Still going” is still running" in message, message

    window.open_task(done)
    assert done in window.panes
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Delete)
    (dialog,) = dialogs(window, DeleteTasksDialog)
    driver.wait(lambda: not dialog.working and dialog.plans)
    assert dialog.task_ids == [done] and dialog.delete_button.text() == "Delete 1 task"
    dialog.delete_button.click()
    driver.wait(lambda: done not in listed(window))
    assert done not in window.panes, "the deleted task's tab closed"
    assert not folder.exists() and window.model.task(done) is None
    assert listed(window) == [busy]
    flag.touch()


def test_shift_delete_archives_and_the_archived_filter_shows_what_left_the_list(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = window_of(app)
    kept = ended(driver, app, 0, "Keep me", work_dir)
    failed = ended(driver, app, 3, "Failed once", work_dir)
    driver.wait(lambda: window.counts()[2] == 1)
    view = window.task_list.view
    window.activateWindow()
    window.task_list.select(failed)
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    driver.wait(lambda: listed(window) == [kept])
    assert home.task(failed).archived
    assert window.counts()[2] == 0, "an archived failure needs no attention"
    assert "Archived task #" in window.statusBar().currentMessage()

    filters = window.action_set.filter_actions
    assert list(filters)[-1] == "Archived" and filters["Archived"].shortcut().isEmpty()
    assert filters["All tasks"].shortcut() == QKeySequence("Ctrl+3")
    assert filters["Cancelled"].shortcut().isEmpty()
    filters["Archived"].trigger()
    assert window.task_list.state_filter.currentText() == "Archived"
    assert listed(window) == [failed]
    window.task_list.select(failed)
    assert window.action_set.archive_action.text() == "Unarc&hive"
    window.action_set.archive_action.trigger()
    driver.wait(lambda: listed(window) == [])
    window.task_list.set_filter("All tasks")
    assert listed(window) == [failed, kept] and not home.task(failed).archived


def test_clear_finished_from_the_tools_menu_and_from_a_projects_header(
    driver: AppDriver, home: Home, tmp_path: Path
) -> None:
    first, second = tmp_path / "alpha", tmp_path / "beta"
    first.mkdir()
    second.mkdir()
    app = driver.start()
    window = window_of(app)
    a = ended(driver, app, 0, "Alpha job", first)
    b = ended(driver, app, 0, "Beta job", second)
    b_failed = ended(driver, app, 2, "Beta failure", second)

    sidebar = window.task_list.sidebar
    header_row = sidebar.header_row(str(second))
    assert header_row is not None
    items(right_click(window, header_row))["Clear finished in this project…"].trigger()
    (dialog,) = dialogs(window, ClearFinishedDialog)
    assert dialog.windowTitle() == "Clear finished tasks in beta"
    assert dialog.task_ids() == [b]
    dialog.go_button.click()
    # the list may show the change before the dialog hears its job is done and closes
    driver.wait(
        lambda: listed(window) == [b_failed, a] and not dialogs(window, ClearFinishedDialog)
    )
    assert home.task(b).archived and not home.task(a).archived

    tools = next(a.menu() for a in window.menuBar().actions() if a.text() == "T&ools")
    assert isinstance(tools, QMenu)
    items(tools)["Clear finished…"].trigger()
    (everything,) = dialogs(window, ClearFinishedDialog)
    assert everything.windowTitle() == "Clear finished tasks"
    everything.failed_box.setChecked(True)
    everything.delete_choice.setChecked(True)
    assert everything.task_ids() == [b_failed, a]
    window.open_task(a)
    everything.go_button.click()
    driver.wait(lambda: listed(window) == [])
    assert a not in window.panes and window.model.task(a) is None
    assert sidebar.rowCount() == 0


def test_duplicate_and_edit_and_rerun_fill_the_new_task_dialog(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = window_of(app)
    old = ended(driver, app, 5, "Flaky build", work_dir)
    window.task_list.select(old)

    window.action_set.duplicate_action.trigger()
    (dialog,) = dialogs(window, NewTaskDialog)
    assert dialog.title_edit.text() == "Flaky build" and dialog.cwd.text() == str(work_dir)
    assert dialog.command.text() and "exit 5" in dialog.command.text()
    assert dialog.start_button.text() == "Start task"
    dialog.reject()
    assert [t.id for t in app.supervisor.tasks()] == [old]

    window.action_set.edit_rerun_action.trigger()
    (rerun,) = dialogs(window, NewTaskDialog)
    assert rerun.windowTitle() == f"Edit & rerun task #{old}"
    assert rerun.start_button.text() == f"Start and archive #{old}"
    rerun.reject()  # cancelled: nothing changes
    assert [t.id for t in app.supervisor.tasks()] == [old] and not home.task(old).archived

    window.task_list.select(old)
    window.action_set.edit_rerun_action.trigger()
    (rerun,) = dialogs(window, NewTaskDialog)
    rerun.command.setText("exit 0")
    rerun.title_edit.setText("Fixed build")
    rerun.start_button.click()
    driver.wait(lambda: len(app.supervisor.tasks()) == 2)
    new = max(t.id for t in app.supervisor.tasks())
    driver.wait(lambda: home.task(old).archived)
    assert home.task(new).title == "Fixed build" and listed(window) == [new]
    assert f"Started task #{new} and archived #{old}" in window.statusBar().currentMessage()
