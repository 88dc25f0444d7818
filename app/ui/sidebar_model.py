"""The task sidebar's rows: tasks grouped by project, each group under a header row.

A flat list model over the window's :class:`TaskTableModel` (which stays the one cache of
what the supervisor said). Rows are either a :class:`GroupHeader` (a project: its name,
how many of its tasks the filter shows, collapsed or not) or a task id. Groups are ordered
by their most recent activity, tasks newest first within a group; the search and the
state filter decide which tasks have rows at all.

Why a flat list and not a tree: the once-a-second clock redraws the elapsed time of every
running task, and in a flat list those rows make one span — one change per tick however
many projects run something (a tree would need one change per group). Every other change
rebuilds the row list (one pass over the tasks, no Qt calls per task) and tells the view
only what moved: a layout change that keeps the selection, or a data change for the rows
whose place stayed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QWidget

from app.core.models import Task
from app.core.states import ACTIVE, RunState
from app.supervisor.workspaces import project_of
from app.ui.labels import short_path
from app.ui.task_model import (
    ARCHIVED,
    NEEDS_ATTENTION,
    STATE_FILTERS,
    TaskTableModel,
    tooltip,
)

Index = QModelIndex | QPersistentModelIndex

TASK_ROLE = Qt.ItemDataRole.UserRole + 10  # the Task of a task row, None on a header
GROUP_ROLE = Qt.ItemDataRole.UserRole + 11  # the GroupHeader of a header row, None on a task


@dataclass(frozen=True)
class GroupHeader:
    key: str  # the project's folder: the repository's main checkout, or the working folder
    count: int  # tasks of it the filter shows
    collapsed: bool
    attention: int  # of those, how many failed, timed out or were interrupted

    @property
    def name(self) -> str:
        return os.path.basename(self.key.rstrip("/\\")) or self.key


Row = GroupHeader | int  # a header, or a task id


def matches(task: Task, search: str, states: frozenset[RunState] | None) -> bool:
    """The search (id, title, agent, model, command; lower case) and the state filter."""
    if states is not None and task.state not in states:
        return False
    if not search:
        return True
    haystack = (
        f"{task.id} #{task.id} {task.title} {task.agent} {task.model or ''} "
        f"{' '.join(task.spec.argv)}"
    )
    return search in haystack.lower()


def activity(task: Task) -> float:
    """When the task was last asked to run: created, retried or followed up. Not when it
    started or ended, so that projects do not trade places as their tasks finish."""
    run = task.latest_run
    return max(task.created_at, run.created_at if run else 0.0)


class SidebarModel(QAbstractListModel):
    def __init__(self, tasks: TaskTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self._rows: list[Row] = []
        self._row_of: dict[int, int] = {}  # task id -> row
        self._search = ""
        self._states: frozenset[RunState] | None = None
        self._archived = False  # the "Archived" filter: only archived tasks, else none
        self._collapsed: set[str] = set()
        self._projects: dict[str, str] = {}  # working folder -> project folder
        tasks.modelReset.connect(self.rebuild)
        tasks.rowsInserted.connect(self.rebuild)
        tasks.rowsRemoved.connect(self.rebuild)
        tasks.dataChanged.connect(self._on_tasks_changed)
        self.rebuild()

    # ------------------------------------------------------------------ what is shown

    def set_search(self, text: str) -> None:
        self._search = text.strip().lower()
        self.rebuild()

    def set_state_filter(self, name: str) -> None:
        self._states = STATE_FILTERS.get(name)
        self._archived = name == ARCHIVED
        self.rebuild()

    def project_of(self, task: Task) -> str:
        """The task's project (the repository's main checkout, else its folder), found
        once per working folder."""
        folder = task.spec.cwd
        project = self._projects.get(folder)
        if project is None:
            project = self._projects[folder] = project_of(folder)
        return project

    def toggle(self, key: str) -> None:
        self.set_collapsed(key, key not in self._collapsed)

    def set_collapsed(self, key: str, collapsed: bool) -> None:
        if collapsed == (key in self._collapsed):
            return
        if collapsed:
            self._collapsed.add(key)
        else:
            self._collapsed.discard(key)
        self.rebuild()

    @property
    def collapsed(self) -> frozenset[str]:
        return frozenset(self._collapsed)

    # ------------------------------------------------------------------ lookups

    def row_of(self, task_id: int) -> int | None:
        return self._row_of.get(task_id)

    def header_row(self, key: str) -> int | None:
        headers = (r for r, row in enumerate(self._rows) if isinstance(row, GroupHeader))
        return next((r for r in headers if self._rows[r].key == key), None)  # type: ignore[union-attr]

    def entry(self, row: int) -> Row | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def task_at(self, row: int) -> Task | None:
        entry = self.entry(row)
        return self.tasks.task(entry) if isinstance(entry, int) else None

    def group_of(self, task_id: int) -> str | None:
        task = self.tasks.task(task_id)
        return None if task is None else self.project_of(task)

    def shown_task_count(self) -> int:
        """Tasks the filter lets through, collapsed groups included."""
        return sum(row.count for row in self._rows if isinstance(row, GroupHeader))

    # ------------------------------------------------------------------ building the rows

    def _build(self) -> list[Row]:
        groups: dict[str, list[Task]] = {}
        latest: dict[str, float] = {}
        for task in self.tasks.tasks():
            if task.archived != self._archived or not matches(task, self._search, self._states):
                continue
            key = self.project_of(task)
            groups.setdefault(key, []).append(task)
            latest[key] = max(latest.get(key, 0.0), activity(task))
        rows: list[Row] = []
        for key in sorted(groups, key=lambda k: (-latest[k], k)):
            members = sorted(groups[key], key=lambda t: -t.id)
            collapsed = key in self._collapsed
            attention = sum(t.state in NEEDS_ATTENTION and not t.dismissed for t in members)
            rows.append(GroupHeader(key, len(members), collapsed, attention))
            if not collapsed:
                rows.extend(t.id for t in members)
        return rows

    def rebuild(self, *_args: object) -> None:
        """Recompute the rows; the view keeps its selection and current row when they
        still exist (a layout change moves persistent indexes, a reset would drop them)."""
        rows = self._build()
        if rows == self._rows:
            return
        if not self._rows or not rows:
            self.beginResetModel()
            self._set_rows(rows)
            self.endResetModel()
            return
        self.layoutAboutToBeChanged.emit()
        old = self._rows
        persistent = self.persistentIndexList()
        self._set_rows(rows)
        new_row = {self._key(row): r for r, row in enumerate(rows)}
        moved = []
        for index in persistent:
            r = new_row.get(self._key(old[index.row()])) if index.row() < len(old) else None
            moved.append(self.index(r, 0) if r is not None else QModelIndex())
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def _set_rows(self, rows: list[Row]) -> None:
        self._rows = rows
        self._row_of = {row: r for r, row in enumerate(rows) if isinstance(row, int)}

    @staticmethod
    def _key(row: Row) -> object:
        return ("group", row.key) if isinstance(row, GroupHeader) else row

    def _on_tasks_changed(self, top: QModelIndex, bottom: QModelIndex, roles: list[int]) -> None:
        if top.column() == bottom.column() == TaskTableModel.DURATION:
            self._tick()
            return
        before = list(self._rows)
        self.rebuild()
        if self._rows != before:
            return  # the layout change redrew what moved
        changed = [self._row_of.get(t.id) for t in self._tasks_in(top.row(), bottom.row())]
        for row in (r for r in changed if r is not None):
            self.dataChanged.emit(self.index(row, 0), self.index(row, 0))

    def _tasks_in(self, first: int, last: int) -> list[Task]:
        return [t for r in range(first, last + 1) if (t := self.tasks.task_at(r)) is not None]

    def _tick(self) -> None:
        """The clock: one change over the span of shown running tasks (their elapsed time)."""
        rows = [self._row_of[t.id] for t in self.tasks.tasks()
                if t.state in ACTIVE and t.id in self._row_of]  # fmt: skip
        if rows:
            first, last = self.index(min(rows), 0), self.index(max(rows), 0)
            self.dataChanged.emit(first, last, [Qt.ItemDataRole.DisplayRole])

    # ------------------------------------------------------------------ Qt model API

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        entry = self.entry(index.row()) if index.isValid() else None
        if entry is None:
            return None
        if isinstance(entry, GroupHeader):
            if role == GROUP_ROLE:
                return entry
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{entry.name} ({entry.count})"
            if role == Qt.ItemDataRole.ToolTipRole:
                return short_path(entry.key)
            return None
        task = self.tasks.task(entry)
        if task is None:
            return None
        if role == TASK_ROLE:
            return task
        if role == Qt.ItemDataRole.DisplayRole:
            return task.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(task)
        return None
