"""Help → Recovery history: every stored recovery report, newest first, each shown as the
recovery screen showed it but in the past tense and without actions."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app.core.models import RecoveryReport
from app.ui.recovery_report import Describe, RecoveryReportView, headline, summary

UNCLEAN_FLAG = "⚠"
UNCLEAN_MEANING = (
    "Agentry had not shut down cleanly before this start "
    "(it was killed, crashed, or the computer restarted)."
)


def history_entry(report: RecoveryReport) -> tuple[str, str]:
    """The text and tooltip of one report in the history list."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(report.started_at))
    c = report.counts()
    parts = [f"{n} {what}" for what, n in c.items() if n]
    if report.approvals:
        parts.append(f"{len(report.approvals)} approvals")
    if report.worktrees:
        n = len(report.worktrees)
        parts.append(f"{n} worktree{'' if n == 1 else 's'} repaired")
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
