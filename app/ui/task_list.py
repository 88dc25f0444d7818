"""The Tasks page of the main window: search, state filter, and the table of tasks.

It shows the window's model through a filter and says so when a filter hides every task;
which task is selected is read here, what selecting it does is the window's.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.models import Task
from app.ui.task_model import STATE_FILTERS, StateBadgeDelegate, TaskFilterProxy, TaskTableModel


class TaskList(QWidget):
    def __init__(self, model: TaskTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = TaskFilterProxy(self)
        self.proxy.setSourceModel(model)
        self.search = QLineEdit(self, placeholderText="Search tasks", clearButtonEnabled=True)
        self.state_filter = QComboBox(self)
        self.state_filter.addItems(list(STATE_FILTERS))
        self.table = self._build_table()
        self.no_match = QLabel(self.table.viewport(), alignment=Qt.AlignmentFlag.AlignCenter)
        self.no_match.setStyleSheet("color: gray")
        self.no_match.hide()
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.state_filter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        self._connect_signals()

    def _build_table(self) -> QTableView:
        table = QTableView(self)
        table.setModel(self.proxy)
        table.setSortingEnabled(True)
        table.sortByColumn(TaskTableModel.ID, Qt.SortOrder.DescendingOrder)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setItemDelegateForColumn(TaskTableModel.STATE, StateBadgeDelegate(table))
        table.verticalHeader().hide()
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.verticalHeader().setDefaultSectionSize(28)
        header = table.horizontalHeader()
        header.setSectionResizeMode(TaskTableModel.TITLE, QHeaderView.ResizeMode.Stretch)
        for column in (TaskTableModel.ID, TaskTableModel.AGENT, TaskTableModel.MODEL,
                       TaskTableModel.STARTED, TaskTableModel.DURATION, TaskTableModel.COST,
                       TaskTableModel.EXIT):  # fmt: skip
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(TaskTableModel.STATE, QHeaderView.ResizeMode.Fixed)
        table.setColumnWidth(TaskTableModel.STATE, 112)
        return table

    def _connect_signals(self) -> None:
        self.search.textChanged.connect(self.proxy.set_search)
        self.state_filter.currentTextChanged.connect(self.proxy.set_state_filter)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                       self.proxy.layoutChanged):  # fmt: skip
            signal.connect(self._show_no_match)

    def selected_task(self) -> Task | None:
        rows = self.table.selectionModel().selectedRows()
        return self.task_at(rows[0]) if rows else None

    def task_at(self, index: QModelIndex) -> Task | None:
        """The task of a row as the table shows it (sorted and filtered)."""
        return self.model.task_at(self.proxy.mapToSource(index).row())

    def select(self, task_id: int) -> None:
        row = self.model.row_of(task_id)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if index.isValid() and self.table.currentIndex().row() != index.row():
            self.table.selectRow(index.row())

    def fit_columns(self) -> None:
        """Model and Cost only earn their width once some task has one."""
        tasks = self.model.tasks()
        self.table.setColumnHidden(TaskTableModel.MODEL, not any(t.model for t in tasks))
        self.table.setColumnHidden(
            TaskTableModel.COST, not any(t.total_cost_usd is not None for t in tasks)
        )

    def _show_no_match(self, *_args: object) -> None:
        """A filter that hides every task says so, instead of leaving an empty table."""
        hidden_all = self.proxy.rowCount() == 0 and self.model.rowCount() > 0
        if hidden_all:
            what = f"“{self.search.text()}”" if self.search.text() else "this filter"
            self.no_match.setText(f"No tasks match {what}.")
            self.no_match.setGeometry(self.table.viewport().rect())
        self.no_match.setVisible(hidden_all)
