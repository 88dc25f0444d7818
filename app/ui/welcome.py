"""What the output side of the main window shows before any task exists."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class WelcomePage(QWidget):
    """Nothing running yet: what Agentry does, and a demo task to see it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("<h2>Nothing running yet</h2>", self, alignment=Qt.AlignmentFlag.AlignCenter)
        text = QLabel(
            "Agentry runs your coding agents in the background and never loses them — not to a "
            "closed window, a crash or a reboot.<br><br>See it work with the built-in demo "
            "agent, no install needed.",
            self,
            wordWrap=True,
            alignment=Qt.AlignmentFlag.AlignCenter,
        )
        text.setMaximumWidth(460)  # a readable measure, not one line across a wide window
        self.demo_button = QPushButton("Try a demo task", self)
        self.demo_button.setDefault(True)
        self.new_button = QPushButton("New task…", self)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.demo_button)
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(title)
        layout.addWidget(text, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addLayout(buttons)
        layout.addStretch(2)
