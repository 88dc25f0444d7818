"""What a start-up's recovery found, in words and as a tree: the texts of a report (its
headline, summary and one sentence a task) and the tree view that the recovery screen and
the recovery history both show.

Each row says what happened in a plain sentence, decided by the report's structured cause;
the supervisor's technical note is its tooltip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from app.core.models import RecoveryCause, RecoveryReport, WorktreeRepair
from app.core.states import RunState
from app.ui.icons import state_icon
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


WORKTREES_GROUP = "worktrees"
REPAIRED = {
    WorktreeRepair.CREATED: (
        "Worktree creation finished",
        "Agentry stopped while git was creating this task's worktree. Git had finished, so "
        "the task works in it.",
    ),
    WorktreeRepair.REMOVED: (
        "Half-removed worktree removed",
        "Agentry stopped while this task's worktree was being discarded. The worktree and "
        "its branch are now removed.",
    ),
}


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
    if cause is RecoveryCause.REQUEUED:
        return "Queued again (it never started)" if live else "Was queued again (never started)"
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
    if report.worktrees:
        parts.append(f"{_plural(len(report.worktrees), 'worktree')} repaired")
    return " · ".join(parts or ["nothing to recover"]) + (
        f" — recovered in {report.duration_ms:.0f} ms"
    )


def standard_icon(widget: QWidget, which: QStyle.StandardPixmap) -> QIcon:
    return widget.style().standardIcon(which, None, widget)


class RecoveryReportView(QTreeWidget):
    """A report as a tree: one group per outcome, one row per task.

    ``live`` is the screen of this start (Retry / Dismiss column, present tense); the
    history shows past reports without actions.
    """

    TITLE_COLUMN, STATE_COLUMN, WHAT_COLUMN, ACTIONS_COLUMN = range(4)
    WHAT_MAX_WIDTH = 420  # so the title keeps its room; longer text elides (tooltip has it)

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
        self.worktree_rows: dict[int, QTreeWidgetItem] = {}  # a task may be in both
        self.failed_finished: list[int] = []

    def show_report(self, report: RecoveryReport, describe: Describe) -> None:
        self.clear()
        self.rows = {}
        self.worktree_rows = {}
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
                group.setIcon(0, standard_icon(self, QStyle.StandardPixmap.SP_MessageBoxWarning))
                group.setToolTip(0, f"{failed} of {len(task_ids)} did not finish successfully")
            group.setExpanded(bool(task_ids) and key != "queued")
            group.setHidden(not task_ids)  # the summary line still counts the empty ones
        if report.worktrees:
            self._worktree_group(report, describe)
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
        if step := report.next_steps.get(task_id):  # a restart or a pause already queued
            happened = f"{happened} → {step}"
        item = QTreeWidgetItem(group, [title, state_label(state) if state else "", happened])
        item.setData(0, Qt.ItemDataRole.UserRole, task_id)
        item.setToolTip(self.TITLE_COLUMN, title)
        if state:
            item.setIcon(self.STATE_COLUMN, state_icon(state))
        item.setToolTip(self.WHAT_COLUMN, _tooltip_for(key, note))
        if key == "finished" and finished_failed(report, task_id, line):
            self.failed_finished.append(task_id)
        return item

    def _worktree_group(self, report: RecoveryReport, describe: Describe) -> None:
        """What start-up completed of worktrees a crash left half made or half removed."""
        group = QTreeWidgetItem(self, [f"Worktrees repaired ({len(report.worktrees)})"])
        group.setIcon(0, standard_icon(self, QStyle.StandardPixmap.SP_DirIcon))
        group.setFirstColumnSpanned(True)
        group.setData(0, Qt.ItemDataRole.UserRole, WORKTREES_GROUP)
        for task_id, repair in sorted(report.worktrees.items()):
            line = describe(task_id)
            title = f"#{task_id}  " + (line.title if line else "(task no longer exists)")
            state = line.state if line else ""
            happened, why = REPAIRED[repair]
            item = QTreeWidgetItem(group, [title, state_label(state) if state else "", happened])
            item.setData(0, Qt.ItemDataRole.UserRole, task_id)
            item.setToolTip(self.TITLE_COLUMN, title)
            item.setToolTip(self.WHAT_COLUMN, why)
            if state:
                item.setIcon(self.STATE_COLUMN, state_icon(state))
            self.worktree_rows[task_id] = item
        group.setExpanded(True)

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
