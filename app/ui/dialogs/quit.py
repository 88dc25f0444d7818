"""The Quit dialog: asked only when agents are running, and it only answers; the app quits."""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget


class QuitChoice(enum.Enum):
    KEEP_RUNNING = "keep"
    STOP_AGENTS = "stop"
    CANCEL = "cancel"


class QuitDialog(QMessageBox):
    """Quit with agents running: keep them (the default), stop them, or do not quit."""

    chosen = Signal(object)  # QuitChoice

    def __init__(self, running: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Quit Agentry")
        self.setIcon(QMessageBox.Icon.Question)
        one = running == 1
        self.setText("1 agent is still running." if one else f"{running} agents are still running.")
        them = "it" if one else "them"
        self.setInformativeText(
            f"Keep {them} running in the background and Agentry reattaches {them} when you "
            f"open Agentry again, or stop {them} now."
        )
        self.keep_button = self.addButton(f"Keep {them} running", QMessageBox.ButtonRole.AcceptRole)
        self.stop_button = self.addButton(f"Stop {them}", QMessageBox.ButtonRole.DestructiveRole)
        self.cancel_button = self.addButton(QMessageBox.StandardButton.Cancel)
        self.setDefaultButton(self.keep_button)
        self.setEscapeButton(self.cancel_button)
        self.buttonClicked.connect(self._clicked)
        self.setWindowModality(Qt.WindowModality.ApplicationModal)

    def _clicked(self, button: object) -> None:
        if button is self.keep_button:
            self.chosen.emit(QuitChoice.KEEP_RUNNING)
        elif button is self.stop_button:
            self.chosen.emit(QuitChoice.STOP_AGENTS)
        else:
            self.chosen.emit(QuitChoice.CANCEL)
