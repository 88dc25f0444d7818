"""Tools → Project settings…: a repository's files to copy, setup and check commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.agentry import Home
from helpers.gitrepo import isolate_git, make_repo
from helpers.gui import AppDriver
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QLabel, QPushButton

from app.core.settings import ProjectSettings
from app.ui.application import AgentryApp
from app.ui.dialogs.project_settings import ProjectSettingsDialog
from app.ui.main_window import MainWindow


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_git(tmp_path, monkeypatch)
    return make_repo(tmp_path / "project", {"src/a.txt": "line\n"}).resolve()


def window_of(app: AgentryApp) -> MainWindow:
    assert app.window is not None
    return app.window


def save_button(dialog: ProjectSettingsDialog) -> QPushButton:
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Save)


def test_the_dialog_shows_problems_and_saves_only_valid_settings(qtbot: object) -> None:
    dialog = ProjectSettingsDialog("/src/app", ProjectSettings(setup="npm ci"))
    saved: list[tuple[str, ProjectSettings]] = []
    dialog.applied.connect(lambda top, project: saved.append((top, project)))
    assert dialog.copy_files.toPlainText() == ".env*" and dialog.setup.text() == "npm ci"

    dialog.copy_files.setPlainText(".env*\n../secrets/*\n")
    assert not dialog.error.isHidden()
    assert dialog.error.text() == "The pattern '../secrets/*' must stay inside the repository."
    assert not save_button(dialog).isEnabled()
    dialog.try_accept()
    assert saved == []

    dialog.copy_files.setPlainText(".env*\n\n  config/*.local.toml \n.env*\n")
    dialog.check.setText(" make test ")
    assert dialog.error.isHidden() and save_button(dialog).isEnabled()
    dialog.try_accept()
    assert saved == [("/src/app", ProjectSettings((".env*", "config/*.local.toml"), "npm ci",
                                                  "make test"))]  # fmt: skip
    dialog.deleteLater()


def test_the_check_command_says_it_must_pass_before_land(qtbot: object) -> None:
    dialog = ProjectSettingsDialog("/src/app", ProjectSettings())
    labels = [label.text().replace("&", "") for label in dialog.findChildren(QLabel)]
    assert "Check command (must pass before Land)" in labels
    dialog.deleteLater()


def test_tools_menu_edits_the_selected_folders_repository_and_saves_it(
    driver: AppDriver, home: Home, repo: Path
) -> None:
    app = driver.start()
    window = window_of(app)
    menus = [a.text() for a in window.menuBar().actions()]
    assert "T&ools" in menus
    opener = window.project_settings
    opener.open(str(repo / "src"))
    driver.wait(lambda: opener.dialog is not None)
    dialog = opener.dialog
    assert dialog is not None and dialog.top == str(repo)
    dialog.setup.setText("npm ci")
    dialog.copy_files.setPlainText(".env\nconfig/*.local.toml")
    save_button(dialog).click()

    wanted = ProjectSettings((".env", "config/*.local.toml"), "npm ci", "")
    assert app.supervisor.settings.project(str(repo)) == wanted
    saved = json.loads(home.locations.settings.read_text())
    assert saved["project_setup"] == {str(repo): "npm ci"}
    assert saved["project_copy_files"] == {str(repo): [".env", "config/*.local.toml"]}


def test_without_a_selected_task_it_asks_for_a_folder_first(driver: AppDriver, repo: Path) -> None:
    window = window_of(driver.start())
    window.action_set.project_settings_action.trigger()
    chooser = window.findChild(QFileDialog)
    assert isinstance(chooser, QFileDialog) and chooser.isVisible()
    chooser.fileSelected.emit(str(repo))
    driver.wait(lambda: window.project_settings.dialog is not None)
    assert window.project_settings.dialog is not None
    assert window.project_settings.dialog.top == str(repo)
    chooser.reject()


def test_a_folder_outside_a_repository_is_refused_with_a_reason(
    driver: AppDriver, work_dir: Path
) -> None:
    window = window_of(driver.start())
    opener = window.project_settings
    opener.open(str(work_dir))
    driver.wait(lambda: opener.message is not None)
    assert opener.message is not None and opener.dialog is None
    assert opener.message.text().startswith(f"{work_dir} is not in a git repository.")
    opener.message.close()
