"""Tool-call approvals with the real Claude Code CLI against a local Messages-API server:
held until a person decides, denied with a reason the agent reads, denied on expiry, and
answered across a SIGKILLed Agentry."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from helpers.agentry import Home, alive
from helpers.claude_cli import require_claude
from helpers.fake_anthropic import FakeAnthropic, last_tool_result, text, tool, tool_result_text
from helpers.wait import wait_until

MAKE_FILE = {"command": "echo approved > made.txt", "description": "make a file"}


@pytest.fixture
def claude(home: Home, tmp_path: Path) -> Any:
    home.write_settings(agent_paths={"claude": str(require_claude())})
    servers: list[FakeAnthropic] = []

    def start() -> tuple[FakeAnthropic, dict[str, str]]:
        fake = FakeAnthropic([tool("Bash", MAKE_FILE), text("All done.")]).start()
        servers.append(fake)
        return fake, fake.child_env(tmp_path / "claude-home", base=home.env)

    yield start
    for fake in servers:
        fake.stop()


def test_a_tool_call_waits_for_approval_then_runs(home: Home, work_dir: Path, claude: Any) -> None:
    _fake, env = claude()
    home.serve(env=env)
    request = home.start_and_wait_for_approval("claude", work_dir, env)
    assert request["tool"] == "Bash" and request["argument"] == MAKE_FILE["command"]
    assert request["task_id"] == 1 and request["state"] == "pending"
    assert not (work_dir / "made.txt").exists(), "nothing runs before the person says yes"

    assert home.cli("approve", request["id"], env=env).returncode == 0
    assert home.wait_state(1, "succeeded", "failed").state.value == "succeeded"
    assert (work_dir / "made.txt").read_text() == "approved\n"
    again = home.cli("approve", request["id"], env=env)
    assert again.returncode == 1 and "already allowed" in again.stderr


def test_a_denied_call_does_not_run_and_the_agent_reads_the_reason(
    home: Home, work_dir: Path, claude: Any
) -> None:
    fake, env = claude()
    home.serve(env=env)
    request = home.start_and_wait_for_approval("claude", work_dir, env)
    denied = home.cli("deny", request["id"], "--reason", "not on a Friday", env=env)
    assert denied.returncode == 0, denied.stderr
    home.wait_state(1, "succeeded", "failed")
    assert not (work_dir / "made.txt").exists()
    result = last_tool_result(fake.main_requests()[-1])
    assert result is not None and "not on a Friday" in tool_result_text(result)


def test_an_unanswered_call_expires_and_is_denied(home: Home, work_dir: Path, claude: Any) -> None:
    home.write_settings(approval_timeout_s=10.0)
    fake, env = claude()
    home.serve(env=env)
    request = home.start_and_wait_for_approval("claude", work_dir, env)
    home.wait_state(1, "succeeded", "failed", timeout=60)
    assert not (work_dir / "made.txt").exists()
    final = json.loads(home.cli("approvals", "--all", "--json", env=env).stdout)
    assert [a["state"] for a in final if a["id"] == request["id"]] == ["expired"]
    result = last_tool_result(fake.main_requests()[-1])
    assert result is not None and "No one answered" in tool_result_text(result)
    late = home.cli("approve", request["id"], env=env)
    assert late.returncode == 1 and "already expired" in late.stderr


def test_a_decision_reaches_the_agent_across_a_sigkilled_agentry(
    home: Home, work_dir: Path, claude: Any
) -> None:
    _fake, env = claude()
    server = home.serve(env=env)
    request = home.start_and_wait_for_approval("claude", work_dir, env)
    server.send_signal(signal.SIGKILL)
    server.wait()

    again = home.serve(env=env)
    assert "1 tool call(s) waiting for you" in again.startup_output  # type: ignore[attr-defined]
    assert home.pending_approvals(env)[0]["id"] == request["id"]
    assert home.cli("approve", request["id"], env=env).returncode == 0
    assert home.wait_state(1, "succeeded", "failed", timeout=60).state.value == "succeeded"
    assert (work_dir / "made.txt").exists()


def test_a_killed_hook_process_leaves_its_request_abandoned(
    home: Home, work_dir: Path, claude: Any
) -> None:
    _fake, env = claude()
    home.serve(env=env)
    request = home.start_and_wait_for_approval("claude", work_dir, env)
    with home.db() as conn:
        hook_pid = conn.execute("SELECT hook_pid FROM approvals WHERE id = ?",
                                (request["id"],)).fetchone()[0]  # fmt: skip
    os.kill(hook_pid, signal.SIGKILL)
    wait_until(lambda: not alive(hook_pid), message="the hook to die")
    wait_until(lambda: not home.pending_approvals(env), message="the request to be abandoned")
    final = json.loads(home.cli("approvals", "--all", "--json", env=env).stdout)
    assert final[-1]["state"] == "abandoned" or any(a["state"] == "abandoned" for a in final)
    refused = home.cli("approve", request["id"], env=env)
    assert refused.returncode == 1 and "already abandoned" in refused.stderr
