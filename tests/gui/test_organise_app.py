"""Organising tasks in the app: the recovery screen shows what the person has not seen
(whoever recorded it), the Delete tasks and Clear finished dialogs, and the "needs
attention" count leaving out archived and dismissed tasks. Real app, runs and folders."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers.agentry import Home, py
from helpers.gui import AppDriver
from helpers.wait import wait_until
from PySide6.QtCore import Qt

from app.core.models import TaskSpec
from app.runner import protocol
from app.ui.application import AgentryApp
from app.ui.dialogs.clear_finished import ClearFinishedDialog
from app.ui.dialogs.delete_tasks import DeleteTasksDialog

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shells drive the tasks")

WAIT_FOR_FILE = "import os, sys, time\nwhile not os.path.exists(sys.argv[1]): time.sleep(0.05)"


def spec(argv: list[str], cwd: Path, title: str = "") -> TaskSpec:
    return TaskSpec(argv=tuple(argv), cwd=str(cwd), title=title)


def submitted(app: AgentryApp, argv: list[str], cwd: Path, title: str = "") -> int:
    assert app.window is not None
    task_id = app.window.submit(spec(argv, cwd, title))
    assert task_id is not None
    return task_id


def ended(driver: AppDriver, home: Home, app: AgentryApp, code: int, title: str, cwd: Path) -> int:
    task_id = submitted(app, ["sh", "-c", f"exit {code}"], cwd, title)
    driver.wait(lambda: home.run(task_id).state.is_terminal)
    return task_id


def test_a_task_that_ended_while_the_app_was_closed_is_shown_though_the_cli_recorded_it(
    driver: AppDriver, home: Home, work_dir: Path, tmp_path: Path
) -> None:
    flag = tmp_path / "finish"
    app = driver.start()
    task_id = submitted(app, [*py(WAIT_FOR_FILE), str(flag)], work_dir, "Long job")
    driver.wait(lambda: home.run(task_id).state.value == "running")
    driver.quit(app)  # keeping it running

    flag.touch()
    wait_until(lambda: protocol.read_exit(home.run_dir(task_id)), message="exit.json")
    assert home.cli("list").returncode == 0
    # A command that hosts a supervisor reconciles the ended run before the app does.
    other = home.cli("run", "--wait", "--title", "From the shell", "--cwd", str(work_dir),
                     "--", "true")  # fmt: skip
    assert other.returncode == 0, other.stderr
    assert home.run(task_id).state.value == "succeeded"

    again = driver.start()
    screen = again.recovery_screen
    assert screen is not None and screen.isVisible()
    assert screen.view.task_ids("finished") == [task_id, task_id + 1]
    assert screen.view.rows[task_id].text(2) == "Finished successfully"
    assert again.supervisor.report is not None
    assert again.supervisor.report.recorded_elsewhere == [task_id, task_id + 1]
    screen.accept()
    driver.quit(again)

    seen = driver.start()
    assert seen.recovery_screen is None, "what the person has seen is not shown again"


def test_what_ended_while_the_app_ran_is_not_news_at_the_next_start(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    ended(driver, home, app, 0, "Quick", work_dir)
    driver.quit(app)
    assert driver.start().recovery_screen is None


def test_archived_and_dismissed_tasks_do_not_need_attention(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    first = ended(driver, home, app, 1, "Broken build", work_dir)
    second = ended(driver, home, app, 2, "Broken test", work_dir)
    driver.wait(lambda: window.counts()[2] == 2)
    app.supervisor.archive(first)
    driver.wait(lambda: window.counts()[2] == 1)
    app.supervisor.dismiss(second)
    driver.wait(lambda: window.counts()[2] == 0)
    assert home.task(first).archived and home.task(second).dismissed
    app.supervisor.unarchive(first)
    driver.wait(lambda: window.counts()[2] == 1)


def test_the_delete_dialog_names_what_goes_keeps_a_running_task_and_deletes_on_request(
    driver: AppDriver, home: Home, work_dir: Path, tmp_path: Path, qtbot: object
) -> None:
    app = driver.start()
    done = ended(driver, home, app, 0, "Write the changelog", work_dir)
    flag = tmp_path / "finish"
    running = submitted(app, [*py(WAIT_FOR_FILE), str(flag)], work_dir, "Still going")
    driver.wait(lambda: home.run(running).state.value == "running")
    folder = home.run_dir(done)
    assert app.window is not None
    app.window.open_task(done)  # an open pane of a deleted task is no error

    dialog = DeleteTasksDialog(app.supervisor, [done, running], app.window)
    dialog.show()
    driver.wait(lambda: not dialog.working and dialog.plans)
    assert "Delete 1 task and 1 run folder" in dialog.title.text()
    assert dialog.delete_button.text() == "Delete 1 task" and dialog.delete_button.isEnabled()
    assert dialog.cancel_button.isDefault(), "Enter never deletes"
    items = [dialog.table.topLevelItem(i) for i in range(dialog.table.topLevelItemCount())]
    rows = {item.text(0) for item in items if item is not None}
    assert rows == {f"#{done}  Write the changelog", f"#{running}  Still going"}
    assert f"Kept: task {running} is still running" in dialog.note.text()

    with qtbot.waitSignal(dialog.deleted) as emitted:  # type: ignore[attr-defined]
        dialog.delete_button.click()
    assert emitted.args == [[done]]
    driver.wait(lambda: not dialog.isVisible())
    assert not folder.exists() and [t.id for t in app.supervisor.tasks()] == [running]
    flag.touch()


def test_clear_finished_previews_archives_and_deletes_with_failed_ones_only_when_ticked(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    ok = ended(driver, home, app, 0, "Passing job", work_dir)
    bad = ended(driver, home, app, 4, "Failing job", work_dir)

    dialog = ClearFinishedDialog(app.supervisor, app.window)
    dialog.show()
    assert dialog.task_ids() == [ok] and dialog.go_button.text() == "Archive 1 task"
    dialog.failed_box.setChecked(True)
    assert dialog.task_ids() == [bad, ok]
    dialog.older_box.setChecked(True)
    assert dialog.task_ids() == [] and dialog.empty.isVisibleTo(dialog)
    assert not dialog.go_button.isEnabled()
    dialog.older_box.setChecked(False)
    dialog.failed_box.setChecked(False)
    dialog.go_button.click()
    driver.wait(lambda: not dialog.isVisible())
    assert home.task(ok).archived and not home.task(bad).archived

    folder = home.run_dir(bad)
    again = ClearFinishedDialog(app.supervisor, app.window)
    again.show()
    again.failed_box.setChecked(True)
    assert again.task_ids() == [bad], "archived tasks are already cleared"
    again.delete_choice.setChecked(True)
    assert again.go_button.text() == "Delete 1 task"
    again.go_button.click()
    driver.wait(lambda: not again.isVisible())
    assert not folder.exists()
    assert [t.id for t in app.supervisor.tasks()] == [ok]
    assert again.table.topLevelItemCount() == 1
    item = again.table.topLevelItem(0)
    assert item is not None and item.data(0, Qt.ItemDataRole.UserRole) == bad
