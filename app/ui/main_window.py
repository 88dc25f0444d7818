"""The main window: the task list beside live output panes, with actions, menus and status.

It renders what the bridge reports and asks the supervisor to act; it holds no task
state of its own beyond the model that caches what it was told.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QDesktopServices,
    QKeySequence,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import __version__, demo_agent
from app.core.models import Run, Task, TaskSpec
from app.core.platform import current_user
from app.core.render import Renderer
from app.core.states import ACTIVE, RunState
from app.store.settings import Settings
from app.supervisor.adapters import get_adapter_or_none, session_ability
from app.supervisor.commands import CommandRefused
from app.supervisor.events import RunStateChanged
from app.supervisor.supervisor import Supervisor
from app.supervisor.tail import OutputTail
from app.supervisor.workflows import WorkflowDetail, WorkflowEngine
from app.ui.bridge import Bridge
from app.ui.dialogs.new_task import NewTaskDialog
from app.ui.dialogs.settings import SettingsDialog
from app.ui.icons import app_icon, state_icon
from app.ui.notify import Banner
from app.ui.output_pane import OutputPane
from app.ui.recovery_history import RecoveryHistoryDialog
from app.ui.recovery_report import TaskLine
from app.ui.task_model import (
    STATE_FILTERS,
    StateBadgeDelegate,
    TaskFilterProxy,
    TaskTableModel,
)
from app.ui.workflows_view import (
    WORKFLOW_ICONS,
    RunWorkflowDialog,
    WorkflowsPanel,
    WorkflowView,
)

ATTENTION = frozenset({RunState.FAILED, RunState.TIMED_OUT, RunState.INTERRUPTED})


class MainWindow(QMainWindow):
    closeRequested = Signal()  # the window's close button: hide to tray or quit, the app decides
    quitRequested = Signal()
    runFinished = Signal(object)  # RunStateChanged to a terminal state, for notifications
    settingsApplied = Signal(object)  # Settings
    approvalsRequested = Signal()
    checkpointReviewRequested = Signal(int)

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
        self.workflows = workflows
        self.panes: dict[int, OutputPane] = {}
        self.workflow_views: dict[int, WorkflowView] = {}
        self._watched: dict[int, int] = {}  # task id -> run id whose output its pane shows
        self._preview: int | None = None  # the task whose pane is the reused preview tab
        self._max_blocks = max_blocks
        self.setWindowTitle("Agentry")
        self.setWindowIcon(app_icon())
        self.resize(1280, 780)
        self._build_actions()
        self._build_widgets()
        self._build_menus()
        self._connect_signals()
        self.reload()

    # ------------------------------------------------------------------ building

    def _build_actions(self) -> None:
        def action(
            text: str, *shortcuts: QKeySequence | QKeySequence.StandardKey | str, tip: str = ""
        ) -> QAction:
            act = QAction(text, self)
            if shortcuts:
                act.setShortcuts([QKeySequence(s) for s in shortcuts])
            act.setStatusTip(tip)
            return act

        self.new_task_action = action(
            "&New task…", QKeySequence.StandardKey.New, tip="Start an agent or command"
        )
        self.demo_action = action("Try a &demo task", tip="A built-in agent that needs nothing")
        self.cancel_action = action("&Cancel task", "Ctrl+.", tip="Stop the selected task")
        self.retry_action = action("&Retry task", "F5", "Ctrl+R", tip="Run the task again")
        self.open_folder_action = action("Open &working folder", "Ctrl+Shift+O")
        self.reveal_run_action = action("Reveal &run folder", "Ctrl+Shift+R")
        self.open_log_action = action("Open &log file", "Ctrl+L")
        self.settings_action = action("&Settings…", QKeySequence.StandardKey.Preferences)
        self.quit_action = action("&Quit", QKeySequence.StandardKey.Quit)
        self.pause_action = action("&Pause queue", "Ctrl+P", tip="Start no new tasks")
        self.pause_action.setCheckable(True)
        self.jump_action = action("&Jump to end", "End")
        self.find_action = action("&Find in output…", QKeySequence.StandardKey.Find)
        self.history_action = action("Recovery &history…")
        self.run_workflow_action = action(
            "Run &workflow…", "Ctrl+Shift+W", tip="Steps with checkpoints where you approve"
        )
        self.approvals_action = action(
            "&Approvals…", "Ctrl+Shift+A", tip="Tool calls waiting for your yes or no"
        )
        self.about_action = action("&About Agentry")

    def _build_widgets(self) -> None:
        self.banner = Banner(self)
        self.model = TaskTableModel(self)
        self.proxy = TaskFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.search = QLineEdit(self, placeholderText="Search tasks", clearButtonEnabled=True)
        self.state_filter = QComboBox(self)
        self.state_filter.addItems(list(STATE_FILTERS))
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(TaskTableModel.ID, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setItemDelegateForColumn(TaskTableModel.STATE, StateBadgeDelegate(self.table))
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().setDefaultSectionSize(28)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(TaskTableModel.TITLE, QHeaderView.ResizeMode.Stretch)
        for column in (TaskTableModel.ID, TaskTableModel.AGENT, TaskTableModel.MODEL,
                       TaskTableModel.STARTED, TaskTableModel.DURATION, TaskTableModel.COST,
                       TaskTableModel.EXIT):  # fmt: skip
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(TaskTableModel.STATE, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(TaskTableModel.STATE, 112)

        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.state_filter)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 0, 6)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.table, 1)

        self.tabs = QTabWidget(self, tabsClosable=True, movable=True, documentMode=True)
        self.right = QStackedWidget(self)
        self.welcome = self._welcome()
        self.right.addWidget(self.welcome)
        self.right.addWidget(self.tabs)
        self.pick_hint = QLabel(
            "Select a task to see its output.", self, alignment=Qt.AlignmentFlag.AlignCenter
        )
        self.pick_hint.setStyleSheet("color: gray")
        self.right.addWidget(self.pick_hint)

        self.splitter = QSplitter(self)
        self.workflows_panel = WorkflowsPanel(self)
        self.left_tabs = QTabWidget(self, documentMode=True)
        self.left_tabs.addTab(left, "Tasks")
        self.left_tabs.addTab(self.workflows_panel, "Workflows")
        self.left_tabs.setTabVisible(1, self.workflows is not None)
        self.splitter.addWidget(self.left_tabs)
        self.splitter.addWidget(self.right)
        self.splitter.setSizes([680, 600])
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        toolbar = self.addToolBar("Tasks")
        toolbar.setObjectName("tasksToolbar")
        toolbar.setMovable(False)
        for act in (self.new_task_action, self.cancel_action, self.retry_action):
            toolbar.addAction(act)
        toolbar.addSeparator()
        for act in (self.open_folder_action, self.reveal_run_action, self.pause_action):
            toolbar.addAction(act)
        toolbar.addSeparator()
        toolbar.addAction(self.approvals_action)
        self.counts_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.counts_label)
        self._clock = QTimer(self, interval=1000)

    def _welcome(self) -> QWidget:
        page = QWidget(self)
        title = QLabel("<h2>Nothing running yet</h2>", page, alignment=Qt.AlignmentFlag.AlignCenter)
        text = QLabel(
            "Agentry runs your coding agents in the background and never loses them — not to a "
            "closed window, a crash or a reboot.<br><br>See it work with the built-in demo "
            "agent, no install needed.",
            page,
            wordWrap=True,
            alignment=Qt.AlignmentFlag.AlignCenter,
        )
        text.setMaximumWidth(460)  # a readable measure, not one line across a wide window
        self.demo_button = QPushButton("Try a demo task", page)
        self.demo_button.setDefault(True)
        self.new_button = QPushButton("New task…", page)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.demo_button)
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addWidget(title)
        layout.addWidget(text, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addLayout(buttons)
        layout.addStretch(2)
        return page

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for act in (self.new_task_action, self.run_workflow_action, self.demo_action,
                    self.settings_action):  # fmt: skip
            file_menu.addAction(act)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        task_menu = bar.addMenu("&Task")
        for act in (
            self.cancel_action,
            self.retry_action,
            self.open_folder_action,
            self.reveal_run_action,
            self.open_log_action,
        ):
            task_menu.addAction(act)
        task_menu.addSeparator()
        task_menu.addAction(self.approvals_action)
        view_menu = bar.addMenu("&View")
        for act in (self.pause_action, self.jump_action, self.find_action):
            view_menu.addAction(act)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.history_action)
        help_menu.addAction(self.about_action)

    def _connect_signals(self) -> None:
        # supervisor events
        self.bridge.runStateChanged.connect(self._on_run_state)
        self.bridge.outputLines.connect(self._on_output)
        self.bridge.taskAdded.connect(self._on_task_added)
        self.bridge.taskUpdated.connect(self._on_task_updated)
        self.bridge.storeChanged.connect(self.reload)
        self.bridge.notice.connect(self._on_notice)
        # task list
        self.search.textChanged.connect(self.proxy.set_search)
        self.state_filter.currentTextChanged.connect(self.proxy.set_state_filter)
        self.no_match = QLabel(self.table.viewport(), alignment=Qt.AlignmentFlag.AlignCenter)
        self.no_match.setStyleSheet("color: gray")
        self.no_match.hide()
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                       self.proxy.layoutChanged):  # fmt: skip
            signal.connect(self._show_no_match)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(self._on_double_click)
        # panes
        self.tabs.tabCloseRequested.connect(self._close_tab)
        self.tabs.currentChanged.connect(lambda _i: self._update_actions())
        # actions
        self.new_task_action.triggered.connect(self.show_new_task)
        self.demo_action.triggered.connect(self.start_demo)
        self.demo_button.clicked.connect(self.start_demo)
        self.new_button.clicked.connect(self.show_new_task)
        self.cancel_action.triggered.connect(self.confirm_cancel)
        self.retry_action.triggered.connect(self.retry_selected)
        self.open_folder_action.triggered.connect(self.open_working_folder)
        self.reveal_run_action.triggered.connect(self.reveal_run_folder)
        self.open_log_action.triggered.connect(self._open_log)
        self.settings_action.triggered.connect(self.show_settings)
        self.quit_action.triggered.connect(self.quitRequested)
        self.pause_action.toggled.connect(self.set_paused)
        self.jump_action.triggered.connect(self._jump)
        self.find_action.triggered.connect(self._find)
        self.history_action.triggered.connect(self.show_recovery_history)
        self.approvals_action.triggered.connect(self.approvalsRequested)
        # workflows
        self.run_workflow_action.triggered.connect(self.show_run_workflow)
        self.workflows_panel.runRequested.connect(self.show_run_workflow)
        self.workflows_panel.openWorkflow.connect(self.open_workflow)
        self.bridge.workflowChanged.connect(lambda _w: self.refresh_workflows())
        self.bridge.checkpointRequested.connect(lambda _c, _w: self.refresh_workflows())
        self.about_action.triggered.connect(self._about)
        # clock: durations of running tasks
        self._clock.timeout.connect(self.model.tick)
        self._clock.start()

    # ------------------------------------------------------------------ events from the supervisor

    def reload(self) -> None:
        self.model.reload(self.supervisor.tasks())
        self.refresh_workflows()
        for task_id, pane in self.panes.items():
            task = self.model.task(task_id)
            if task is not None:
                pane.set_task(task, self._log_path(task))
        self._refresh()

    def _on_task_updated(self, task_id: int) -> None:
        task = self.supervisor.task(task_id)
        self.model.upsert(task)
        if task_id in self.panes:
            self._update_follow_up(task)

    def _on_task_added(self, task_id: int, _run_id: int) -> None:
        self.model.upsert(self.supervisor.task(task_id))
        self._refresh()

    def _on_run_state(self, event: RunStateChanged) -> None:
        task = self.supervisor.task(event.task_id)
        self.model.upsert(task)
        pane = self.panes.get(task.id)
        if pane is not None:
            if self._watched.get(task.id) != event.run_id and event.new is RunState.QUEUED:
                self._follow_new_run(task, event.run_id)
            pane.set_task(task, self._log_path(task))
            self._set_tab_look(task)
            self._update_follow_up(task)
        if event.new.is_terminal:
            self.runFinished.emit(event)
        self._refresh()

    def _on_output(self, task_id: int, run_id: int, lines: tuple[str, ...]) -> None:
        pane = self.panes.get(task_id)
        if pane is not None and self._watched.get(task_id) == run_id:
            pane.append_lines(lines)

    def _on_notice(self, level: str, text: str, _task_id: object) -> None:
        self.statusBar().showMessage(text, 15_000)

    # ------------------------------------------------------------------ panes

    def open_task(self, task_id: int, *, preview: bool = False) -> OutputPane | None:
        """Show the task's pane (opening it if needed) and select it in the list.

        ``preview``: a row merely selected in the list shows its pane in one reused
        preview tab, so clicking through the list does not pile up tabs; opening a task
        any other way (double-click, a notification, a new task) keeps its tab.
        """
        pane = self.panes.get(task_id)
        if pane is None:
            previous = self.panes.get(self._preview) if self._preview is not None else None
            task = self.model.task(task_id) or self.supervisor.task(task_id)
            pane = self._open_pane(task)
            if previous is not None:
                self._close_tab(self.tabs.indexOf(previous))
            self._preview = task_id if preview else None
            self._set_tab_look(task)
        elif not preview and self._preview == task_id:
            self._preview = None
            self._set_tab_look(self.model.task(task_id) or self.supervisor.task(task_id))
        self.tabs.setCurrentWidget(pane)
        self._select_row(task_id)
        self._refresh()
        return pane

    def open_newest_active(self) -> None:
        """On launch, show what is happening right now: the newest running task's output."""
        active = [t for t in self.model.tasks() if t.state in ACTIVE]
        if active:
            self.open_task(max(active, key=lambda t: t.id).id)

    def _open_pane(self, task: Task) -> OutputPane:
        kwargs = {} if self._max_blocks is None else {"max_blocks": self._max_blocks}
        pane = OutputPane(task.id, self._log_path(task), parent=self.tabs, **kwargs)
        adapter = get_adapter_or_none(task.agent)
        if adapter is not None and adapter.structured:
            pane.set_renderer(lambda: Renderer(adapter.parser()))
        pane.set_task(task, self._log_path(task))
        pane.followUpRequested.connect(self.send_follow_up)
        pane.resumeRequested.connect(self.resume_task)
        self.panes[task.id] = pane
        self.tabs.addTab(pane, "")
        self._set_tab_look(task)
        self._update_follow_up(task)
        self._show_earlier_runs(task, pane)
        if task.latest_run is not None:
            self._watched[task.id] = task.latest_run.id
            self.supervisor.watch_output(task.latest_run.id, from_end=True)
        return pane

    def _show_earlier_runs(self, task: Task, pane: OutputPane) -> None:
        """The task is a conversation: every run in order, then the live one."""
        runs = self.supervisor.runs(task.id)
        if len(runs) < 2:
            return
        for run in runs[:-1]:
            pane.add_separator(run_caption(run))
            tail = OutputTail.from_end(self.supervisor.output_log(run),
                                       EARLIER_RUN_BYTES)  # fmt: skip
            while lines := tail.read_lines():
                pane.append_lines(lines)
            pane.append_lines(tail.flush())
        pane.add_separator(run_caption(runs[-1]))

    def _follow_new_run(self, task: Task, run_id: int) -> None:
        old = self._watched.get(task.id)
        if old is not None:
            self.supervisor.unwatch_output(old)
        self._watched[task.id] = run_id
        run = task.latest_run
        if run is not None:
            self.panes[task.id].add_separator(run_caption(run))
        self.supervisor.watch_output(run_id)

    def _update_follow_up(self, task: Task) -> None:
        pane = self.panes.get(task.id)
        if pane is None:
            return
        ended = task.state is not None and task.state.is_terminal
        ability = session_ability(task)
        pane.set_follow_up(
            available=ability.supported,
            can_send=ended and ability.can_continue,
            can_resume=ended and ability.can_continue and task.state is RunState.INTERRUPTED,
        )

    def send_follow_up(self, task_id: int, message: str) -> bool:
        try:
            self.supervisor.follow_up(task_id, message)
        except CommandRefused as exc:
            QMessageBox.warning(self, "Could not send the follow-up", str(exc))
            return False
        self.open_task(task_id)  # a conversation in progress keeps its tab
        return True

    def resume_task(self, task_id: int) -> bool:
        try:
            self.supervisor.resume(task_id)
        except CommandRefused as exc:
            QMessageBox.warning(self, "Could not resume the session", str(exc))
            return False
        return True

    def _close_tab(self, index: int) -> None:
        pane = self.tabs.widget(index)
        if isinstance(pane, WorkflowView):
            self.workflow_views.pop(pane.workflow_id, None)
            self.tabs.removeTab(index)
            pane.deleteLater()
            return
        if not isinstance(pane, OutputPane):
            return
        run_id = self._watched.pop(pane.task_id, None)
        if run_id is not None:
            self.supervisor.unwatch_output(run_id)
        self.panes.pop(pane.task_id, None)
        if self._preview == pane.task_id:
            self._preview = None
        self.tabs.removeTab(index)
        pane.deleteLater()
        self._refresh()

    def _set_tab_look(self, task: Task) -> None:
        pane = self.panes[task.id]
        index = self.tabs.indexOf(pane)
        title = task.title if len(task.title) <= 28 else task.title[:27] + "…"
        self.tabs.setTabText(index, f"#{task.id} {title}")
        if task.state is not None:
            self.tabs.setTabIcon(index, state_icon(task.state.value))
        preview = task.id == self._preview
        tip = "\n\nPreview: the next task you select replaces it. Double-click to keep it."
        self.tabs.setTabToolTip(index, task.title + (tip if preview else ""))
        color = self.palette().color(QPalette.ColorRole.PlaceholderText) if preview else QColor()
        self.tabs.tabBar().setTabTextColor(index, color)

    def current_pane(self) -> OutputPane | None:
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, OutputPane) else None

    # ------------------------------------------------------------------ selection

    def selected_task(self) -> Task | None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            return self.model.task_at(self.proxy.mapToSource(rows[0]).row())
        pane = self.current_pane()
        return self.model.task(pane.task_id) if pane else None

    def _select_row(self, task_id: int) -> None:
        row = self.model.row_of(task_id)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if index.isValid() and self.table.currentIndex().row() != index.row():
            self.table.selectRow(index.row())

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        task = self.selected_task()
        if task is not None and selected.indexes():
            self.open_task(task.id, preview=True)
        self._update_actions()

    def _on_double_click(self, index: QModelIndex) -> None:
        task = self.model.task_at(self.proxy.mapToSource(index).row())
        if task is not None:
            self.open_task(task.id)

    # ------------------------------------------------------------------ commands

    def show_new_task(self) -> NewTaskDialog:
        task = self.selected_task()
        cwd = task.spec.cwd if task else str(Path.home())
        dialog = NewTaskDialog(
            self.supervisor.settings, cwd, self.supervisor.agent_detections(), self
        )
        dialog.submitted.connect(self.submit)
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

    def start_demo(self) -> int | None:
        return self.submit(
            TaskSpec(
                argv=tuple(demo_agent.command()),
                cwd=str(Path.home()),
                title="Demo task",
                agent="demo",
            )
        )

    def confirm_cancel(self) -> QMessageBox | None:
        task = self.selected_task()
        if task is None or task.state is None or task.state.is_terminal:
            return None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Cancel task",
            f"Stop task #{task.id} “{task.title}” and every process it started?",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        yes = box.addButton("Stop task", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep running", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.buttonClicked.connect(lambda b: self.cancel_task(task.id) if b is yes else None)
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
        if self.pause_action.isChecked() != paused:
            self.pause_action.setChecked(paused)
        self._refresh()

    def open_working_folder(self) -> None:
        task = self.selected_task()
        if task is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(task.spec.cwd))

    def reveal_run_folder(self) -> None:
        task = self.selected_task()
        if task is not None and task.latest_run is not None:
            folder = self.supervisor.run_dir(task.latest_run)
            QDesktopServices.openUrl(
                QUrl.fromLocalFile(str(folder if folder.exists() else folder.parent))
            )

    def show_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(
            self.supervisor.settings,
            self.supervisor.agent_detections(),
            self,
            self.supervisor.rules(),
        )
        dialog.applied.connect(self.apply_settings)
        dialog.ruleAdded.connect(lambda rule: self._rules_changed(dialog, add=rule))
        dialog.ruleRemoved.connect(lambda rule_id: self._rules_changed(dialog, remove=rule_id))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _rules_changed(self, dialog: SettingsDialog, *, add: dict[str, Any] | None = None,
                       remove: int | None = None) -> None:  # fmt: skip
        if add is not None:
            self.supervisor.add_rule(**add)
        if remove is not None:
            self.supervisor.remove_rule(remove)
        dialog.rules.show_rules(self.supervisor.rules())

    def apply_settings(self, settings: Settings) -> None:
        self.supervisor.apply_settings(settings)
        self.settingsApplied.emit(settings)

    def show_recovery_history(self) -> RecoveryHistoryDialog:
        dialog = RecoveryHistoryDialog(self.supervisor.recovery_history(), self.describe, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def describe(self, task_id: int) -> TaskLine | None:
        task = self.model.task(task_id)
        if task is None:
            return None
        run = task.latest_run
        return TaskLine(task.title, task.state.value if task.state else "",
                        run.exit_code if run else None,
                        session_ability(task).can_continue)  # fmt: skip

    def _open_log(self) -> None:
        pane = self.current_pane()
        if pane is not None:
            pane.open_log_file()

    def _jump(self) -> None:
        pane = self.current_pane()
        if pane is not None:
            pane.jump_to_end()

    def _find(self) -> None:
        pane = self.current_pane()
        if pane is not None:
            pane.show_find()

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About Agentry",
            f"<h3>Agentry {__version__}</h3><p>Run and supervise local AI coding "
            "agents — and never lose them.</p>"
            f"<p>Data folder: {self.supervisor.locations.data}</p>",
        )

    # ------------------------------------------------------------------ state of the window

    def _log_path(self, task: Task) -> Path | None:
        if task.latest_run is None:
            return None
        return self.supervisor.output_log(task.latest_run)

    # ------------------------------------------------------------------ workflows

    def show_run_workflow(self) -> RunWorkflowDialog | None:
        if self.workflows is None:
            return None
        task = self.selected_task()
        cwd = task.spec.cwd if task else str(Path.home())
        dialog = RunWorkflowDialog(self.workflows.definitions(), cwd, self)
        dialog.started.connect(self.start_workflow)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def start_workflow(self, name: str, input_text: str, cwd: str) -> int | None:
        assert self.workflows is not None
        try:
            workflow_id = self.workflows.start(name, input_text, cwd)
        except CommandRefused as exc:
            QMessageBox.warning(self, "Could not start the workflow", str(exc))
            return None
        self.left_tabs.setCurrentWidget(self.workflows_panel)
        self.open_workflow(workflow_id)
        return workflow_id

    def open_workflow(self, workflow_id: int) -> WorkflowView | None:
        if self.workflows is None:
            return None
        view = self.workflow_views.get(workflow_id)
        if view is None:
            view = WorkflowView(workflow_id, self.tabs)
            view.openTask.connect(self.open_task)
            view.reviewCheckpoint.connect(self.checkpointReviewRequested)
            view.retryTransition.connect(self._retry_transition)
            view.cancelWorkflow.connect(self._cancel_workflow)
            self.workflow_views[workflow_id] = view
            self.tabs.addTab(view, state_icon("running"), f"Workflow #{workflow_id}")
        self._show_workflow(view, self.workflows.workflow(workflow_id))
        self.tabs.setCurrentWidget(view)
        self._refresh()
        return view

    def refresh_workflows(self) -> None:
        if self.workflows is None:
            return
        self.workflows_panel.show_workflows(self.workflows.workflows(100))
        for workflow_id, view in self.workflow_views.items():
            self._show_workflow(view, self.workflows.workflow(workflow_id))

    def _show_workflow(self, view: WorkflowView, detail: WorkflowDetail) -> None:
        view.show_detail(detail)
        icon = WORKFLOW_ICONS.get(detail.workflow.state.value, "queued")
        self.tabs.setTabIcon(self.tabs.indexOf(view), state_icon(icon))

    def _retry_transition(self, workflow_id: int) -> None:
        assert self.workflows is not None
        try:
            self.workflows.retry_transition(workflow_id)
        except CommandRefused as exc:
            QMessageBox.warning(self, "Could not retry the workflow", str(exc))
        self.refresh_workflows()

    def _cancel_workflow(self, workflow_id: int) -> None:
        assert self.workflows is not None
        try:
            self.workflows.cancel(workflow_id, who=current_user())
        except CommandRefused as exc:
            QMessageBox.warning(self, "Could not cancel the workflow", str(exc))
        self.refresh_workflows()

    def set_waiting_approvals(self, count: int) -> None:
        """The badge: how many tool calls wait for a person."""
        self.approvals_action.setText(f"&Approvals ({count})…" if count else "&Approvals…")
        self._waiting = count
        self._refresh()

    def counts(self) -> tuple[int, int, int]:
        """(running, queued, needing attention) among the tasks shown."""
        tasks = self.model.tasks()
        running = sum(t.state in ACTIVE for t in tasks)
        queued = sum(t.state is RunState.QUEUED for t in tasks)
        attention = sum(t.state in ATTENTION for t in tasks)
        return running, queued, attention

    def _refresh(self) -> None:
        tasks = self.model.tasks()
        # Model and Cost only earn their width once some task has one.
        self.table.setColumnHidden(TaskTableModel.MODEL, not any(t.model for t in tasks))
        self.table.setColumnHidden(
            TaskTableModel.COST, not any(t.total_cost_usd is not None for t in tasks)
        )
        running, queued, attention = self.counts()
        text = f"{running} running · {queued} queued"
        if attention:
            text += f" · {attention} need attention"
        if self.supervisor.paused:
            text += " · queue paused"
        if getattr(self, "_waiting", 0):
            text += f" · {self._waiting} waiting for your answer"
        self.counts_label.setText(text)
        has_tasks = self.model.rowCount() > 0 or bool(self.panes) or bool(self.workflow_views)
        if self.tabs.count():
            self.right.setCurrentWidget(self.tabs)
        else:  # tasks but no pane open: say what to do instead of an empty area
            self.right.setCurrentWidget(self.pick_hint if has_tasks else self.welcome)
        self._update_actions()

    def _show_no_match(self, *_args: object) -> None:
        """A filter that hides every task says so, instead of leaving an empty table."""
        hidden_all = self.proxy.rowCount() == 0 and self.model.rowCount() > 0
        if hidden_all:
            what = f"“{self.search.text()}”" if self.search.text() else "this filter"
            self.no_match.setText(f"No tasks match {what}.")
            self.no_match.setGeometry(self.table.viewport().rect())
        self.no_match.setVisible(hidden_all)

    def _update_actions(self) -> None:
        task = self.selected_task()
        state = task.state if task else None
        self.cancel_action.setEnabled(state is not None and not state.is_terminal)
        self.retry_action.setEnabled(state is not None and state.is_terminal)
        for act in (self.open_folder_action, self.reveal_run_action):
            act.setEnabled(task is not None)
        self.open_log_action.setEnabled(self.current_pane() is not None)

    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()
        self.closeRequested.emit()


EARLIER_RUN_BYTES = 64 * 1024
RUN_KINDS = {"start": "started", "retry": "retried", "resume": "resumed session",
             "follow_up": "follow-up"}  # fmt: skip


def run_caption(run: Run) -> str:
    caption = f"run {run.attempt} · {RUN_KINDS.get(run.kind, run.kind)}"
    if run.kind == "follow_up" and run.prompt:
        first = run.prompt.strip().splitlines()[0]
        caption += f": {first[:100]}"
    return caption
