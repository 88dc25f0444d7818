"""Comments on diff lines, collected and sent to the agent as one follow-up (issue 11).

A comment quotes the lines it is about with their diff markers, so the agent sees whether
it is about code it added, removed or left alone; its line numbers are those of the file
after the change (before it, for a comment on removed lines only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.diff_rows import Row

EN_DASH = "\u2013"
QUOTE_LINES = 12  # a longer selection is quoted by its first lines and a count


@dataclass(frozen=True)
class Comment:
    path: str
    first: int
    last: int
    removed_only: bool  # the numbers are of the file before the change
    quote: tuple[str, ...]  # the selected diff lines, each with its +/-/space marker
    text: str

    @property
    def where(self) -> str:
        if self.first == self.last:
            lines = f"line {self.first}"
        else:
            lines = f"lines {self.first}{EN_DASH}{self.last}"
        return f"{self.path} {lines}" + (" (before the change)" if self.removed_only else "")


def comment_on(path: str, rows: Sequence[Row], text: str) -> Comment:
    """A comment on ``rows`` (code rows of ``path``'s diff, in order; at least one)."""
    numbers = [row.new for row in rows if row.new is not None]
    removed_only = not numbers
    if removed_only:
        numbers = [row.old for row in rows if row.old is not None]
    quote = [f"{row.marker}{row.text}" for row in rows]
    if len(quote) > QUOTE_LINES:
        quote = [*quote[:QUOTE_LINES], f"… ({len(quote) - QUOTE_LINES} more lines)"]
    return Comment(path, min(numbers), max(numbers), removed_only, tuple(quote), text.strip())


def compose(comments: Sequence[Comment]) -> str:
    """All pending comments as one message to the agent."""
    parts = []
    for comment in comments:
        quoted = "\n".join(f"> {line}" for line in comment.quote)
        parts.append(f"In {comment.where}:\n{quoted}\n{comment.text}")
    return "\n\n".join(parts)


class CommentEditor(QWidget):
    """The small editor "Comment…" opens under the diff: the lines it is about, a text."""

    added = Signal(object)  # Comment

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._path = ""
        self._rows: list[Row] = []
        self.about = QLabel(self)
        self.text = QPlainTextEdit(self, placeholderText="What should the agent change here?")
        self.text.setMaximumHeight(90)
        self.add_button = QPushButton("Add comment", self)
        self.cancel_button = QPushButton("Cancel", self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.about, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self._add)
        self.cancel_button.clicked.connect(self.hide)
        self.text.textChanged.connect(self._update)
        self.hide()

    def open(self, path: str, rows: list[Row]) -> None:
        self._path, self._rows = path, rows
        self.about.setText(f"Comment on {comment_on(path, rows, '').where}")
        self.text.clear()
        self._update()
        self.show()
        self.text.setFocus()

    def _update(self) -> None:
        self.add_button.setEnabled(bool(self.text.toPlainText().strip()))

    def _add(self) -> None:
        text = self.text.toPlainText().strip()
        if not text or not self._rows:
            return
        self.added.emit(comment_on(self._path, self._rows, text))
        self.hide()


class PendingComments(QWidget):
    """The comments not sent yet: listed, removable, and sent together."""

    sendRequested = Signal(str)  # the composed message
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.comments: list[Comment] = []
        self.title = QLabel(self)
        self.list = QListWidget(self)
        self.list.setMaximumHeight(self.list.fontMetrics().height() * 4 + 8)
        self.remove_button = QPushButton("Remove", self)
        self.send_button = QPushButton("Send to agent", self)
        self.hint = QLabel(self)
        self.hint.setStyleSheet("color: gray")
        buttons = QHBoxLayout()
        buttons.addWidget(self.title)
        buttons.addWidget(self.hint, 1, Qt.AlignmentFlag.AlignRight)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        self.remove_button.clicked.connect(self._remove_selected)
        self.send_button.clicked.connect(self._send)
        self.list.itemSelectionChanged.connect(self._update)
        self._can_send = False
        self._why_not = ""
        self._refill()

    def add(self, comment: Comment) -> None:
        self.comments.append(comment)
        self._refill()

    def clear(self) -> None:
        self.comments.clear()
        self._refill()

    def set_can_send(self, can: bool, why_not: str = "") -> None:
        self._can_send, self._why_not = can, why_not
        self._update()

    def _refill(self) -> None:
        self.list.clear()
        for comment in self.comments:
            item = QListWidgetItem(f"{comment.where}: {comment.text}")
            item.setToolTip("\n".join([*comment.quote, "", comment.text]))
            self.list.addItem(item)
        self.title.setText(f"{len(self.comments)} comment(s) for the agent")
        self.setVisible(bool(self.comments))
        self._update()
        self.changed.emit()

    def _update(self) -> None:
        self.remove_button.setEnabled(bool(self.list.selectedItems()))
        self.send_button.setEnabled(self._can_send and bool(self.comments))
        self.hint.setText("" if self._can_send else self._why_not)

    def _remove_selected(self) -> None:
        rows = sorted((self.list.row(item) for item in self.list.selectedItems()), reverse=True)
        for row in rows:
            del self.comments[row]
        self._refill()

    def _send(self) -> None:
        if self.comments and self._can_send:
            self.sendRequested.emit(compose(self.comments))
