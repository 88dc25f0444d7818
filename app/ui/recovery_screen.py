"""The recovery screen: what the last start-up found, for the person who comes back to
Agentry — what was reattached, what finished while it was away (with exit codes), what was
interrupted (Retry / Resume / Dismiss) and the restored queue, with how long recovery took.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.models import RecoveryReport
from app.core.states import RunState
from app.ui.icons import app_icon, state_icon
from app.ui.recovery_report import (
    Describe,
    RecoveryReportView,
    good_news,
    headline,
    standard_icon,
    summary,
)


class RecoveryScreen(QDialog):
    """Shown at launch when the last session did not end cleanly or anything needs a person.

    When nothing needs a person (every agent kept running), it reads as good news with a
    single Continue button.
    """

    retryRequested = Signal(int)  # task id
    resumeRequested = Signal(int)  # task id
    dismissRequested = Signal(int)  # task id
    showTaskRequested = Signal(int)  # task id

    def __init__(self, report: RecoveryReport, describe: Describe, parent: QWidget | None = None):
        super().__init__(parent)
        self.report = report
        self.describe = describe
        self.good_news = good_news(report, describe)
        self.setWindowTitle("Agentry — recovery")
        self.setWindowIcon(app_icon())
        self.resize(*((820, 400) if self.good_news else (1000, 500)))
        self.icon = QLabel(self)
        icon = (
            state_icon(RunState.SUCCEEDED.value)
            if self.good_news
            else standard_icon(self, QStyle.StandardPixmap.SP_MessageBoxWarning)
        )
        self.icon.setPixmap(icon.pixmap(32, 32))
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.title = QLabel(f"<h3>{headline(report, describe)}</h3>", self, wordWrap=True)
        text = summary(report)
        if self.good_news:
            text = "Nothing was lost and nothing needs you. " + text
        self.summary = QLabel(text, self, wordWrap=True)
        self.view = RecoveryReportView(self)
        self.view.show_report(report, describe)
        self.handled: dict[int, str] = {}  # task id -> "retried" | "resumed" | "dismissed"
        self._add_row_actions()
        self.retry_all_button = QPushButton("Retry all interrupted", self)
        self.dismiss_all_button = QPushButton("Dismiss all", self)
        self.continue_button = QPushButton("Continue", self)
        self.continue_button.setDefault(True)
        self.continue_button.setMinimumWidth(120)
        self.continue_button.setToolTip("Close this screen; the task list shows every task")
        self.retry_all_button.setEnabled(bool(report.interrupted))
        self.dismiss_all_button.setEnabled(bool(report.interrupted))
        self.retry_all_button.setVisible(bool(report.interrupted))
        self.dismiss_all_button.setVisible(bool(report.interrupted))
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry_all_button)
        buttons.addWidget(self.dismiss_all_button)
        buttons.addStretch(1)
        buttons.addWidget(self.continue_button)
        heading = QHBoxLayout()
        heading.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        texts = QVBoxLayout()
        texts.addWidget(self.title)
        texts.addWidget(self.summary)
        heading.addLayout(texts, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(heading)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self.retry_all_button.clicked.connect(self.retry_all)
        self.dismiss_all_button.clicked.connect(self.dismiss_all)
        self.continue_button.clicked.connect(self.accept)
        self.view.itemDoubleClicked.connect(self._open_task)
        self.continue_button.setFocus()

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
            row.insertStretch(0, 1)  # right-aligned, so Retry and Dismiss line up
            retry = QPushButton("Retry", cell)
            retry.setToolTip("Run the task again from the start")
            dismiss = QPushButton("Dismiss", cell)
            dismiss.setToolTip("Leave it interrupted; it stays in the task list")
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
