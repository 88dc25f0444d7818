"""What the last start-up found: the recovery screen and its history.

The screen shows, for the person who comes back to Agentry: what was reattached, what
finished while it was away (with exit codes), what was interrupted (Retry / Dismiss) and
the restored queue, with how long recovery took. Each row says what happened in a plain
sentence; the supervisor's technical note is its tooltip.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.models import RecoveryCause, RecoveryReport
from app.core.states import RunState
from app.ui.icons import app_icon, state_icon
from app.ui.labels import state_label


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

UNCLEAN_FLAG = "⚠"
UNCLEAN_MEANING = (
    "Agentry had not shut down cleanly before this start "
    "(it was killed, crashed, or the computer restarted)."
)


def finished_failed(report: RecoveryReport, task_id: int, line: TaskLine | None) -> bool:
    """Whether a task that finished while Agentry was away did not succeed."""
    code = report.exit_codes.get(task_id)
    if code is not None:
        return code != 0
    return bool(line and line.state and line.state != RunState.SUCCEEDED.value)


_INTERRUPTED_BECAUSE = {
    RecoveryCause.RUNNER_DIED: "Stopped unexpectedly (killed or crashed)",
    RecoveryCause.AGENT_ORPHANED: "Stopped unexpectedly (agent cleaned up)",
    RecoveryCause.NEVER_STARTED: "Never started (Agentry was closing)",
    RecoveryCause.CORRUPT_FILE_STOPPED: "Stopped (its run files were damaged)",
    RecoveryCause.CORRUPT_FILE: "Interrupted (its run files were unreadable)",
}


def what_happened(
    cause: RecoveryCause, exit_code: int | None, line: TaskLine | None, *, live: bool = True
) -> str:
    """A plain sentence for one row; the technical note goes in its tooltip.

    ``live`` is the recovery screen of this start; the history speaks in the past.
    """
    if cause is RecoveryCause.REATTACHED:
        return "Still running — reattached" if live else "Kept running — reattached"
    if cause is RecoveryCause.QUEUED:
        return "Waiting in the queue" if live else "Was waiting in the queue"
    if cause is RecoveryCause.FINISHED_AWAY:
        if exit_code == 0:
            return "Finished successfully"
        state = line.state if line and live else ""
        special = {
            RunState.TIMED_OUT.value: "Timed out",
            RunState.CANCELLED.value: "Cancelled",
            RunState.INTERRUPTED.value: "Stopped at log-out or shutdown",
        }
        if state in special:
            return special[state]
        if exit_code is not None:
            return f"Finished with exit code {exit_code}"
        return "Could not start" if state == RunState.FAILED.value else "Finished"
    return _INTERRUPTED_BECAUSE.get(cause, "Interrupted")


def _tooltip_for(key: str, note: str) -> str:
    if note:
        return note[:1].upper() + note[1:]
    if key == "reattached":
        return "Its agent kept running; Agentry follows its output again."
    if key == "queued":
        return "It starts when a slot is free."
    return ""


def good_news(report: RecoveryReport, describe: Describe | None = None) -> bool:
    """Nothing to act on: no interruption, no failure, no tool call waiting for a person."""
    if report.interrupted or report.approvals:
        return False
    return not any(
        finished_failed(report, t, describe(t) if describe else None) for t in report.finished
    )


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def headline(report: RecoveryReport, describe: Describe | None = None) -> str:
    if good_news(report, describe):
        agents = len(report.reattached)
        done = len(report.finished)
        if agents and done:
            return (
                f"While Agentry was closed, {_plural(agents, 'agent')} kept running and "
                f"{_plural(done, 'task')} finished successfully"
            )
        if done:
            what = "The task" if done == 1 else f"All {done} tasks"
            return f"{what} finished successfully while Agentry was closed"
        if agents:
            who = "Your agent" if agents == 1 else f"All {agents} agents"
            return f"{who} kept running while Agentry was closed"
        if not report.previous_clean:
            return "Agentry did not shut down cleanly last time, but nothing was lost"
        return "Everything was picked up where it was left."
    if not report.previous_clean:
        return "Agentry did not shut down cleanly last time. Here is what it found."
    return "While Agentry was away, some tasks changed."


def summary(report: RecoveryReport) -> str:
    """The counts that are not zero (or "nothing to recover"), and how long it took."""
    counts = report.counts()
    parts = [
        f"{counts[key]} {label}"
        for key, label in (
            ("reattached", "reattached"),
            ("finished", "finished while away"),
            ("interrupted", "interrupted"),
            ("queued", "queued"),
        )
        if counts[key]
    ]
    if report.approvals:
        parts.append(f"{len(report.approvals)} tool call(s) wait for your approval")
    return " · ".join(parts or ["nothing to recover"]) + (
        f" — recovered in {report.duration_ms:.0f} ms"
    )


def _standard_icon(widget: QWidget, which: QStyle.StandardPixmap) -> QIcon:
    return widget.style().standardIcon(which, None, widget)


class RecoveryReportView(QTreeWidget):
    """A report as a tree: one group per outcome, one row per task.

    ``live`` is the screen of this start (Retry / Dismiss column, present tense); the
    history shows past reports without actions.
    """

    TITLE_COLUMN, STATE_COLUMN, WHAT_COLUMN, ACTIONS_COLUMN = range(4)
    WHAT_MAX_WIDTH = 300  # so the title keeps its room; longer text elides (tooltip has it)

    def __init__(self, parent: QWidget | None = None, *, live: bool = True) -> None:
        super().__init__(parent)
        self.live = live
        self.setColumnCount(4)
        self.setHeaderLabels(["Task", "State" if live else "State now", "What happened", ""])
        self.headerItem().setToolTip(
            self.STATE_COLUMN,
            "The task's state now" if not live else "The task's state after recovery",
        )
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(80)
        header.setSectionResizeMode(self.TITLE_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(self.STATE_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.WHAT_COLUMN, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(self.ACTIONS_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        self.setColumnHidden(self.ACTIONS_COLUMN, True)
        self.rows: dict[int, QTreeWidgetItem] = {}
        self.failed_finished: list[int] = []

    def show_report(self, report: RecoveryReport, describe: Describe) -> None:
        self.clear()
        self.rows = {}
        self.failed_finished = []
        for key, label, icon in GROUPS:
            task_ids: list[int] = getattr(report, key)
            group = QTreeWidgetItem(self, [f"{label} ({len(task_ids)})"])
            group.setIcon(0, state_icon(icon))
            group.setFirstColumnSpanned(True)
            group.setData(0, Qt.ItemDataRole.UserRole, key)
            for task_id in task_ids:
                self.rows[task_id] = self._row(group, key, task_id, report, describe)
            if key == "finished" and self.failed_finished:
                failed = len(self.failed_finished)
                group.setText(0, f"{label} ({len(task_ids)}) — {failed} did not succeed")
                group.setIcon(0, _standard_icon(self, QStyle.StandardPixmap.SP_MessageBoxWarning))
                group.setToolTip(0, f"{failed} of {len(task_ids)} did not finish successfully")
            group.setExpanded(bool(task_ids) and key != "queued")
            group.setHidden(not task_ids)  # the summary line still counts the empty ones
        self.setColumnHidden(self.ACTIONS_COLUMN, not (self.live and report.interrupted))
        fit = self.sizeHintForColumn(self.WHAT_COLUMN) + 8
        self.setColumnWidth(self.WHAT_COLUMN, max(140, min(fit, self.WHAT_MAX_WIDTH)))

    def _row(
        self,
        group: QTreeWidgetItem,
        key: str,
        task_id: int,
        report: RecoveryReport,
        describe: Describe,
    ) -> QTreeWidgetItem:
        line = describe(task_id)
        title = f"#{task_id}  " + (line.title if line else "(task no longer exists)")
        state = line.state if line else ""
        note = report.notes.get(task_id, "")
        happened = what_happened(
            report.cause(task_id), report.exit_codes.get(task_id), line, live=self.live
        )
        item = QTreeWidgetItem(group, [title, state_label(state) if state else "", happened])
        item.setData(0, Qt.ItemDataRole.UserRole, task_id)
        item.setToolTip(self.TITLE_COLUMN, title)
        if state:
            item.setIcon(self.STATE_COLUMN, state_icon(state))
        item.setToolTip(self.WHAT_COLUMN, _tooltip_for(key, note))
        if key == "finished" and finished_failed(report, task_id, line):
            self.failed_finished.append(task_id)
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
            else _standard_icon(self, QStyle.StandardPixmap.SP_MessageBoxWarning)
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


def history_entry(report: RecoveryReport) -> tuple[str, str]:
    """The text and tooltip of one report in the history list."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(report.started_at))
    c = report.counts()
    parts = [f"{n} {what}" for what, n in c.items() if n]
    if report.approvals:
        parts.append(f"{len(report.approvals)} approvals")
    flag = "" if report.previous_clean else f"  {UNCLEAN_FLAG}"
    text = f"{when}{flag}\n" + (" · ".join(parts) if parts else "nothing to recover")
    tooltip = (
        "" if report.previous_clean else f"{UNCLEAN_FLAG} {UNCLEAN_MEANING}\n"
    ) + f"{report.describe()}."
    return text, tooltip


