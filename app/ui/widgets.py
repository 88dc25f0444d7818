"""Small widgets more than one view uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QWidget

T = TypeVar("T")


def record_table(columns: Sequence[str], parent: QWidget, *, elide: bool = True) -> QTableWidget:
    """A read-only table of records, one per row, selected a row at a time; columns fit
    their contents (the caller stretches one), cells do not wrap (long ones elide in the
    middle unless ``elide`` is off)."""
    table = QTableWidget(0, len(columns), parent)
    table.setHorizontalHeaderLabels(list(columns))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.setWordWrap(False)
    if elide:
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


def selected_record(table: QAbstractItemView, records: Sequence[T]) -> T | None:
    """The record shown in a single-selection table's selected row (row n shows
    ``records[n]``), or None when no row is selected."""
    rows = table.selectionModel().selectedRows()
    if not rows or rows[0].row() >= len(records):
        return None
    return records[rows[0].row()]


class ElidedLabel(QLabel):
    """Plain text cut in the middle to the width it has (its start and its end stay: a
    command and its folder, a path's root and its last part)."""

    def __init__(
        self, parent: QWidget | None = None, mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle
    ) -> None:
        super().__init__(parent, textFormat=Qt.TextFormat.PlainText)
        self._full = ""
        self._mode = mode  # ElideRight for a title: its start is what people recognise

    def set_full_text(self, text: str) -> None:
        self._full = text
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._elide()

    def _elide(self) -> None:
        if not self.isVisible():  # no real width yet: the first layout elides it
            self.setText(self._full)
            return
        width = max(40, self.width())
        self.setText(self.fontMetrics().elidedText(self._full, self._mode, width))
