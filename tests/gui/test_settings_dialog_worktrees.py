"""Settings → Worktrees with the real app: pruning and the editor command, saved and shown
again."""

from __future__ import annotations

import json

from helpers.agentry import Home
from helpers.gui import AppDriver

from app.ui.dialogs.settings_worktrees import DEFAULT_PRUNE_DAYS, EDITOR_PLACEHOLDER


def test_worktree_settings_round_trip_through_the_file_and_off_is_zero(
    driver: AppDriver, home: Home
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    dialog = window.show_settings()
    page = dialog.worktrees
    assert dialog.pages.tabText(dialog.pages.indexOf(page)) == "Worktrees"
    assert not page.prune.isChecked() and not page.days.isEnabled()
    assert page.days.value() == DEFAULT_PRUNE_DAYS
    assert page.editor.text() == "" and page.editor.placeholderText() == EDITOR_PLACEHOLDER

    page.prune.setChecked(True)
    assert page.days.isEnabled()
    page.days.setValue(14)
    page.editor.setText("  subl --new-window  ")
    dialog.try_accept()
    assert not dialog.isVisible()
    assert app.supervisor.settings.prune_merged_after_days == 14
    assert app.supervisor.settings.editor_command == "subl --new-window"
    saved = json.loads(home.locations.settings.read_text())
    assert saved["prune_merged_after_days"] == 14
    assert saved["editor_command"] == "subl --new-window"

    reopened = window.show_settings()
    again = reopened.worktrees
    assert again.prune.isChecked() and again.days.value() == 14
    assert again.editor.text() == "subl --new-window"
    again.prune.setChecked(False)
    reopened.try_accept()
    assert app.supervisor.settings.prune_merged_after_days == 0
    assert json.loads(home.locations.settings.read_text())["prune_merged_after_days"] == 0
