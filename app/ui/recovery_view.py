"""What the last start-up found: the recovery screen, its history, and the start-up error.

The screen shows, for the person who comes back to Agentry: what was reattached, what
finished while it was away (with exit codes), what was interrupted (Retry / Dismiss) and
the restored queue, with how long recovery took.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.models import RecoveryReport
from app.ui.icons import app_icon, state_icon


@dataclass(frozen=True)
class TaskLine:
    """What the screen shows of one task; looked up through the supervisor."""

    title: str
    state: str
    exit_code: int | None
    can_resume: bool = False  # the agent's own session is known and can be continued


Describe = Callable[[int], TaskLine | None]

GROUPS = (
    ("reattached", "Still running — reattached", "running"),
    ("finished", "Finished while Agentry was away", "succeeded"),
    ("interrupted", "Interrupted — needs you", "interrupted"),
    ("queued", "Queue restored", "queued"),
)


def headline(report: RecoveryReport) -> str:
    if not report.previous_clean:
        return "Agentry did not shut down cleanly last time. Here is what it found."
    if report.interrupted or report.finished:
        return "While Agentry was away, some tasks changed."
    return "Everything was picked up where it was left."


class RecoveryReportView(QTreeWidget):
    """A report as a tree: one group per outcome, one row per task."""

    ACTIONS_COLUMN = 3

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(4)
        self.setHeaderLabels(["Task", "State", "What happened", ""])
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(False)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.setColumnWidth(0, 250)
        self.setColumnWidth(3, 240)
        self.rows: dict[int, QTreeWidgetItem] = {}

    def show_report(self, report: RecoveryReport, describe: Describe) -> None:
        self.clear()
        self.rows = {}
        for key, label, icon in GROUPS:
            task_ids: list[int] = getattr(report, key)
            group = QTreeWidgetItem(self, [f"{label} ({len(task_ids)})"])
            group.setIcon(0, state_icon(icon))
            group.setFirstColumnSpanned(True)
            group.setData(0, Qt.ItemDataRole.UserRole, key)
            for task_id in task_ids:
                self.rows[task_id] = self._row(group, task_id, report, describe)
            group.setExpanded(bool(task_ids) and key != "queued")
        self.resizeColumnToContents(1)

    def _row(
        self, group: QTreeWidgetItem, task_id: int, report: RecoveryReport, describe: Describe
    ) -> QTreeWidgetItem:
        line = describe(task_id)
        title = line.title if line else "(task no longer exists)"
        state = line.state if line else ""
        item = QTreeWidgetItem(
            group, [f"#{task_id}  {title}", state, report.notes.get(task_id, "")]
        )
        item.setData(0, Qt.ItemDataRole.UserRole, task_id)
        if state:
            item.setIcon(1, state_icon(state))
        item.setToolTip(2, report.notes.get(task_id, ""))
        return item

    def group(self, key: str) -> QTreeWidgetItem:
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == key:
                return item
        raise KeyError(key)

    def task_ids(self, key: str) -> list[int]:
        group = self.group(key)
        children = (group.child(i) for i in range(group.childCount()))
        return [child.data(0, Qt.ItemDataRole.UserRole) for child in children if child]


class RecoveryScreen(QDialog):
    """Shown at launch when the last session did not end cleanly or anything needs a person."""

    retryRequested = Signal(int)  # task id
    resumeRequested = Signal(int)  # task id
    dismissRequested = Signal(int)  # task id
    showTaskRequested = Signal(int)  # task id

    def __init__(self, report: RecoveryReport, describe: Describe, parent: QWidget | None = None):
        super().__init__(parent)
        self.report = report
        self.describe = describe
        self.setWindowTitle("Agentry — recovery")
        self.setWindowIcon(app_icon())
        self.resize(1000, 500)
        title = QLabel(f"<h3>{headline(report)}</h3>", self)
        counts = report.counts()
        summary = QLabel(
            f"{counts['reattached']} reattached · {counts['finished']} finished while away · "
            f"{counts['interrupted']} interrupted · {counts['queued']} queued"
            + (
                f" · {len(report.approvals)} tool call(s) wait for your approval"
                if report.approvals
                else ""
            )
            + f" — recovered in {report.duration_ms:.0f} ms",
            self,
        )
        self.view = RecoveryReportView(self)
        self.view.show_report(report, describe)
        self.handled: dict[int, str] = {}  # task id -> "retried" | "dismissed"
        self._add_row_actions()
        self.retry_all_button = QPushButton("Retry all interrupted", self)
        self.dismiss_all_button = QPushButton("Dismiss all", self)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.retry_all_button.setEnabled(bool(report.interrupted))
        self.dismiss_all_button.setEnabled(bool(report.interrupted))
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry_all_button)
        buttons.addWidget(self.dismiss_all_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(summary)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self.retry_all_button.clicked.connect(self.retry_all)
        self.dismiss_all_button.clicked.connect(self.dismiss_all)
        close.rejected.connect(self.accept)
        self.view.itemDoubleClicked.connect(self._open_task)

    def _add_row_actions(self) -> None:
        for task_id in self.report.interrupted:
            item = self.view.rows.get(task_id)
            if item is None:
                continue
            cell = QWidget(self.view)
            row = QHBoxLayout(cell)
            row.setContentsMargins(0, 0, 0, 0)
            line = self.describe(task_id)
            if line is not None and line.can_resume:
                resume = QPushButton("Resume session", cell)
                resume.setToolTip("Continue the agent's own session where it stopped")
                resume.clicked.connect(lambda _=False, t=task_id: self.resume(t))
                row.addWidget(resume)
            retry = QPushButton("Retry", cell)
            dismiss = QPushButton("Dismiss", cell)
            row.addWidget(retry)
            row.addWidget(dismiss)
            retry.clicked.connect(lambda _=False, t=task_id: self.retry(t))
            dismiss.clicked.connect(lambda _=False, t=task_id: self.dismiss(t))
            self.view.setItemWidget(item, RecoveryReportView.ACTIONS_COLUMN, cell)

    def retry(self, task_id: int) -> None:
        if task_id in self.handled:
            return
        self.retryRequested.emit(task_id)
        self._mark(task_id, "retried", "Queued again")

    def resume(self, task_id: int) -> None:
        if task_id in self.handled:
            return
        self.resumeRequested.emit(task_id)
        self._mark(task_id, "resumed", "Resuming its session")

    def dismiss(self, task_id: int) -> None:
        if task_id in self.handled:
            return
        self.dismissRequested.emit(task_id)
        self._mark(task_id, "dismissed", "Dismissed")

    def retry_all(self) -> None:
        for task_id in self.report.interrupted:
            self.retry(task_id)

    def dismiss_all(self) -> None:
        for task_id in self.report.interrupted:
            self.dismiss(task_id)

    def _mark(self, task_id: int, how: str, label: str) -> None:
        self.handled[task_id] = how
        item = self.view.rows.get(task_id)
        if item is not None:
            self.view.removeItemWidget(item, RecoveryReportView.ACTIONS_COLUMN)
            item.setText(RecoveryReportView.ACTIONS_COLUMN, label)
        pending = [t for t in self.report.interrupted if t not in self.handled]
        self.retry_all_button.setEnabled(bool(pending))
        self.dismiss_all_button.setEnabled(bool(pending))

    def _open_task(self, item: QTreeWidgetItem, _column: int) -> None:
        task_id = item.data(0, Qt.ItemDataRole.UserRole)
        if isinstance(task_id, int):
            self.showTaskRequested.emit(task_id)


class RecoveryHistoryDialog(QDialog):
    """Help → Recovery history: every stored report, newest first."""

    def __init__(
        self, reports: list[RecoveryReport], describe: Describe, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recovery history")
        self.resize(900, 480)
        self.reports = reports
        self.describe = describe
        self.list = QListWidget(self)
        for report in reports:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(report.started_at))
            c = report.counts()
            flag = "" if report.previous_clean else "  ⚠"
            QListWidgetItem(
                f"{when}{flag}\n{c['reattached']} reattached · {c['finished']} finished · "
                f"{c['interrupted']} interrupted · {report.duration_ms:.0f} ms",
                self.list,
            )
        self.headline = QLabel(self, wordWrap=True)
        self.view = RecoveryReportView(self)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.headline)
        right_layout.addWidget(self.view, 1)
        splitter = QSplitter(self)
        splitter.addWidget(self.list)
        splitter.addWidget(right)
        splitter.setSizes([280, 620])
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        layout = QVBoxLayout(self)
        if not reports:
            layout.addWidget(QLabel("No recoveries yet.", self))
        layout.addWidget(splitter, 1)
        layout.addWidget(close)
        close.rejected.connect(self.accept)
        self.list.currentRowChanged.connect(self._select)
        if reports:
            self.list.setCurrentRow(0)

    def _select(self, row: int) -> None:
        if 0 <= row < len(self.reports):
            report = self.reports[row]
            self.headline.setText(f"<b>{headline(report)}</b>")
            self.view.show_report(report, self.describe)


class StartupErrorScreen(QDialog):
    """Start-up failed: say why and offer the data folder, never a half-working window."""

    def __init__(self, message: str, data_folder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Agentry could not start")
        self.setWindowIcon(app_icon())
        self.data_folder = data_folder
        self.message = QLabel(message, self, wordWrap=True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open data folder", self)
        self.quit_button = QPushButton("Quit", self)
        self.quit_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.quit_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<h3>Agentry could not start</h3>", self))
        layout.addWidget(self.message)
        layout.addWidget(QLabel(f"Data folder: {data_folder}", self, wordWrap=True))
        layout.addLayout(buttons)
        self.open_button.clicked.connect(self.open_data_folder)
        self.quit_button.clicked.connect(self.reject)

    def open_data_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(self.data_folder))
