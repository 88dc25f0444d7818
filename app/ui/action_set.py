"""The main window's commands as QActions: their texts, shortcuts and tips, the menus and the
toolbar that show them, and when each is enabled.

The actions only say what the person asked for; the window connects each one to what it
does (in ``MainWindow._connect_signals``).
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from app.core.models import Task
from app.ui.task_model import STATE_FILTERS


class ActionSet:
    def __init__(self, window: QMainWindow) -> None:
        self._window = window
        action = self._action
        self.new_task_action = action(
            "&New task…", QKeySequence.StandardKey.New, tip="Start an agent or command"
        )
        self.demo_action = action("Try a &demo task", tip="A built-in agent that needs nothing")
        self.cancel_action = action("&Cancel task", "Ctrl+.", tip="Stop the selected task")
        self.retry_action = action("&Retry task", "F5", "Ctrl+R", tip="Run the task again")
        self.open_task_action = action("&Open", tip="Open the task's output in a tab")
        self.duplicate_action = action(
            "D&uplicate…", tip="A new task with the same choices, to change before it starts"
        )
        self.edit_rerun_action = action(
            "&Edit && rerun…", tip="Change the task's choices, start it again and archive this one"
        )
        self.archive_action = action(
            "Arc&hive",
            "Shift+Del",
            tip="Move the ended task out of the list (View ▸ Show tasks ▸ Archived)",
        )
        self.delete_action = action(
            "&Delete…", "Del", tip="Delete the ended task with its output, after asking"
        )
        self.clear_finished_action = action(
            "Clear &finished…", tip="Archive or delete ended tasks, after a preview"
        )
        self.open_folder_action = action("Open &working folder", "Ctrl+Shift+O")
        self.reveal_run_action = action("Reveal &run folder", "Ctrl+Shift+R")
        self.open_log_action = action("Open &log file", "Ctrl+L")
        self.settings_action = action("&Settings…", QKeySequence.StandardKey.Preferences)
        self.restore_action = action(
            "Restore a &backup…",
            tip="Put an earlier copy of the database back; Agentry restarts to do it",
        )
        self.quit_action = action("&Quit", QKeySequence.StandardKey.Quit)
        self.pause_action = action("&Pause queue", "Ctrl+P", tip="Start no new tasks")
        self.pause_action.setCheckable(True)
        self.jump_action = action("&Jump to end", "End")
        self.find_action = action("&Find in output…", QKeySequence.StandardKey.Find)
        self.history_action = action("Recovery &history…")
        self.health_action = action(
            "&Health…", tip="The database, disk, runners, approvals and agents: what to do"
        )
        self.export_diagnostics_action = action(
            "&Export diagnostics…", tip="A zip of logs and reports for a bug report, redacted"
        )
        self.usage_action = action(
            "&Usage…", tip="Cost and tokens per day, agent and project, as the agents report them"
        )
        self.schedules_action = action(
            "&Schedules…", tip="Tasks started by cron, every so often, or once at a time"
        )
        self.deliveries_action = action(
            "&Deliveries…",
            tip="Notifications sent to webhooks, ntfy, Slack and Discord, with each attempt",
        )
        self.cleanup_action = action(
            "&Clean up…", tip="Remove worktrees, folders and runners that no task needs"
        )
        self.run_workflow_action = action(
            "Run &workflow…", "Ctrl+Shift+W", tip="Steps with checkpoints where you approve"
        )
        self.approvals_action = action(
            "&Approvals…", "Ctrl+Shift+A", tip="Tool calls waiting for your yes or no"
        )
        # Moving around: Ctrl+1 and Ctrl+2 pick the left side's page, Ctrl+3…9 the task
        # filters; the tabs on the right are walked with Ctrl+Tab and closed with Ctrl+W.
        self.close_tab_action = action("&Close tab", "Ctrl+W")
        self.next_tab_action = action("&Next tab", "Ctrl+Tab", "Ctrl+PgDown")
        self.previous_tab_action = action("P&revious tab", "Ctrl+Shift+Tab", "Ctrl+PgUp")
        self.tasks_view_action = action("&Tasks", "Ctrl+1", tip="The task list")
        self.workflows_view_action = action("W&orkflows", "Ctrl+2", tip="The workflow list")
        self.filter_actions = {
            name: action(name, *([f"Ctrl+{n}"] if n <= 9 else []), tip=f"Show {name.lower()}")
            for n, name in enumerate(STATE_FILTERS, start=3)
        }
        self.about_action = action("&About Agentry")
        self.project_settings_action = action(
            "&Project settings…",
            tip="A repository's worktrees: files to copy, setup and check commands",
        )

    def _action(
        self, text: str, *shortcuts: QKeySequence | QKeySequence.StandardKey | str, tip: str = ""
    ) -> QAction:
        act = QAction(text, self._window)
        if shortcuts:
            act.setShortcuts([QKeySequence(s) for s in shortcuts])
        act.setStatusTip(tip)
        return act

    def task_menu_actions(self) -> list[QAction | None]:
        """What can be done to one task, in the Task menu and a task's right-click menu
        (None: a separator)."""
        return [
            self.open_task_action, self.cancel_action, self.retry_action,
            self.duplicate_action, self.edit_rerun_action, None,
            self.archive_action, self.delete_action, None,
            self.open_folder_action, self.reveal_run_action,
        ]  # fmt: skip

    def fill_task_menu(self, menu: QMenu) -> None:
        for act in self.task_menu_actions():
            if act is None:
                menu.addSeparator()
            else:
                menu.addAction(act)

    def add_toolbar(self) -> None:
        toolbar = self._window.addToolBar("Tasks")
        toolbar.setObjectName("tasksToolbar")
        toolbar.setMovable(False)
        for act in (self.new_task_action, self.cancel_action, self.retry_action):
            toolbar.addAction(act)
        toolbar.addSeparator()
        for act in (self.open_folder_action, self.reveal_run_action, self.pause_action):
            toolbar.addAction(act)
        toolbar.addSeparator()
        toolbar.addAction(self.approvals_action)

    def add_menus(self) -> None:
        bar = self._window.menuBar()
        file_menu = bar.addMenu("&File")
        for act in (self.new_task_action, self.run_workflow_action, self.demo_action,
                    self.settings_action):  # fmt: skip
            file_menu.addAction(act)
        file_menu.addSeparator()
        file_menu.addAction(self.restore_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        task_menu = bar.addMenu("&Task")
        self.fill_task_menu(task_menu)
        task_menu.addAction(self.open_log_action)
        task_menu.addSeparator()
        task_menu.addAction(self.approvals_action)
        view_menu = bar.addMenu("&View")
        for act in (self.tasks_view_action, self.workflows_view_action):
            view_menu.addAction(act)
        filters = view_menu.addMenu("&Show tasks")
        for act in self.filter_actions.values():
            filters.addAction(act)
        view_menu.addSeparator()
        for act in (self.next_tab_action, self.previous_tab_action, self.close_tab_action):
            view_menu.addAction(act)
        view_menu.addSeparator()
        for act in (self.pause_action, self.jump_action, self.find_action):
            view_menu.addAction(act)
        tools_menu = bar.addMenu("T&ools")
        tools_menu.addAction(self.usage_action)
        tools_menu.addAction(self.project_settings_action)
        tools_menu.addAction(self.schedules_action)
        tools_menu.addAction(self.deliveries_action)
        tools_menu.addAction(self.clear_finished_action)
        tools_menu.addAction(self.cleanup_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.health_action)
        help_menu.addAction(self.history_action)
        help_menu.addAction(self.export_diagnostics_action)
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)

    def update_enabled(self, task: Task | None, *, pane_open: bool) -> None:
        """What can be done to the selected task, and to the output pane in front."""
        state = task.state if task else None
        self.cancel_action.setEnabled(state is not None and not state.is_terminal)
        self.retry_action.setEnabled(state is not None and state.is_terminal)
        ended = task is not None and (state is None or state.is_terminal)
        for act in (self.open_task_action, self.duplicate_action):
            act.setEnabled(task is not None)
        self.edit_rerun_action.setEnabled(ended)
        self.delete_action.setEnabled(ended)
        archived = task is not None and task.archived
        self.archive_action.setText("Unarc&hive" if archived else "Arc&hive")
        self.archive_action.setEnabled(ended or archived)
        for act in (self.open_folder_action, self.reveal_run_action):
            act.setEnabled(task is not None)
        self.open_log_action.setEnabled(pane_open)
        for act in (self.jump_action, self.find_action):
            act.setEnabled(pane_open)

    def show_paused(self, paused: bool) -> None:
        """The Pause button shows the queue's state: pressed and "Resume queue" while
        paused, so a paused queue is seen where it is undone."""
        self.pause_action.setText("&Resume queue" if paused else "&Pause queue")
        self.pause_action.setStatusTip(
            "New tasks wait until you resume the queue" if paused else "Start no new tasks"
        )
        self.pause_action.setToolTip(
            "Queue paused: click to start queued tasks again" if paused else "Start no new tasks"
        )

    def show_waiting_approvals(self, count: int) -> None:
        """The badge: how many tool calls wait for a person."""
        self.approvals_action.setText(f"&Approvals ({count})…" if count else "&Approvals…")
