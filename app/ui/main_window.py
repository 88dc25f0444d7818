"""The main window: the task list beside live output panes, with actions, menus and status.

It renders what the bridge reports and asks the supervisor to act; it holds no task
state of its own beyond the model that caches what it was told. The window keeps the
layout and the one place where signals are wired (``_connect_signals``); the panes live
in :mod:`app.ui.task_tabs`, workflows in :mod:`app.ui.workflow_tabs` and the actions,
menus and toolbar in :mod:`app.ui.action_set`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QItemSelection, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QHideEvent, QResizeEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
)

from app import demo_agent
from app.core.log import get_logger
from app.core.models import Task, TaskSpec
from app.core.settings import Settings
from app.core.states import ACTIVE, RunState
from app.supervisor.adapters import session_ability
from app.supervisor.commands import CommandRefused
from app.supervisor.events import RunStateChanged
from app.supervisor.supervisor import Supervisor
from app.supervisor.workflows import WorkflowEngine
from app.ui import window_layout, window_tools
from app.ui.action_set import ActionSet
from app.ui.bridge import Bridge
from app.ui.deliveries_view import DeliveriesDialog
from app.ui.dialogs.cancel_task import CancelTaskBox
from app.ui.dialogs.cleanup import CleanupDialog
from app.ui.dialogs.export_diagnostics import ExportDiagnosticsDialog
from app.ui.dialogs.new_task import NewTaskDialog
from app.ui.dialogs.project_settings import ProjectSettingsOpener
from app.ui.dialogs.restore import RestoreDialog
from app.ui.dialogs.settings import SettingsDialog
from app.ui.folder_open import open_folder_from
from app.ui.health_view import HealthDialog
from app.ui.icons import app_icon
from app.ui.notify import Banner
from app.ui.output_pane import OutputPane
from app.ui.recovery_history import RecoveryHistoryDialog
from app.ui.recovery_report import TaskLine
from app.ui.schedules_view import NewScheduleDialog, SchedulesDialog
from app.ui.task_list import TaskList
from app.ui.task_model import QueueState, TaskTableModel
from app.ui.task_organiser import TaskOrganiser
from app.ui.task_tabs import TaskTabs
from app.ui.ui_state import ui_state
from app.ui.usage_view import UsageDialog
from app.ui.welcome import WelcomePage
from app.ui.workflow_tabs import WorkflowTabs
from app.ui.workflows_view import RunWorkflowDialog, WorkflowView

log = get_logger(__name__)

SIDEBAR_WIDTH = 330  # the task sidebar beside the task view, at any window width
STORE_CHANGES_ONE_BY_ONE = 100  # more tasks changed elsewhere at once: read them all again

_HELD_BY = {"disk": "disk full", "memory": "memory low", "CPU": "CPU busy"}
"""The status bar's word for what the resource gate holds queued tasks for."""


