"""Delete tasks…: names what goes (each task's title, how many run folders and their
size) and what may not go and why, and deletes only when the person says so.

Measuring and deleting run in the supervisor's executor, never on the UI thread. The
dialog is self-contained: built with the supervisor and the chosen task ids, it emits
:attr:`DeleteTasksDialog.deleted` with the ids it deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import AgentryError
from app.supervisor.organise import Deleted, DeletePlan
from app.supervisor.supervisor import Supervisor
from app.ui.dialog_job import DialogJob
from app.ui.dialogs.cleanup import size_text
from app.ui.labels import plural
from app.ui.theme import error_style


class DeleteTasksDialog(QDialog):
    """Asks before deleting; a running or queued task, or one with a worktree, is listed
    with why it stays, and never deleted."""

    TASK, FOLDERS, SIZE = range(3)
    deleted = Signal(list)  # the ids of the tasks deleted

    def __init__(
        self, supervisor: Supervisor, task_ids: list[int], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Delete tasks")
        self.supervisor = supervisor
        self.task_ids = list(task_ids)
        self.plans: list[DeletePlan] = []
        self.results: list[Deleted] = []
        self._job = DialogJob("deleting tasks", self._failed)
        self.title = QLabel("<b>Looking at what deleting would remove…</b>", self, wordWrap=True)
        self.table = QTreeWidget(self)
        self.table.setColumnCount(3)
        self.table.setHeaderLabels(["Task", "Run folders", "Size"])
        self.table.setRootIsDecorated(False)
        header = self.table.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(self.TASK, QHeaderView.ResizeMode.Stretch)
        for column in (self.FOLDERS, self.SIZE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.note = QLabel(self, wordWrap=True)
        self.report = QLabel(self, wordWrap=True)
        self.report.setStyleSheet(error_style())
        self.report.hide()
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setEnabled(False)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setDefault(True)  # deleting is never what Enter does
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.report)
        layout.addLayout(buttons)
        self.resize(720, 360)
        self.delete_button.clicked.connect(self.delete)
        self.cancel_button.clicked.connect(self.reject)
        self._start(self.supervisor.delete_plan(self.task_ids), self._planned)

    @property
    def working(self) -> bool:
        return self._job.running

    def deletable(self) -> list[DeletePlan]:
        return [plan for plan in self.plans if plan.refused is None]

    def _planned(self, plans: list[DeletePlan]) -> None:
        self.plans = plans
        self.table.clear()
        for plan in plans:
            folders = plural(len(plan.folders), "folder")
            size = size_text(plan.size) if plan.size is not None else ""
            item = QTreeWidgetItem(self.table, [f"#{plan.task_id}  {plan.title}", folders, size])
            item.setData(self.TASK, Qt.ItemDataRole.UserRole, plan.task_id)
            item.setToolTip(self.TASK, "\n".join(str(f) for f in plan.folders) or plan.title)
            if plan.refused:
                item.setText(self.FOLDERS, "kept")
                item.setToolTip(self.FOLDERS, plan.refused)
                item.setDisabled(True)
        go = self.deletable()
        total = sum(plan.size or 0 for plan in go)
        count = sum(len(plan.folders) for plan in go)
        if go:
            self.title.setText(
                f"<b>Delete {plural(len(go), 'task')} and {plural(count, 'run folder')} "
                f"({size_text(total)})?</b> Their output and history are removed for good; "
                "the audit trail keeps that they were deleted."
            )
        else:
            self.title.setText("<b>Nothing here can be deleted now.</b>")
        kept = [plan.refused for plan in plans if plan.refused]
        self.note.setText("\n".join(f"Kept: {why}." for why in kept if why))
        self.note.setVisible(bool(kept))
        self.delete_button.setText(f"Delete {plural(len(go), 'task')}" if go else "Delete")
        self.delete_button.setEnabled(bool(go))

    def delete(self) -> None:
        go = [plan.task_id for plan in self.deletable()]
        if not go or self.working:
            return
        self.delete_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        self.title.setText(f"<b>Deleting {plural(len(go), 'task')}…</b>")
        self._start(self._delete_all(go), self._finished)

    async def _delete_all(self, task_ids: list[int]) -> list[Deleted | str]:
        done: list[Deleted | str] = []
        for task_id in task_ids:
            try:
                done.append(await self.supervisor.delete(task_id))
            except AgentryError as exc:  # it started again meanwhile: said, not deleted
                done.append(str(exc))
        return done

    def _finished(self, done: list[Deleted | str]) -> None:
        self.cancel_button.setEnabled(True)
        self.results = [d for d in done if isinstance(d, Deleted)]
        problems = [d for d in done if isinstance(d, str)]
        problems += [why for d in self.results for why in d.left]
        self.deleted.emit([d.task_id for d in self.results])
        if not problems:
            self.accept()
            return
        self.title.setText(f"<b>Deleted {plural(len(self.results), 'task')}.</b>")
        self.report.setText("\n".join(problems))
        self.report.show()
        self.cancel_button.setText("Close")

    def _start(self, coro: Coroutine[Any, Any, Any], then: Callable[[Any], None]) -> None:
        self._job.start(coro, then)

    def _failed(self, exc: BaseException) -> None:
        self.report.setText(f"Nothing more was deleted: {exc}")
        self.report.show()
        self.cancel_button.setEnabled(True)

    def done(self, result: int) -> None:
        self._job.close()
        super().done(result)
