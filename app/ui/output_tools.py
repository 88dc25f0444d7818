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
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.models import Task
from app.ui.labels import capitalized, task_state_label, waiting_label
from app.ui.task_model import exit_label
from app.ui.widgets import ElidedLabel


class PaneHeader(QWidget):
    """The task's state first, then its title and number; its command below; the tools.

    The state never clips and the title is cut only at its end: when the pane is too narrow
    for the tool buttons as well, they move into a "⋯" menu.
    """

    MIN_TITLE_PX = 160  # below this much room for the title, the buttons fold into the menu

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state_label = QLabel(self, textFormat=Qt.TextFormat.RichText)
        self.title = ElidedLabel(self, Qt.TextElideMode.ElideRight)
        bold = self.title.font()  # a font, not a style sheet: a sheet would keep the text
        bold.setBold(True)  # colour of the theme it was polished in after a theme change
        self.title.setFont(bold)
        self.meta_label = QLabel(self)
        self.meta_label.setStyleSheet("color: gray")
        self.command_label = ElidedLabel(self)
        self.command_label.setStyleSheet("color: gray")
        for label in (self.state_label, self.title, self.meta_label, self.command_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for label in (self.title, self.command_label):  # long texts elide, never squeeze
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.open_log_button = tool_button(self, "Open log file")
        self.copy_button = tool_button(self, "Copy")
        self.find_button = tool_button(self, "Find")
        self.expand_button = tool_button(self, "Expand tool output")
        self.expand_button.setCheckable(True)
        self.expand_button.setToolTip("Show every tool call's output in full, or one line each")
        self.more_button = tool_button(self, "⋯")
        self.more_button.setToolTip("More: the tools that do not fit beside the title")
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more_menu = QMenu(self.more_button)
        self.more_button.setMenu(self.more_menu)
        self.more_menu.aboutToShow.connect(self._fill_menu)
        self.buttons = (self.expand_button, self.find_button, self.copy_button,
                        self.open_log_button)  # fmt: skip
        self._offered = {button: True for button in self.buttons}
        self._offered[self.expand_button] = False
        self._folded = False
        first = QHBoxLayout()
        first.setSpacing(8)
        first.addWidget(self.state_label)
        first.addWidget(self.title, 1)
        first.addWidget(self.meta_label)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addLayout(first)
        titles.addWidget(self.command_label)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(titles, 1)
        for button in (*self.buttons, self.more_button):
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        self._place_buttons()

    def show_task(self, task: Task, log_path: Path | None) -> None:
        self.open_log_button.setEnabled(log_path is not None)
        run = task.latest_run
        state = task_state_label(task)
        extra = ""
        if run is not None and run.exit_code is not None:
            extra = f" · exit {exit_label(run.exit_code)}"
        why = run.message if run is not None and task.state and task.state.is_terminal else None
        waiting = waiting_label(task)
        if waiting:  # queued behind another task's hold on the folder (its path: below)
            extra += f" · {html.escape(waiting_label(task, where='name'))}"
        self.state_label.setText(f"<b>{state}</b>{extra}")
        self.title.set_full_text(task.title)
        self.meta_label.setText(f"#{task.id} · {task.agent}")
        tip = (
            f"{task.title} — #{task.id} · {task.agent} · {state}"
            + (f"\n{why}" if why else "")
            + (f"\n{capitalized(waiting)}: one task at a time" if waiting else "")
        )
        for label in (self.state_label, self.title, self.meta_label):
            label.setToolTip(tip)
        argv = (run.argv if run is not None and run.argv else None) or task.spec.argv
        command = f"{shlex.join(argv)}   in {task.spec.cwd}" if argv else f"in {task.spec.cwd}"
        self.command_label.setToolTip(command)
        self.command_label.set_full_text(command)
        self._place_buttons()

    def set_structured(self, structured: bool) -> None:
        """Tool output in full or not: structured agents only."""
        self._offered[self.expand_button] = structured
        self._place_buttons()

    def offers(self, button: QToolButton) -> bool:
        """Whether this tool is there for the task, beside the title or in the menu."""
        return self._offered[button]

    def folded(self) -> bool:
        """True while the tool buttons live in the "⋯" menu."""
        return self._folded

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_buttons()

    def _place_buttons(self) -> None:
        offered = [b for b in self.buttons if self._offered[b]]
        fixed = self.state_label.sizeHint().width() + self.meta_label.sizeHint().width() + 24
        needed = fixed + self.MIN_TITLE_PX + sum(b.sizeHint().width() + 6 for b in offered)
        self._folded = self.width() < needed
        for button in self.buttons:
            button.setVisible(self._offered[button] and not self._folded)
        self.more_button.setVisible(self._folded)

    def _fill_menu(self) -> None:
        self.more_menu.clear()
        for button in self.buttons:
            if not self._offered[button]:
                continue
            action = self.more_menu.addAction(button.text())
            action.setEnabled(button.isEnabled())
            action.setCheckable(button.isCheckable())
            action.setChecked(button.isChecked())
            action.triggered.connect(button.click)


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


def tool_button(parent: QWidget, text: str) -> QToolButton:
    button = QToolButton(parent)
    button.setText(text)
    return button
