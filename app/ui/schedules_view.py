"""Tools → Schedules…: the schedules with their next and last run, Pause/Resume/Remove, and
"New schedule…" (the New task dialog, with when it runs on top).

Everything goes through the supervisor's Scheduler (``supervisor.schedules``): the view
reads its list again whenever a schedule or the database changes (``agentry schedule …``
in a terminal, an occurrence that started a task)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import AgentryError
from app.core.models import TaskSpec
from app.core.schedules import CatchUp, Overlap, Schedule, ScheduleKind
from app.core.settings import Settings
from app.supervisor.adapters import Detection
from app.supervisor.schedules import Scheduler
from app.ui.bridge import Bridge
from app.ui.dialogs.new_task import NewTaskDialog
from app.ui.dialogs.worktree_choice import RepositoryOf
from app.ui.theme import error_style
from app.ui.widgets import record_table, selected_record

COLUMNS = ("When", "What", "Next run", "Last run", "State")

_KINDS = (
    (ScheduleKind.CRON, "On a cron schedule", 'e.g. "0 9 * * 1-5": 9:00 on weekdays'),
    (ScheduleKind.EVERY, "Every", "e.g. 30m, 1h or 1h30m"),
    (ScheduleKind.AT, "Once at", "e.g. 2026-12-02 09:00 (local time)"),
)


def when_text(at: float | None, *, none: str = "—") -> str:
    return none if at is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(at))


def row_texts(schedule: Schedule) -> tuple[str, ...]:
    """What the view's row shows of a schedule, column by column."""
    last = when_text(schedule.last_run_at, none="never")
    if schedule.last_task_id is not None:
        last += f" (task {schedule.last_task_id})"
    state = "Paused" if schedule.paused else ("Done" if schedule.next_run_at is None else "Active")
    return (schedule.when, schedule.what, when_text(schedule.next_run_at), last, state)