class RecoveryHistoryDialog(QDialog):
    """Help → Recovery history: every stored report, newest first."""

    def __init__(
        self, reports: list[RecoveryReport], describe: Describe, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recovery history")
        self.resize(1000, 500)
        self.reports = reports
        self.describe = describe
        self.list = QListWidget(self)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        for report in reports:
            text, tooltip = history_entry(report)
            item = QListWidgetItem(text, self.list)
            item.setToolTip(tooltip)
        self.legend = QLabel(f"{UNCLEAN_FLAG}  {UNCLEAN_MEANING}", self, wordWrap=True)
        self.legend.setVisible(any(not r.previous_clean for r in reports))
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.list, 1)
        left_layout.addWidget(self.legend)
        self.headline = QLabel(self, wordWrap=True)
        self.summary = QLabel(self, wordWrap=True)
        self.view = RecoveryReportView(self, live=False)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.headline)
        right_layout.addWidget(self.summary)
        right_layout.addWidget(self.view, 1)
        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        left.setMinimumWidth(self._list_width())
        splitter.setSizes([self._list_width(), 1000 - self._list_width()])
        close = QPushButton("Close", self)
        close.setDefault(True)
        closing = QHBoxLayout()
        closing.addStretch(1)
        closing.addWidget(close)
        layout = QVBoxLayout(self)
        if not reports:
            empty = QLabel("No recoveries yet: each start of Agentry will be listed here.", self)
            empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(empty, 1)
            splitter.hide()
            self.resize(480, 160)
        layout.addWidget(splitter, 1)
        layout.addLayout(closing)
        close.clicked.connect(self.accept)
        self.list.currentRowChanged.connect(self._select)
        if reports:
            self.list.setCurrentRow(0)

    def _list_width(self) -> int:
        """Wide enough for the widest entry, so nothing is clipped."""
        metrics = self.list.fontMetrics()
        widest = max(
            (
                metrics.horizontalAdvance(line)
                for i in range(self.list.count())
                if (item := self.list.item(i)) is not None
                for line in item.text().split("\n")
            ),
            default=160,
        )
        scrollbar = self.list.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        return min(max(widest + scrollbar + 24, 240), 340)

    def _select(self, row: int) -> None:
        if 0 <= row < len(self.reports):
            report = self.reports[row]
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(report.started_at))
            self.headline.setText(f"<b>{headline(report)}</b>")
            self.summary.setText(f"Start-up at {when}: {summary(report)}")
            self.view.show_report(report, self.describe)
