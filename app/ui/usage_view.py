"""Tools → Usage: what the agents' runs cost over the last 7, 30 or 90 days — a bar per
day, and tables per agent and per project — read off the event loop through the supervisor
(app.supervisor.usage), as ``agentry usage`` prints it."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.costs import format_cost
from app.core.usage import DEFAULT_DAYS, PERIODS, Usage, UsageReport
from app.ui.approval_text import agent_label
from app.ui.dialog_job import DialogJob
from app.ui.theme import error_style
from app.ui.usage_chart import DayChart

Load = Callable[[int], Coroutine[Any, Any, UsageReport]]
"""The usage of the last N days, asked of the supervisor."""

NAME, COST, INPUT, OUTPUT, RUNS = range(5)
FIGURES = (COST, INPUT, OUTPUT, RUNS)


def usage_cells(usage: Usage) -> list[str]:
    """A table row's figures: cost (or a dash where none was reported), tokens, runs."""
    return [format_cost(usage.cost_usd) or "—", f"{usage.input_tokens:,}",
            f"{usage.output_tokens:,}", str(usage.runs)]  # fmt: skip


def total_text(report: UsageReport) -> str:
    total = report.total()
    cost = format_cost(total.cost_usd) or "no cost reported"
    runs = f"{total.runs} run{'' if total.runs == 1 else 's'}"
    tokens = f"{total.input_tokens:,} input and {total.output_tokens:,} output tokens"
    return f"<b>{cost}</b> from {report.since:%b %d} to {report.until:%b %d}: {tokens}, {runs}"


class UsageTable(QTreeWidget):
    """Agents or projects, dearest first, with their figures right-aligned."""

    def __init__(self, heading: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(5)
        self.setHeaderLabels([heading, "Cost", "Input tokens", "Output tokens", "Runs"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setStyleSheet("QTreeView::item { padding: 3px 6px 3px 2px; }")
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(NAME, header.ResizeMode.Stretch)
        for column in FIGURES:
            header.setSectionResizeMode(column, header.ResizeMode.ResizeToContents)
            self.headerItem().setTextAlignment(column, Qt.AlignmentFlag.AlignRight)

    def show_rows(self, rows: list[tuple[str, str, Usage]]) -> None:
        """(name shown, tooltip, figures) per row."""
        self.clear()
        for name, tip, usage in rows:
            item = QTreeWidgetItem(self, [name, *usage_cells(usage)])
            item.setToolTip(NAME, tip)
            for column in FIGURES:
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight)


class UsageDialog(QDialog):
    def __init__(self, load: Load, who_reports: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Usage")
        self.load = load
        self.report: UsageReport | None = None
        self._job = DialogJob("usage", self._failed)
        self.period = QComboBox(self)
        for days in PERIODS:
            self.period.addItem(f"Last {days} days", days)
        self.period.setCurrentIndex(PERIODS.index(DEFAULT_DAYS))
        self.total = QLabel(self, textFormat=Qt.TextFormat.RichText)
        self.chart = DayChart(self)
        self.agents = UsageTable("Agent", self)
        self.projects = UsageTable("Project", self)
        self.who_reports = who_reports
        self.empty = QLabel(self, alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.error = QLabel(self, wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.error.setStyleSheet(error_style())
        self.pages = QStackedWidget(self)
        self.figures = self._figures_page()
        self.pages.addWidget(self.figures)
        self.pages.addWidget(self.empty)
        self.pages.addWidget(self.error)
        self._lay_out()
        self.period.currentIndexChanged.connect(lambda _: self.refresh())
        self.finished.connect(lambda _: self._job.close())
        self.refresh()

    def _figures_page(self) -> QWidget:
        page = QWidget(self)
        tables = QHBoxLayout()
        tables.addWidget(self.agents, 2)
        tables.addWidget(self.projects, 3)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.chart, 1)
        layout.addSpacing(8)
        layout.addLayout(tables, 1)
        return page

    def _lay_out(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.period)
        top.addSpacing(12)
        top.addWidget(self.total, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.pages, 1)
        layout.addWidget(buttons)
        self.resize(900, 560)

    @property
    def days(self) -> int:
        return int(self.period.currentData())

    @property
    def loading(self) -> bool:
        return self._job.running

    def refresh(self) -> None:
        """Ask for the chosen period; the figures shown stay until the answer comes."""
        self.total.setText("Reading…")
        self._job.start(self.load(self.days), self.show_report)

    def show_report(self, report: UsageReport) -> None:
        self.report = report
        if report.empty:
            self.total.setText("")
            self.empty.setText(f"<h3>No costs recorded in the last {self.days} days</h3>"
                               f"{self.who_reports}")  # fmt: skip
            self.pages.setCurrentWidget(self.empty)
            return
        self.total.setText(total_text(report))
        self.chart.show_days(report.days())
        self.agents.show_rows([(agent_label(a), a, u) for a, u in report.by_agent()])
        self.projects.show_rows([(p, p, u) for p, u in report.by_project()])
        self.pages.setCurrentWidget(self.figures)

    def _failed(self, exc: BaseException) -> None:
        self.total.setText("")
        self.error.setText(f"Could not read the usage: {exc}")
        self.pages.setCurrentWidget(self.error)
