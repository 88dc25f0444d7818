"""Settings → Limits: what happens when an agent hits its usage or rate limit (issue #15):
whether a task resumes its session after the reset, how often, a margin after the reset,
quiet hours in which nothing resumes by itself, and the message the agent is sent."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from app.core.settings import Settings

NOTE = (
    "A paused task shows when it resumes, with Resume now and Stop. While an agent's limit "
    "holds, its other queued tasks wait; other agents' tasks run."
)


class LimitSettings(QWidget):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.auto_resume = QCheckBox("Resume a task's session when its agent's limit resets", self)
        self.auto_resume.setChecked(settings.limit_auto_resume)
        self.max_resumes = QSpinBox(self, minimum=0, maximum=1000, suffix=" times")
        self.max_resumes.setValue(settings.limit_max_resumes)
        self.max_resumes.setToolTip("Per task, since you last started it; then it stays stopped")
        self.margin = QSpinBox(self, minimum=0, maximum=24 * 60, suffix=" min")
        self.margin.setValue(round(settings.limit_resume_margin_s / 60))
        self.margin.setToolTip("Wait this long after the reset time the agent gave")
        self.quiet = QLineEdit(settings.limit_quiet_hours, self)
        self.quiet.setPlaceholderText("none — e.g. 23:00-07:00")
        self.quiet.setToolTip("Nothing resumes by itself in these hours (your local time)")
        self.message = QPlainTextEdit(settings.limit_resume_message, self)
        self.message.setFixedHeight(60)
        self.message.setToolTip("What the agent is told when its session resumes")
        note = QLabel(NOTE, self, wordWrap=True)
        note.setStyleSheet("color: gray")
        form = QFormLayout(self)
        form.addRow("", self.auto_resume)
        form.addRow("Resume at most", self.max_resumes)
        form.addRow("After the reset, wait", self.margin)
        form.addRow("Quiet hours", self.quiet)
        form.addRow("Message to the agent", self.message)
        form.addRow("", note)
        self.auto_resume.toggled.connect(self._enable)
        self._enable(self.auto_resume.isChecked())

    def _enable(self, on: bool) -> None:
        for field in (self.max_resumes, self.margin, self.quiet, self.message):
            field.setEnabled(on)

    def values(self) -> dict[str, Any]:
        """The fields of Settings this page edits (Settings.problems checks them)."""
        return {
            "limit_auto_resume": self.auto_resume.isChecked(),
            "limit_max_resumes": self.max_resumes.value(),
            "limit_resume_margin_s": self.margin.value() * 60.0,
            "limit_quiet_hours": self.quiet.text().strip(),
            "limit_resume_message": self.message.toPlainText().strip(),
        }
