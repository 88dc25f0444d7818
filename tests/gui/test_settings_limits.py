"""Settings → Limits (issue #15): the usage-limit defaults are edited and saved, and quiet
hours that cannot be read are said on that page."""

from __future__ import annotations

from typing import Any

from test_new_task_dialog import installed

from app.core.settings import Settings
from app.ui.dialogs.settings import SettingsDialog


def test_limit_settings_are_edited_and_saved(qtbot: Any) -> None:
    dialog = SettingsDialog(Settings(), installed())
    qtbot.addWidget(dialog)
    page = dialog.limits
    assert page.auto_resume.isChecked() and page.max_resumes.value() == 5
    page.max_resumes.setValue(2)
    page.margin.setValue(10)
    page.quiet.setText("23:00-07:00")
    page.message.setPlainText("Go on.")
    saved: list[Settings] = []
    dialog.applied.connect(saved.append)
    dialog.try_accept()
    got = [(s.limit_max_resumes, s.limit_resume_margin_s, s.limit_quiet_hours,
            s.limit_resume_message) for s in saved]  # fmt: skip
    assert got == [(2, 600.0, "23:00-07:00", "Go on.")]

    off = SettingsDialog(saved[0], installed())
    qtbot.addWidget(off)
    off.limits.auto_resume.setChecked(False)
    assert not off.limits.max_resumes.isEnabled()
    assert off.settings().limit_auto_resume is False


def test_quiet_hours_that_cannot_be_read_are_said_on_the_limits_page(qtbot: Any) -> None:
    dialog = SettingsDialog(Settings(), installed())
    qtbot.addWidget(dialog)
    dialog.limits.quiet.setText("late")
    saved: list[Settings] = []
    dialog.applied.connect(saved.append)
    dialog.try_accept()
    assert saved == []
    assert "HH:MM-HH:MM" in dialog.error.text()
    assert dialog.pages.currentWidget() is dialog.limits
