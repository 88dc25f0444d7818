"""Tools → Schedules…: the list with next and last runs, Pause/Resume/Remove, "New
schedule…" with the New task dialog's fields, and changes made in a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.agentry import Home
from helpers.gui import AppDriver
from PySide6.QtWidgets import QMessageBox

from app.core.schedules import ScheduleKind
from app.ui.main_window import MainWindow
from app.ui.schedules_view import NewScheduleDialog, SchedulesDialog


def open_schedules(driver: AppDriver) -> tuple[MainWindow, SchedulesDialog]:
    window = driver.start().window
    assert window is not None
    window.action_set.schedules_action.trigger()
    dialog = window.findChild(SchedulesDialog)
    assert dialog is not None and dialog.isVisible()
    return window, dialog


def cells(dialog: SchedulesDialog) -> list[list[str]]:
    table = dialog.table
    return [
        [table.item(row, col).text() for col in range(table.columnCount())]  # type: ignore[union-attr]
        for row in range(table.rowCount())
    ]


def listed(home: Home) -> list[dict[str, object]]:
    return json.loads(home.cli("schedule", "list", "--json", check=True).stdout)


def test_new_schedule_adds_one_and_refuses_a_bad_time_saying_why(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    window, dialog = open_schedules(driver)
    assert dialog.empty.isVisible() and not dialog.table.isVisible()
    dialog.new_button.click()
    new = window.findChild(NewScheduleDialog)
    assert new is not None and new.isVisible()
    new.select_agent("shell")
    new.command.setText("make nightly")
    new.cwd.setText(str(work_dir))
    new.kind.setCurrentIndex(new.kind.findData(ScheduleKind.CRON))
    new.when.setText("0 25 * * *")
    new.start_button.click()  # once the folder's repository is known: a look-up off the UI
    driver.wait(lambda: "is not a cron expression" in new.error.text())
    assert new.isVisible() and new.error.isVisible()
    assert listed(home) == []
    new.when.setText("0 9 * * 1-5")
    new.start_button.click()
    driver.wait(lambda: not new.isVisible())
    driver.wait(lambda: dialog.table.rowCount() == 1)
    when, what, next_run, last_run, state = cells(dialog)[0]
    assert (when, what, last_run, state) == ("cron 0 9 * * 1-5", "make nightly", "never",
                                             "Active")  # fmt: skip
    assert next_run.endswith(" 09:00")
    assert [s["when"] for s in listed(home)] == ["cron 0 9 * * 1-5"]


def test_pause_resume_and_remove_and_a_terminal_change_shows(
    driver: AppDriver, home: Home, work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home.cli("schedule", "add", "--every", "1h", "--cwd", str(work_dir), "--", "true",
             check=True)  # fmt: skip
    _, dialog = open_schedules(driver)
    assert cells(dialog)[0][:2] == ["every 1h", "true"]
    dialog.table.selectRow(0)
    assert dialog.pause_button.text() == "Pause"
    dialog.pause_button.click()
    assert cells(dialog)[0][4] == "Paused" and dialog.pause_button.text() == "Resume"
    assert listed(home)[0]["paused"] is True
    dialog.pause_button.click()
    assert cells(dialog)[0][4] == "Active" and listed(home)[0]["paused"] is False
    # Added in a terminal while the view is open: it shows without a click.
    home.cli("schedule", "add", "--every", "2h", "--cwd", str(work_dir), "--", "false",
             check=True)  # fmt: skip
    driver.wait(lambda: dialog.table.rowCount() == 2)
    dialog.table.selectRow(1)
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)  # fmt: skip
    dialog.remove_button.click()
    assert [row[0] for row in cells(dialog)] == ["every 1h"]
    assert [s["when"] for s in listed(home)] == ["every 1h"]
    # Removed in a terminal, then paused here: the view says so instead of failing.
    dialog.table.selectRow(0)
    home.cli("schedule", "remove", "1", check=True)
    dialog.pause_button.click()
    assert "no schedule 1" in dialog.error.text() and dialog.error.isVisible()
    driver.wait(lambda: dialog.table.rowCount() == 0)
