"""The task sidebar's rows: tasks grouped by project, each group under a header row.

A flat list model over the window's :class:`TaskTableModel` (which stays the one cache of
what the supervisor said). Rows are either a :class:`GroupHeader` (a project: its name,
how many of its tasks the filter shows, collapsed or not) or a task id. Groups are ordered
by their most recent activity, tasks newest first within a group; the search and the
state filter decide which tasks have rows at all.

Why a flat list and not a tree: the once-a-second clock redraws the elapsed time of every
running task, and in a flat list those rows make one span — one change per tick however
many projects run something (a tree would need one change per group).

At 10,000 tasks a pass over all of them costs tens of milliseconds, so only what needs one
makes one: a reload, the search and the state filter. Each group keeps its shown members;
a task that changed (a new Task object from the window's model) is placed again on its
own — most often it stays where it was, and only its row (and its header, when the
group's count or attention changed) is redrawn. A new task, one leaving or entering the
filter, or groups trading places rewrite the row list from the groups (no pass over the
tasks) and tell the view with a layout change that keeps the selection; folding a group
does the same.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QWidget

from app.core.models import Task
from app.core.states import RunState
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


def _newest_first(task_id: int) -> int:
    return -task_id


def activity(task: Task) -> float:
    """When the task was last asked to run: created, retried or followed up. Not when it
    started or ended, so that projects do not trade places as their tasks finish."""
    run = task.latest_run
    return max(task.created_at, run.created_at if run else 0.0)


@dataclass(frozen=True)
class _Place:
    """Where a task stands in the sidebar, as last placed."""

    shown: bool  # the filter lets it through
    key: str  # its project
    activity: float
    attention: bool  # it counts in its header's attention figure


@dataclass
class _Group:
    members: list[int] = field(default_factory=list)  # shown task ids, newest first
    attention: int = 0

    def add(self, task_id: int) -> None:
        bisect.insort(self.members, task_id, key=_newest_first)

    def remove(self, task_id: int) -> None:
        at = bisect.bisect_left(self.members, -task_id, key=_newest_first)
        if at < len(self.members) and self.members[at] == task_id:
            del self.members[at]


class SidebarModel(QAbstractListModel):
    def __init__(self, tasks: TaskTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self._rows: list[Row] = []
        self._row_of: dict[int, int] = {}  # task id -> row
        self._header_at: dict[str, int] = {}  # group key -> its header's row
        self._search = ""
        self._states: frozenset[RunState] | None = None
        self._archived = False  # the "Archived" filter: only archived tasks, else none
        self._collapsed: set[str] = set()
        self._projects: dict[str, str] = {}  # working folder -> project folder
        self._placed: dict[int, tuple[Task, _Place]] = {}  # task id -> (as placed, where)
        self._groups: dict[str, _Group] = {}  # only groups with shown members
        self._latest: dict[str, float] = {}  # group key -> newest activity of its members
        self._order: list[str] = []  # the group keys in the order shown
        tasks.modelReset.connect(self.rebuild)
        tasks.rowsInserted.connect(self._on_tasks_inserted)
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
        self._apply(self._derive())  # no task moved: the rows come from the groups

    @property
    def collapsed(self) -> frozenset[str]:
        return frozenset(self._collapsed)

    # ------------------------------------------------------------------ lookups

    def row_of(self, task_id: int) -> int | None:
        return self._row_of.get(task_id)

    def header_row(self, key: str) -> int | None:
        return self._header_at.get(key)

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
        return sum(len(group.members) for group in self._groups.values())

    # ------------------------------------------------------------------ placing the tasks

    def _place(self, task: Task) -> _Place:
        shown = task.archived == self._archived and matches(task, self._search, self._states)
        attention = shown and task.state in NEEDS_ATTENTION and not task.dismissed
        return _Place(shown, self.project_of(task), activity(task), attention)

    def rebuild(self, *_args: object) -> None:
        """Place every task again (a reload, the search or the filter changed); the view
        keeps its selection and current row when they still exist."""
        self._placed = {}
        self._groups = {}
        self._latest = {}
        for task in self.tasks.tasks():
            place = self._place(task)
            self._placed[task.id] = (task, place)
            if place.shown:
                group = self._groups.setdefault(place.key, _Group())
                group.members.append(task.id)
                group.attention += place.attention
                self._latest[place.key] = max(self._latest.get(place.key, 0.0), place.activity)
        for group in self._groups.values():
            group.members.sort(key=_newest_first)
        self._apply(self._derive())

    def _move(self, task: Task, place: _Place) -> tuple[bool, str | None]:
        """Record the task at ``place``: (whether rows move, not only its own and its
        header's data change; the group whose header may read differently)."""
        old = self._placed.get(task.id)
        self._placed[task.id] = (task, place)
        before = old[1] if old is not None else None
        if before == place:
            return False, None
        moved = False
        stays = before is not None and before.shown and place.shown and before.key == place.key
        if before is not None and before.shown and not stays:
            self._leave(before, task.id)
            moved = True
        if not place.shown:
            return moved, None
        group = self._groups.setdefault(place.key, _Group())
        if stays:
            group.attention -= before.attention  # type: ignore[union-attr]
        else:
            group.add(task.id)
            moved = True
        group.attention += place.attention
        latest = self._latest.get(place.key)
        if latest is None or place.activity > latest:
            self._latest[place.key] = place.activity
            moved = moved or self._order_changes(place.key)
        elif stays and before.activity == latest > place.activity:  # type: ignore[union-attr]
            self._latest[place.key] = max(self._placed[t][1].activity for t in group.members)
            moved = True  # its group may fall back
        return moved, place.key

    def _leave(self, before: _Place, task_id: int) -> None:
        """Take a task out of the group it was shown in."""
        group = self._groups[before.key]
        group.remove(task_id)
        group.attention -= before.attention
        if not group.members:
            del self._groups[before.key]
            del self._latest[before.key]
        elif before.activity == self._latest[before.key]:
            self._latest[before.key] = max(self._placed[t][1].activity for t in group.members)

    def _order_changes(self, key: str) -> bool:
        """Whether the group's newer activity moves it ahead of the group shown before it."""
        if key not in self._header_at:
            return True
        at = self._order.index(key)
        if at == 0:
            return False
        previous = self._order[at - 1]
        return previous not in self._latest or self._sort_key(previous) > self._sort_key(key)

    def _sort_key(self, key: str) -> tuple[float, str]:
        return (-self._latest[key], key)

    def _derive(self) -> list[Row]:
        """The rows from the groups, newest activity first."""
        rows: list[Row] = []
        self._order = sorted(self._groups, key=self._sort_key)
        for key in self._order:
            group = self._groups[key]
            collapsed = key in self._collapsed
            rows.append(GroupHeader(key, len(group.members), collapsed, group.attention))
            if not collapsed:
                rows.extend(group.members)
        return rows

    def _update(self, tasks: list[Task]) -> None:
        """Place the tasks that changed: their rows redraw, or the rows are rewritten."""
        moved = False
        headers: set[str] = set()
        redraw: list[int] = []
        for task in tasks:
            placed = self._placed.get(task.id)
            if placed is not None and placed[0] is task:
                redraw.append(task.id)  # the same Task: only how its row reads changed
                continue
            task_moved, header = self._move(task, self._place(task))
            moved = moved or task_moved
            if header is not None:
                headers.add(header)
            redraw.append(task.id)
        if moved:
            self._apply(self._derive())
            return
        for key in headers:
            self._redraw_header(key)
        rows = [row for task_id in redraw if (row := self._row_of.get(task_id)) is not None]
        if len(rows) > 1:  # one change over the span (see TaskTableModel.tick)
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), 0))
        elif rows:
            self.dataChanged.emit(self.index(rows[0], 0), self.index(rows[0], 0))

    def _redraw_header(self, key: str) -> None:
        row = self._header_at.get(key)
        group = self._groups.get(key)
        if row is None or group is None:
            return
        header = GroupHeader(key, len(group.members), key in self._collapsed, group.attention)
        if self._rows[row] != header:
            self._rows[row] = header
            self.dataChanged.emit(self.index(row, 0), self.index(row, 0))

    # ------------------------------------------------------------------ telling the view

    def _apply(self, rows: list[Row]) -> None:
        """Show ``rows``: the view keeps its selection and current row when they still
        exist (a layout change moves persistent indexes, a reset would drop them)."""
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
        moved = []
        for index in persistent:
            entry = old[index.row()] if index.row() < len(old) else None
            r = self._new_row(entry)
            moved.append(self.index(r, 0) if r is not None else QModelIndex())
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def _new_row(self, entry: Row | None) -> int | None:
        if isinstance(entry, GroupHeader):
            return self._header_at.get(entry.key)
        return None if entry is None else self._row_of.get(entry)

    def _set_rows(self, rows: list[Row]) -> None:
        self._rows = rows
        self._row_of = {}
        self._header_at = {}
        for r, row in enumerate(rows):
            if isinstance(row, GroupHeader):
                self._header_at[row.key] = r
            else:
                self._row_of[row] = r

    def _on_tasks_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        self._update(self._tasks_in(first, last))

    def _on_tasks_changed(self, top: QModelIndex, bottom: QModelIndex, roles: list[int]) -> None:
        if top.column() == bottom.column() == TaskTableModel.DURATION:
            self._tick()
            return
        self._update(self._tasks_in(top.row(), bottom.row()))

    def _tasks_in(self, first: int, last: int) -> list[Task]:
        return [t for r in range(first, last + 1) if (t := self.tasks.task_at(r)) is not None]

    def _tick(self) -> None:
        """The clock: one change over the span of shown running tasks (their elapsed time)."""
        row_of = self._row_of
        rows = [row_of[t] for t in self.tasks.active_ids() if t in row_of]
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
