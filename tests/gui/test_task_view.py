"""The task view's transcript: who allowed or denied a tool call (the real Claude Code CLI),
"You" turns, a shell run's exit line, the session line once, and the view's tabs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers.agentry import Home
from helpers.claude_cli import require_claude
from helpers.fake_anthropic import FakeAnthropic, text, tool
from helpers.gui import AppDriver

from app.core.models import TaskSpec
from app.core.states import RunState
from app.ui.application import AgentryApp
from app.ui.output_pane import OutputPane

ALLOWED = {"command": "echo allowed > one.txt", "description": "first file"}
DENIED = {"command": "echo denied > two.txt", "description": "second file"}


@pytest.fixture
def fake_claude(home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home.write_settings(agent_paths={"claude": str(require_claude())})
    fake = FakeAnthropic([tool("Bash", ALLOWED), tool("Bash", DENIED), text("Done.")]).start()
    for name, value in fake.env(tmp_path / "claude-home").items():
        monkeypatch.setenv(name, value)
    yield fake
    fake.stop()


def _decide_next(driver: AppDriver, app: AgentryApp, seen: set[str], *, allow: bool) -> None:
    attention = app.attention
    assert attention is not None
    driver.wait(lambda: set(attention.approval_dialogs) - seen, timeout_ms=60_000)
    approval_id = next(iter(set(attention.approval_dialogs) - seen))
    seen.add(approval_id)
    dialog = attention.approval_dialogs[approval_id]
    if allow:
        driver.wait(lambda: dialog.armed, timeout_ms=5_000)
        dialog.allow_button.click()
    else:
        dialog.reason.setText("use the Makefile")
        dialog.deny_button.click()


def _lines(pane: OutputPane) -> list[str]:
    pane.flush_all()
    return pane.plain_text().splitlines()


def test_a_denied_call_reads_denied_by_you_and_both_decisions_stay_in_place_on_reopening(
    driver: AppDriver, home: Home, work_dir: Path, fake_claude: FakeAnthropic
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    task_id = window.submit(TaskSpec(argv=(), cwd=str(work_dir), agent="claude",
                                     prompt="Make two files"))  # fmt: skip
    assert task_id is not None
    seen: set[str] = set()
    _decide_next(driver, app, seen, allow=True)
    _decide_next(driver, app, seen, allow=False)
    driver.wait(lambda: home.run(1).state.value == "succeeded", timeout_ms=60_000)
    pane = window.panes[task_id]
    driver.wait(lambda: "Done." in pane.plain_text())

    def check(lines: list[str]) -> None:
        text = "\n".join(lines)
        assert "hook error" not in text and "-m app hook" not in text, text
        denied = next(
            i for i, line in enumerate(lines) if "Denied by you: use the Makefile" in line
        )
        allowed = next(i for i, line in enumerate(lines) if "Allowed by you" in line)
        first = next(i for i, line in enumerate(lines) if ALLOWED["command"] in line)
        second = next(i for i, line in enumerate(lines) if DENIED["command"] in line)
        assert first < allowed < second < denied < lines.index("Done.")
        you = lines.index("▌ You")
        assert lines[you + 1] == "▌ Make two files" and you < first

    check(_lines(pane))
    assert not (work_dir / "two.txt").exists()

    window.task_tabs.close(pane)  # the transcript rebuilt from the log and the database
    reopened = window.open_task(task_id)
    assert reopened is not None and reopened is not pane
    driver.wait(lambda: "Done." in reopened.plain_text())
    check(_lines(reopened))
    assert sum(line.startswith("session ") for line in _lines(reopened)) == 1
    assert "(1M context)" in reopened.plain_text()

    reopened.sections.setCurrentIndex(1)  # Raw log: the file as written
    driver.wait(lambda: '"type":"result"' in reopened.raw_text())
    assert "PreToolUse:Bash hook error" in reopened.raw_text()
    details = window.task_tabs.details[task_id]
    assert reopened.sections.tabText(reopened.sections.indexOf(details)) == "Details"
    run = home.run(1)
    assert run.session_id and run.session_id in details.plain_text()
    assert "Make two files" in details.plain_text()


def test_a_shell_task_ends_with_its_exit_line_and_keeps_it_on_reopening(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    argv = (sys.executable, "-c", "print('working'); raise SystemExit(3)")
    task_id = window.submit(TaskSpec(argv=argv, cwd=str(work_dir), title="exits three"))
    assert task_id is not None
    pane = window.panes[task_id]
    driver.wait(lambda: (t := window.model.task(task_id)) and t.state is RunState.FAILED)
    driver.wait(lambda: any(line.startswith("■ exited 3 after 0:0") for line in _lines(pane)))
    lines = _lines(pane)
    assert lines.index("working") < len(lines) - 1 and lines[-1].startswith("■ exited 3 after")

    window.task_tabs.close(pane)
    reopened = window.open_task(task_id)
    assert reopened is not None
    lines = _lines(reopened)
    assert lines[-2:][0] == "working" and lines[-1].startswith("■ exited 3 after")
    assert "You" not in " ".join(lines)  # a shell command is not a message


def test_the_pane_header_folds_its_buttons_into_a_menu_and_keeps_the_title_start(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    title = "Refactor the payment gateway retries and document every error path"
    argv = (sys.executable, "-c", "print('ok')")
    task_id = window.submit(TaskSpec(argv=argv, cwd=str(work_dir), title=title))
    assert task_id is not None
    pane = window.panes[task_id]
    header = pane.header
    window.resize(1024, 640)
    driver.wait(lambda: header.isVisible())
    driver.wait(lambda: header.title.text().startswith(title[:20]))
    assert header.state_label.isVisible() and header.state_label.text()

    pane.resize(420, pane.height())
    pane.setFixedWidth(420)
    driver.wait(lambda: header.folded())
    assert header.more_button.isVisible()
    assert not any(button.isVisible() for button in header.buttons)
    assert header.title.text().startswith(title[:5]) and header.title.text().endswith("…")
    assert header.title.visibleRegion().boundingRect().width() > 0
    header._fill_menu()
    texts = [action.text() for action in header.more_menu.actions()]
    assert {"Find", "Copy", "Open log file"} <= set(texts)

    pane.setMinimumWidth(0)
    pane.setMaximumWidth(16_777_215)
    pane.setFixedWidth(1400)
    driver.wait(lambda: not header.folded())
    assert header.find_button.isVisible() and not header.more_button.isVisible()
