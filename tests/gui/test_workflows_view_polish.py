"""The workflow timeline, the checkpoint dialog and the Run dialog speak plainly."""

from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel

from app.core.workflow_defs import StepDef, WorkflowDef
from app.core.workflow_models import Checkpoint, Step, Workflow, WorkflowDetail
from app.core.workflow_states import CheckpointState, StepState, WorkflowState
from app.supervisor.workflow_catalog import Catalog
from app.ui.workflows_view import (
    CheckpointDialog,
    RunWorkflowDialog,
    WorkflowsPanel,
    WorkflowView,
)

NOW = time.time()
DEFINITION = WorkflowDef(
    "demo",
    (StepDef("plan", "demo", "plan {input}", checkpoint=True), StepDef("build", "demo", "go")),
    "Plans, waits for you, then builds.",
)
RESULT = "1. touch the form\n    indented line\n2. add tests"


def _workflow(state: WorkflowState) -> Workflow:
    return Workflow(id=1, name="demo", definition=DEFINITION, input="the login page",
                          cwd="/w", state=state, current_step=0, created_at=NOW,
                          updated_at=NOW)  # fmt: skip


def _step() -> Step:
    return Step(id=7, workflow_id=1, step_index=0, name="plan", attempt=1, task_id=3,
                      run_id=3, state=StepState.SUCCEEDED, prompt="p", argv=(),
                      created_at=NOW, result_text=RESULT)  # fmt: skip


def _checkpoint(state: CheckpointState = CheckpointState.PENDING) -> Checkpoint:
    return Checkpoint(id=4, workflow_id=1, step_id=7, state=state, result_text=RESULT,
                            created_at=NOW, step_name="plan", workflow_name="demo")  # fmt: skip


def _view(qtbot: Any, state: WorkflowState, checkpoint: Checkpoint | None) -> WorkflowView:
    view = WorkflowView(1)
    qtbot.addWidget(view)
    checkpoints = [checkpoint] if checkpoint else []
    view.show_detail(WorkflowDetail(_workflow(state), [_step()], checkpoints))
    return view


def _card_titles(view: WorkflowView) -> list[str]:
    return [
        label.text()
        for row in view.rows
        for label in row.findChildren(QLabel)
        if label.text().startswith("<b>")
    ]


@pytest.mark.parametrize(
    ("state", "label"),
    [
        (WorkflowState.PENDING, "Waiting to start"),
        (WorkflowState.RUNNING, "Running"),
        (WorkflowState.AWAITING_CHECKPOINT, "Waiting for your review"),
        (WorkflowState.COMPLETED, "All steps completed"),
        (WorkflowState.REJECTED, "Rejected at a checkpoint"),
        (WorkflowState.FAILED, "Failed"),
        (WorkflowState.CANCELLED, "Cancelled"),
    ],
)
def test_the_header_and_the_list_say_the_state_in_words(
    qtbot: Any, state: WorkflowState, label: str
) -> None:
    view = _view(qtbot, state, None)
    assert f"#1 · {label}" in view.header.text()
    assert "_" not in view.header.text().split("<br>")[0]
    panel = WorkflowsPanel()
    qtbot.addWidget(panel)
    panel.show_workflows([_workflow(state)])
    assert panel.list.item(0).text().startswith(f"#1 demo — {label}\n")


def test_a_step_waiting_for_review_says_so_and_a_reviewed_one_does_not(qtbot: Any) -> None:
    waiting = _view(qtbot, WorkflowState.AWAITING_CHECKPOINT, _checkpoint())
    (first, second) = _card_titles(waiting)
    assert "— succeeded — <b>waiting for your review</b>" in first
    assert "waiting for your review" not in second

    reviewed = _view(qtbot, WorkflowState.RUNNING, _checkpoint(CheckpointState.APPROVED))
    assert not any("waiting for your review" in t for t in _card_titles(reviewed))


def test_the_checkpoint_text_is_fixed_width_and_said_to_be_editable(qtbot: Any) -> None:
    dialog = CheckpointDialog(_checkpoint())
    qtbot.addWidget(dialog)
    dialog.show()
    # The family the app asked for (Qt's fixed-width system font), not QFontInfo.fixedPitch()
    # of whatever font fontconfig substitutes: "monospace" may map to Noto Sans Mono, which
    # reports itself as not fixed-pitch.
    fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    assert dialog.text.font().family() == fixed.family()
    assert dialog.hint.text() == "Edit the text to change what later steps receive"
    assert dialog.hint.isVisible() and not dialog.text.isReadOnly()

    def top(widget: Any) -> int:
        return int(widget.mapTo(dialog, widget.rect().topLeft()).y())

    assert top(dialog.hint) < top(dialog.text)


def test_the_run_dialog_names_checkpoints_in_words(qtbot: Any) -> None:
    dialog = RunWorkflowDialog(Catalog({"demo": DEFINITION}), "/")
    qtbot.addWidget(dialog)
    text = dialog.description.text()
    assert "✋" not in text
    assert "Steps: plan (checkpoint) → build" in text
    assert "wait for your review" in text

    plain = WorkflowDef("plain", (StepDef("only", "demo", "x"),), "One step.")
    no_checkpoint = RunWorkflowDialog(Catalog({"plain": plain}), "/")
    qtbot.addWidget(no_checkpoint)
    assert no_checkpoint.description.text() == "One step.\nSteps: only"


def test_the_panel_has_margins_and_its_button_keeps_its_size(qtbot: Any) -> None:
    panel = WorkflowsPanel()
    qtbot.addWidget(panel)
    panel.resize(600, 400)
    panel.show()
    qtbot.waitExposed(panel)
    margins = panel.layout().contentsMargins()  # type: ignore[union-attr]
    assert margins.top() > 0 and margins.left() > 0 and margins.bottom() > 0
    assert panel.run_button.width() == panel.run_button.sizeHint().width()
    assert panel.run_button.x() == margins.left()  # at the left, not stretched across
