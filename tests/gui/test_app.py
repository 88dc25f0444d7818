"""The desktop app end to end, offscreen: real supervisor, real runners, real agents."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from helpers.agentry import Home, alive, counting_agent, kill_group
from helpers.gui import AppDriver
from helpers.wait import wait_until
from PySide6.QtCore import QModelIndex

from app.core.states import RunState
from app.runner import protocol
from app.store import recovery_repo
from app.ui.theme import is_dark


def test_a_new_task_from_the_dialog_streams_into_its_pane_and_notifies_on_success(
    driver: AppDriver, work_dir: Path
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None and window.right.currentWidget() is window.welcome

    dialog = window.show_new_task()
    dialog.command.setText(" ".join(f"'{a}'" for a in counting_agent(30, 0.02)))
    dialog.cwd.setText(str(work_dir))
    dialog.title_edit.setText("count to thirty")
    dialog.try_accept()

    driver.wait(lambda: window.model.rowCount() == 1)
    task = window.model.task_at(0)
    assert task is not None and task.title == "count to thirty"
    pane = window.panes[task.id]
    driver.wait(lambda: (t := window.model.task(task.id)) and t.state is RunState.SUCCEEDED)
    driver.wait(lambda: pane.plain_text().split("\n")[-1].startswith("■ exited 0"))
    assert pane.plain_text().split("\n")[:-1] == [str(i) for i in range(1, 31)]
    assert window.right.currentWidget() is window.tabs
    assert app.attention is not None
    notifier = app.attention.notifier
    driver.wait(lambda: any(n.title == "Task succeeded" for n in notifier.history))
    note = next(n for n in notifier.history if n.title == "Task succeeded")
    assert note.via == "banner" and note.task_id == task.id  # offscreen: no system tray
    assert window.banner.isVisible() and "count to thirty" in window.banner.label.text()


def test_the_new_task_dialog_refuses_bad_input_with_a_message(
    driver: AppDriver, tmp_path: Path
) -> None:
    app = driver.start()
    assert app.window is not None
    dialog = app.window.show_new_task()
    dialog.command.setText("   ")
    dialog.cwd.setText(str(tmp_path))
    dialog.try_accept()
    assert dialog.isVisible() and "Command: type the command" in dialog.error.text()
    dialog.command.setText("echo hi")
    dialog.cwd.setText(str(tmp_path / "missing"))
    dialog.try_accept()
    assert "is not a folder" in dialog.error.text()
    dialog.cwd.setText(str(tmp_path))
    dialog.timeout.setText("soon")
    dialog.try_accept()
    assert "Timeout:" in dialog.error.text() and dialog.isVisible()
    assert app.window.model.rowCount() == 0


def test_the_demo_task_runs_with_nothing_installed(driver: AppDriver) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    window.welcome.demo_button.click()
    driver.wait(lambda: window.model.rowCount() == 1)
    task = window.model.task_at(0)
    assert task is not None and task.agent == "demo"
    driver.wait(lambda: (t := window.model.task(task.id)) and t.state is RunState.SUCCEEDED)
    pane = window.panes[task.id]
    driver.wait(lambda: "Done" in pane.plain_text())
    assert "\x1b" not in pane.plain_text() and "[32m" not in pane.plain_text()


def _crashed_home(home: Home, work_dir: Path) -> tuple[int, int, int]:
    """A data folder as a SIGKILLed Agentry leaves it: one task still running, one that
    finished while nobody watched (exit code 3), one whose runner and agent died."""
    server = home.serve()
    still = int(home.cli("run", "--cwd", str(work_dir), "--", "sleep", "30", check=True).stdout)
    done = int(home.cli("run", "--cwd", str(work_dir), "--", "sh", "-c", "sleep 1; exit 3",
                        check=True).stdout)  # fmt: skip
    lost = int(home.cli("run", "--cwd", str(work_dir), "--", "sleep", "30", check=True).stdout)
    for task_id in (still, done, lost):
        home.wait_state(task_id, "running")
    server.send_signal(signal.SIGKILL)
    server.wait()
    info = home.runner_info(lost)
    kill_group(info.runner_pid)
    kill_group(info.agent_pid)
    wait_until(lambda: protocol.read_exit(home.run_dir(done)), message="exit.json while away")
    wait_until(lambda: not alive(info.runner_pid), message="runner gone")
    return still, done, lost


def test_the_recovery_screen_lists_what_happened_and_retry_from_it_works(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    still, done, lost = _crashed_home(home, work_dir)
    app = driver.start()
    screen = app.recovery_screen
    assert screen is not None and screen.isVisible()
    assert screen.view.task_ids("reattached") == [still]
    assert screen.view.task_ids("finished") == [done]
    assert screen.view.task_ids("interrupted") == [lost]
    finished_row = screen.view.rows[done]
    assert "exit code 3" in finished_row.text(2) and finished_row.text(1) == "Failed"
    assert "is gone" in screen.view.rows[lost].toolTip(2)
    assert not screen.report.previous_clean

    screen.retry(lost)
    assert screen.handled[lost] == "retried"
    driver.wait(lambda: len(home.runs(lost)) == 2)
    driver.wait(lambda: home.run(lost).state.value == "running")
    assert home.run(still).state.value == "running"


def test_quit_keep_running_leaves_agents_alive_and_a_relaunch_reattaches_them(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    assert app.window is not None
    task_id = app.window.submit(_spec(["sleep", "30"], work_dir))
    assert task_id is not None
    driver.wait(lambda: home.run(task_id).state.value == "running")
    agent = home.runner_info(task_id).agent_pid

    quitter = app.quitter
    assert quitter is not None
    quitter.request_quit()
    assert quitter.quit_dialog is not None and quitter.quit_dialog.isVisible()
    assert quitter.quit_dialog.defaultButton() is quitter.quit_dialog.keep_button
    quitter.quit_dialog.keep_button.click()
    driver.wait(app.finished.is_set)
    assert alive(agent)

    again = driver.start()
    assert again.supervisor.report is not None
    assert again.supervisor.report.reattached == [task_id]
    assert again.supervisor.report.previous_clean
    assert again.recovery_screen is None  # a clean handover needs no recovery screen


def test_quit_stop_them_leaves_no_agent_running(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    assert app.window is not None
    ids = [app.window.submit(_spec(["sh", "-c", "sleep 30 & wait"], work_dir)) for _ in range(2)]
    driver.wait(lambda: all(home.run(t).state.value == "running" for t in ids))  # type: ignore[arg-type]
    agents = [home.runner_info(t).agent_pid for t in ids]  # type: ignore[arg-type]

    quitter = app.quitter
    assert quitter is not None
    quitter.request_quit()
    assert quitter.quit_dialog is not None
    quitter.quit_dialog.stop_button.click()
    driver.wait(app.finished.is_set, timeout_ms=30_000)
    assert not any(alive(pid) for pid in agents)
    assert {home.run(t).state.value for t in ids} == {"cancelled"}  # type: ignore[arg-type]


def test_cancelling_from_the_quit_dialog_keeps_the_app_running(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    assert app.window is not None
    task_id = app.window.submit(_spec(["sleep", "30"], work_dir))
    driver.wait(lambda: home.run(task_id).state.value == "running")  # type: ignore[arg-type]
    quitter = app.quitter
    assert quitter is not None
    quitter.request_quit()
    assert quitter.quit_dialog is not None
    quitter.quit_dialog.cancel_button.click()
    assert not app.finished.is_set() and app.supervisor.running


def test_a_second_launch_brings_the_first_window_forward_and_exits(
    driver: AppDriver, home: Home, qtbot: object
) -> None:
    app = driver.start()
    assert app.window is not None
    app.window.hide()
    second = subprocess.Popen(
        [sys.executable, "-m", "app"], env={**home.env, "QT_QPA_PLATFORM": "offscreen"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with qtbot.waitSignal(app.activated, timeout=30_000):  # type: ignore[attr-defined]
        pass
    out, err = second.communicate(timeout=30)
    assert second.returncode == 0, err
    assert "already running" in out
    assert app.window.isVisible()


def test_a_data_folder_with_a_foreign_database_shows_the_error_screen_only(
    driver: AppDriver, home: Home
) -> None:
    import sqlite3

    with sqlite3.connect(home.locations.database) as other:
        other.execute("CREATE TABLE photos (id INTEGER)")
    app = driver.start_expecting_failure()
    assert app.window is None
    assert app.error_screen is not None and app.error_screen.isVisible()
    assert "not an Agentry database" in app.error_screen.message.text()
    app.error_screen.quit_button.click()
    driver.wait(app.finished.is_set)
    assert app.exit_code == 1


def test_a_lost_database_shows_why_and_rebuild_brings_the_tasks_back_then_reopens(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    done = home.cli("run", "--wait", "--cwd", str(work_dir), "--", "sh", "-c", "exit 6")
    assert done.returncode == 6
    home.locations.database.unlink()  # the WAL was checkpointed when the command closed it

    app = driver.start_expecting_failure()
    screen = app.error_screen
    assert app.window is None and screen is not None
    assert "hold runs that the database" in screen.message.text()
    assert screen.rebuild_button.isVisible() and not screen.stop_button.isVisible()
    reopened: list[bool] = []

    def relaunch() -> bool:
        reopened.append(True)
        return True

    screen.relaunch = relaunch
    screen.rebuild_button.click()
    driver.wait(lambda: screen.rebuilt is not None)
    assert "1 task(s) and 1 run(s) brought back" in (screen.rebuilt or "")
    assert reopened == [True]
    driver.wait(app.finished.is_set)
    listed = json.loads(home.cli("list", "--json", check=True).stdout)
    assert [(t["id"], t["state"], t["exit_code"]) for t in listed] == [(1, "failed", 6)]


def test_settings_apply_without_restart_and_bad_values_are_refused(
    driver: AppDriver, home: Home
) -> None:
    app = driver.start()
    assert app.window is not None
    dialog = app.window.show_settings()
    dialog.approval_timeout.setText("a while")
    dialog.try_accept()
    assert "Deny unanswered after" in dialog.error.text()
    assert dialog.pages.currentIndex() == 1, "the tab with the field to fix is shown"
    dialog.approval_timeout.setText("15m")
    dialog.default_timeout.setText("forever and ever")
    dialog.try_accept()
    assert dialog.isVisible() and "Default timeout" in dialog.error.text()
    assert dialog.pages.currentIndex() == 0
    dialog.default_timeout.setText("45m")
    dialog.max_concurrency.setValue(7)
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.try_accept()
    assert not dialog.isVisible()
    assert app.supervisor.settings.max_concurrency == 7
    assert app.supervisor.settings.default_timeout_s == 2700
    assert is_dark(app.qapp)
    saved = json.loads(home.locations.settings.read_text())
    assert saved["max_concurrency"] == 7 and saved["theme"] == "dark"


def test_closing_the_window_without_a_tray_asks_to_quit_like_quit_does(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    assert app.window is not None
    task_id = app.window.submit(_spec(["sleep", "30"], work_dir))
    driver.wait(lambda: home.run(task_id).state.value == "running")  # type: ignore[arg-type]
    app.window.close()
    quitter = app.quitter
    assert quitter is not None
    assert quitter.quit_dialog is not None and quitter.quit_dialog.isVisible()
    quitter.quit_dialog.cancel_button.click()
    assert app.window.isVisible()


def test_history_lists_every_recovery(driver: AppDriver, home: Home) -> None:
    driver.quit(driver.start())
    app = driver.start()
    assert app.window is not None
    dialog = app.window.show_recovery_history()
    assert dialog.list.count() == 2
    with home.db() as conn:
        assert len(recovery_repo.recovery_reports(conn)) == 2


def _spec(argv: list[str], cwd: Path):
    from app.core.models import TaskSpec

    return TaskSpec(argv=tuple(argv), cwd=str(cwd))


def test_quit_from_the_command_line_closes_the_app_and_keeps_agents(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    assert app.window is not None
    task_id = app.window.submit(_spec(["sleep", "30"], work_dir))
    driver.wait(lambda: home.run(task_id).state.value == "running")  # type: ignore[arg-type]
    agent = home.runner_info(task_id).agent_pid  # type: ignore[arg-type]
    quitter = subprocess.Popen(
        [sys.executable, "-m", "app", "quit", "--timeout", "20"],
        env={**home.env, "QT_QPA_PLATFORM": "offscreen"}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    driver.wait(app.finished.is_set, timeout_ms=20_000)
    assert quitter.wait(timeout=20) == 0
    assert quitter.stdout is not None and "keep running" in quitter.stdout.read()
    quitter.stdout.close()
    assert alive(agent)


def test_cancel_asks_with_plain_buttons_and_keep_running_is_the_default(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    task_id = window.submit(_spec(["sleep", "30"], work_dir))
    assert task_id is not None
    driver.wait(lambda: home.run(task_id).state.value == "running")
    window.open_task(task_id)
    box = window.confirm_cancel()
    assert box is not None
    labels = [b.text() for b in box.buttons()]
    assert sorted(labels) == ["Keep running", "Stop task"]
    assert box.defaultButton().text() == "Keep running"
    box.defaultButton().click()
    assert home.run(task_id).state.value == "running"
    box = window.confirm_cancel()
    assert box is not None
    next(b for b in box.buttons() if b.text() == "Stop task").click()
    driver.wait(lambda: home.run(task_id).state.value == "cancelled")


def test_a_search_that_hides_every_task_says_so(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    window.submit(_spec(["true"], work_dir))
    driver.wait(lambda: window.model.rowCount() == 1)
    window.task_list.search.setText("zebra")
    assert window.task_list.no_match.isVisible() and "“zebra”" in window.task_list.no_match.text()
    window.task_list.search.clear()
    assert not window.task_list.no_match.isVisible()


def test_selecting_tasks_in_the_list_reuses_one_preview_tab_and_double_click_keeps_it(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    ids = [task_id for _ in range(3) if (task_id := window.submit(_spec(["true"], work_dir)))]
    assert len(ids) == 3
    driver.wait(lambda: window.model.rowCount() == 3)
    for pane in list(window.panes.values()):  # start from no tabs at all
        window._close_tab(window.tabs.indexOf(pane))
    assert window.right.currentWidget() is window.pick_hint, "not an empty area"

    def index(task_id: int) -> QModelIndex:
        found = window.task_list.index_of(task_id)
        assert found.isValid()
        return found

    def select(task_id: int) -> None:
        window.task_list.view.setCurrentIndex(index(task_id))

    select(ids[0])
    select(ids[1])
    assert list(window.panes) == [ids[1]], "selecting replaces the preview tab"
    window.task_list.view.doubleClicked.emit(index(ids[1]))
    select(ids[2])
    assert sorted(window.panes) == sorted([ids[1], ids[2]]), "the double-clicked tab stays"
    assert "Preview" in window.tabs.tabToolTip(window.tabs.indexOf(window.panes[ids[2]]))
    assert "Preview" not in window.tabs.tabToolTip(window.tabs.indexOf(window.panes[ids[1]]))
