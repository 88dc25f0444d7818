"""Workflows in the app: the timeline, the checkpoint dialog, the shared inbox."""

from __future__ import annotations

from pathlib import Path

from helpers.agentry import Home
from helpers.gui import AppDriver
from helpers.wait import wait_until
from PySide6.QtWidgets import QLabel

from app.core.workflow_states import WorkflowState


def test_a_checkpoint_is_notified_listed_and_resolved_with_an_edit_from_its_dialog(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    workflow_id = window.workflow_tabs.start("shell-demo", "the login page", str(work_dir))
    assert workflow_id is not None
    view = window.workflow_tabs.views[workflow_id]
    driver.wait(lambda: app.workflows.pending_checkpoints(), timeout_ms=30_000)
    (checkpoint,) = app.workflows.pending_checkpoints()
    assert "Plan for: the login page" in checkpoint.result_text
    attention = app.attention
    assert attention is not None
    notifier = attention.notifier
    driver.wait(lambda: any(n.title == "Checkpoint waiting" for n in notifier.history))
    driver.wait(
        lambda: "Approvals (1)" in window.action_set.approvals_action.text().replace("&", "")
    )
    inbox = attention.show_inbox()
    assert inbox.table.item(0, 2).text() == "Checkpoint"  # type: ignore[union-attr]
    driver.wait(lambda: "Review checkpoint" in _buttons(view))

    dialog = attention.open_checkpoint(checkpoint.id)
    assert dialog is not None and dialog.approve_button.text() == "Approve"
    dialog.text.setPlainText("1. only touch the login form")
    assert dialog.approve_button.text() == "Approve with edits"
    dialog.approve_button.click()

    driver.wait(lambda: app.workflows.workflow(workflow_id).workflow.state
                is WorkflowState.COMPLETED, timeout_ms=30_000)  # fmt: skip
    detail = app.workflows.workflow(workflow_id)
    implement = next(s for s in detail.steps if s.name == "implement")
    assert "1. only touch the login form" in (implement.result_text or "")
    (resolved,) = detail.checkpoints
    assert resolved.action == "edit" and "Plan for" in resolved.result_text
    driver.wait(lambda: "completed" in view.header.text())
    assert window.action_set.approvals_action.text() == "&Approvals…"


def test_rejecting_a_checkpoint_from_its_dialog_ends_the_workflow(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    assert app.window is not None
    workflow_id = app.window.workflow_tabs.start("shell-demo", "x", str(work_dir))
    driver.wait(lambda: app.workflows.pending_checkpoints(), timeout_ms=30_000)
    assert app.attention is not None
    dialog = app.attention.open_checkpoint(app.workflows.pending_checkpoints()[0].id)
    assert dialog is not None
    dialog.notes.setText("wrong approach")
    dialog.reject_button.click()
    detail = app.workflows.workflow(workflow_id)  # type: ignore[arg-type]
    assert detail.workflow.state is WorkflowState.REJECTED
    assert detail.checkpoints[0].notes == "wrong approach"


def _buttons(view: object) -> list[str]:
    from PySide6.QtWidgets import QPushButton

    return [b.text() for b in view.findChildren(QPushButton)]  # type: ignore[attr-defined]


def test_the_checkpoint_notice_opens_it_and_a_decision_made_elsewhere_closes_the_choice(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = app.window
    attention = app.attention
    assert window is not None and attention is not None
    notifier = attention.notifier
    window.hide()
    window.workflow_tabs.start("shell-demo", "x", str(work_dir))
    driver.wait(lambda: app.workflows.pending_checkpoints(), timeout_ms=30_000)
    (checkpoint,) = app.workflows.pending_checkpoints()
    driver.wait(lambda: any(n.title == "Checkpoint waiting" for n in notifier.history))
    banner = notifier.banner
    assert banner.show_button.isVisibleTo(banner), "the notice leads somewhere"
    for view in list(window.workflow_tabs.views.values()):  # the person looked elsewhere
        window.workflow_tabs.close(view)
    window.show_tasks()
    banner.show_button.click()
    dialog = attention.checkpoint_dialogs.get(checkpoint.id)
    assert dialog is not None and dialog.isVisible() and window.isVisible()
    assert window.left_tabs.currentWidget() is window.workflow_tabs.panel, "Show goes there"
    assert checkpoint.workflow_id in window.workflow_tabs.views

    dialog.text.setPlainText("my careful edit")
    done = home.cli("checkpoint", "approve", str(checkpoint.id))  # someone else decides first
    assert done.returncode == 0, done.stderr
    driver.wait(lambda: not dialog.approve_button.isEnabled(), timeout_ms=15_000)
    assert "already approved" in dialog.status.text() and dialog.isVisible()
    assert dialog.text.toPlainText() == "my careful edit", "the person's text is not lost"


def test_a_checkpoint_reached_while_the_app_was_closed_is_announced_at_start(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    server = home.serve()  # a headless Agentry runs the workflow up to its checkpoint
    started = home.cli("workflow", "run", "shell-demo", "--input", "x", "--cwd", str(work_dir))
    assert started.returncode == 0, started.stderr
    wait_until(lambda: home.cli("checkpoints", "--json").stdout.strip() not in ("", "[]"),
               timeout=30, message="the checkpoint")  # fmt: skip
    server.terminate()
    server.wait(timeout=30)
    app = driver.start()
    assert app.attention is not None
    note = next(n for n in app.attention.notifier.history if n.title == "Checkpoint waiting")
    assert "shell-demo" in note.text and "review its result" in note.text


def test_a_failed_step_is_retried_from_the_workflow_view(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    folder = home.path / "workflows"
    folder.mkdir(exist_ok=True)
    (folder / "flaky.toml").write_text(
        '[[steps]]\nname = "b"\nagent = "shell"\ncommand = ["sh", "-c", "test -e ready"]\n'
    )
    app = driver.start()
    window = app.window
    assert window is not None
    workflow_id = window.workflow_tabs.start("flaky", "", str(work_dir))
    assert workflow_id is not None
    view = window.workflow_tabs.views[workflow_id]
    driver.wait(lambda: view.retry_button.isVisible(), timeout_ms=30_000)
    assert view.retry_button.text() == "Retry step “b”" and "failed" in view.error.text()
    from app.ui.icons import state_icon

    tab_icon = window.tabs.tabIcon(window.tabs.indexOf(view))
    assert tab_icon.cacheKey() == state_icon("failed").cacheKey(), "the tab shows the state"
    (work_dir / "ready").write_text("")
    view.retry_button.click()
    driver.wait(lambda: app.workflows.workflow(workflow_id).workflow.state
                is WorkflowState.COMPLETED, timeout_ms=30_000)  # fmt: skip
    assert not view.retry_button.isVisible()


def test_an_empty_workflows_tab_says_what_a_workflow_is_and_starts_the_demo(
    driver: AppDriver, home: Home
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    panel = window.workflow_tabs.panel
    assert panel.pages.currentWidget() is panel.empty
    text = " ".join(label.text() for label in panel.empty.findChildren(QLabel))
    assert "checkpoint" in text and "No workflows yet" in text

    panel.demo_button.click()
    driver.wait(lambda: window.workflow_tabs.views)
    (workflow_id,) = window.workflow_tabs.views
    assert app.workflows.workflow(workflow_id).workflow.name == "demo"
    assert panel.pages.currentWidget() is panel.list and panel.list.count() == 1
    assert window.tabs.currentWidget() is window.workflow_tabs.views[workflow_id]
    driver.wait(lambda: app.workflows.pending_checkpoints(), timeout_ms=30_000)


def test_an_edited_checkpoint_text_is_a_you_turn_of_the_step_it_goes_to(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    workflow_id = window.workflow_tabs.start("demo", "the signup form", str(work_dir))
    assert workflow_id is not None
    driver.wait(lambda: app.workflows.pending_checkpoints(), timeout_ms=30_000)
    (checkpoint,) = app.workflows.pending_checkpoints()
    attention = app.attention
    assert attention is not None
    dialog = attention.open_checkpoint(checkpoint.id)
    assert dialog is not None
    dialog.text.setPlainText("Only validate the email field, nothing else.")
    dialog.approve_button.click()
    driver.wait(lambda: app.workflows.workflow(workflow_id).workflow.state
                is WorkflowState.COMPLETED, timeout_ms=30_000)  # fmt: skip
    second = next(s for s in app.workflows.workflow(workflow_id).steps if s.name == "second")
    pane = window.open_task(second.task_id)
    assert pane is not None
    pane.flush_all()
    text = pane.plain_text()
    you = text.index("▌ You")
    assert text.index("Only validate the email field, nothing else.") > you
