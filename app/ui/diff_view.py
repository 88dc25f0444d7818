"""One file's diff, unified or side by side, syntax-coloured, with selectable lines.

Line backgrounds are the palette's Base mixed with GitHub's diff greens and reds, so they
read on the light and the dark theme alike; code colours come from a Pygments style that
suits the palette. Redrawing keeps the scroll position when the same file is shown again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from pygments.style import StyleMeta
from pygments.styles import get_style_by_name
from pygments.token import _TokenType
from pygments.util import ClassNotFound
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QPalette,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QPlainTextEdit, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from app.ui.approval_text import DIFF_COLORS
from app.ui.diff_rows import Row, parse, side_by_side
from app.ui.theme import mix, palette_is_dark

STYLES = {False: ("default",), True: ("github-dark", "monokai")}
TINT = {False: 0.14, True: 0.22}  # how much green or red a changed line's background gets
NUMBER_WIDTH = 5


@cache
def pygments_style(dark: bool) -> StyleMeta:
    for name in STYLES[dark]:
        try:
            return get_style_by_name(name)
        except ClassNotFound:
            continue
    return get_style_by_name("default")


class DiffEdit(QPlainTextEdit):
    """A read-only monospace text whose block n is row n of what it shows."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, readOnly=True)
        self.setUndoRedoEnabled(False)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.rows: list[Row | None] = []

    def selected_rows(self) -> list[Row]:
        cursor = self.textCursor()
        if not cursor.hasSelection():
            return []
        doc = self.document()
        first = doc.findBlock(cursor.selectionStart()).blockNumber()
        end = cursor.selectionEnd()
        last = doc.findBlock(end).blockNumber()
        if last > first and doc.findBlock(end).position() == end:
            last -= 1  # a selection that ends at a line's start does not take that line
        return [row for row in self.rows[first : last + 1] if row is not None]


class DiffView(QWidget):
    selectionChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path: str | None = None
        self.diff = ""
        self.rows: list[Row] = []
        self._side_by_side = False
        self.unified = DiffEdit(self)
        self.left = DiffEdit(self)
        self.right = DiffEdit(self)
        self._last_side = self.right
        split = QSplitter(self)
        split.addWidget(self.left)
        split.addWidget(self.right)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.unified)
        self.stack.addWidget(split)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self._connect_signals()

    def _connect_signals(self) -> None:
        # the two halves scroll together
        left_bar, right_bar = self.left.verticalScrollBar(), self.right.verticalScrollBar()
        left_bar.valueChanged.connect(right_bar.setValue)
        right_bar.valueChanged.connect(left_bar.setValue)
        for edit in (self.unified, self.left, self.right):
            edit.selectionChanged.connect(self._selection_changed)

    # ------------------------------------------------------------------ what it shows

    def show_diff(self, path: str | None, diff: str) -> None:
        """Show ``path``'s diff; the same diff again changes nothing (scroll, selection)."""
        if path == self.path and diff == self.diff:
            return
        same_file = path == self.path
        scroll = self.current_edit().verticalScrollBar().value() if same_file else 0
        self.path, self.diff = path, diff
        self.rows = parse(diff, path) if path is not None else []
        self._draw()
        self.current_edit().verticalScrollBar().setValue(scroll)

    def set_side_by_side(self, on: bool) -> None:
        if on == self._side_by_side:
            return
        self._side_by_side = on
        self.stack.setCurrentIndex(1 if on else 0)
        self.selectionChanged.emit()

    def current_edit(self) -> DiffEdit:
        return self._last_side if self._side_by_side else self.unified

    def selected_rows(self) -> list[Row]:
        """The code rows the person selected (hunk and header lines left out)."""
        rows = self.current_edit().selected_rows()
        return [row for row in rows if row.kind in ("context", "added", "removed")]

    def _selection_changed(self) -> None:
        sender = self.sender()
        if sender in (self.left, self.right):
            self._last_side = self.right if sender is self.right else self.left
            other = self.left if sender is self.right else self.right
            if self._last_side.textCursor().hasSelection():
                other.blockSignals(True)
                cursor = other.textCursor()
                cursor.clearSelection()
                other.setTextCursor(cursor)
                other.blockSignals(False)
        self.selectionChanged.emit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.rows:
            self._draw()  # a theme change: colours for the new palette

    # ------------------------------------------------------------------ drawing

    def _draw(self) -> None:
        painter = _Painter(self.palette())
        painter.unified(self.unified, self.rows)
        pairs = side_by_side(self.rows)
        painter.side(self.left, [p.left for p in pairs], old=True)
        painter.side(self.right, [p.right for p in pairs], old=False)