class MainWindow(QMainWindow):
    closeRequested = Signal()  # the window's close button: hide to tray or quit, the app decides
    quitRequested = Signal()
    runFinished = Signal(object)  # RunStateChanged to a terminal state, for notifications
    runStarted = Signal(object)  # RunStateChanged to running
    settingsApplied = Signal(object)  # Settings
    approvalsRequested = Signal()
    checkpointReviewRequested = Signal(int)
    restoreRequested = Signal(Path)  # a backup to put back: the app quits, restores, reopens

    def __init__(
        self,
        supervisor: Supervisor,
        bridge: Bridge,
        *,
        max_blocks: int | None = None,
        workflows: WorkflowEngine | None = None,
    ) -> None:
        super().__init__()
        self.supervisor = supervisor
        self.bridge = bridge
        self._waiting = 0  # tool calls and checkpoints waiting for a person
        self._built = False
        self._event_mark = 0  # the audit trail's newest event when the tasks were last read
        self.setWindowTitle("Agentry")
        self.setWindowIcon(app_icon())
        self.resize(*window_layout.DEFAULT_SIZE)
        self.action_set = ActionSet(self)
        self._build_widgets(max_blocks, workflows)
        self.action_set.add_menus()
        self._connect_signals()
        self._built = True
        self.reload()
        self.restore_layout()

    @property
    def panes(self) -> dict[int, OutputPane]:
        """The open task panes by task id (owned by the task tabs)."""
        return self.task_tabs.panes

    # ------------------------------------------------------------------ building

    def _build_widgets(self, max_blocks: int | None, workflows: WorkflowEngine | None) -> None:
        self.banner = Banner(self)
        self.model = TaskTableModel(self)
        self.task_list = TaskList(self.model, self)
        self.tabs = QTabWidget(self, tabsClosable=True, movable=True, documentMode=True)
        self.task_tabs = TaskTabs(self.supervisor, self.tabs, max_blocks=max_blocks, parent=self)
        self.workflow_tabs = WorkflowTabs(workflows, self.tabs, parent=self)
        self.right = QStackedWidget(self)
        self.welcome = WelcomePage(self)
        self.right.addWidget(self.welcome)
        self.right.addWidget(self.tabs)
        self.pick_hint = QLabel(
            "Select a task to see its output.", self, alignment=Qt.AlignmentFlag.AlignCenter
        )
        self.pick_hint.setStyleSheet("color: gray")
        self.right.addWidget(self.pick_hint)
        self.left_tabs = QTabWidget(self, documentMode=True)
        self.left_tabs.addTab(self.task_list, "Tasks")
        self.left_tabs.addTab(self.workflow_tabs.panel, "Workflows")
        self.left_tabs.setTabVisible(1, workflows is not None)
        self.splitter = QSplitter(self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.left_tabs)
        self.splitter.addWidget(self.right)
        self.splitter.setStretchFactor(0, 0)  # a wider window widens the task view
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(0, False)
        self.splitter.setSizes([SIDEBAR_WIDTH, window_layout.DEFAULT_SIZE[0] - SIDEBAR_WIDTH])
        self.setCentralWidget(self.splitter)
        self.banner.raise_()  # floats over the window: it never moves what is below it
        self.action_set.add_toolbar()
        self.counts_label = QLabel(self)
        self.counts_label.setObjectName("statusCounts")
        self.counts_label.setTextFormat(Qt.TextFormat.RichText)
        self.counts_label.setToolTip("")
        self.statusBar().addPermanentWidget(self.counts_label)
        self._clock = QTimer(self, interval=1000)
        self.project_settings = ProjectSettingsOpener(self, self.supervisor, self.apply_settings)
        self.organiser = TaskOrganiser(self)

    def _connect_signals(self) -> None:
        actions, task_tabs, workflow_tabs = self.action_set, self.task_tabs, self.workflow_tabs
        # supervisor events
        self.bridge.runStateChanged.connect(self._on_run_state)
        self.bridge.outputLines.connect(task_tabs.output)
        self.bridge.taskAdded.connect(self._on_task_added)
        self.bridge.taskUpdated.connect(self._on_task_updated)
        self.bridge.storeChanged.connect(self._on_store_changed)
        self.bridge.notice.connect(self._on_notice)
        self.bridge.workflowChanged.connect(lambda _w: workflow_tabs.refresh())
        self.bridge.checkpointRequested.connect(lambda _c, _w: workflow_tabs.refresh())
        # task list
        self.task_list.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.task_list.view.doubleClicked.connect(self._on_double_click)
        self.task_list.view.openRequested.connect(self.open_task)
        organiser = self.organiser
        self.task_list.view.deleteRequested.connect(organiser.key_pressed)
        self.task_list.taskMenuRequested.connect(organiser.task_menu)
        self.task_list.projectMenuRequested.connect(organiser.project_menu)
        actions.open_task_action.triggered.connect(organiser.open_selected)
        actions.duplicate_action.triggered.connect(lambda: organiser.duplicate())
        actions.edit_rerun_action.triggered.connect(lambda: organiser.edit_and_rerun())
        actions.archive_action.triggered.connect(lambda: organiser.toggle_archive())
        actions.delete_action.triggered.connect(lambda: organiser.delete())
        actions.clear_finished_action.triggered.connect(lambda: organiser.clear_finished())
        self.counts_label.linkActivated.connect(self.show_filter)
        # panes
        self.tabs.tabCloseRequested.connect(self._close_tab)
        actions.close_tab_action.triggered.connect(self.close_current_tab)
        actions.next_tab_action.triggered.connect(lambda: self._step_tab(1))
        actions.previous_tab_action.triggered.connect(lambda: self._step_tab(-1))
        actions.tasks_view_action.triggered.connect(self.show_tasks)
        actions.workflows_view_action.triggered.connect(self.reveal_workflow)
        for name, act in actions.filter_actions.items():
            act.triggered.connect(lambda _checked=False, name=name: self.show_filter(name))
        self.tabs.currentChanged.connect(lambda _i: self._update_actions())
        task_tabs.followedUp.connect(self.open_task)  # a conversation in progress keeps its tab
        # actions
        actions.new_task_action.triggered.connect(self.show_new_task)
        actions.demo_action.triggered.connect(self.start_demo)
        self.welcome.demo_button.clicked.connect(self.start_demo)
        self.welcome.new_button.clicked.connect(self.show_new_task)
        actions.cancel_action.triggered.connect(self.confirm_cancel)
        actions.retry_action.triggered.connect(self.retry_selected)
        actions.open_folder_action.triggered.connect(self.open_working_folder)
        actions.reveal_run_action.triggered.connect(self.reveal_run_folder)
        actions.open_log_action.triggered.connect(task_tabs.open_log)
        actions.settings_action.triggered.connect(self.show_settings)
        actions.quit_action.triggered.connect(self.quitRequested)
        actions.pause_action.toggled.connect(self.set_paused)
        actions.jump_action.triggered.connect(task_tabs.jump_to_end)
        actions.find_action.triggered.connect(task_tabs.find)
        actions.history_action.triggered.connect(self.show_recovery_history)
        actions.health_action.triggered.connect(self.show_health)
        actions.export_diagnostics_action.triggered.connect(self.show_export_diagnostics)
        actions.schedules_action.triggered.connect(self.show_schedules)
        actions.deliveries_action.triggered.connect(self.show_deliveries)
        actions.cleanup_action.triggered.connect(self.show_cleanup)
        actions.usage_action.triggered.connect(self.show_usage)
        actions.restore_action.triggered.connect(self.show_restore)
        actions.approvals_action.triggered.connect(self.approvalsRequested)
        actions.about_action.triggered.connect(self._about)
        actions.project_settings_action.triggered.connect(
            lambda: self.project_settings.open(self._selected_folder())
        )
        # workflows
        actions.run_workflow_action.triggered.connect(self.show_run_workflow)
        workflow_tabs.panel.runRequested.connect(self.show_run_workflow)
        workflow_tabs.panel.openWorkflow.connect(self.open_workflow)
        workflow_tabs.started.connect(self._workflow_started)
        workflow_tabs.openTask.connect(self.open_task)
        workflow_tabs.reviewCheckpoint.connect(self.checkpointReviewRequested)
        # clock: durations of running tasks
        self._clock.timeout.connect(self.model.tick)
        self._clock.start()

    # ------------------------------------------------------------------ events from the supervisor

    def reload(self) -> None:
        self._event_mark = self.supervisor.event_mark()  # first: a change meanwhile is read again
        self.model.reload(self.supervisor.tasks())
        self.workflow_tabs.refresh()
        for task_id in list(self.panes):
            task = self.model.task(task_id)
            if task is not None:
                self.task_tabs.task_changed(task)
        self._refresh()

    def _on_store_changed(self) -> None:
        """Another process wrote (``agentry run``, an agent's approval hook): re-read the
        tasks its events name rather than all 10,000 for one new task; a deleted task or
        many changes at once (a clear-up) read them all again."""
        mark, changed = self.supervisor.tasks_changed_since(self._event_mark)
        for task_id in (t for t, task in changed.items() if task is None):
            pane = self.panes.get(task_id)  # deleted: its tab closes, as the window's own do
            if pane is not None:
                self.task_tabs.close(pane)
        if len(changed) > STORE_CHANGES_ONE_BY_ONE or None in changed.values():
            self.reload()
            return
        self._event_mark = mark
        for task in changed.values():
            if task is not None:
                self.model.upsert(task)
                if task.id in self.panes:
                    self.task_tabs.task_changed(task)
        self.workflow_tabs.refresh()
        self._refresh()

    def _on_task_updated(self, task_id: int) -> None:
        task = self.supervisor.task(task_id)
        self.model.upsert(task)
        self.task_tabs.task_updated(task)

    def _on_task_added(self, task_id: int, _run_id: int) -> None:
        self.model.upsert(self.supervisor.task(task_id))
        self._refresh()

    def _on_run_state(self, event: RunStateChanged) -> None:
        task = self.supervisor.task(event.task_id)
        self.model.upsert(task)
        if task.lock_key is not None:  # who the others on its folder wait for has changed
            for other in self.model.tasks():
                if other.lock_key == task.lock_key and other.waiting_for is not None:
                    waiting = self.supervisor.task(other.id)
                    self.model.upsert(waiting)
                    self.task_tabs.task_changed(waiting)
        self.task_tabs.run_state_changed(task, event)
        if event.new.is_terminal:
            self.runFinished.emit(event)
        elif event.new is RunState.RUNNING:
            self.runStarted.emit(event)
        self._refresh()

    def _on_notice(self, level: str, text: str, _task_id: object) -> None:
        self.statusBar().showMessage(text, 15_000)
        self._refresh()  # the gate's hold (a full disk) is said by a notice

    # ------------------------------------------------------------------ tabs

    def open_task(self, task_id: int, *, preview: bool = False) -> OutputPane | None:
        """Show the task's pane (opening it if needed) and select it in the list.

        ``preview``: a row merely selected in the list shows its pane in one reused
        preview tab, so clicking through the list does not pile up tabs; opening a task
        any other way (double-click, a notification, a new task) keeps its tab.
        """
        task = self.model.task(task_id) or self.supervisor.task(task_id)
        pane = self.task_tabs.show(task, preview=preview)
        self.task_list.select(task_id)
        self._refresh()
        return pane

    def open_newest_active(self) -> None:
        """On launch, show what is happening right now: the newest running task's output."""
        active = [t for t in self.model.tasks() if t.state in ACTIVE]
        if active:
            self.open_task(max(active, key=lambda t: t.id).id)

    def open_workflow(self, workflow_id: int) -> WorkflowView | None:
        view = self.workflow_tabs.open(workflow_id)
        if view is not None:
            self._refresh()
        return view

    def _workflow_started(self, workflow_id: int) -> None:
        self.reveal_workflow(workflow_id)

    def reveal_workflow(self, workflow_id: int | None = None) -> None:
        """The left side's Workflows page, and the workflow's tab when one is named."""
        if not self.left_tabs.isTabVisible(1):
            return
        self.left_tabs.setCurrentWidget(self.workflow_tabs.panel)
        if isinstance(workflow_id, int):
            self.open_workflow(workflow_id)

    def show_tasks(self) -> None:
        self.left_tabs.setCurrentWidget(self.task_list)
        self.task_list.view.setFocus()

    def show_filter(self, name: str) -> None:
        """Show the Tasks page filtered to one of STATE_FILTERS (a View action or a
        count in the status bar: "filter:Running")."""
        self.show_tasks()
        self.task_list.set_filter(name.removeprefix("filter:"))

    def close_current_tab(self) -> None:
        index = self.tabs.currentIndex()
        if index >= 0:
            self._close_tab(index)

    def _step_tab(self, step: int) -> None:
        count = self.tabs.count()
        if count > 1:
            self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % count)

    def _close_tab(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if isinstance(widget, WorkflowView):
            self.workflow_tabs.close(widget)
        elif isinstance(widget, OutputPane):
            self.task_tabs.close(widget)
            self._refresh()

    # ------------------------------------------------------------------ selection

    def selected_task(self) -> Task | None:
        task = self.task_list.selected_task()
        if task is not None:
            return task
        pane = self.task_tabs.current_pane()
        return self.model.task(pane.task_id) if pane else None

    def _selected_folder(self) -> str | None:
        task = self.selected_task()
        return task.spec.cwd if task else None

    def _selected_cwd(self) -> str:
        return self._selected_folder() or str(Path.home())

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        task = self.task_list.selected_task()  # None on a project's header
        if task is not None and selected.indexes():
            self.open_task(task.id, preview=True)
        self._update_actions()

    def _on_double_click(self, index: QModelIndex) -> None:
        task = self.task_list.task_at(index)
        if task is not None:
            self.open_task(task.id)

    # ------------------------------------------------------------------ commands

    def show_new_task(self, *, submit: Callable[[TaskSpec], object] | None = None) -> NewTaskDialog:
        """``submit``: what starting does instead of :meth:`submit` (Edit & rerun)."""
        dialog = NewTaskDialog(
            self.supervisor.settings, self._selected_folder(), self.supervisor.agent_detections(),
            self, repository_of=self.supervisor.repository_of,
            state=ui_state(self.supervisor.locations),
        )  # fmt: skip
        dialog.submitted.connect(submit or self.submit)
        dialog.worktreeChosen.connect(self.remember_worktree_choice)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def submit(self, spec: TaskSpec) -> int | None:
        try:
            task_id = self.supervisor.submit(spec)
        except CommandRefused as exc:
            QMessageBox.warning(self, "Could not start the task", str(exc))
            return None
        self.open_task(task_id)
        return task_id

    def remember_worktree_choice(self, project: str, worktree: bool) -> None:
        """The next New task dialog on this repository proposes what the person chose."""
        settings = self.supervisor.settings
        chosen = {**settings.worktree_by_project, project: worktree}
        self.apply_settings(settings.replace(worktree_by_project=chosen))

    def start_demo(self) -> int | None:
        return self.submit(
            TaskSpec(
                argv=tuple(demo_agent.command()),
                cwd=str(Path.home()),
                title="Demo task",
                agent="demo",
            )
        )

    def confirm_cancel(self) -> CancelTaskBox | None:
        task = self.selected_task()
        if task is None or task.state is None or task.state.is_terminal:
            return None
        box = CancelTaskBox(task, self)
        box.confirmed.connect(self.cancel_task)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def cancel_task(self, task_id: int) -> None:
        try:
            self.supervisor.cancel(task_id)
        except CommandRefused as exc:
            self.statusBar().showMessage(str(exc), 10_000)

    def retry_selected(self) -> None:
        task = self.selected_task()
        if task is not None:
            self.retry_task(task.id)

    def retry_task(self, task_id: int) -> bool:
        try:
            self.supervisor.retry(task_id)
        except CommandRefused as exc:
            self.statusBar().showMessage(str(exc), 10_000)
            return False
        return True

    def set_paused(self, paused: bool) -> None:
        self.supervisor.set_paused(paused)
        if self.action_set.pause_action.isChecked() != paused:
            self.action_set.pause_action.setChecked(paused)
        self.action_set.show_paused(paused)
        self._refresh()

    def open_working_folder(self) -> None:
        task = self.selected_task()
        if task is not None:
            open_folder_from(self, task.spec.cwd, "working folder")

    def reveal_run_folder(self) -> None:
        task = self.selected_task()
        if task is not None and task.latest_run is not None:
            folder = self.supervisor.run_dir(task.latest_run)
            shown = folder if folder.exists() else folder.parent
            open_folder_from(self, str(shown), "run folder")

    def show_settings(self) -> SettingsDialog:
        return window_tools.settings_dialog(self, self.supervisor, self.apply_settings)

    def apply_settings(self, settings: Settings) -> None:
        self.supervisor.apply_settings(settings)
        self.settingsApplied.emit(settings)

    def show_recovery_history(self) -> RecoveryHistoryDialog:
        dialog = RecoveryHistoryDialog(self.supervisor.recovery_history(), self.describe, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def show_schedules(self) -> SchedulesDialog:
        """Tools → Schedules…: one window, brought forward when it is open already."""
        dialog = self.findChild(SchedulesDialog)
        if dialog is None:
            dialog = SchedulesDialog(self.supervisor.schedules, self.bridge, self.show_new_schedule,
                                     self)  # fmt: skip
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.raise_()
        return dialog

    def show_deliveries(self) -> DeliveriesDialog:
        """Tools → Deliveries…: one window, brought forward when it is open already."""
        dialog = self.findChild(DeliveriesDialog)
        if dialog is None:
            dialog = DeliveriesDialog(self.supervisor.notifications, self.bridge, self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.raise_()
        return dialog

    def show_new_schedule(self) -> NewScheduleDialog:
        dialog = NewScheduleDialog(
            self.supervisor.schedules, self.supervisor.settings, self._selected_folder(),
            self.supervisor.agent_detections(), self.findChild(SchedulesDialog) or self,
            repository_of=self.supervisor.repository_of,
            state=ui_state(self.supervisor.locations),
        )  # fmt: skip
        dialog.worktreeChosen.connect(self.remember_worktree_choice)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def show_cleanup(self) -> CleanupDialog:
        dialog = CleanupDialog(self.supervisor.housekeeping, self.describe, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def show_usage(self) -> UsageDialog:
        return window_tools.usage_dialog(self, self.supervisor)

    def show_health(self) -> HealthDialog:
        return window_tools.health_dialog(self, self.supervisor)

    def show_export_diagnostics(self) -> ExportDiagnosticsDialog:
        return window_tools.export_dialog(self, self.supervisor)

    def show_restore(self) -> RestoreDialog:
        """Choose a backup; the app quits, restores it and opens again."""
        dialog = window_tools.restore_dialog(self, self.supervisor.locations)
        dialog.chosen.connect(self.restoreRequested)
        return dialog

    def describe(self, task_id: int) -> TaskLine | None:
        task = self.model.task(task_id)
        if task is None:
            return None
        run = task.latest_run
        return TaskLine(task.title, task.state.value if task.state else "",
                        run.exit_code if run else None,
                        session_ability(task).can_continue)  # fmt: skip

    def show_run_workflow(self) -> RunWorkflowDialog | None:
        return self.workflow_tabs.show_run_dialog(self._selected_cwd())

    def _about(self) -> None:
        window_tools.about(self, self.supervisor.locations)

    # ------------------------------------------------------------------ state of the window

    def set_needs_you(self, task_ids: frozenset[int]) -> None:
        """The tasks a tool call or checkpoint of which waits for the person: their rows
        and tabs say "needs you"."""
        self.model.set_needs_you(task_ids)
        self.task_tabs.set_needs_you(task_ids)

    def set_waiting_approvals(self, count: int) -> None:
        """The badge: how many tool calls wait for a person."""
        self.action_set.show_waiting_approvals(count)
        self._waiting = count
        self._refresh()

    @property
    def waiting_count(self) -> int:
        """Tool calls and checkpoints waiting for a person's answer."""
        return self._waiting

    def counts(self) -> tuple[int, int, int]:
        """(running, queued, needing attention) among the tasks shown."""
        return self.model.counts()

    def _refresh(self) -> None:
        running, queued, attention = self.counts()
        color = self.palette().color(self.foregroundRole()).name()

        def link(text: str, name: str) -> str:
            return (f'<a href="filter:{name}" style="color: {color}; text-decoration: none">'
                    f"{text}</a>")  # fmt: skip

        text = f"{link(f'{running} running', 'Running')} · {link(f'{queued} queued', 'Queued')}"
        if attention:
            text += f" · {link(f'{attention} need attention', 'Needs attention')}"
        if self.supervisor.paused:
            text += " · queue paused"
        hold = self.supervisor.holding
        if hold is not None and queued:
            text += f" · queue held: {_HELD_BY[hold.resource]}"
        self.counts_label.setToolTip(hold.reason if hold is not None and queued else "")
        if self._waiting:
            text += f" · {self._waiting} waiting for your answer"
        self.counts_label.setText(text)
        self.model.set_queue(QueueState(
            paused=self.supervisor.paused, running=running,
            limit=self.supervisor.settings.max_concurrency,
            hold=hold.brief if hold is not None else None,
        ))  # fmt: skip
        has_tasks = (self.model.rowCount() > 0 or bool(self.panes)
                     or bool(self.workflow_tabs.views))  # fmt: skip
        if self.tabs.count():
            self.right.setCurrentWidget(self.tabs)
        else:  # tasks but no pane open: say what to do instead of an empty area
            self.right.setCurrentWidget(self.pick_hint if has_tasks else self.welcome)
        self._update_actions()

    def _update_actions(self) -> None:
        pane_open = self.task_tabs.current_pane() is not None
        self.action_set.update_enabled(self.selected_task(), pane_open=pane_open)

    # ------------------------------------------------------------------ remembered layout

    def restore_layout(self) -> None:
        """The size, place, splitter and collapsed projects of the last launch."""
        window_layout.restore(self, self.splitter, self.task_list.sidebar,
                              ui_state(self.supervisor.locations))  # fmt: skip

    def save_layout(self) -> None:
        window_layout.save(self, self.splitter, self.task_list.sidebar,
                           ui_state(self.supervisor.locations))  # fmt: skip

    def hideEvent(self, event: QHideEvent) -> None:
        """Hidden to the tray or quitting: the layout is kept now, whichever comes next."""
        if not event.spontaneous():
            self.save_layout()
        super().hideEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._built:  # the counts' colour
            self._refresh()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.banner.place()

    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()
        self.closeRequested.emit()
