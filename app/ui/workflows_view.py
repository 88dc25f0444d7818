"""Workflows in the app: the list, one workflow as a vertical timeline of its steps, the
checkpoint dialog (approve, edit, reject with notes) and the dialog that starts one."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.workflow_defs import WorkflowDef
from app.core.workflow_models import Checkpoint, Step, Workflow, WorkflowDetail
from app.core.workflow_states import CheckpointState, Resolution, StepState, WorkflowState
from app.supervisor.workflow_catalog import Catalog
from app.supervisor.workflow_transitions import retryable_of
from app.ui.icons import state_icon
from app.ui.theme import error_style, warning_style

STEP_ICONS = {
    StepState.RUNNING: "running",
    StepState.SUCCEEDED: "succeeded",
    StepState.FAILED: "failed",
    StepState.CANCELLED: "cancelled",
}
WORKFLOW_ICONS = {
    "pending": "queued",
    "running": "running",
    "awaiting_checkpoint": "interrupted",
    "completed": "succeeded",
    "rejected": "cancelled",
    "failed": "failed",
    "cancelled": "cancelled",
}
WORKFLOW_LABELS = {  # a workflow's state as the app says it
    WorkflowState.PENDING: "Waiting to start",
    WorkflowState.RUNNING: "Running",
    WorkflowState.AWAITING_CHECKPOINT: "Waiting for your review",
    WorkflowState.COMPLETED: "All steps completed",
    WorkflowState.REJECTED: "Rejected at a checkpoint",
    WorkflowState.FAILED: "Failed",
    WorkflowState.CANCELLED: "Cancelled",
}
CHECKPOINT_NOTE = "Checkpoint steps wait for your review before the next step starts."


# (checkpoint id, action, edited text, notes, rerun the step) -> whether it was recorded
Resolver = Callable[[int, Resolution, str | None, str | None, bool], bool]


def workflow_label(state: WorkflowState) -> str:
    return WORKFLOW_LABELS.get(state, state.value.replace("_", " ").capitalize())


class CheckpointDialog(QDialog):
    """A step's result waits: approve it, approve an edited version, or reject with notes."""

    # checkpoint id, Resolution, edited text or None, notes or None, rerun
    resolved = Signal(int, object, object, object, bool)

    def __init__(self, checkpoint: Checkpoint, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.checkpoint = checkpoint
        # Records a resolution and says whether it took; without one, the signal is sent
        # and the dialog closes (as before).
        self.resolver: Resolver | None = None
        self.setWindowTitle(f"Checkpoint — {checkpoint.workflow_name} · {checkpoint.step_name}")
        self.resize(760, 540)
        intro = QLabel(
            f"Step <b>{html.escape(checkpoint.step_name)}</b> of workflow "
            f"<b>{html.escape(checkpoint.workflow_name)}</b> finished. Its result is what the "
            "next steps will receive — approve it, edit it, or reject it.",
            self,
            wordWrap=True,
        )
        self.hint = QLabel("Edit the text to change what later steps receive", self)
        self.hint.setStyleSheet("color: gray")
        self.text = QPlainTextEdit(checkpoint.result_text, self)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.notes = QLineEdit(self, placeholderText="Notes for a rejection (the step sees them)")
        self.rerun = QCheckBox("Re-run the step with these notes (otherwise the workflow ends)")
        self.approve_button = QPushButton("Approve", self)
        self.reject_button = QPushButton("Reject", self)
        self.approve_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.rerun, 1)
        buttons.addWidget(self.reject_button)
        buttons.addWidget(self.approve_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.hint)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.notes)
        self.status = QLabel(self, wordWrap=True)
        self.status.setStyleSheet(warning_style())
        self.status.hide()
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.text.textChanged.connect(self._edited)
        self.approve_button.clicked.connect(self.approve)
        self.reject_button.clicked.connect(self.reject_checkpoint)

    @property
    def edited(self) -> bool:
        return self.text.toPlainText() != self.checkpoint.result_text

    def _edited(self) -> None:
        self.approve_button.setText("Approve with edits" if self.edited else "Approve")

    def approve(self) -> None:
        if self.edited:
            self._resolve(Resolution.EDIT, self.text.toPlainText(), None, False)
        else:
            self._resolve(Resolution.APPROVE, None, None, False)

    def reject_checkpoint(self) -> None:
        notes = self.notes.text().strip() or None
        self._resolve(Resolution.REJECT, None, notes, self.rerun.isChecked())

    def _resolve(
        self, action: Resolution, edited: str | None, notes: str | None, rerun: bool
    ) -> None:
        if self.resolver is None:
            self.resolved.emit(self.checkpoint.id, action, edited, notes, rerun)
            self.accept()
        elif self.resolver(self.checkpoint.id, action, edited, notes, rerun):
            self.accept()
        # else: it stays open with the person's text; the app said why it did not take

    def resolved_elsewhere(self, checkpoint: Checkpoint) -> None:
        """Someone else (the CLI, another window) decided first: say so, keep the text."""
        who = f" by {checkpoint.resolved_by}" if checkpoint.resolved_by else ""
        self.status.setText(
            f"This checkpoint was already {checkpoint.state.value}{who}. Your text is still "
            "here to copy; nothing more can be decided in this window."
        )
        self.status.show()
        for widget in (self.approve_button, self.reject_button, self.notes, self.rerun):
            widget.setEnabled(False)


