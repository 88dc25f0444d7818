"""Help → Export diagnostics…: a zip to attach to a bug report, redacted unless the person
ticks "Include prompts, output and secrets". The zip is written by the supervisor
(app.supervisor.diagnostics) off the UI thread; this dialog only asks where and how."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.dialog_job import DialogJob
from app.ui.theme import error_style, warning_style

Export = Callable[[Path, bool], Coroutine[Any, Any, Path]]
"""Write the zip at a path, with or without the private parts; the path written."""

EXPLAINED = (
    "A zip of Agentry's log files, what each start-up recovered, the health checks, "
    "the settings, and the tasks and events of the last 7 days. Prompts, follow-up "
    "messages, agents' output and secrets are replaced by [redacted]."
)
PRIVATE_WARNING = (
    "The zip will hold your prompts, the agents' output and secrets: share it only with "
    "someone you trust."
)


def default_name(now: datetime | None = None) -> str:
    return f"agentry-diagnostics-{(now or datetime.now()):%Y%m%d-%H%M%S}.zip"


class ExportDiagnosticsDialog(QDialog):
    def __init__(self, export: Export, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export diagnostics")
        self.export = export
        self.folder = folder  # where Save as… starts
        self.saved: Path | None = None
        self._job = DialogJob("diagnostics export", self._failed)
        self.about = QLabel(EXPLAINED, self, wordWrap=True)
        self.include_private = QCheckBox("Include prompts, output and secrets", self)
        self.warning = QLabel(PRIVATE_WARNING, self, wordWrap=True)
        self.warning.setStyleSheet(warning_style())
        self.warning.setVisible(False)
        self.outcome = QLabel(self, wordWrap=True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save_button = QPushButton("&Save as…", self)
        self.save_button.setDefault(True)
        self._lay_out()
        self.include_private.toggled.connect(self.warning.setVisible)
        self.save_button.clicked.connect(self._save_as)
        self.finished.connect(lambda _: self._job.close())

    def _lay_out(self) -> None:
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.about)
        layout.addSpacing(6)
        layout.addWidget(self.include_private)
        layout.addWidget(self.warning)
        layout.addWidget(self.outcome)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

    @property
    def saving(self) -> bool:
        return self._job.running

    def ask_path(self) -> Path | None:
        """Where to write the zip (None: the person cancelled). Tests call save_to instead."""
        chosen, _filter = QFileDialog.getSaveFileName(
            self, "Export diagnostics", str(self.folder / default_name()), "Zip files (*.zip)"
        )
        return Path(chosen) if chosen else None

    def _save_as(self) -> None:
        path = self.ask_path()
        if path is not None:
            self.save_to(path)

    def save_to(self, path: Path) -> None:
        """Write the zip at ``path``; the dialog says where it went, or why it did not."""
        self.save_button.setEnabled(False)
        self.outcome.setStyleSheet("")
        self.outcome.setText(f"Writing {path}…")
        self._job.start(self.export(path, self.include_private.isChecked()), self._saved)

    def _saved(self, path: Path) -> None:
        self.saved = path
        self.folder = path.parent
        self.save_button.setEnabled(True)
        private = self.include_private.isChecked()
        kept = "with prompts, output and secrets" if private else "redacted"
        self.outcome.setText(f"Saved {path} ({kept}).")

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.outcome.setStyleSheet(error_style())
        self.outcome.setText(str(exc))
