"""A damaged database at start: the error screen names the backup and restores it, then
Agentry opens on the restored database with the person's tasks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from helpers.agentry import Home
from helpers.gui import AppDriver

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