class RunWorkflowDialog(QDialog):
    started = Signal(str, str, str)  # name, input, folder

    def __init__(self, catalog: Catalog, cwd: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run a workflow")
        self.setMinimumWidth(560)
        self.catalog = catalog
        self.workflow = QComboBox(self)
        for name, definition in sorted(catalog.workflows.items()):
            self.workflow.addItem(name, name)
            self.workflow.setItemData(
                self.workflow.count() - 1, definition.description, Qt.ItemDataRole.ToolTipRole
            )
        self.description = QLabel(self, wordWrap=True)
        self.input = QPlainTextEdit(self)
        self.input.setPlaceholderText("The workflow's input, e.g. what to build")
        self.input.setFixedHeight(90)
        self.cwd = QLineEdit(cwd, self)
        browse = QPushButton("Browse…", self)
        self.error = QLabel(self, wordWrap=True)
        self.error.setStyleSheet(error_style())
        self.error.setVisible(bool(catalog.problems))
        self.error.setText("\n".join(f"Skipped {p}" for p in catalog.problems))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.start_button = buttons.addButton("Start", QDialogButtonBox.ButtonRole.AcceptRole)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.cwd, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Workflow", self.workflow)
        form.addRow("", self.description)
        form.addRow("Input", self.input)
        form.addRow("Working folder", folder_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.workflow.currentIndexChanged.connect(self._describe)
        browse.clicked.connect(self._browse)
        buttons.accepted.connect(self.try_accept)
        buttons.rejected.connect(self.reject)
        self._describe()

    def _describe(self) -> None:
        definition = self.catalog.workflows.get(self.workflow.currentData() or "")
        if definition is not None:
            note = f"\n{CHECKPOINT_NOTE}" if any(s.checkpoint for s in definition.steps) else ""
            self.description.setText(
                f"{definition.description}\nSteps: {_step_line(definition)}{note}"
            )

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Working folder", self.cwd.text())
        if folder:
            self.cwd.setText(folder)

    def try_accept(self) -> None:
        folder = Path(self.cwd.text().strip()).expanduser()
        if not self.cwd.text().strip() or not folder.is_dir():
            self.error.setText("Working folder: choose an existing folder")
            self.error.show()
            return
        if not self.workflow.currentData():
            self.error.setText("There is no usable workflow")
            self.error.show()
            return
        self.started.emit(self.workflow.currentData(), self.input.toPlainText(), str(folder))
        self.accept()


def _step_line(definition: WorkflowDef) -> str:
    """The steps in order; a checkpoint is said in words (no glyph a font may lack)."""
    return " → ".join(s.name + (" (checkpoint)" if s.checkpoint else "") for s in definition.steps)


class WorkflowView(QWidget):
    """One workflow: its steps top to bottom, each with state, result and its task."""

    openTask = Signal(int)
    reviewCheckpoint = Signal(int)
    retryTransition = Signal(int)
    cancelWorkflow = Signal(int)

    def __init__(self, workflow_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workflow_id = workflow_id
        self.header = QLabel(self, wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.error = QLabel(self, wordWrap=True)
        self.error.setStyleSheet(error_style())
        self.retry_button = QPushButton("Retry transition", self)
        self.cancel_button = QPushButton("Cancel workflow", self)
        self.steps = QWidget(self)
        self.steps_layout = QVBoxLayout(self.steps)
        self.steps_layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea(self, widgetResizable=True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.steps)
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.cancel_button)
        errors = QHBoxLayout()
        errors.addWidget(self.error, 1)
        errors.addWidget(self.retry_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(errors)
        layout.addWidget(scroll, 1)
        self.retry_button.clicked.connect(lambda: self.retryTransition.emit(self.workflow_id))
        self.cancel_button.clicked.connect(lambda: self.cancelWorkflow.emit(self.workflow_id))
        self.rows: list[QFrame] = []

    def show_detail(self, detail: WorkflowDetail) -> None:
        workflow = detail.workflow
        self.header.setText(
            f"<b>{html.escape(workflow.name)}</b> #{workflow.id} · "
            f"{html.escape(workflow_label(workflow.state))}"
            f"<br><span style='color:gray'>input: {html.escape(workflow.input[:200])} · "
            f"in {html.escape(workflow.cwd)}</span>"
            + (f"<br>{html.escape(workflow.message)}" if workflow.message else "")
        )
        has_error = bool(workflow.error)
        retry_step = None if has_error else retryable_of(workflow, detail.steps)
        self.error.setVisible(has_error or retry_step is not None)
        self.retry_button.setVisible(has_error or retry_step is not None)
        if has_error:
            self.retry_button.setText("Retry transition")
            self.error.setText(f"A transition failed and was undone: {workflow.error}")
        elif retry_step is not None:
            self.retry_button.setText(f"Retry step “{retry_step.name}”")
            self.error.setText(
                f"Step “{retry_step.name}” {retry_step.state.value}. Fix the cause (see its "
                "task), then run it again as it was."
            )
        else:
            self.error.setText("")
        self.cancel_button.setEnabled(not workflow.state.is_terminal)
        for row in self.rows:
            row.deleteLater()
        self.rows = [
            self._row(detail, index, step.name, step.checkpoint)
            for index, step in enumerate(workflow.definition.steps)
        ]
        for row in self.rows:
            self.steps_layout.addWidget(row)

    def _row(self, detail: WorkflowDetail, index: int, name: str, checkpoint: bool) -> QFrame:
        attempts = [s for s in detail.steps if s.step_index == index]
        latest = attempts[-1] if attempts else None
        card = QFrame(self.steps)
        card.setFrameShape(QFrame.Shape.StyledPanel)
        icon = QLabel(card)
        icon_name = STEP_ICONS.get(latest.state, "queued") if latest else "queued"
        icon.setPixmap(state_icon(icon_name).pixmap(18, 18))
        state = latest.state.value if latest else "not started"
        more = f" · attempt {latest.attempt}" if latest and latest.attempt > 1 else ""
        pending = _pending_checkpoint(detail, latest)
        waiting = " — <b>waiting for your review</b>" if pending is not None else ""
        title = QLabel(
            f"<b>{index + 1}. {html.escape(name)}</b>"
            f"{' · checkpoint' if checkpoint else ''} — {state}{more}{waiting}",
            card,
            wordWrap=True,  # a narrow pane wraps the title instead of hiding the buttons
        )
        title.setMinimumWidth(120)
        result = (latest.final_text or latest.result_text or "") if latest else ""
        preview = QLabel(html.escape(_preview(result)).replace("\n", "<br>"), card, wordWrap=True)
        preview.setStyleSheet("color: gray")
        preview.setTextFormat(Qt.TextFormat.RichText)
        row = QHBoxLayout()
        row.addWidget(icon)
        row.addWidget(title, 1)
        if latest is not None:
            show = QPushButton("Show output", card)
            show.clicked.connect(lambda _=False, t=latest.task_id: self.openTask.emit(t))
            row.addWidget(show)
            if pending is not None:
                review = QPushButton("Review checkpoint", card)
                review.setDefault(True)
                review.clicked.connect(lambda _=False, c=pending.id: self.reviewCheckpoint.emit(c))
                row.addWidget(review)
        layout = QVBoxLayout(card)
        layout.addLayout(row)
        if result:
            layout.addWidget(preview)
        return card


def _pending_checkpoint(detail: WorkflowDetail, step: Step | None) -> Checkpoint | None:
    """The checkpoint of this attempt that waits for a person, if any."""
    if step is None:
        return None
    return next(
        (
            c
            for c in detail.checkpoints
            if c.step_id == step.id and c.state is CheckpointState.PENDING
        ),
        None,
    )


def _preview(text: str, lines: int = 6) -> str:
    shown = text.strip().splitlines()
    extra = f"\n… {len(shown) - lines} more lines" if len(shown) > lines else ""
    return "\n".join(shown[:lines]) + extra


class WorkflowsPanel(QWidget):
    """The Workflows tab beside the task list; with no workflow yet, it says what one is
    and offers the built-in demo instead of an empty list."""

    openWorkflow = Signal(int)
    runRequested = Signal()
    demoRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget(self)
        self.run_button = QPushButton("Run workflow…", self)
        self.empty = QWidget(self)
        explain = QLabel(
            "<p><b>No workflows yet.</b></p>"
            "<p>A workflow runs agents in steps, one after another. At a <i>checkpoint</i> "
            "it stops and shows you the step's result: you approve it, edit it, or reject "
            "it with notes and the step runs again. Only then does the next step start, "
            "with what you approved.</p>"
            "<p>The demo runs the built-in demo agent twice with a checkpoint between; it "
            "needs nothing installed.</p>",
            self.empty,
            wordWrap=True,
            textFormat=Qt.TextFormat.RichText,
        )
        explain.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.demo_button = QPushButton("Try the demo workflow", self.empty)
        empty_layout = QVBoxLayout(self.empty)
        empty_layout.setContentsMargins(6, 12, 6, 6)
        empty_layout.addWidget(explain)
        demo_row = QHBoxLayout()
        demo_row.addWidget(self.demo_button)
        demo_row.addStretch(1)
        empty_layout.addLayout(demo_row)
        empty_layout.addStretch(1)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.empty)
        self.pages.addWidget(self.list)
        top = QHBoxLayout()
        top.addWidget(self.run_button)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)  # as the Tasks tab beside it
        layout.addLayout(top)
        layout.addWidget(self.pages, 1)
        self.run_button.clicked.connect(self.runRequested)
        self.demo_button.clicked.connect(self.demoRequested)
        self.list.itemActivated.connect(self._open)
        self.list.itemClicked.connect(self._open)

    def show_workflows(self, workflows: list[Workflow]) -> None:
        current = self.list.currentItem()
        keep = current.data(Qt.ItemDataRole.UserRole) if current else None
        self.list.clear()
        self.pages.setCurrentWidget(self.list if workflows else self.empty)
        for workflow in workflows:
            when = time.strftime("%b %d %H:%M", time.localtime(workflow.created_at))
            item = QListWidgetItem(
                state_icon(WORKFLOW_ICONS.get(workflow.state.value, "queued")),
                f"#{workflow.id} {workflow.name} — {workflow_label(workflow.state)}"
                f"\n{when} · {workflow.input[:60]}",
                self.list,
            )
            item.setData(Qt.ItemDataRole.UserRole, workflow.id)
            if workflow.id == keep:
                self.list.setCurrentItem(item)

    def _open(self, item: QListWidgetItem) -> None:
        self.openWorkflow.emit(int(item.data(Qt.ItemDataRole.UserRole)))
