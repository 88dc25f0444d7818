"""Organising tasks from the window: the right-click menus of the sidebar, archiving,
deleting, "Clear finished…", Duplicate and Edit & rerun.

The supervisor decides what may be done (an archive or delete it refuses says why); this
module asks it, shows the dialogs that ask the person first, and tidies the window after:
a deleted task's tab closes, and every refusal is said in the status bar, never dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, QPoint, Qt, SignalInstance
from PySide6.QtWidgets import QDialog, QMenu

from app.core.models import Task, TaskSpec
from app.supervisor.commands import CommandRefused
from app.ui.dialogs.clear_finished import ClearFinishedDialog
from app.ui.dialogs.delete_tasks import DeleteTasksDialog
from app.ui.dialogs.new_task import NewTaskDialog
from app.ui.task_model import ARCHIVED

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

MESSAGE_MS = 15_000
D = TypeVar("D", bound=QDialog)


def _ended(task: Task) -> bool:
    return task.state is None or task.state.is_terminal


class TaskOrganiser(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.menu: QMenu | None = None  # the right-click menu shown last

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, MESSAGE_MS)

    def _task(self, task_id: int | None = None) -> Task | None:
        if task_id is None:
            return self.window.selected_task()
        return self.window.model.task(task_id) or self.window.supervisor.task(task_id)

    # ------------------------------------------------------------------ right-click menus

    def task_menu(self, task_id: int, where: QPoint) -> QMenu:
        """The Task menu's actions, for the row just right-clicked (now the selected one)."""
        self.window.task_list.select(task_id)
        menu = self._new_menu()
        self.window.action_set.fill_task_menu(menu)
        menu.popup(where)
        return menu

    def project_menu(self, key: str, where: QPoint) -> QMenu:
        sidebar = self.window.task_list.sidebar
        menu = self._new_menu()
        clear = menu.addAction("Clear finished in this project…")
        clear.triggered.connect(lambda: self.clear_finished(project=key))
        menu.addSeparator()
        collapsed = key in sidebar.collapsed
        fold = menu.addAction("Expand" if collapsed else "Collapse")
        fold.triggered.connect(lambda: sidebar.set_collapsed(key, not collapsed))
        menu.popup(where)
        return menu

    def _new_menu(self) -> QMenu:
        if self.menu is not None:
            self.menu.close()
            self.menu.deleteLater()
        self.menu = QMenu(self.window)
        return self.menu

    # ------------------------------------------------------------------ open

    def open_selected(self) -> None:
        task = self._task()
        if task is not None:
            self.window.open_task(task.id)

    # ------------------------------------------------------------------ archive

    def toggle_archive(self, task_id: int | None = None) -> Task | None:
        """Archive the task, or bring an archived one back; a refusal is said."""
        task = self._task(task_id)
        if task is None:
            return None
        supervisor = self.window.supervisor
        try:
            if task.archived:
                done = supervisor.unarchive(task.id)
                self._say(f"Task #{task.id} “{task.title}” is back in the list.")
            else:
                done = supervisor.archive(task.id)
                self._say(
                    f"Archived task #{task.id} “{task.title}”. Choose the “{ARCHIVED}” filter "
                    "to see it, and Unarchive to bring it back."
                )
        except CommandRefused as exc:
            self._say(f"Task #{task.id} was not archived: {exc}.")
            return None
        return done

    # ------------------------------------------------------------------ delete

    def delete(self, task_id: int | None = None) -> DeleteTasksDialog | None:
        """Ask before deleting an ended task; one that still runs is never offered."""
        task = self._task(task_id)
        if task is None:
            return None
        if not _ended(task):
            state = task.state.value if task.state else "new"
            self._say(
                f"Task #{task.id} “{task.title}” is still {state}: cancel it or wait for it "
                "to end, then delete it."
            )
            return None
        dialog = DeleteTasksDialog(self.window.supervisor, [task.id], self.window)
        return self._show(dialog, dialog.deleted)

    def key_pressed(self, task_id: int, archive: bool) -> None:
        """Delete or Shift+Delete on a task whose actions are off: say why."""
        if archive:
            self.toggle_archive(task_id)
        else:
            self.delete(task_id)

    def clear_finished(self, project: str | None = None) -> ClearFinishedDialog:
        sidebar = self.window.task_list.sidebar
        dialog = ClearFinishedDialog(
            self.window.supervisor, self.window, project=project, project_of=sidebar.project_of
        )
        return self._show(dialog, dialog.cleared)

    def _show(self, dialog: D, done: SignalInstance) -> D:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        done.connect(self.forget)
        dialog.open()
        return dialog

    def forget(self, task_ids: list[int]) -> None:
        """Tasks deleted or archived: the tab of one that no longer exists closes, and
        the list reloads from the store (archived ones leave it)."""
        existing = {task.id for task in self.window.supervisor.tasks()}
        for task_id in task_ids:
            pane = self.window.panes.get(task_id)
            if pane is not None and task_id not in existing:
                self.window.task_tabs.close(pane)
        self.window.reload()

    # ------------------------------------------------------------------ duplicate, rerun

    def duplicate(self, task_id: int | None = None) -> NewTaskDialog | None:
        """The New task dialog filled from the task, to change before it starts."""
        task = self._task(task_id)
        if task is None:
            return None
        dialog = self.window.show_new_task()
        dialog.fill_from(task.spec)
        dialog.setWindowTitle(f"Duplicate task #{task.id}")
        return dialog

    def edit_and_rerun(self, task_id: int | None = None) -> NewTaskDialog | None:
        """The dialog filled from an ended task; starting the new one archives this one,
        cancelling changes nothing."""
        task = self._task(task_id)
        if task is None or not _ended(task):
            return None
        dialog = self.window.show_new_task(submit=lambda spec: self._rerun(task, spec))
        dialog.fill_from(task.spec)
        dialog.setWindowTitle(f"Edit & rerun task #{task.id}")
        dialog.start_button.setText(f"Start and archive #{task.id}")
        dialog.start_button.setToolTip(f"Start the new task and archive #{task.id} (Ctrl+Enter)")
        return dialog

    def _rerun(self, old: Task, spec: TaskSpec) -> int | None:
        new_id = self.window.submit(spec)
        if new_id is None:  # not started: the old one stays as it was
            return None
        try:
            self.window.supervisor.archive(old.id)
        except CommandRefused as exc:
            self._say(f"Started task #{new_id}; #{old.id} was not archived: {exc}.")
            return new_id
        self._say(f"Started task #{new_id} and archived #{old.id} “{old.title}”.")
        return new_id
