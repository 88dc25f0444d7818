"""The strip under a task's header while its next run waits for a time: paused for its
agent's usage limit, or a restart's backoff (issue #15). It counts down, and offers
Resume now and Stop: a person can always cut a wait short or end it."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from app.core.models import Task
from app.ui.labels import clock, countdown


class WaitBar(QFrame):
    resumeNowRequested = Signal()
    stopRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.resume_button = QPushButton("Resume now", self)
        self.resume_button.setToolTip("Start it now instead of waiting")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Do not start it again (Retry or Resume later)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.resume_button)
        layout.addWidget(self.stop_button)
        self.resume_button.clicked.connect(self.resumeNowRequested)
        self.stop_button.clicked.connect(self.stopRequested)
        self._timer = QTimer(self, interval=1000)
        self._timer.timeout.connect(self._tick)
        self._until = 0.0
        self._what = ""
        self.hide()

    def show_wait(self, task: Task, restart: tuple[int, int] | None = None) -> None:
        """What ``task`` waits for (``restart``: its number and the most there may be);
        hidden when it waits for no time."""
        until = task.waits_until
        if until is None:
            self._timer.stop()
            self.hide()
            return
        self._until = until
        own = task.latest_run.not_before if task.latest_run else None
        if task.wait_reason == "limit" and own is None:
            self._what = f"Waiting for the {task.agent} usage limit to reset at {clock(until)}"
        elif task.wait_reason == "limit":
            self._what = f"Paused — {task.agent} usage limit; resumes at {clock(until)}"
        elif task.wait_reason == "restart":
            number = f" {restart[0]} of {restart[1]}" if restart else ""
            self._what = f"Restart{number} at {clock(until)}"
        else:
            self._what = f"Waiting until {clock(until)}"
        self._tick()
        self.show()
        self._timer.start()

    @property
    def text(self) -> str:
        return self.label.text()

    def _tick(self) -> None:
        left = self._until - time.time()
        self.label.setText(f"{self._what} ({countdown(left)})")
        if left <= 0:
            self._timer.stop()  # due: the supervisor starts it; the next update hides this
