"""A damaged database at start: the error screen names the backup and restores it, then
Agentry opens on the restored database with the person's tasks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from helpers.agentry import Home, alive
from helpers.gui import AppDriver
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from app.core.models import TaskSpec
from app.store import backup


def _damage(path: Path) -> None:
    """Scribble over the root page of the ``tasks`` table (the schema stays readable)."""
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'tasks'").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(path, "r+b") as stream:
        stream.seek((root - 1) * size)
        stream.write(b"\xa5" * 64)


def test_the_error_screen_restores_the_newest_backup_and_agentry_opens_on_it(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    ids = [home.submit(["true"], work_dir, title=f"task {n}") for n in range(30)]
    made = backup.backup(home.locations.database, home.locations.backups, "daily")
    _damage(home.locations.database)

    app = driver.start_expecting_failure()
    screen = app.error_screen
    assert screen is not None and screen.isVisible()
    assert "damaged" in screen.message.text() and str(made) in screen.message.text()
    assert screen.restore_button.isVisible() and not screen.stop_button.isVisible()
    relaunched: list[bool] = []

    def relaunch() -> bool:  # not a second app in a test
        relaunched.append(True)
        return True

    screen.relaunch = relaunch
    screen.restore_button.click()
    dialog = screen.restore_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.selected() == made and dialog.list.count() == 1
    dialog.restore_button.click()
    driver.wait(lambda: relaunched)
    assert "Restored" in screen.status.text() and "replaced" in screen.status.text()
    assert len(list(home.locations.data.glob("agentry.db.replaced-*"))) == 1
    driver.wait(app.finished.is_set)

    again = driver.start()  # what the relaunched window does
    assert [t.id for t in again.supervisor.tasks()] == sorted(ids, reverse=True)


def test_no_restore_is_offered_without_backups(driver: AppDriver, home: Home) -> None:
    home.locations.database.write_text("not a database at all, and no backups")
    app = driver.start_expecting_failure()
    assert app.error_screen is not None and not app.error_screen.restore_button.isVisible()


def test_file_restore_quits_keeping_agents_restores_and_opens_again(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    before = home.submit(["true"], work_dir, title="in the backup")
    made = backup.backup(home.locations.database, home.locations.backups, "manual")
    for _ in range(12):  # more than backups_keep: a shutdown backup would prune `made`
        backup.backup(home.locations.database, home.locations.backups, "daily")
    app = driver.start()
    agent = app.supervisor.submit(TaskSpec(argv=("sleep", "30"), cwd=str(work_dir)))
    driver.wait(lambda: home.run(agent).state.value == "running")
    agent_pid = home.runner_info(agent).agent_pid
    relaunched: list[bool] = []

    def relaunch() -> bool:  # not a second app in a test
        relaunched.append(True)
        return True

    app.relaunch = relaunch
    assert app.window is not None
    file_menu = app.window.menuBar().actions()[0].menu()
    assert isinstance(file_menu, QMenu)
    assert app.window.action_set.restore_action in file_menu.actions()

    dialog = app.window.show_restore()
    rows = [dialog.list.item(n).data(Qt.ItemDataRole.UserRole) for n in range(dialog.list.count())]
    dialog.list.setCurrentRow(rows.index(str(made)))
    dialog.restore_button.click()
    driver.wait(lambda: relaunched)
    driver.wait(app.finished.is_set)
    assert not app.supervisor.running
    assert alive(agent_pid)  # agents keep running through it
    assert len(list(home.locations.data.glob("agentry.db.replaced-*"))) == 1
    assert made.exists() and not any(
        b.reason == "shutdown" for b in backup.list_backups(home.locations.backups)
    )
    again = driver.start().supervisor  # the task made since the backup is back, and followed
    assert [t.id for t in again.tasks()] == [agent, before]
    latest = again.task(agent).latest_run
    assert latest is not None and latest.state.value == "running"
