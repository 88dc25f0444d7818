"""The task view's Raw log tab: the run's log as the agent wrote it, colours off.

It is drawn only while it is the tab in front: a hidden Raw log keeps nothing and is
filled from the pane's kept history when it comes to the front (stripping colours off
every line of ten panes that nobody looks at was most of a tab switch's cost). Entries
are the pane's history entries: output lines, and marks for a run's start and end.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from app.core import ansi

# Entries of a pane's history that are not output (agents never print NUL lines)
RUN_MARK = "\x00run\x00"  # a separator: a new run begins
YOU_MARK = "\x00you\x00"  # a message the person sent
END_MARK = "\x00end\x00"  # how the run ended


class RawLog(QPlainTextEdit):
    def __init__(self, parent: QWidget, max_blocks: int, font: QFont,
                 shown: Callable[[], bool]) -> None:  # fmt: skip
        super().__init__(parent, readOnly=True)
        self.setMaximumBlockCount(max_blocks)
        self.setUndoRedoEnabled(False)
        self.setFont(font)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self._max_blocks = max_blocks
        self._shown = shown  # whether it is the tab in front
        self._pending: collections.deque[str] = collections.deque(maxlen=max_blocks)
        self._stale = False

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def add(self, entries: Iterable[str]) -> None:
        """History entries: drawn (by :meth:`flush`) if it is in front, else later."""
        if self._shown():
            self._pending.extend(entries)
        else:
            self._stale = True

    def keep(self) -> tuple[list[str], bool]:
        """What is waiting to be drawn, for a pane about to replay its history."""
        return list(self._pending), self._stale

    def restore(self, kept: tuple[list[str], bool]) -> None:
        self._pending = collections.deque(kept[0], maxlen=self._max_blocks)
        self._stale = kept[1]

    def came_to_front(self, history: Iterable[str]) -> bool:
        """Filled from the history if lines came while it was hidden; True if so."""
        if not (self._shown() and self._stale):
            return False
        self._stale = False
        self.clear()
        self._pending = collections.deque(
            (e for e in history if not e.startswith(YOU_MARK)), maxlen=self._max_blocks
        )
        return True

    def flush(self, count: int) -> None:
        """Draw up to ``count`` waiting lines; plain text, so one insert is cheap."""
        if not self._pending:
            return
        if len(self._pending) >= self._max_blocks:
            self.clear()
        count = min(count, len(self._pending))
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 1
        self.appendPlainText("\n".join(_line(self._pending.popleft()) for _ in range(count)))
        if at_end:  # follows the end while the person has not scrolled up
            bar.setValue(bar.maximum())


def _line(entry: str) -> str:
    """A history entry as the Raw log shows it: the line without colours, or the run's
    separator and end line in plain text."""
    if entry.startswith(RUN_MARK):
        return f"──── {entry[len(RUN_MARK) :]} ────"
    if entry.startswith(END_MARK):
        return f"■ {entry[len(END_MARK) :]}"
    return ansi.strip(entry)
