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
    yield fake, fake.child_env(user, base=home.env)
    fake.stop()


def test_a_codex_command_waits_for_approval_then_runs(
    home: Home, work_dir: Path, codex: Any
) -> None:
    _fake, env = codex
    config = Path(env["CODEX_HOME"]) / "config.toml"
    before = config.read_text()
    home.serve(env=env)
    request = home.start_and_wait_for_approval("codex", work_dir, env, model=MODEL)
    assert request["tool"] == "Bash" and request["argument"] == MAKE_FILE
    assert config.read_text() == before and not (config.parent / "hooks.json").exists()
    assert not (work_dir / ".codex").exists(), "nothing is written into ~/.codex or the project"
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


def test_codex_still_asks_when_its_config_turns_hooks_off_in_a_project_with_an_app_package(
    home: Home, work_dir: Path, codex: Any, tmp_path: Path
) -> None:
    """Two ways the hook was once skipped, and the call ran: the user's config.toml
    switching hooks off, and a project package named app shadowing Agentry's."""
    _fake, env = codex
    config = Path(env["CODEX_HOME"]) / "config.toml"
    config.write_text(config.read_text() + "\n[features]\ncodex_hooks = false\n")
    (work_dir / "app").mkdir()
    (work_dir / "app" / "__init__.py").write_text("raise ImportError('not agentry')\n")
    home.serve(env=env)
    request = home.start_and_wait_for_approval("codex", work_dir, env, model=MODEL)
    assert not (work_dir / "made.txt").exists()
    assert home.cli("approve", request["id"], env=env).returncode == 0
    assert home.wait_state(1, "succeeded", "failed", timeout=60).state.value == "succeeded"
    assert (work_dir / "made.txt").exists()
