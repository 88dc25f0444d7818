"""A real Claude Code task in the app: readable pane, totals footer, raw log, follow-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.agentry import Home
from helpers.claude_cli import require_claude
from helpers.fake_anthropic import FakeAnthropic, text
from helpers.gui import AppDriver

from app.core.states import RunState


@pytest.fixture
def fake_claude(home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home.write_settings(agent_paths={"claude": str(require_claude())})
    fake = FakeAnthropic([text("I read the code."), text("Docs updated too.")]).start()
    for name, value in fake.env(tmp_path / "claude-home").items():
        monkeypatch.setenv(name, value)  # runners inherit the app's environment
    yield fake
    fake.stop()


def test_a_claude_task_reads_as_a_conversation_and_takes_a_follow_up(
    driver: AppDriver, home: Home, work_dir: Path, fake_claude: FakeAnthropic
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    dialog = window.show_new_task()
    dialog.select_agent("claude")
    assert dialog.start_button.isEnabled()
    dialog.prompt.setPlainText("Read the code")
    dialog.cwd.setText(str(work_dir))
    dialog.model.setText("opus")
    dialog.try_accept()

    driver.wait(lambda: window.model.rowCount() == 1)
    task = window.model.task_at(0)
    assert task is not None and task.agent == "claude" and task.model == "opus"
    pane = window.panes[task.id]
    driver.wait(lambda: (t := window.model.task(task.id)) and t.state is RunState.SUCCEEDED,
                timeout_ms=60_000)  # fmt: skip
    driver.wait(lambda: "I read the code." in pane.plain_text())
    assert '{"type"' not in pane.plain_text()
    driver.wait(lambda: "$" in pane.footer.text())
    driver.wait(lambda: pane.send_button.isEnabled())  # the session id is known

    assert pane.header.offers(pane.expand_button)  # beside the title, or in its "⋯" menu
    pane.expand_button.setChecked(True)  # tool output in full (this run has none)
    driver.wait(lambda: "I read the code." in pane.plain_text())
    pane.expand_button.setChecked(False)
    pane.sections.setCurrentIndex(pane.sections.indexOf(pane.raw_view))  # the Raw log tab
    driver.wait(lambda: '"type":"result"' in pane.raw_text())
    assert '{"type"' not in pane.plain_text()
    pane.sections.setCurrentIndex(0)
    driver.wait(lambda: "▌ Read the code" in pane.plain_text())  # the prompt: a You turn

    pane.follow_up.setText("Update the docs")
    pane.send_button.click()
    driver.wait(lambda: len(home.runs(task.id)) == 2)
    driver.wait(lambda: "Docs updated too." in pane.plain_text(), timeout_ms=60_000)
    assert "run 2 · follow-up: Update the docs" in pane.plain_text()
    driver.wait(lambda: "▌ Update the docs" in pane.plain_text())
    runs = home.runs(task.id)
    assert runs[1].resume_session and runs[1].resume_session == runs[0].session_id
    driver.wait(lambda: (t := window.model.task(task.id)) and t.total_cost_usd)
    cost = window.model.data(window.model.index(0, window.model.COST))
    assert cost == "<$0.01"  # a fraction of a cent is not "$0.00"
