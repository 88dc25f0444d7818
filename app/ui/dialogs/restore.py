"""Choosing a backup of the database to put back. It only answers; the caller restores.

Offered where no supervisor holds the data folder: on the start-up error screen (a
damaged database names its newest backup there), and from File → Restore a backup…,
where Agentry quits first (agents keep running), restores and opens again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.backups import BackupFile


class RestoreDialog(QDialog):
    """The backups, newest first and chosen; Restore answers with the chosen file."""

    chosen = Signal(Path)

    def __init__(
        self,
        backups: Sequence[BackupFile],
        database: Path,
        note: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Restore a backup")
        self.setMinimumWidth(560)
        intro = QLabel(
            f"Replace the database {database} with one of the backups in "
            f"{backups[0].path.parent if backups else 'its backups folder'}. The current file "
            f"is kept aside beside it (agentry.db.replaced-…), never deleted. {note}",
            self,
            wordWrap=True,
        )
        intro.setTextFormat(Qt.TextFormat.PlainText)
        self.list = QListWidget(self)
        for backup in backups:
            item = QListWidgetItem(backup.summary(), self.list)
            item.setData(Qt.ItemDataRole.UserRole, str(backup.path))
            item.setToolTip(str(backup.path))
        self.list.setCurrentRow(0)
        self.buttons = QDialogButtonBox(self)
        self.restore_button = self.buttons.addButton(
            "Restore", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.restore_button.setEnabled(bool(backups))
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.accepted.connect(self._answer)

    def selected(self) -> Path | None:
        item = self.list.currentItem()
        return None if item is None else Path(item.data(Qt.ItemDataRole.UserRole))

    def _answer(self) -> None:
        path = self.selected()
        if path is not None:
            self.chosen.emit(path)
