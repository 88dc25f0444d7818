"""The New task dialog: shell commands run by a shell, what it remembers, Ctrl+Enter, every
problem at once, permission modes explained, and filling it from a task to run again."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from helpers.agentry import Home
from helpers.gitrepo import isolate_git, make_repo
from helpers.gui import AppDriver
from PySide6.QtCore import QSettings, Qt

from app.core.command_shell import command_argv
from app.core.locations import Locations
from app.core.models import Task, TaskSpec
from app.core.settings import Settings
from app.core.states import RunState
from app.supervisor.adapters import Detection, all_adapters
from app.ui.dialogs.new_task import NewTaskDialog
from app.ui.dialogs.new_task_spec import build_spec
from app.ui.dialogs.settings import SettingsDialog
from app.ui.main_window import MainWindow
from app.ui.ui_state import ui_state

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX shell lines")


def installed() -> dict[str, Detection]:
    """Every agent as if installed: these tests are about the form, not the CLIs."""
    return {
        a.name: Detection(a.name, a.label, f"/usr/bin/{a.name}", "1.0", a.install_hint)
        for a in all_adapters()
    }


def dialog_of(qtbot: Any, cwd: str | None, state: QSettings | None = None,
              settings: Settings | None = None) -> NewTaskDialog:  # fmt: skip
    dialog = NewTaskDialog(settings or Settings(), cwd, installed(), state=state)
    qtbot.addWidget(dialog)
    return dialog


def submitted(dialog: NewTaskDialog) -> list[TaskSpec]:
    specs: list[TaskSpec] = []
    dialog.submitted.connect(specs.append)
    return specs


def window_of(driver: AppDriver) -> MainWindow:
    app = driver.start()
    assert app.window is not None
    return app.window


def ended(window: MainWindow, task_id: int) -> bool:
    task = window.model.task(task_id)
    return task is not None and task.state is not None and task.state.is_terminal


# ------------------------------------------------------------------ shell commands


def run_from_dialog(driver: AppDriver, window: MainWindow, line: str, folder: Path) -> Task:
    """Type ``line`` as a shell command in the New task dialog; the task once it ended."""
    dialog = window.show_new_task()
    dialog.select_agent("shell")
    dialog.command.setText(line)
    dialog.cwd.setText(str(folder))
    count = window.model.rowCount()
    dialog.try_accept()
    driver.wait(lambda: window.model.rowCount() == count + 1 and window.panes)
    task_id = max(window.panes)
    driver.wait(lambda: ended(window, task_id))
    task = window.model.task(task_id)
    assert task is not None and task.latest_run is not None
    assert task.spec.argv == tuple(command_argv(line, "system"))  # what ran is recorded
    assert task.spec.shell_command == line and task.title == line
    return task


@posix_only
def test_a_shell_command_from_the_dialog_runs_through_the_shell(
    driver: AppDriver, work_dir: Path
) -> None:
    for name in ("b.sh", "a.sh", "notes.txt"):
        (work_dir / name).write_text("")
    window = window_of(driver)
    piped = run_from_dialog(driver, window, "echo hi | tr a-z A-Z && echo done", work_dir)
    assert piped.state is RunState.SUCCEEDED
    driver.wait(lambda: window.panes[piped.id].plain_text().split("\n")[:2] == ["HI", "done"])
    globbed = run_from_dialog(driver, window, "ls *.sh && exit 3", work_dir)
    assert globbed.state is RunState.FAILED
    assert globbed.latest_run is not None and globbed.latest_run.exit_code == 3
    driver.wait(lambda: window.panes[globbed.id].plain_text().split("\n")[:2] == ["a.sh", "b.sh"])


def test_the_command_field_holds_a_shell_line_and_the_spec_records_the_shells_argv(
    tmp_path: Path,
) -> None:
    line = "make test 2>&1 | tee 'test log.txt'"
    spec = build_spec(agent="shell", command=f"  {line} ", prompt="", cwd=str(tmp_path),
                      timeout="", title="", shell="sh")  # fmt: skip
    argv = ["/bin/sh", "-c", line] if os.name != "nt" else command_argv(line, "sh")
    assert list(spec.argv) == argv and spec.shell_command == line and spec.title == line


def test_the_dialog_says_which_shell_runs_the_command(qtbot: Any, tmp_path: Path) -> None:
    dialog = dialog_of(qtbot, str(tmp_path), settings=Settings(command_shell="sh"))
    dialog.select_agent("shell")
    runs = " ".join(command_argv("COMMAND", "sh"))
    assert f"Runs as <code>{runs}</code>" in dialog.hint.text()
    assert dialog.form.isRowVisible(dialog.hint)


def test_settings_offer_the_shell_for_shell_commands(qtbot: Any) -> None:
    dialog = SettingsDialog(Settings(), installed())
    qtbot.addWidget(dialog)
    combo = dialog.command_shell
    keys = [combo.itemData(i) for i in range(combo.count())]
    assert keys == (["system", "powershell"] if os.name == "nt" else ["system", "sh"])
    assert combo.currentData() == "system" and combo.itemData(1, Qt.ItemDataRole.ToolTipRole)
    combo.setCurrentIndex(1)
    assert dialog.settings().command_shell == keys[1]
    carried = SettingsDialog(Settings(command_shell="cmd-from-elsewhere"), installed())
    qtbot.addWidget(carried)  # a value this platform does not offer is shown, not replaced
    assert carried.command_shell.currentData() == "cmd-from-elsewhere"


# ------------------------------------------------------------------ remembering


def test_the_dialog_remembers_agent_folder_model_and_permission(qtbot: Any, tmp_path: Path) -> None:
    state = ui_state(Locations.in_one_folder(tmp_path / "config"))
    first, other = tmp_path / "first", tmp_path / "other"
    first.mkdir()
    other.mkdir()
    dialog = dialog_of(qtbot, None, state)
    assert dialog.cwd.text() == str(Path.home()) and dialog.agent.currentData() == "shell"
    dialog.select_agent("claude")
    dialog.prompt.setPlainText("Tidy up")
    dialog.model.setText("opus")
    dialog.select_permission("plan")
    dialog.cwd.setText(str(first))
    dialog.try_accept()
    assert dialog.result() == NewTaskDialog.DialogCode.Accepted

    again = dialog_of(qtbot, None, ui_state(Locations.in_one_folder(tmp_path / "config")))
    assert again.agent.currentData() == "claude" and again.cwd.text() == str(first.resolve())
    assert again.model.text() == "opus" and again.permission.currentData() == "plan"
    again.select_agent("codex")  # another agent's names mean nothing here
    assert again.model.text() == "" and again.permission.currentData() == ""
    again.select_agent("claude")
    assert again.model.text() == "opus" and again.permission.currentData() == "plan"

    selected = dialog_of(qtbot, str(other), state)  # the selected task's folder wins
    assert selected.cwd.text() == str(other) and selected.agent.currentData() == "claude"


def test_a_remembered_folder_that_is_gone_is_not_proposed(qtbot: Any, tmp_path: Path) -> None:
    state = ui_state(Locations.in_one_folder(tmp_path))
    state.setValue("newTask/folder", str(tmp_path / "deleted"))
    assert dialog_of(qtbot, None, state).cwd.text() == str(Path.home())


def test_the_window_proposes_the_remembered_folder_when_no_task_is_selected(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    state = ui_state(home.locations)
    state.setValue("newTask/agent", "demo")
    state.setValue("newTask/folder", str(work_dir))
    state.sync()
    window = window_of(driver)
    dialog = window.show_new_task()
    assert dialog.cwd.text() == str(work_dir) and dialog.agent.currentData() == "demo"
    dialog.reject()


# ------------------------------------------------------------------ keys and problems


def test_ctrl_enter_starts_the_task_and_plain_enter_is_a_new_line(
    qtbot: Any, tmp_path: Path
) -> None:
    dialog = dialog_of(qtbot, str(tmp_path))
    dialog.select_agent("claude")
    specs = submitted(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.prompt, "first")
    qtbot.keyClick(dialog.prompt, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.prompt, "second")
    assert specs == [] and dialog.isVisible()
    qtbot.keyClick(dialog.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert [s.prompt for s in specs] == ["first\nsecond"] and not dialog.isVisible()


def test_ctrl_enter_in_the_command_field_starts_the_task(qtbot: Any, tmp_path: Path) -> None:
    dialog = dialog_of(qtbot, str(tmp_path))
    dialog.select_agent("shell")
    specs = submitted(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.command, "make test")
    qtbot.keyClick(dialog.command, Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier)
    assert [s.shell_command for s in specs] == ["make test"]


def test_every_problem_is_shown_at_once_beside_its_field(qtbot: Any, tmp_path: Path) -> None:
    dialog = dialog_of(qtbot, str(tmp_path / "missing"))
    dialog.select_agent("claude")
    dialog.timeout.setText("soon")
    specs = submitted(dialog)
    dialog.show()
    dialog.try_accept()
    text = dialog.error.text()
    assert specs == [] and dialog.isVisible() and dialog.error.isVisible()
    lines = text.split("\n")
    assert [line.split(":")[0] for line in lines] == ["• Prompt", "• Working folder", "• Timeout"]
    for name, field in (("prompt", dialog.prompt), ("cwd", dialog.cwd),
                        ("timeout", dialog.timeout)):  # fmt: skip
        label = dialog.label_of(name)
        assert label is not None and "color" in label.styleSheet()
        assert field.toolTip() in {line[2:] for line in lines}
    assert dialog.focusWidget() is dialog.prompt  # the first field to fix

    dialog.prompt.setPlainText("Tidy up")
    dialog.timeout.setText("")
    dialog.try_accept()
    assert dialog.error.text().startswith("Working folder:")  # one left: no bullet
    prompt_label, command_label = dialog.label_of("prompt"), dialog.label_of("command")
    assert prompt_label is not None and prompt_label.styleSheet() == ""
    assert command_label is not None and command_label.text() == "Command"
    dialog.cwd.setText(str(tmp_path))
    dialog.try_accept()
    assert len(specs) == 1 and not dialog.error.isVisible()


def test_an_empty_shell_command_is_named_with_the_other_problems(
    qtbot: Any, tmp_path: Path
) -> None:
    dialog = dialog_of(qtbot, None)
    dialog.select_agent("shell")
    dialog.cwd.setText("")
    dialog.try_accept()
    assert [line.split(":")[0] for line in dialog.error.text().split("\n")] == [
        "• Command", "• Working folder",
    ]  # fmt: skip


# ------------------------------------------------------------------ permission modes


def test_each_claude_permission_mode_is_explained_and_bypass_is_called_out(
    qtbot: Any, tmp_path: Path
) -> None:
    dialog = dialog_of(qtbot, str(tmp_path))
    dialog.select_agent("claude")
    combo = dialog.permission
    modes = [combo.itemData(i) for i in range(combo.count())]
    assert modes[0] == "" and {"default", "acceptEdits", "plan", "bypassPermissions"} <= set(modes)
    tips = [combo.itemData(i, Qt.ItemDataRole.ToolTipRole) for i in range(combo.count())]
    assert all(tips) and len(set(tips)) == len(tips)
    details = {}
    for i, mode in enumerate(modes):
        combo.setCurrentIndex(i)
        details[mode] = dialog.permission_detail.text()
        assert details[mode] == tips[i] and combo.toolTip() == tips[i]
    assert "Agentry asks you before each tool call" in details[""]
    assert "Bypasses Agentry's approvals" in details["bypassPermissions"]
    assert "Agentry still asks you first" in details["acceptEdits"]
    assert "changes nothing" in combo.itemText(modes.index("plan"))
    assert "color" in dialog.permission_detail.styleSheet()  # the bypass stands out
    combo.setCurrentIndex(modes.index("default"))
    assert dialog.permission_detail.styleSheet() == ""


def test_without_approvals_no_mode_claims_that_agentry_asks(qtbot: Any, tmp_path: Path) -> None:
    dialog = dialog_of(qtbot, str(tmp_path), settings=Settings(approvals=False))
    for agent in ("claude", "codex", "gemini"):
        dialog.select_agent(agent)
        combo = dialog.permission
        for i in range(combo.count()):
            tip = combo.itemData(i, Qt.ItemDataRole.ToolTipRole)
            assert tip and "Agentry still asks" not in tip and "Agentry asks" not in tip


def test_codex_sandbox_modes_are_explained(qtbot: Any, tmp_path: Path) -> None:
    dialog = dialog_of(qtbot, str(tmp_path))
    dialog.select_agent("codex")
    dialog.select_permission("danger-full-access")
    assert "no sandbox" in dialog.permission.currentText()
    assert "use the network" in dialog.permission_detail.text()


# ------------------------------------------------------------------ filling from a task


def round_trip(qtbot: Any, spec: TaskSpec) -> TaskSpec:
    dialog = dialog_of(qtbot, None)
    dialog.fill_from(spec)
    specs = submitted(dialog)
    dialog.try_accept()
    assert len(specs) == 1, dialog.error.text()
    return specs[0]


def test_a_shell_task_fills_the_dialog_with_its_typed_line_and_round_trips(
    qtbot: Any, tmp_path: Path
) -> None:
    line = "echo hi | tr a-z A-Z && ls *.sh"
    spec = build_spec(agent="shell", command=line, prompt="input\n", cwd=str(tmp_path),
                      timeout="30m", title="Shout")  # fmt: skip
    dialog = dialog_of(qtbot, None)
    dialog.fill_from(spec)
    assert dialog.command.text() == line and dialog.agent.currentData() == "shell"
    assert dialog.timeout.text() == "30m" and dialog.title_edit.text() == "Shout"
    assert round_trip(qtbot, spec) == spec


def test_an_agent_task_round_trips_with_model_mode_and_no_limit(qtbot: Any, tmp_path: Path) -> None:
    spec = build_spec(agent="claude", command="", prompt="Fix the tests\nthen lint",
                      cwd=str(tmp_path), timeout="none", title="", model="sonnet",
                      permission_mode="acceptEdits")  # fmt: skip
    assert spec.timeout == 0.0
    assert round_trip(qtbot, spec) == spec


def test_an_argv_task_is_shown_as_the_line_that_runs_it(qtbot: Any, tmp_path: Path) -> None:
    """`agentry run -- echo '$HOME'` shows a line the shell reads back as those words."""
    spec = TaskSpec(argv=("echo", "$HOME", "a b"), cwd=str(tmp_path), title="echo")
    dialog = dialog_of(qtbot, None)
    dialog.fill_from(spec)
    assert dialog.command.text() == "echo '$HOME' 'a b'"


def test_a_mode_the_list_does_not_offer_is_kept(qtbot: Any, tmp_path: Path) -> None:
    spec = TaskSpec(argv=(), cwd=str(tmp_path), agent="claude", prompt="go", title="go",
                    options={"permission_mode": "futureMode"})  # fmt: skip
    assert round_trip(qtbot, spec).options["permission_mode"] == "futureMode"


def test_a_worktree_task_fills_its_choice_and_base(
    driver: AppDriver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(tmp_path, monkeypatch)
    repo = make_repo(tmp_path / "project", {"a.txt": "a\n"})
    window = window_of(driver)
    window.set_paused(True)
    spec = TaskSpec(argv=(), cwd=str(repo.resolve()), agent="claude", prompt="go",
                    title="go", worktree=True, base="main")  # fmt: skip
    off = TaskSpec(argv=(), cwd=str(repo.resolve()), agent="claude", prompt="go", title="go")
    for original in (spec, off):
        assert fill_and_submit(driver, window, original) == original


def fill_and_submit(driver: AppDriver, window: MainWindow, original: TaskSpec) -> TaskSpec:
    dialog = window.show_new_task()
    dialog.fill_from(original)
    driver.wait(lambda: not dialog.worktree.pending)
    assert dialog.worktree.chosen is original.worktree
    specs = submitted(dialog)
    dialog.try_accept()
    assert len(specs) == 1
    return specs[0]
