"""The window's cache of tasks as a table model (one row per task, newest first), the
state filters, and the labels the task sidebar shows (elapsed, cost, exit).

Besides the tasks it keeps two facts the rows show that are not in a Task: which tasks
need the person (a tool call or checkpoint of theirs waits for an answer) and what the
queue is held by (paused, every slot busy, the resource gate), so a queued task can say
what it waits for."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QWidget

from app.core.costs import format_cost
from app.core.durations import format_elapsed
from app.core.models import Task
from app.core.states import ACTIVE, RunState
from app.ui.icons import state_icon
from app.ui.labels import capitalized, queue_label, state_label, waiting_label

TASK_ID_ROLE = Qt.ItemDataRole.UserRole + 2
STATE_ROLE = Qt.ItemDataRole.UserRole + 3

Index = QModelIndex | QPersistentModelIndex

ARCHIVED = "Archived"
NEEDS_ATTENTION = frozenset({RunState.FAILED, RunState.TIMED_OUT, RunState.INTERRUPTED})
# What the state filter offers, and the states each choice shows. "Archived" (the last,
# so that Ctrl+3…9 keep naming the same filters) shows the archived tasks, which every
# other choice leaves out (see SidebarModel).
STATE_FILTERS: dict[str, frozenset[RunState] | None] = {
    "All tasks": None,
    "Active": frozenset({RunState.QUEUED, *ACTIVE}),
    "Running": ACTIVE,
    "Queued": frozenset({RunState.QUEUED}),
    "Needs attention": NEEDS_ATTENTION,
    "Succeeded": frozenset({RunState.SUCCEEDED}),
    "Failed": frozenset({RunState.FAILED, RunState.TIMED_OUT}),
    "Interrupted": frozenset({RunState.INTERRUPTED}),
    "Cancelled": frozenset({RunState.CANCELLED}),
    ARCHIVED: None,
}


@dataclass(frozen=True)
class QueueState:
    """What holds queued tasks back, as the window last heard it."""

    paused: bool = False
    running: int = 0
    limit: int = 1
    hold: str | None = None  # the resource gate's short figure ("memory 93%")


class TaskTableModel(QAbstractTableModel):
    ID, TITLE, AGENT, MODEL, STATE, STARTED, DURATION, COST, EXIT = range(9)
    HEADERS = ("#", "Title", "Agent", "Model", "State", "Started", "Duration", "Cost", "Exit")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks: list[Task] = []
        self._rows: dict[int, int] = {}  # task id -> row
        self._active: set[int] = set()  # ids of the tasks whose run is active (the clock's)
        self._queued: set[int] = set()
        self._attention: set[int] = set()  # failed, timed out or interrupted, and not put away
        self._needs_you: frozenset[int] = frozenset()
        self._queue = QueueState()

    # ------------------------------------------------------------------ updates

    def reload(self, tasks: list[Task]) -> None:
        self.beginResetModel()
        self._tasks = list(tasks)
        self._reindex()
        self._active, self._queued, self._attention = set(), set(), set()
        for task in self._tasks:
            self._count(task)
        self.endResetModel()

    def upsert(self, task: Task) -> None:
        self._count(task)
        row = self._rows.get(task.id)
        if row is None:
            self.beginInsertRows(QModelIndex(), 0, 0)
            self._tasks.insert(0, task)
            self._reindex()
            self.endInsertRows()
            return
        self._tasks[row] = task
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.HEADERS) - 1))

    def tick(self) -> None:
        """Refresh the Duration of running tasks (called once a second), from the set of
        active ones rather than a pass over every task.

        One change for the span of active rows, not one per row: every change costs the
        proxy and the view Python calls, each of which waits for the interpreter lock
        while workers run git (the lag twenty refreshing Changes tabs showed)."""
        rows = [self._rows[task_id] for task_id in self._active]
        if rows:
            first, last = self.index(min(rows), self.DURATION), self.index(max(rows), self.DURATION)
            self.dataChanged.emit(first, last, [Qt.ItemDataRole.DisplayRole])

    def _count(self, task: Task) -> None:
        """File the task under what :meth:`counts` counts (and the clock redraws)."""
        state = task.state
        for ids, member in (
            (self._active, state in ACTIVE),
            (self._queued, state is RunState.QUEUED),
            (self._attention, state in NEEDS_ATTENTION and not (task.archived or task.dismissed)),
        ):
            if member:
                ids.add(task.id)
            else:
                ids.discard(task.id)

    def counts(self) -> tuple[int, int, int]:
        """(running, queued, needing attention): kept as tasks change, not counted anew
        over every task at each run's change."""
        return len(self._active), len(self._queued), len(self._attention)

    def set_needs_you(self, task_ids: frozenset[int]) -> None:
        """The tasks a tool call or checkpoint of which waits for the person."""
        changed, self._needs_you = self._needs_you ^ task_ids, task_ids
        self._changed(row for task_id in changed if (row := self._rows.get(task_id)) is not None)

    def needs_you(self, task_id: int) -> bool:
        return task_id in self._needs_you

    def set_queue(self, queue: QueueState) -> None:
        """What holds the queue; queued rows redraw only when it changed."""
        if queue == self._queue:
            return
        self._queue = queue
        self._changed(self._rows[task_id] for task_id in self._queued)

    def queue_note(self, task: Task) -> str:
        """Why this queued task has not started ("waiting: queue paused"), else ""."""
        q = self._queue
        return queue_label(task, paused=q.paused, running=q.running, limit=q.limit, hold=q.hold)

    def _changed(self, rows: Iterable[int]) -> None:
        """One change over the span of the rows (see :meth:`tick`)."""
        rows = sorted(rows)
        if rows:
            last = len(self.HEADERS) - 1
            self.dataChanged.emit(self.index(rows[0], 0), self.index(rows[-1], last))

    def _reindex(self) -> None:
        self._rows = {task.id: row for row, task in enumerate(self._tasks)}

    # ------------------------------------------------------------------ lookups

    def task_at(self, row: int) -> Task | None:
        return self._tasks[row] if 0 <= row < len(self._tasks) else None

    def row_of(self, task_id: int) -> int | None:
        return self._rows.get(task_id)

    def task(self, task_id: int) -> Task | None:
        row = self._rows.get(task_id)
        return None if row is None else self._tasks[row]

    def tasks(self) -> list[Task]:
        return list(self._tasks)

    def active_ids(self) -> frozenset[int]:
        """The tasks whose run is starting or running: what the clock redraws, found
        without a pass over every task (10,000 of them, once a second)."""
        return frozenset(self._active)

    # ------------------------------------------------------------------ Qt model API

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._tasks)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        task = self.task_at(index.row()) if index.isValid() else None
        if task is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(task, column)
        if role == TASK_ID_ROLE:
            return task.id
        if role == STATE_ROLE:
            return task.state
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(task)
        if role == Qt.ItemDataRole.DecorationRole and column == self.STATE and task.state:
            return state_icon(task.state.value)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (self.ID, self.EXIT, self.COST):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def duration(task: Task) -> float | None:
    """Seconds its latest run has taken so far (None before it starts)."""
    run = task.latest_run
    if run is None or run.started_at is None:
        return None
    end = run.ended_at if run.ended_at is not None else time.time()
    return max(0.0, end - run.started_at)


