"""Settings → Worktrees: whether merged worktrees are pruned after some days, and the
command that opens a worktree in an editor."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.settings import Settings

DEFAULT_PRUNE_DAYS = 30  # offered when the person turns pruning on
EDITOR_PLACEHOLDER = "code (when installed), else the system's choice"
PRUNE_NOTE = (
    "Only an ended task's worktree whose branch is merged into its base and that holds "
    "nothing uncommitted; each removal is announced and noted in the task's history."
)


class WorktreeSettings(QWidget):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        days = settings.prune_merged_after_days
        self.prune = QCheckBox("Remove merged worktrees after", self)
        self.prune.setChecked(days > 0)
        self.days = QSpinBox(self, minimum=1, maximum=3650)
        self.days.setValue(days if days > 0 else DEFAULT_PRUNE_DAYS)
        self.days.setEnabled(days > 0)
        self.days.setAccessibleName("Days after which merged worktrees are removed")
        self.editor = QLineEdit(settings.editor_command, self)
        self.editor.setPlaceholderText(EDITOR_PLACEHOLDER)
        self.editor.setToolTip("The command “Open in editor” runs on a task's worktree")
        prune_row = QHBoxLayout()
        prune_row.addWidget(self.prune)
        prune_row.addWidget(self.days)
        prune_row.addWidget(QLabel("days", self))
        prune_row.addStretch(1)
        note = QLabel(PRUNE_NOTE, self, wordWrap=True)
        note.setStyleSheet("color: gray")
        prune = QVBoxLayout()
        prune.addLayout(prune_row)
        prune.addWidget(note)
        form = QFormLayout(self)
        form.addRow("Pruning", prune)
        form.addRow("Open in editor command", self.editor)
        self.prune.toggled.connect(self.days.setEnabled)

    def values(self) -> dict[str, Any]:
        """The fields of Settings this page edits (0 days: never prune)."""
        return {
            "prune_merged_after_days": self.days.value() if self.prune.isChecked() else 0,
            "editor_command": self.editor.text().strip(),
        }
