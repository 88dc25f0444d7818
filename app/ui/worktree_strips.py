"""The strips above a Changes tab's files: what the last worktree action did (or why it
failed), and the banner of a merge that conflicted, with the ways out of it."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.supervisor.worktree_ops import WorktreeStatus
from app.ui.theme import ERROR_COLORS, WARNING_COLORS, palette_is_dark

INFO_COLOR = "#2f81f7"


class Strip(QFrame):
    """A message strip with a coloured left edge (info, warning or error)."""

    def __init__(self, name: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.level = "info"
        self.label = QLabel(self, textFormat=Qt.TextFormat.RichText, wordWrap=True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.label.setOpenExternalLinks(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hide()

    def set_level(self, level: str) -> None:
        self.level = level
        dark = palette_is_dark(self.palette())
        colors = {"error": ERROR_COLORS, "warning": WARNING_COLORS}.get(level)
        color = colors["dark" if dark else "light"] if colors else INFO_COLOR
        self.setStyleSheet(f"#{self.objectName()} {{ border: none; border-left: 4px solid "
                           f"{color}; background: palette(base); }}")  # fmt: skip


class ConflictBanner(Strip):
    """A merge conflicted (and changed nothing): which files, and the ways out."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__("conflictBanner", parent)
        self.files: list[str] = []
        self.ask_button = QToolButton(self)
        self.terminal_button = tool_button(self, "Open in terminal")
        close = tool_button(self, "✕", tip="Hide")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        buttons = QHBoxLayout()
        buttons.addWidget(self.ask_button)
        buttons.addWidget(self.terminal_button)
        buttons.addStretch(1)
        text = QHBoxLayout()
        text.addWidget(self.label, 1)
        text.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addLayout(text)
        layout.addLayout(buttons)

    def show_conflict(self, status: WorktreeStatus, files: list[str]) -> None:
        self.files = list(files)
        names = ", ".join(f"<code>{html.escape(f)}</code>" for f in files)
        self.label.setText(
            f"<b>Merging into {html.escape(status.base)} conflicts</b> in {names}. Nothing was "
            f"changed: {html.escape(status.base)} and your checkout are as they were."
        )
        self.ask_button.setText(f"Ask the agent to rebase onto {status.base} and resolve")
        self.set_level("warning")
        self.show()

    def set_can_ask(self, why_not: str) -> None:
        self.ask_button.setEnabled(not why_not)
        self.ask_button.setToolTip(why_not or "Queue a follow-up in the agent's session that "
                                   "names the base and the files")  # fmt: skip


class ResultNote(Strip):
    """What the last action did or why it failed, with one follow-on (open a URL)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__("resultNote", parent)
        self.action_button = QToolButton(self)
        self.action_button.hide()
        self.close_button = tool_button(self, "✕", tip="Hide")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.hide)
        self._action: Callable[[], object] | None = None
        self.action_button.clicked.connect(self._act)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.close_button)

    def say(self, text: str, level: str = "info", *, action: tuple[str, Callable[[], object]]
            | None = None, closable: bool = True) -> None:  # fmt: skip
        self.label.setText(text)
        self._action = action[1] if action else None
        self.action_button.setText(action[0] if action else "")
        self.action_button.setVisible(action is not None)
        self.close_button.setVisible(closable)
        self.set_level(level)
        self.show()

    def _act(self) -> None:
        if self._action is not None:
            self._action()


def tool_button(parent: QWidget, text: str, *, tip: str = "") -> QToolButton:
    button = QToolButton(parent)
    button.setText(text)
    button.setToolTip(tip)
    return button
