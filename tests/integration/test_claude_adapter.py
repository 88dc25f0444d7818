"""The Claude adapter end to end: Agentry runs the real Claude Code CLI against a local
Messages-API server — text, cost and session id, a follow-up in the same session, and a
SIGKILLed Agentry that still ends up with the whole structured transcript."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.agentry import Home
from helpers.claude_cli import require_claude
from helpers.fake_anthropic import FakeAnthropic, Reply, text
from helpers.wait import wait_until

from app.core.agent_events import Result, Session, Text
from app.supervisor.adapters import get_adapter


@pytest.fixture
def claude_env(home: Home, tmp_path: Path) -> Any:
    """Start a FakeAnthropic with a script; return it and the env Agentry must run with."""
    path = require_claude()
    home.write_settings(agent_paths={"claude": str(path)})
    servers: list[FakeAnthropic] = []

    def start(script: Any) -> tuple[FakeAnthropic, dict[str, str]]:
        fake = FakeAnthropic(script).start()
        servers.append(fake)
        return fake, fake.child_env(tmp_path / "claude-home", base=home.env)

    yield start
    for fake in servers:
        fake.stop()


def _events(home: Home, task_id: int, run_index: int = -1) -> list[Any]:
    run = home.runs(task_id)[run_index]
    parser = get_adapter("claude").parser()
    log = (home.locations.run_dir(run.dir) / "output.log").read_text()
    return [event for line in log.splitlines() for event in parser.feed(line)]


def test_a_claude_task_streams_its_text_and_reports_cost_and_session(
    home: Home, work_dir: Path, claude_env: Any
) -> None:
    fake, env = claude_env([text("Hello from the fake model.")])
    done = home.cli("run", "--agent", "claude", "--wait", "--cwd", str(work_dir),
                    "say hello", env=env, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Hello from the fake model." in done.stdout  # rendered, not raw JSON
    assert '{"type"' not in done.stdout

    events = _events(home, 1)
    session = next(e for e in events if isinstance(e, Session))
    assert Text("Hello from the fake model.") in events
    result = next(e for e in events if isinstance(e, Result))
    assert result.ok and result.cost_usd is not None and result.cost_usd > 0
    assert "say hello" in json.dumps(fake.main_requests()[0]["messages"])

    listing = wait_until(lambda: (t := json.loads(home.cli("list", "--json").stdout)[0])
                         ["session_id"] and t, message="the session id to be recorded")  # fmt: skip
    assert listing["session_id"] == session.session_id
    assert listing["cost_usd"] == pytest.approx(result.cost_usd)
    assert listing["agent"] == "claude" and listing["state"] == "succeeded"
    run = home.run(1)
    assert run.argv[1:5] == ("-p", "--output-format", "stream-json", "--verbose")
    assert "say hello" not in run.argv  # the prompt travels through stdin


def test_a_follow_up_continues_the_same_claude_session(
    home: Home, work_dir: Path, claude_env: Any
) -> None:
    fake, env = claude_env([text("First answer."), text("Second answer.")])
    first = home.cli("run", "--agent", "claude", "--wait", "--cwd", str(work_dir),
                     "first question", env=env, timeout=120)  # fmt: skip
    assert first.returncode == 0, first.stderr
    wait_until(lambda: home.task(1).session_id, message="session id of the first run")

    second = home.cli("follow-up", "1", "second question", "--wait", env=env, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "Second answer." in second.stdout

    runs = home.runs(1)
    assert [r.kind for r in runs] == ["start", "follow_up"]
    assert runs[1].resume_session == home.task(1).session_id
    assert "--resume" in runs[1].argv
    sent = json.dumps(fake.main_requests()[-1]["messages"])
    for earlier in ("first question", "First answer.", "second question"):
        assert earlier in sent, f"the server did not see {earlier!r} in the resumed session"
    later = [e for e in _events(home, 1, 1) if isinstance(e, Session)]
    assert later and later[0].session_id == runs[1].resume_session


def test_a_killed_agentry_still_yields_the_full_structured_transcript(
    home: Home, work_dir: Path, claude_env: Any
) -> None:
    def slow(body: dict[str, Any]) -> Reply:
        time.sleep(3)  # the model "thinks" while Agentry is killed
        return text("Finished while Agentry was down.")

    fake, env = claude_env(slow)
    server = home.serve(env=env)
    home.cli("run", "--agent", "claude", "--cwd", str(work_dir), "take your time", env=env,
             check=True)  # fmt: skip
    home.wait_state(1, "running")
    wait_until(lambda: fake.main_requests(), message="Claude to ask the model")
    server.send_signal(signal.SIGKILL)
    server.wait()
    exit_file = home.run_dir(1) / "exit.json"
    wait_until(exit_file.exists, timeout=60, message="Claude to finish while Agentry is down")

    again = home.serve(env=env)
    assert "1 finished while away" in again.startup_output  # type: ignore[attr-defined]
    assert home.wait_state(1, "succeeded").exit_code == 0
    events = _events(home, 1)
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "Session" and "Text" in kinds and kinds[-1] == "Result"
    assert Text("Finished while Agentry was down.") in events
    wait_until(lambda: home.task(1).session_id, message="the session id recorded on recovery")
    assert home.task(1).total_cost_usd is not None


def test_a_missing_claude_cli_fails_the_task_with_how_to_install_it(
    home: Home, work_dir: Path
) -> None:
    home.write_settings(agent_paths={"claude": str(work_dir / "no-such-claude")})
    done = home.cli("run", "--agent", "claude", "--wait", "--cwd", str(work_dir), "hello")
    assert done.returncode == 127
    assert "npm install -g @anthropic-ai/claude-code" in done.stderr
    assert home.run(1).state.value == "failed" and home.run(1).reason == "spawn_error"
