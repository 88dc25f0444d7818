"""Tool-call approvals with the real Codex CLI against a local Responses-API server.

Agentry's PreToolUse hook is given to ``codex exec`` with ``-c`` (nothing is written into
~/.codex or the project): a shell command is held until a person decides, a denied one
does not run and the model reads the reason.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from helpers.agentry import Home
from helpers.fake_openai import MODEL, FakeOpenAI, call, text, tool_outputs
from helpers.real_cli import require_cli

MAKE_FILE = "echo approved > made.txt"


@pytest.fixture
def codex(home: Home, tmp_path: Path) -> Any:
    path = require_cli("codex", "AGENTRY_CODEX_BIN", "@openai/codex")
    home.write_settings(agent_paths={"codex": str(path)})
    fake = FakeOpenAI([call("exec_command", {"cmd": MAKE_FILE}), text("All done.")]).start()
    user = fake.codex_home(tmp_path / "user-home")
    config = (user / ".codex" / "config.toml").read_text()
    yield fake, fake.child_env(user, base=home.env)
    assert (user / ".codex" / "config.toml").read_text() == config, "~/.codex is not touched"
    fake.stop()


def test_a_codex_command_waits_for_approval_then_runs(
    home: Home, work_dir: Path, codex: Any
) -> None:
    _fake, env = codex
    home.serve(env=env)
    request = home.start_and_wait_for_approval("codex", work_dir, env, model=MODEL)
    assert request["tool"] == "Bash" and request["argument"] == MAKE_FILE
    assert request["agent"] == "codex" and request["state"] == "pending"
    assert not (work_dir / "made.txt").exists(), "nothing runs before the person says yes"

    assert home.cli("approve", request["id"], env=env).returncode == 0
    assert home.wait_state(1, "succeeded", "failed", timeout=60).state.value == "succeeded"
    assert (work_dir / "made.txt").read_text().strip() == "approved"
    output = home.output(1)
    assert "dangerously-bypass-hook-trust" in output, "the raw log keeps Codex's own notice"


def test_a_denied_codex_command_does_not_run_and_the_model_reads_the_reason(
    home: Home, work_dir: Path, codex: Any
) -> None:
    fake, env = codex
    home.serve(env=env)
    request = home.start_and_wait_for_approval("codex", work_dir, env, model=MODEL)
    denied = home.cli("deny", request["id"], "--reason", "not on a Friday", env=env)
    assert denied.returncode == 0, denied.stderr
    home.wait_state(1, "succeeded", "failed", timeout=60)
    assert not (work_dir / "made.txt").exists()
    outputs = tool_outputs(fake.requests[-1])
    assert outputs and "not on a Friday" in outputs[-1]


def test_a_codex_decision_reaches_the_agent_across_a_sigkilled_agentry(
    home: Home, work_dir: Path, codex: Any
) -> None:
    _fake, env = codex
    server = home.serve(env=env)
    request = home.start_and_wait_for_approval("codex", work_dir, env, model=MODEL)
    server.send_signal(signal.SIGKILL)
    server.wait()

    home.serve(env=env)
    assert home.pending_approvals(env)[0]["id"] == request["id"]
    assert home.cli("approve", request["id"], env=env).returncode == 0
    assert home.wait_state(1, "succeeded", "failed", timeout=60).state.value == "succeeded"
    assert (work_dir / "made.txt").exists()