def _display(task: Task, column: int) -> str:
    run = task.latest_run
    if column == TaskTableModel.ID:
        return str(task.id)
    if column == TaskTableModel.TITLE:
        return task.title
    if column == TaskTableModel.AGENT:
        return task.agent
    if column == TaskTableModel.MODEL:
        return task.model or ""
    if column == TaskTableModel.COST:
        return format_cost(task.total_cost_usd)
    if column == TaskTableModel.STATE:
        return state_label(task.state)
    if column == TaskTableModel.STARTED:
        if task.waiting_for is not None:
            return waiting_label(task, where="")
        started = run.started_at if run else None
        return _short_time(started) if started else ""
    if column == TaskTableModel.DURATION:
        elapsed = duration(task)
        return "" if elapsed is None else format_elapsed(elapsed)
    if column == TaskTableModel.EXIT:
        return "" if run is None or run.exit_code is None else exit_label(run.exit_code)
    return ""


def exit_label(code: int) -> str:
    """A POSIX process ended by a signal reports minus its number: show the signal's name."""
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return str(code)


def _short_time(at: float) -> str:
    """Today's times as 14:05; older ones as Nov 23 (the tooltip and details have more)."""
    if time.strftime("%Y%m%d", time.localtime(at)) == time.strftime("%Y%m%d"):
        return time.strftime("%H:%M", time.localtime(at))
    return time.strftime("%b %d", time.localtime(at))


def tooltip(task: Task) -> str:
    run = task.latest_run
    lines = [
        f"Task {task.id}: {task.title}",
        f"Command: {' '.join(task.spec.argv)}",
        f"Folder: {task.spec.cwd}",
    ]
    if task.waiting_for is not None:
        waiting = waiting_label(task)
        lines.append(f"{capitalized(waiting)}: one task at a time")
    if run is not None:
        lines.append(f"Run {run.attempt}: {state_label(run.state)}")
        if run.message:
            lines.append(run.message)
    return "\n".join(lines)