class _Painter:
    """Formats for one palette, and the drawing of rows into a DiffEdit."""

    def __init__(self, pal: QPalette) -> None:
        dark = palette_is_dark(pal)
        base = pal.color(QPalette.ColorRole.Base)
        colors = DIFF_COLORS[dark]
        self.style = pygments_style(dark)
        self.text = pal.color(QPalette.ColorRole.Text)
        self.faint = pal.color(QPalette.ColorRole.PlaceholderText)
        self.hunk = QColor(colors["hunk"])
        self.backgrounds = {
            "added": mix(base, QColor(colors["added"]), TINT[dark]),
            "removed": mix(base, QColor(colors["removed"]), TINT[dark]),
            "hunk": mix(base, self.hunk, TINT[dark] / 2),
            "empty": mix(base, pal.color(QPalette.ColorRole.Text), 0.05),
        }
        self._token_formats: dict[_TokenType, QTextCharFormat] = {}

    def unified(self, edit: DiffEdit, rows: list[Row]) -> None:
        def gutter(row: Row) -> str:
            return f"{_number(row.old)} {_number(row.new)} {row.marker or ' '} "

        self._fill(edit, list(rows), gutter)

    def side(self, edit: DiffEdit, rows: list[Row | None], *, old: bool) -> None:
        def gutter(row: Row) -> str:
            return f"{_number(row.old if old else row.new)} {row.marker or ' '} "

        self._fill(edit, rows, gutter)

    def _fill(self, edit: DiffEdit, rows: list[Row | None], gutter: Callable[[Row], str]) -> None:
        edit.rows = rows
        doc = edit.document()
        doc.clear()
        cursor = QTextCursor(doc)
        cursor.beginEditBlock()
        for n, row in enumerate(rows):
            if n:
                cursor.insertBlock()
            cursor.setBlockFormat(self._block_format(row))
            if row is None:
                continue
            if row.kind in ("header", "hunk", "note"):
                cursor.insertText(row.text, self._plain(self.hunk if row.kind == "hunk" else
                                                        self.faint))  # fmt: skip
                continue
            cursor.insertText(gutter(row), self._plain(self.faint))
            for kind, value in row.tokens:
                cursor.insertText(value, self._token(kind))
        cursor.endEditBlock()

    def _block_format(self, row: Row | None) -> QTextBlockFormat:
        fmt = QTextBlockFormat()
        key = "empty" if row is None else row.kind
        if key in self.backgrounds:
            fmt.setBackground(self.backgrounds[key])
        return fmt

    def _plain(self, color: QColor) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setForeground(color)
        return fmt

    def _token(self, kind: _TokenType) -> QTextCharFormat:
        fmt = self._token_formats.get(kind)
        if fmt is None:
            style = self.style.style_for_token(kind)
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(f"#{style['color']}") if style["color"] else self.text)
            if style["bold"]:
                fmt.setFontWeight(QFont.Weight.Bold)
            fmt.setFontItalic(bool(style["italic"]))
            self._token_formats[kind] = fmt
        return fmt


def _number(line: int | None) -> str:
    return f"{line:>{NUMBER_WIDTH}}" if line is not None else " " * NUMBER_WIDTH
