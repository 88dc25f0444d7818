"""Help → Health… and Help → Export diagnostics… in the real app: a row per check with its
status said in a word and an icon, Refresh showing what changed, and the export writing a
zip (its path given as the Save as… box would, no real file dialog)."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.agentry import Home
from helpers.gui import AppDriver
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QMenu

from app.core.health import WORDS
from app.ui import theme
from app.ui.dialogs.export_diagnostics import ExportDiagnosticsDialog
from app.ui.health_view import HealthDialog

KEYS = ["data_folder", "disk", "supervisor", "database", "backups", "runners", "heartbeats",
        "approvals", "deliveries", "recovery", "audit", "settings", "agents"]  # fmt: skip


@pytest.fixture
def palette_kept(qapp: QApplication) -> Iterator[None]:
    before = QPalette(qapp.palette())
    yield
    qapp.styleHints().unsetColorScheme()
    qapp.setPalette(before)


def open_health(driver: AppDriver) -> HealthDialog:
    window = driver.start().window
    assert window is not None
    help_menu = window.menuBar().actions()[-1].menu()
    assert isinstance(help_menu, QMenu) and window.action_set.health_action in help_menu.actions()
    window.action_set.health_action.trigger()
    dialog = window.findChild(HealthDialog)
    assert dialog is not None and dialog.isVisible()
    driver.wait(lambda: dialog.report is not None and not dialog.loading)
    return dialog


def test_the_health_view_shows_a_row_per_check_and_refresh_shows_what_changed(
    driver: AppDriver, home: Home
) -> None:
    dialog = open_health(driver)
    assert list(dialog.table.rows) == KEYS
    supervisor = dialog.table.rows["supervisor"]
    assert supervisor.status.text() == WORDS["ok"] == "OK"
    assert "running: pid" in supervisor.text.text()
    backups = dialog.table.rows["backups"]
    assert backups.status.text() == "Warning" and "agentry backup" in backups.text.text()
    assert not backups.icon.pixmap().isNull()
    first = dialog.report
    home.cli("backup", check=True)
    dialog.refresh_button.click()
    driver.wait(lambda: dialog.report is not first and not dialog.loading)
    assert dialog.table.rows["backups"].status.text() == "OK"
    assert "problem" not in dialog.overall.text() or "warning" in dialog.overall.text()


def test_export_diagnostics_writes_the_zip_and_says_where(
    driver: AppDriver, home: Home, tmp_path: Path
) -> None:
    window = driver.start().window
    assert window is not None
    home.locations.logs.mkdir(parents=True, exist_ok=True)
    (home.locations.logs / "agentry.log.1").write_text("an older log\n")
    window.action_set.export_diagnostics_action.trigger()
    dialog = window.findChild(ExportDiagnosticsDialog)
    assert dialog is not None and dialog.isVisible()
    assert not dialog.include_private.isChecked()  # redacted unless the person asks
    target = tmp_path / "diagnostics.zip"
    dialog.save_to(target)
    driver.wait(lambda: dialog.saved is not None)
    assert f"Saved {target}" in dialog.outcome.text() and "redacted" in dialog.outcome.text()
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
    assert {"README.txt", "doctor.json", "settings.json", "tasks.json"} <= set(names)
    assert "logs/agentry.log.1" in names

    missing = tmp_path / "nowhere" / "diagnostics.zip"
    dialog.save_to(missing)
    driver.wait(lambda: not dialog.saving)
    said = dialog.outcome.text()
    assert f"Could not write the diagnostics to {missing}" in said and "Check that" in said
    assert dialog.save_button.isEnabled() and not missing.parent.exists()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", [(1024, 640), (1920, 1080)])
def test_the_health_view_is_drawn_in_both_themes_at_both_sizes(
    driver: AppDriver, home: Home, qapp: QApplication, palette_kept: None,
    scheme: str, size: tuple[int, int],
) -> None:  # fmt: skip
    home.write_settings(theme=scheme)
    dialog = open_health(driver)
    assert theme.is_dark(qapp) == (scheme == "dark")
    dialog.resize(*size)
    driver.wait(lambda: dialog.table.viewport().width() > size[0] // 2)
    image = dialog.grab().toImage()
    if folder := os.environ.get("AGENTRY_SCREENSHOTS"):
        image.save(str(Path(folder) / f"health-{scheme}-{size[0]}x{size[1]}.png"))
    for row in dialog.table.rows.values():
        assert row.text.isVisible() and row.text.width() > size[0] // 3  # room to read
        assert row.status.text() in WORDS.values()
