"""What sits around an output pane's text: the header (the task's state, title and command)
with the pane's tool buttons, and the find bar.

They show and ask; the pane (:mod:`app.ui.output_pane`) does the drawing and the finding.
"""

from __future__ import annotations

import html
import shlex
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.models import Task
from app.ui.labels import capitalized, state_label, waiting_label
from app.ui.task_model import exit_label
from app.ui.widgets import ElidedLabel


class PaneHeader(QWidget):
    """The task's state first, then its title and number; its command below; the tools."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(self, textFormat=Qt.TextFormat.RichText)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.command_label = ElidedLabel(self)
        self.command_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.command_label.setStyleSheet("color: gray")
        for label in (self.title, self.command_label):  # long titles elide, never squeeze
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.open_log_button = tool_button(self, "Open log file")
        self.copy_button = tool_button(self, "Copy")
        self.find_button = tool_button(self, "Find")
        self.raw_button = tool_button(self, "Raw log")
        self.raw_button.setCheckable(True)
        self.raw_button.setToolTip("Show the agent's output exactly as it printed it")
        self.raw_button.hide()
        self.expand_button = tool_button(self, "Expand tool output")
        self.expand_button.setCheckable(True)
        self.expand_button.setToolTip("Show every tool call's output in full, or one line each")
        self.expand_button.hide()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(self.title)
        titles.addWidget(self.command_label)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(titles, 1)
        for button in (self.expand_button, self.raw_button, self.find_button, self.copy_button,
                       self.open_log_button):  # fmt: skip
            layout.addWidget(button)

    def show_task(self, task: Task, log_path: Path | None) -> None:
        self.open_log_button.setEnabled(log_path is not None)
        run = task.latest_run
        state = state_label(task.state)
        extra = ""
        if run is not None and run.exit_code is not None:
            extra = f" · exit {exit_label(run.exit_code)}"
        why = run.message if run is not None and task.state and task.state.is_terminal else None
        waiting = waiting_label(task)
        if waiting:  # queued behind another task's hold on the folder (its path: below)
            extra += f" · {html.escape(waiting_label(task, where='name'))}"
        # The state first: a long title or message is what gets cut off, never the state.
        self.title.setText(
            f"<b>{state}</b>{extra} &nbsp; <b>{html.escape(_elide(task.title, 90))}</b> "
            f"<span style='color:gray'>#{task.id} · {html.escape(task.agent)}</span>"
        )
        self.title.setToolTip(
            f"{task.title} — #{task.id} · {task.agent} · {state}"
            + (f"\n{why}" if why else "")
            + (f"\n{capitalized(waiting)}: one task at a time" if waiting else "")
        )
        argv = (run.argv if run is not None and run.argv else None) or task.spec.argv
        command = f"{shlex.join(argv)}   in {task.spec.cwd}" if argv else f"in {task.spec.cwd}"
        self.command_label.setToolTip(command)
        self.command_label.set_full_text(command)

    def set_structured(self, structured: bool) -> None:
        """Readable events or the raw log, tool output in full or not: structured agents only."""
        self.raw_button.setVisible(structured)
        self.expand_button.setVisible(structured)


class FindBar(QWidget):
    """Find in output: Enter or ↓ for the next match, ↑ for the one before, Esc closes."""

    def __init__(self, find: Callable[..., bool], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._find = find  # (text, *, backward) -> found
        self.edit = QLineEdit(self, placeholderText="Find in output")
        self.status = QLabel(self)
        previous = tool_button(self, "↑")
        following = tool_button(self, "↓")
        close = tool_button(self, "✕")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.edit, previous, following, self.status, close):
            layout.addWidget(widget)
        self.edit.returnPressed.connect(lambda: self._go(backward=False))
        following.clicked.connect(lambda: self._go(backward=False))
        previous.clicked.connect(lambda: self._go(backward=True))
        close.clicked.connect(self.hide)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.edit, self.hide)

    def open(self) -> None:
        self.show()
        self.edit.setFocus()
        self.edit.selectAll()

    def _go(self, *, backward: bool) -> None:
        found = self._find(self.edit.text(), backward=backward)
        self.status.setText("" if found else "No matches")


def _elide(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tool_button(parent: QWidget, text: str) -> QToolButton:
    button = QToolButton(parent)
    button.setText(text)
    return button
