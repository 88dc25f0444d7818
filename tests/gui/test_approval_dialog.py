"""The approval dialog drives real decisions of a real Claude Code run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.agent_cli import fake_cli, only_path
from helpers.agentry import Home
from helpers.claude_cli import require_claude
from helpers.fake_anthropic import FakeAnthropic, last_tool_result, text, tool, tool_result_text
from helpers.gui import AppDriver
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.core.approvals import Approval, ApprovalState
from app.core.models import TaskSpec
from app.core.settings import Settings
from app.store import approval_repo
from app.supervisor.adapters import detect_all
from app.ui.approval_text import describe_input
from app.ui.dialogs.new_task import NewTaskDialog

COMMAND = {"command": "echo from-dialog > made.txt", "description": "make a file"}


@pytest.fixture
def fake_claude(home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home.write_settings(agent_paths={"claude": str(require_claude())})
    fake = FakeAnthropic([tool("Bash", COMMAND), text("Done.")]).start()
    for name, value in fake.env(tmp_path / "claude-home").items():
        monkeypatch.setenv(name, value)
    yield fake
    fake.stop()


def _ask(driver: AppDriver, work_dir: Path):
    app = driver.start()
    assert app.window is not None
    app.window.submit(TaskSpec(argv=(), cwd=str(work_dir), agent="claude", prompt="make it"))
    attention = app.attention
    assert attention is not None
    driver.wait(lambda: attention.approval_dialogs, timeout_ms=60_000)
    return app, next(iter(attention.approval_dialogs.values()))


def test_enter_does_not_approve_until_the_dialog_has_been_seen_then_allow_runs_the_call(
    driver: AppDriver, home: Home, work_dir: Path, fake_claude: FakeAnthropic
) -> None:
    app, dialog = _ask(driver, work_dir)
    assert "$ echo from-dialog > made.txt" in dialog.details.toPlainText()
    assert not dialog.armed
    QTest.keyClick(dialog, Qt.Key.Key_Return)  # a stray key press
    with home.db() as conn:
        assert approval_repo.get(conn, dialog.approval.id).state is ApprovalState.PENDING
    assert app.window is not None
    assert "Approvals (1)" in app.window.action_set.approvals_action.text().replace("&", "")
    assert app.attention is not None
    assert any(n.title == "Approval needed" for n in app.attention.notifier.history)

    driver.wait(lambda: dialog.armed, timeout_ms=5_000)
    dialog.for_task.setChecked(True)
    dialog.allow_button.click()
    driver.wait(lambda: home.run(1).state.value == "succeeded", timeout_ms=60_000)
    assert (work_dir / "made.txt").read_text() == "from-dialog\n"
    with home.db() as conn:
        assert approval_repo.get(conn, dialog.approval.id).state is ApprovalState.ALLOWED
        rules = approval_repo.rules(conn)
    assert [(r.scope, r.task_id, r.tool) for r in rules] == [("task", 1, "Bash")]
    driver.wait(lambda: app.window.action_set.approvals_action.text() == "&Approvals…")


def test_deny_from_the_dialog_keeps_the_call_from_running_and_tells_the_agent_why(
    driver: AppDriver, home: Home, work_dir: Path, fake_claude: FakeAnthropic
) -> None:
    app, dialog = _ask(driver, work_dir)
    dialog.reason.setText("use the Makefile instead")
    dialog.deny_button.click()
    driver.wait(lambda: home.run(1).state.value == "succeeded", timeout_ms=60_000)
    assert not (work_dir / "made.txt").exists()
    result = last_tool_result(fake_claude.main_requests()[-1])
    assert result is not None and "use the Makefile instead" in tool_result_text(result)
    assert app.attention is not None
    inbox = app.attention.show_inbox()
    assert inbox.table.rowCount() >= 1
    assert inbox.table.item(0, 4).text() == "Denied"


def test_an_edit_is_shown_as_a_diff() -> None:
    approval = Approval(
        id="x", run_id=1, task_id=1, agent="claude", tool="Edit", cwd="/w",
        state=ApprovalState.PENDING, created_at=0, expires_at=1,
        input={"file_path": "app.py", "old_string": "a = 1\n", "new_string": "a = 2\n"},
    )  # fmt: skip
    shown = describe_input(approval)
    assert "--- a/app.py" in shown and "-a = 1" in shown and "+a = 2" in shown


@pytest.mark.parametrize(
    ("tool", "tool_input", "expected"),
    [
        (
            "run_shell_command",
            {"command": "make test", "description": "run the tests"},
            "$ make test\n\n# run the tests",
        ),
        (
            "replace",
            {"file_path": "app.py", "old_string": "a = 1\n", "new_string": "a = 2\n"},
            "--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n",
        ),
        (
            "write_file",
            {"file_path": "new.py", "content": "x = 1\n"},
            "--- /dev/null\n+++ new.py\n@@ -0,0 +1 @@\n+x = 1\n",
        ),
        (
            "web_fetch",
            {"prompt": "read https://example.com"},
            '{\n  "prompt": "read https://example.com"\n}',
        ),
    ],
)
def test_gemini_and_codex_calls_are_shown_as_commands_and_diffs_too(
    tool: str, tool_input: dict[str, str], expected: str
) -> None:
    approval = Approval(
        id="x", run_id=1, task_id=1, agent="gemini", tool=tool, cwd="/w",
        state=ApprovalState.PENDING, created_at=0, expires_at=1, input=tool_input,
    )  # fmt: skip
    assert describe_input(approval) == expected


def test_rules_are_edited_in_settings_and_a_bad_folder_is_refused(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    assert app.window is not None
    dialog = app.window.show_settings()
    dialog.rules.folder.setText(str(work_dir / "missing"))
    dialog.rules.tool.setText("Bash")
    assert not dialog.rules.add_rule()
    assert "existing project folder" in dialog.rules.error.text()
    dialog.rules.folder.setText(str(work_dir))
    dialog.rules.pattern.setText("git *")
    assert dialog.rules.add_rule()
    assert dialog.rules.list.count() == 1
    assert "allow Bash matching 'git *'" in dialog.rules.list.item(0).text()
    with home.db() as conn:
        (rule,) = approval_repo.rules(conn)
    assert (rule.folder, rule.tool, rule.pattern) == (str(work_dir.resolve()), "Bash", "git *")
    dialog.rules.list.setCurrentRow(0)
    dialog.rules.remove_selected()
    assert dialog.rules.list.count() == 0
    with home.db() as conn:
        assert approval_repo.rules(conn) == []


def test_the_new_task_dialog_says_which_agents_ask_before_tool_calls(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_path(monkeypatch, tmp_path / "bin")
    for name in ("gemini", "aider"):
        fake_cli(tmp_path / "bin", name, "1.0.0")
    found = detect_all({})
    dialog = NewTaskDialog(Settings(), str(tmp_path), found)
    qtbot.addWidget(dialog)
    dialog.select_agent("gemini")
    assert "waits for your yes or no" in dialog.hint.text()
    assert dialog.permission.itemText(0) == "(you approve each tool call)"
    dialog.select_agent("aider")  # no pre-tool hook: runs as the user set it up, and says so
    assert "cannot ask you about Aider's tool calls" in dialog.hint.text()
    assert dialog.permission.itemText(0) == "(the agent's default)"

    off = NewTaskDialog(Settings(approvals=False), str(tmp_path), found)
    qtbot.addWidget(off)
    off.select_agent("gemini")
    assert off.hint.text() == "" and off.permission.itemText(0) == "(the agent's default)"
