"""The task sidebar (grouped by project), the shortcuts, the remembered layout and the
banner that floats: issue #13's layout, tried on the real app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.agentry import Home
from helpers.gitrepo import git, make_repo
from helpers.gui import AppDriver
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QFontMetrics
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from app.core.models import Run, Task, TaskSpec
from app.core.states import RunState
from app.ui.main_window import MainWindow
from app.ui.sidebar_model import GroupHeader, SidebarModel
from app.ui.task_model import TaskTableModel


def _spec(argv: list[str], cwd: Path, title: str) -> TaskSpec:
    return TaskSpec(argv=tuple(argv), cwd=str(cwd), title=title)


def _headers(window: MainWindow) -> list[tuple[str, int]]:
    sidebar = window.task_list.sidebar
    rows = (sidebar.entry(r) for r in range(sidebar.rowCount()))
    return [(row.name, row.count) for row in rows if isinstance(row, GroupHeader)]


def _titles(window: MainWindow) -> list[str]:
    sidebar = window.task_list.sidebar
    return [t.title for r in range(sidebar.rowCount()) if (t := sidebar.task_at(r))]


def test_tasks_are_grouped_by_repository_newest_first_and_fit_at_1024x640(
    driver: AppDriver, home: Home, tmp_path: Path
) -> None:
    api = make_repo(tmp_path / "api", {"README.md": "api"})
    web = make_repo(tmp_path / "web", {"README.md": "web"})
    (web / "src").mkdir()
    linked = tmp_path / "api-feature"  # a worktree of api: the same project
    git(api, "worktree", "add", "-q", "-b", "feature", str(linked))
    app = driver.start()
    window = app.window
    assert window is not None
    titles = [f"Task number {n} with a title of some length" for n in range(14)]
    for n, title in enumerate(titles):
        folder = (api, web / "src", linked)[n % 3]
        window.submit(_spec(["true"], folder, title))
    driver.wait(lambda: _headers(window) == [("web", 5), ("api", 9)])  # the newest is web's
    assert _titles(window)[:3] == [titles[13], titles[10], titles[7]], "newest first"

    window.resize(1024, 640)
    window.show()
    QApplication.processEvents()
    view = window.task_list.view
    assert 300 <= window.task_list.width() <= 360, "a sidebar, not a table"
    assert not view.horizontalScrollBar().isVisible()
    sidebar, viewport = window.task_list.sidebar, view.viewport().rect()
    metrics = QFontMetrics(view.font())
    whole = 0
    for row in range(sidebar.rowCount()):
        task = sidebar.task_at(row)
        rect = view.visualRect(sidebar.index(row, 0))
        if task is not None and viewport.contains(rect):
            assert metrics.horizontalAdvance(task.title) < rect.width() - 40, task.title
            whole += 1
    assert whole >= 12, f"only {whole} titles in full at 1024x640"

    # a group folds away and opens again, by mouse and by keys; select() opens it too
    header = sidebar.index(sidebar.header_row(str(api)) or 0, 0)
    QTest.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(header).center()
    )
    assert ("api", 9) in _headers(window) and len(_titles(window)) == 5
    view.setFocus()
    view.setCurrentIndex(header)
    QTest.keyClick(view, Qt.Key.Key_Right)
    assert len(_titles(window)) == 14
    first = sidebar.index(1, 0)
    view.setCurrentIndex(first)
    QTest.keyClick(view, Qt.Key.Key_Left)
    assert view.currentIndex().row() == 0, "← goes to the project's header"
    QTest.keyClick(view, Qt.Key.Key_Left)
    assert len(_titles(window)) == 9, "web folded away"
    hidden = next(t for t in window.model.tasks() if t.title == titles[1])  # one of web's
    window.open_task(hidden.id)
    assert window.task_list.selected_task() == hidden
    assert len(_titles(window)) == 14


def _task(task_id: int, cwd: str, state: RunState) -> Task:
    run = Run(id=task_id, task_id=task_id, attempt=1, state=state, dir="d", priority=0,
              timeout=None, created_at=0.0, started_at=100.0 + task_id, ended_at=None)  # fmt: skip
    return Task(task_id, f"t{task_id}", "shell", TaskSpec(argv=("x",), cwd=cwd), 0, 0.0, run)


def test_the_clock_is_one_change_per_tick_across_projects(qtbot: Any) -> None:
    tasks = TaskTableModel()
    tasks.reload([
        _task(4, "/a", RunState.RUNNING), _task(3, "/b", RunState.SUCCEEDED),
        _task(2, "/b", RunState.RUNNING), _task(1, "/a", RunState.SUCCEEDED),
    ])  # fmt: skip
    sidebar = SidebarModel(tasks)
    changes: list[tuple[int, int]] = []
    sidebar.dataChanged.connect(
        lambda top, bottom, _roles: changes.append((top.row(), bottom.row()))
    )
    sidebar.layoutChanged.connect(lambda: changes.append((-1, -1)))
    tasks.tick()
    assert changes == [(sidebar.row_of(4), sidebar.row_of(2))]  # two groups, one change
    changes.clear()
    sidebar.set_collapsed("/b", True)
    changes.clear()
    tasks.tick()
    assert changes == [(sidebar.row_of(4), sidebar.row_of(4))]


def _menu_actions(window: MainWindow) -> list[QAction]:
    found: list[QAction] = []

    def walk(actions: list[QAction]) -> None:
        for act in actions:
            menu = act.menu()
            if isinstance(menu, QMenu):
                walk(menu.actions())
            elif act.shortcuts():
                found.append(act)

    walk(window.menuBar().actions())
    return found


def test_every_menu_shortcut_fires_from_the_list_and_from_the_pane(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    window.resize(1024, 640)
    task_id = window.submit(_spec(["sleep", "30"], work_dir, "long"))
    assert task_id is not None
    driver.wait(lambda: (t := window.model.task(task_id)) and t.state is RunState.RUNNING)
    window.activateWindow()
    actions = _menu_actions(window)
    assert any(a is window.action_set.find_action for a in actions)
    fired: list[QAction] = []
    for act in actions:
        act.triggered.disconnect()  # what they do is tested elsewhere: only that they fire
        act.triggered.connect(lambda _c=False, a=act: fired.append(a))
    pane = window.panes[task_id]
    for where in (window.task_list.view, pane.view):
        window.open_task(task_id)
        where.setFocus()
        QApplication.processEvents()
        for act in actions:
            if not act.isEnabled():
                continue
            fired.clear()
            for sequence in (s for s in act.shortcuts() if not s.isEmpty()):
                combo = sequence[0]  # type: ignore[index]
                focused = QApplication.focusWidget() or where
                assert isinstance(focused, QWidget)
                QTest.keyClick(focused, combo.key(), combo.keyboardModifiers())
                assert fired == [act], f"{act.text()} ({sequence.toString()}) from {where}"
                fired.clear()
    disabled = {a.text() for a in actions if not a.isEnabled()}
    # a running task is neither retried, deleted nor archived
    assert disabled <= {"&Retry task", "&Delete…", "Arc&hive"}, disabled
    driver.run(_cancel(app, task_id))


async def _cancel(app: Any, task_id: int) -> None:
    app.supervisor.cancel(task_id)


def test_ctrl_w_ctrl_tab_view_shortcuts_and_clickable_counts(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    ids = [window.submit(_spec(["true"], work_dir, f"t{n}")) for n in range(3)]
    driver.wait(lambda: all((t := window.model.task(i)) and t.state is RunState.SUCCEEDED
                            for i in ids if i))  # fmt: skip
    assert window.tabs.count() == 3
    view = window.task_list.view
    view.setFocus()
    window.tabs.setCurrentIndex(0)
    QTest.keyClick(view, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == 1
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    QTest.keyClick(view, Qt.Key.Key_Backtab, ctrl_shift)
    assert window.tabs.currentIndex() == 0
    QTest.keyClick(view, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.count() == 2
    QTest.keyClick(view, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)  # Queued
    assert window.task_list.state_filter.currentText() == "Queued"
    assert window.task_list.no_match.isVisible()
    QTest.keyClick(view, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.task_list.state_filter.currentText() == "All tasks"
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert isinstance(view_menu, QMenu) and "Ctrl+1" in [
        a.shortcut().toString() for a in view_menu.actions()
    ]
    # the status bar's counts are links that set the filter
    assert 'href="filter:Running"' in window.counts_label.text()
    window.counts_label.linkActivated.emit("filter:Running")
    assert window.task_list.state_filter.currentText() == "Running"


def test_the_window_layout_is_remembered_between_launches(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    window.resize(760, 560)  # the offscreen screen is 800x600: restoring keeps within it
    window.splitter.setSizes([400, 360])
    QApplication.processEvents()
    size, sizes = window.size(), window.splitter.sizes()
    driver.quit(app)
    again = driver.start().window
    assert again is not None and again is not window
    assert again.size() == size
    assert again.splitter.sizes() == sizes


def test_a_remembered_place_on_no_screen_falls_back_to_the_default(
    driver: AppDriver, home: Home
) -> None:
    from app.ui.ui_state import ui_state

    app = driver.start()
    window = app.window
    assert window is not None
    window.move(40_000, 40_000)
    driver.quit(app)
    assert ui_state(home.locations).value("window/geometry") is not None
    again = driver.start().window
    assert again is not None
    screen = QApplication.primaryScreen().availableGeometry()
    assert screen.intersects(again.frameGeometry())


def test_a_banner_floats_and_moves_nothing(driver: AppDriver, home: Home, work_dir: Path) -> None:
    app = driver.start()
    window = app.window
    assert window is not None and app.attention is not None
    task_id = window.submit(_spec(["true"], work_dir, "t"))
    window.resize(1024, 640)
    QApplication.processEvents()
    before = (window.left_tabs.geometry(), window.right.geometry())
    app.attention.notifier.notify("Task failed", "it exited 3", level="error", task_id=task_id)
    QApplication.processEvents()
    banner = window.banner
    assert banner.isVisible()
    assert (window.left_tabs.geometry(), window.right.geometry()) == before
    assert window.rect().contains(banner.geometry()), "inside the window"
    assert banner.geometry().bottom() < window.statusBar().geometry().top(), "clear of it"
    assert banner.geometry().right() > window.width() // 2, "in the right-hand corner"
