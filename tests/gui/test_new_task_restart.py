"""The New task dialog's Restart row (issue #15): the policy goes into the task, a backoff
that cannot be read is said on its row, and Edit & rerun shows the task's policy again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_new_task_dialog import dialog_of, submitted

from app.core.policies import LimitPolicy, RestartMode, RestartPolicy
from app.ui.dialogs.new_task import NewTaskDialog


def _shell_task(qtbot: Any, folder: Path) -> NewTaskDialog:
    """The New task dialog filled in for a shell command, its restart row left as it is."""
    dialog = dialog_of(qtbot, str(folder))
    dialog.select_agent("shell")
    dialog.command.setText("make test")
    return dialog


def test_a_restart_policy_chosen_in_the_form_goes_into_the_task(qtbot: Any, tmp_path: Path) -> None:
    dialog = _shell_task(qtbot, tmp_path)
    assert not dialog.max_restarts.isEnabled() and not dialog.backoff.isEnabled()
    dialog.restart.setCurrentIndex(dialog.restart.findData("on-failure"))
    assert dialog.max_restarts.isEnabled() and dialog.backoff.isEnabled()
    dialog.max_restarts.setValue(2)
    dialog.backoff.setText("10s..2m")
    specs = submitted(dialog)
    dialog.try_accept()
    assert [s.restart for s in specs] == [RestartPolicy(RestartMode.ON_FAILURE, 2, 10, 120)]


def test_never_is_the_default_and_an_unreadable_backoff_is_said_on_its_row(
    qtbot: Any, tmp_path: Path
) -> None:
    dialog = _shell_task(qtbot, tmp_path)
    specs = submitted(dialog)
    dialog.try_accept()
    assert [s.restart for s in specs] == [RestartPolicy()]

    again = _shell_task(qtbot, tmp_path)
    again.restart.setCurrentIndex(again.restart.findData("always"))
    again.backoff.setText("5m..5s")
    refused = submitted(again)
    again.try_accept()
    assert refused == []
    assert "Restart: backoff '5m..5s'" in again.error.text()
    label = again.label_of("restart")
    assert label is not None and label.styleSheet() != ""


def test_edit_and_rerun_shows_the_tasks_restart_policy(qtbot: Any, tmp_path: Path) -> None:
    dialog = _shell_task(qtbot, tmp_path)
    dialog.restart.setCurrentIndex(dialog.restart.findData("always"))
    dialog.max_restarts.setValue(7)
    dialog.backoff.setText("1m..1h")
    specs = submitted(dialog)
    dialog.try_accept()
    refill = dialog_of(qtbot, str(tmp_path))
    refill.fill_from(specs[0])
    assert refill.restart.currentData() == "always"
    assert (refill.max_restarts.value(), refill.backoff.text()) == (7, "1m..1h")


def test_a_memory_limit_and_the_choice_on_a_usage_limit_go_into_the_task(
    qtbot: Any, tmp_path: Path
) -> None:
    dialog = dialog_of(qtbot, str(tmp_path))
    dialog.select_agent("claude")
    dialog.prompt.setPlainText("fix the tests")
    dialog.memory_limit.setText("4G")
    dialog.on_limit.setCurrentIndex(dialog.on_limit.findData("stop"))
    specs = submitted(dialog)
    dialog.try_accept()
    assert [(s.memory_limit_mb, s.limits) for s in specs] == [(4096.0, LimitPolicy(False))]
    again = dialog_of(qtbot, str(tmp_path))
    again.fill_from(specs[0])
    assert (again.memory_limit.text(), again.on_limit.currentData()) == ("4 GB", "stop")

    bad = dialog_of(qtbot, str(tmp_path))
    bad.select_agent("shell")
    bad.command.setText("make")
    bad.memory_limit.setText("lots")
    refused = submitted(bad)
    bad.try_accept()
    assert refused == [] and "Memory limit: 'lots' is not a size" in bad.error.text()
