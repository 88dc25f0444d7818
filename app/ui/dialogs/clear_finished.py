"""Clear finished…: a preview of the ended tasks that would be cleared (succeeded and
cancelled ones; failed ones when ticked; only the older ones when asked) and a choice to
archive them (they leave the default view) or delete them with their run folders.

Built for one project (a sidebar header's "Clear finished in this project…"), it previews
and clears only that project's tasks.

Self-contained: built with the supervisor; archiving or deleting runs in its executor,
and :attr:`ClearFinishedDialog.cleared` carries the ids of the tasks it cleared.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.models import Task
from app.supervisor.organise import Cleared, ClearFilter
from app.supervisor.supervisor import Supervisor
from app.ui.dialog_job import DialogJob
from app.ui.icons import state_icon
from app.ui.labels import plural, state_label
from app.ui.theme import error_style


def _ended(task: Task) -> str:
    run = task.latest_run
    at = (run.ended_at or run.created_at) if run else task.created_at
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))


class ClearFinishedDialog(QDialog):
    TASK, STATE, ENDED = range(3)
    cleared = Signal(list)  # ids of the tasks archived or deleted

    def __init__(
        self,
        supervisor: Supervisor,
        parent: QWidget | None = None,
        *,
        project: str | None = None,
        project_of: Callable[[Task], str] | None = None,
    ) -> None:
        """``project``: only the tasks whose ``project_of`` is that folder."""
        super().__init__(parent)
        name = Path(project).name or project if project else None
        self.setWindowTitle(f"Clear finished tasks in {name}" if name else "Clear finished tasks")
        self.supervisor = supervisor
        self.project = project
        self.project_of = project_of
        self.tasks: list[Task] = []
        self.result_: Cleared | None = None
        self._job = DialogJob("clearing finished tasks", self._failed)
        intro = QLabel(
            "Ended tasks that no longer need to be in the list. Archived tasks leave the "
            "default view and can be brought back; deleted ones are gone with their output.",
            self,
            wordWrap=True,
        )
        self.failed_box = QCheckBox("Include failed, timed-out and interrupted tasks", self)
        self.older_box = QCheckBox("Only tasks that ended more than", self)
        self.days = QSpinBox(self, minimum=1, maximum=3650, value=7, suffix=" days ago")
        self.days.setEnabled(False)
        older = QHBoxLayout()
        older.addWidget(self.older_box)
        older.addWidget(self.days)
        older.addStretch(1)
        self.table = QTreeWidget(self)
        self.table.setColumnCount(3)
        self.table.setHeaderLabels(["Task", "State", "Ended"])
        self.table.setRootIsDecorated(False)
        header = self.table.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(self.TASK, QHeaderView.ResizeMode.Stretch)
        for column in (self.STATE, self.ENDED):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.empty = QLabel("Nothing to clear: no ended task matches.", self)
        self.archive_choice = QRadioButton("Archive them", self)
        self.delete_choice = QRadioButton("Delete them with their run folders", self)
        self.archive_choice.setChecked(True)
        self.choice = QButtonGroup(self)
        self.choice.addButton(self.archive_choice)
        self.choice.addButton(self.delete_choice)
        choices = QHBoxLayout()
        choices.addWidget(self.archive_choice)
        choices.addWidget(self.delete_choice)
        choices.addStretch(1)
        self.report = QLabel(self, wordWrap=True)
        self.report.setStyleSheet(error_style())
        self.report.hide()
        self.go_button = QPushButton(self)
        self.cancel_button = QPushButton("Cancel", self)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.go_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.failed_box)
        layout.addLayout(older)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(choices)
        layout.addWidget(self.report)
        layout.addLayout(buttons)
        self.resize(760, 460)
        self.failed_box.toggled.connect(lambda _on: self.refresh())
        self.older_box.toggled.connect(self.days.setEnabled)
        self.older_box.toggled.connect(lambda _on: self.refresh())
        self.days.valueChanged.connect(lambda _v: self.refresh())
        self.choice.buttonToggled.connect(lambda _b, _on: self._update_button())
        self.go_button.clicked.connect(self.clear)
        self.cancel_button.clicked.connect(self.reject)
        self.refresh()

    @property
    def working(self) -> bool:
        return self._job.running

    def which(self) -> ClearFilter:
        days = float(self.days.value()) if self.older_box.isChecked() else None
        return ClearFilter(failed=self.failed_box.isChecked(), older_than_days=days)

    def refresh(self) -> None:
        """The preview: one quick query on the supervisor's connection."""
        tasks = self.supervisor.clearable(self.which())
        if self.project is not None and self.project_of is not None:
            tasks = [t for t in tasks if self.project_of(t) == self.project]
        self.tasks = tasks
        self.table.clear()
        for task in self.tasks:
            state = task.state.value if task.state else ""
            item = QTreeWidgetItem(
                self.table, [f"#{task.id}  {task.title}", state_label(state), _ended(task)]
            )
            item.setData(self.TASK, Qt.ItemDataRole.UserRole, task.id)
            item.setToolTip(self.TASK, task.title)
            if state:
                item.setIcon(self.STATE, state_icon(state))
        self.table.setVisible(bool(self.tasks))
        self.empty.setVisible(not self.tasks)
        self._update_button()

    def _update_button(self) -> None:
        verb = "Delete" if self.delete_choice.isChecked() else "Archive"
        self.go_button.setText(f"{verb} {plural(len(self.tasks), 'task')}")
        self.go_button.setEnabled(bool(self.tasks) and not self.working)

    def task_ids(self) -> list[int]:
        return [task.id for task in self.tasks]

    def clear(self) -> None:
        if not self.tasks or self.working:
            return
        self.go_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        delete = self.delete_choice.isChecked()
        self._job.start(self.supervisor.clear(self.task_ids(), delete=delete), self._cleared)

    def _failed(self, exc: BaseException) -> None:
        self.cancel_button.setEnabled(True)
        self._said(f"Clearing stopped: {exc}")

    def _cleared(self, cleared: Cleared) -> None:
        self.cancel_button.setEnabled(True)
        self.result_ = cleared
        done = [*cleared.archived, *(d.task_id for d in cleared.deleted)]
        self.cleared.emit(done)
        problems = [why for _task, why in cleared.refused]
        problems += [why for d in cleared.deleted for why in d.left]
        if not problems:
            self.accept()
            return
        self.refresh()
        self._said("\n".join(problems))

    def done(self, result: int) -> None:
        self._job.close()
        super().done(result)

    def _said(self, text: str) -> None:
        self.report.setText(text)
        self.report.show()
        self.cancel_button.setText("Close")
        self._update_button()
