"""Cancel a task: asked first, with "Keep running" the default and the safe answer."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.models import Task


class CancelTaskBox(QMessageBox):
    confirmed = Signal(int)  # task id: stop it

    def __init__(self, task: Task, parent: QWidget | None = None) -> None:
        super().__init__(
            QMessageBox.Icon.Question,
            "Cancel task",
            f"Stop task #{task.id} “{task.title}” and every process it started?",
            QMessageBox.StandardButton.NoButton,
            parent,
        )
        self.task_id = task.id
        self.stop_button = self.addButton("Stop task", QMessageBox.ButtonRole.DestructiveRole)
        keep = self.addButton("Keep running", QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(keep)
        self.setEscapeButton(keep)
        self.buttonClicked.connect(self._clicked)

    def _clicked(self, button: object) -> None:
        if button is self.stop_button:
            self.confirmed.emit(self.task_id)
