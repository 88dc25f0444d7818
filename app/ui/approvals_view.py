"""Approving tool calls: the approval dialog and the Approvals inbox (DESIGN §7).

The dialog shows everything a person needs to decide (for Bash the command, for Edit and
Write a diff), and will not take Enter until it has been on screen for a moment, so a
key press meant for another window never approves anything.
"""

from __future__ import annotations

import difflib
import json
import time
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFontDatabase, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.approvals import Approval, ApprovalState
from app.store.workflow_repo import Checkpoint
from app.ui.icons import app_icon

ARM_DELAY_MS = 800  # Enter and the Allow button wake up only after this long on screen
# Claude Code's, Codex's and Gemini CLI's names of tools whose input reads best as a command
# or a diff
SHELL_TOOLS = ("Bash", "run_shell_command")
EDIT_TOOLS = ("Edit", "MultiEdit", "replace")
WRITE_TOOLS = ("Write", "write_file")
PATCH_TOOLS = ("apply_patch",)  # Codex: the patch itself is the clearest view


def describe_input(approval: Approval) -> str:
    """The call's input as a person reads it: the command, a diff, or pretty JSON."""
    data = approval.input
    if approval.tool in SHELL_TOOLS and isinstance(data.get("command"), str):
        note = f"\n\n# {data['description']}" if data.get("description") else ""
        return f"$ {data['command']}{note}"
    if approval.tool in PATCH_TOOLS and isinstance(data.get("command"), str):
        return str(data["command"])
    if approval.tool in EDIT_TOOLS and "file_path" in data:
        return _edit_diff(data)
    if approval.tool in WRITE_TOOLS and isinstance(data.get("content"), str):
        lines = data["content"].splitlines(keepends=True)
        diff = difflib.unified_diff([], lines, "/dev/null", str(data.get("file_path", "")))
        return "".join(diff)
    return json.dumps(data, indent=2, ensure_ascii=False)


def _edit_diff(data: dict[str, Any]) -> str:
    path = str(data.get("file_path"))
    edits = data.get("edits") or [data]
    chunks = []
    for edit in edits:
        old = str(edit.get("old_string", "")).splitlines(keepends=True)
        new = str(edit.get("new_string", "")).splitlines(keepends=True)
        chunks.append("".join(difflib.unified_diff(old, new, f"a/{path}", f"b/{path}")))
    return "\n".join(chunks)


