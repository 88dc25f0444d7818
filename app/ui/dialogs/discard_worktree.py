"""Discard a task's worktree: asked first, naming exactly what would be lost; "Cancel" is the
default and the safe answer."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.models import Task
from app.supervisor.workspaces import AtRisk
from app.supervisor.worktree_ops import WorktreeStatus
from app.ui.labels import short_path

SHOWN = 12  # lines of each kind named; the rest are counted


class DiscardWorktreeBox(QMessageBox):
    confirmed = Signal(int)  # task id: remove its worktree and branch

    def __init__(
        self, task: Task, status: WorktreeStatus, risk: AtRisk, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            QMessageBox.Icon.Question if risk.nothing else QMessageBox.Icon.Warning,
            "Discard worktree",
            f"Discard the worktree of task #{task.id} “{html.escape(task.title)}”?",
            QMessageBox.StandardButton.NoButton,
            parent,
        )
        self.task_id = task.id
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setInformativeText(lost_text(status, risk))
        self.discard_button = self.addButton(
            "Discard worktree", QMessageBox.ButtonRole.DestructiveRole
        )
        self.cancel_button = self.addButton(QMessageBox.StandardButton.Cancel)
        self.setDefaultButton(self.cancel_button)
        self.setEscapeButton(self.cancel_button)
        self.buttonClicked.connect(self._clicked)

    def _clicked(self, button: object) -> None:
        if button is self.discard_button:
            self.confirmed.emit(self.task_id)


def lost_text(status: WorktreeStatus, risk: AtRisk) -> str:
    """What goes (the folder and the branch) and, by name, the work that goes with them."""
    folder, branch = html.escape(short_path(status.path)), html.escape(status.branch)
    removed = f"This removes the folder <code>{folder}</code> and the branch <code>{branch}</code>."
    if risk.nothing:
        return (
            f"{removed}<br><br>Nothing is lost: {html.escape(status.base)} has every commit "
            "of the branch, and nothing is uncommitted."
        )
    parts = [removed, "<br><br><b>This work is lost for good:</b>"]
    if risk.uncommitted:
        files = [f"{c.status} &nbsp;{html.escape(c.path)}" for c in risk.uncommitted]
        parts.append(_listed(f"{len(files)} uncommitted file(s)", files))
    if risk.commits:
        newest_first = reversed(risk.commits)
        commits = [f"<code>{sha[:8]}</code> {html.escape(text)}" for sha, text in newest_first]
        where = f"not in {html.escape(status.base)}"
        parts.append(_listed(f"{len(commits)} commit(s) {where}", commits))
    return "".join(parts)


def _listed(title: str, lines: list[str]) -> str:
    shown = lines[:SHOWN]
    more = len(lines) - len(shown)
    items = "".join(f"<li>{line}</li>" for line in shown)
    if more:
        items += f"<li>… and {more} more</li>"
    return f"<p style='margin-bottom:0'>{title}:</p><ul style='margin-top:2px'>{items}</ul>"
