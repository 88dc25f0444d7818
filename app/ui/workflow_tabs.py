"""Workflows in the main window: the list on the left, a tab per open workflow, and the
commands a person gives them (start, retry the failed step, cancel).

Present only when the app hosts a workflow engine; without one every method does nothing.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QTabWidget, QWidget

from app.core.platform import current_user
from app.core.workflow_models import WorkflowDetail
from app.supervisor.commands import CommandRefused
from app.supervisor.workflows import WorkflowEngine
from app.ui.icons import state_icon
from app.ui.workflows_view import WORKFLOW_ICONS, RunWorkflowDialog, WorkflowsPanel, WorkflowView

DEMO_WORKFLOW = "demo"  # app/workflows/demo.toml


class WorkflowTabs(QObject):
    openTask = Signal(int)  # task id of a step's run
    reviewCheckpoint = Signal(int)  # checkpoint id
    started = Signal(int)  # workflow id, its tab in front

    def __init__(
        self, workflows: WorkflowEngine | None, tabs: QTabWidget, *, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.workflows = workflows
        self.tabs = tabs
        self._parent = parent
        self.panel = WorkflowsPanel(parent)
        self.panel.demoRequested.connect(self.start_demo)
        self.views: dict[int, WorkflowView] = {}

    def show_run_dialog(self, cwd: str) -> RunWorkflowDialog | None:
        if self.workflows is None:
            return None
        dialog = RunWorkflowDialog(self.workflows.definitions(), cwd, self._parent)
        dialog.started.connect(self.start)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def start(self, name: str, input_text: str, cwd: str) -> int | None:
        assert self.workflows is not None
        try:
            workflow_id = self.workflows.start(name, input_text, cwd)
        except CommandRefused as exc:
            QMessageBox.warning(self._parent, "Could not start the workflow", str(exc))
            return None
        self.started.emit(workflow_id)
        return workflow_id

    def start_demo(self) -> int | None:
        """The built-in demo workflow (the demo agent, a checkpoint): needs nothing."""
        return self.start(DEMO_WORKFLOW, "Show me how a workflow works.", str(Path.home()))

    def open(self, workflow_id: int) -> WorkflowView | None:
        if self.workflows is None:
            return None
        view = self.views.get(workflow_id)
        if view is None:
            view = WorkflowView(workflow_id, self.tabs)
            view.openTask.connect(self.openTask)
            view.reviewCheckpoint.connect(self.reviewCheckpoint)
            view.retryTransition.connect(self.retry_transition)
            view.cancelWorkflow.connect(self.cancel)
            self.views[workflow_id] = view
            self.tabs.addTab(view, state_icon("running"), f"Workflow #{workflow_id}")
        self._show(view, self.workflows.workflow(workflow_id))
        self.tabs.setCurrentWidget(view)
        return view

    def close(self, view: WorkflowView) -> None:
        self.views.pop(view.workflow_id, None)
        self.tabs.removeTab(self.tabs.indexOf(view))
        view.deleteLater()

    def refresh(self) -> None:
        if self.workflows is None:
            return
        self.panel.show_workflows(self.workflows.workflows(100))
        for workflow_id, view in self.views.items():
            self._show(view, self.workflows.workflow(workflow_id))

    def retry_transition(self, workflow_id: int) -> None:
        assert self.workflows is not None
        try:
            self.workflows.retry_transition(workflow_id)
        except CommandRefused as exc:
            QMessageBox.warning(self._parent, "Could not retry the workflow", str(exc))
        self.refresh()

    def cancel(self, workflow_id: int) -> None:
        assert self.workflows is not None
        try:
            self.workflows.cancel(workflow_id, who=current_user())
        except CommandRefused as exc:
            QMessageBox.warning(self._parent, "Could not cancel the workflow", str(exc))
        self.refresh()

    def _show(self, view: WorkflowView, detail: WorkflowDetail) -> None:
        view.show_detail(detail)
        icon = WORKFLOW_ICONS.get(detail.workflow.state.value, "queued")
        self.tabs.setTabIcon(self.tabs.indexOf(view), state_icon(icon))