class SchedulesDialog(QDialog):
    """The list of schedules and what can be done with them."""

    def __init__(
        self,
        scheduler: Scheduler,
        bridge: Bridge,
        new_schedule: Callable[[], QDialog],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Schedules")
        self.resize(860, 420)
        self.scheduler = scheduler
        self._new_schedule = new_schedule
        self.schedules: list[Schedule] = []
        self.table = record_table(COLUMNS, self, elide=False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.empty = QLabel(
            "No schedules yet. Use “New schedule…” to start a task by cron, every so often, "
            "or once at a time.",
            self, wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter,
        )  # fmt: skip
        self.error = QLabel(self, wordWrap=True)
        self.error.setStyleSheet(error_style())
        self.error.hide()
        self.new_button = QPushButton("New schedule…", self)
        self.pause_button = QPushButton("Pause", self)
        self.remove_button = QPushButton("Remove…", self)
        close = QPushButton("Close", self)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.pause_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.new_button.clicked.connect(self._new)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.remove_button.clicked.connect(self.confirm_remove)
        close.clicked.connect(self.accept)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        bridge.schedulesChanged.connect(self.reload)
        bridge.storeChanged.connect(self.reload)
        self.reload()

    def reload(self) -> None:
        selected = self.selected()
        self.schedules = self.scheduler.schedules()
        self.table.setRowCount(len(self.schedules))
        for row, schedule in enumerate(self.schedules):
            for column, text in enumerate(row_texts(schedule)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
            if selected is not None and schedule.id == selected.id:
                self.table.selectRow(row)
        self.table.setVisible(bool(self.schedules))
        self.empty.setVisible(not self.schedules)
        self._update_buttons()

    def selected(self) -> Schedule | None:
        return selected_record(self.table, self.schedules)

    def _update_buttons(self) -> None:
        schedule = self.selected()
        self.pause_button.setEnabled(schedule is not None)
        self.remove_button.setEnabled(schedule is not None)
        self.pause_button.setText("Resume" if schedule is not None and schedule.paused else "Pause")

    def _new(self) -> None:
        self._new_schedule().finished.connect(lambda _result: self.reload())

    def toggle_pause(self) -> None:
        schedule = self.selected()
        if schedule is not None:
            action = self.scheduler.resume if schedule.paused else self.scheduler.pause
            self._act(lambda: action(schedule.id))

    def confirm_remove(self) -> None:
        schedule = self.selected()
        if schedule is None:
            return
        answer = QMessageBox.question(
            self, "Remove schedule",
            f"Remove the schedule “{schedule.when}: {schedule.what}”? It starts no more "
            "tasks; the tasks it started stay.",
        )  # fmt: skip
        if answer == QMessageBox.StandardButton.Yes:
            self._act(lambda: self.scheduler.remove(schedule.id))

    def _act(self, action: Callable[[], object]) -> None:
        try:
            action()
        except AgentryError as exc:  # e.g. removed meanwhile from a terminal
            self.error.setText(str(exc))
            self.error.show()
        else:
            self.error.hide()
        self.reload()


class NewScheduleDialog(NewTaskDialog):
    """The New task dialog, with when it runs, what happens to runs missed while Agentry
    was closed and whether runs may overlap; the schedule is made (or refused, saying why,
    with the dialog still open) when the person presses "Add schedule"."""

    def __init__(
        self,
        scheduler: Scheduler,
        settings: Settings,
        cwd: str | None,
        detections: Mapping[str, Detection],
        parent: QWidget | None = None,
        *,
        repository_of: RepositoryOf | None = None,
        state: QSettings | None = None,
    ) -> None:
        super().__init__(settings, cwd, detections, parent, repository_of=repository_of,
                         state=state)  # fmt: skip
        self.setWindowTitle("New schedule")
        self.scheduler = scheduler
        self.start_button.setText("Add schedule")
        self.start_button.setToolTip("Add the schedule (Ctrl+Enter)")
        self.kind = QComboBox(self)
        for kind, label, _hint in _KINDS:
            self.kind.addItem(label, kind)
        self.when = QLineEdit(self)
        self.catch_up = QComboBox(self)
        self.catch_up.addItem("Run once when Agentry starts again", CatchUp.ONCE)
        self.catch_up.addItem("Skip them", CatchUp.SKIP)
        self.overlap = QComboBox(self)
        self.overlap.addItem("Skip that run", Overlap.SKIP)
        self.overlap.addItem("Start another anyway", Overlap.ALLOW)
        when_row = QHBoxLayout()
        when_row.addWidget(self.kind)
        when_row.addWidget(self.when, 1)
        self.form.insertRow(0, "Runs", when_row)
        self.form.insertRow(1, "Missed runs", self.catch_up)
        self.form.insertRow(2, "If still running", self.overlap)
        self.catch_up.setToolTip("Times that passed while Agentry was closed: never run more "
                                 "than once")  # fmt: skip
        self.overlap.setToolTip("When the schedule's previous task is still queued or running")
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()
        self._refused = False
        self.submitted.connect(self._add)
        self.when.setFocus()

    def _kind_changed(self) -> None:
        self.when.setPlaceholderText(_KINDS[self.kind.currentIndex()][2])

    def _add(self, spec: TaskSpec) -> None:
        kind = ScheduleKind(self.kind.currentData())  # Qt hands a StrEnum back as a str
        text = self.when.text().strip()
        if kind is ScheduleKind.AT:
            text = text.replace(" ", "T", 1)  # "2026-12-02 09:00" as people write it
        try:
            self.scheduler.add(spec, kind, text, catch_up=CatchUp(self.catch_up.currentData()),
                               overlap=Overlap(self.overlap.currentData()))  # fmt: skip
        except AgentryError as exc:  # a bad time or a task a submit would refuse
            self._refused = True
            self.error.setText(str(exc))
            self.error.show()
            self.when.setFocus()
        else:
            self._refused = False

    def accept(self) -> None:
        if self._refused:  # stays open with the reason shown
            self._refused = False
            return
        super().accept()