class ApprovalDialog(QDialog):
    # approval id, allow, reason, remember ("task" | "project" | None)
    decided = Signal(str, bool, object, object)

    def __init__(self, approval: Approval, task_title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.approval = approval
        self.setWindowTitle(f"Allow {approval.tool}? — Agentry")
        self.setWindowIcon(app_icon())
        self.resize(720, 480)
        head = QLabel(
            f"<b>{approval.agent}</b> working on task #{approval.task_id} “{task_title}” "
            f"wants to use <b>{approval.tool}</b>", self, wordWrap=True,
        )  # fmt: skip
        where = QLabel(f"in {approval.cwd or '?'}", self)
        where.setStyleSheet("color: gray")
        self.details = QPlainTextEdit(describe_input(approval), self, readOnly=True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.once = QRadioButton("Just this once", self)
        self.for_task = QRadioButton(f"Always allow {approval.tool} for this task", self)
        self.for_project = QRadioButton(f"Always allow {approval.tool} in this project", self)
        self.once.setChecked(True)
        scope = QButtonGroup(self)
        for button in (self.once, self.for_task, self.for_project):
            scope.addButton(button)
        self.reason = QLineEdit(self, placeholderText="Reason for denying (the agent reads it)")
        self.expiry = QLabel(self)
        self.allow_button = QPushButton("Allow", self)
        self.deny_button = QPushButton("Deny", self)
        self.allow_button.setEnabled(False)
        self.allow_button.setAutoDefault(False)
        self.deny_button.setAutoDefault(False)

        scope_row = QHBoxLayout()
        for button in (self.once, self.for_task, self.for_project):
            scope_row.addWidget(button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.expiry, 1)
        buttons.addWidget(self.deny_button)
        buttons.addWidget(self.allow_button)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(where)
        layout.addWidget(self.details, 1)
        layout.addLayout(scope_row)
        layout.addWidget(self.reason)
        layout.addLayout(buttons)

        self._arm = QTimer(self, singleShot=True, interval=ARM_DELAY_MS)
        self._arm.timeout.connect(self._armed)
        self._clock = QTimer(self, interval=1000)
        self._clock.timeout.connect(self._tick)
        self.allow_button.clicked.connect(self.allow)
        self.deny_button.clicked.connect(self.deny)
        self._tick()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._arm.start()
        self._clock.start()

    def _armed(self) -> None:
        self.allow_button.setEnabled(True)
        self.allow_button.setDefault(True)

    @property
    def armed(self) -> bool:
        return self.allow_button.isEnabled()

    def _tick(self) -> None:
        left = int(self.approval.expires_at - time.time())
        if left <= 0:
            self.expiry.setText("Expired: the agent was told no")
            self.allow_button.setEnabled(False)
            self.deny_button.setEnabled(False)
            return
        self.expiry.setText(f"Denied automatically in {left // 60}:{left % 60:02d}")

    def remember(self) -> str | None:
        if self.for_task.isChecked():
            return "task"
        if self.for_project.isChecked():
            return "project"
        return None

    def allow(self) -> None:
        if not self.armed:
            return
        self.decided.emit(self.approval.id, True, None, self.remember())
        self.accept()

    def deny(self) -> None:
        reason = self.reason.text().strip() or None
        self.decided.emit(self.approval.id, False, reason, None)
        self.accept()

    def resolved_elsewhere(self, approval: Approval) -> None:
        """Someone decided from the CLI or another dialog: show it and close."""
        self.expiry.setText(f"Already {approval.state.value}")
        self.allow_button.setEnabled(False)
        self.deny_button.setEnabled(False)
        QTimer.singleShot(1500, self.reject)


class ApprovalsInbox(QDialog):
    """Pending requests first, then past decisions; double-click a pending one to answer."""

    openRequested = Signal(str)  # approval id
    checkpointRequested = Signal(int)  # checkpoint id

    COLUMNS = ("When", "Task", "Tool", "What", "State", "Decided by")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Approvals — Agentry")
        self.resize(900, 420)
        self.table = QTableWidget(0, len(self.COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.summary = QLabel(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self.table.cellDoubleClicked.connect(self._open)
        self._ids: list[str] = []

    def show_approvals(
        self,
        pending: list[Approval],
        recent: list[Approval],
        checkpoints: list[Checkpoint] | None = None,
    ) -> None:
        """Waiting checkpoints first, then waiting tool calls, then past decisions."""
        checkpoints = checkpoints or []
        rows = pending + [a for a in recent if a.state is not ApprovalState.PENDING]
        self._ids = [f"checkpoint:{c.id}" for c in checkpoints] + [a.id for a in rows]
        self.table.setRowCount(len(checkpoints) + len(rows))
        for row, checkpoint in enumerate(checkpoints):
            when = time.strftime("%b %d %H:%M:%S", time.localtime(checkpoint.created_at))
            values = (
                when,
                f"workflow #{checkpoint.workflow_id}",
                "Checkpoint",
                f"{checkpoint.workflow_name} · {checkpoint.step_name}",
                "pending",
                "",
            )
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                font = item.font()
                font.setBold(True)
                item.setFont(font)
                self.table.setItem(row, column, item)
        for offset, approval in enumerate(rows):
            row = len(checkpoints) + offset
            when = time.strftime("%b %d %H:%M:%S", time.localtime(approval.created_at))
            values = (when, f"#{approval.task_id}", approval.tool, approval.main_argument,
                      approval.state.value, approval.decided_by or "")  # fmt: skip
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if approval.state is ApprovalState.PENDING:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                item.setToolTip(approval.reason or "")
                self.table.setItem(row, column, item)
        waiting = len(pending) + len(checkpoints)
        self.summary.setText(f"{waiting} waiting for you" if waiting else "Nothing waiting")

    def _open(self, row: int, _column: int) -> None:
        if not 0 <= row < len(self._ids):
            return
        key = self._ids[row]
        if key.startswith("checkpoint:"):
            self.checkpointRequested.emit(int(key.split(":", 1)[1]))
        else:
            self.openRequested.emit(key)
