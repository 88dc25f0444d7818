"""Tool-call approvals with the real Gemini CLI against a local Gemini API server.

Gemini's BeforeTool hook reaches Agentry through a Gemini home of the run's own (the
user's settings plus Agentry's hook, everything else of the real ~/.gemini linked): a
call is held until a person decides, a denied call does not run and the model reads the
reason, and the session still lands in the user's real ~/.gemini.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
from helpers.agentry import Home
from helpers.fake_gemini import MODEL, FakeGemini, call, function_responses, text, user_home
from helpers.real_cli import require_cli

MAKE_FILE = {"command": "echo approved > made.txt", "description": "make a file"}


@pytest.fixture
def gemini(home: Home, tmp_path: Path, work_dir: Path) -> Any:
    path = require_cli("gemini", "AGENTRY_GEMINI_BIN", "@google/gemini-cli")
    home.write_settings(agent_paths={"gemini": str(path)})
    user = user_home(tmp_path / "user-home", trusted=[work_dir])
    fake = FakeGemini([call("run_shell_command", MAKE_FILE), text("All done.")]).start()
    yield fake, fake.child_env(user, base=home.env), user
    fake.stop()


def test_a_gemini_tool_call_waits_for_approval_then_runs(
    home: Home, work_dir: Path, gemini: Any
) -> None:
    _fake, env, user = gemini
    home.serve(env=env)
    request = home.start_and_wait_for_approval("gemini", work_dir, env, model=MODEL)
    assert request["tool"] == "run_shell_command" and request["argument"] == MAKE_FILE["command"]
    assert request["agent"] == "gemini" and request["state"] == "pending"
    assert not (work_dir / "made.txt").exists(), "nothing runs before the person says yes"

    assert home.cli("approve", request["id"], env=env).returncode == 0
    assert home.wait_state(1, "succeeded", "failed").state.value == "succeeded"
    assert (work_dir / "made.txt").read_text().strip() == "approved"
    # The conversation is kept where the user's own Gemini keeps it, so it can be resumed.
    sessions = list((user / ".gemini" / "tmp").rglob("session-*.json*"))
    assert sessions, "the session was written into the run folder instead of ~/.gemini"
    task = json.loads(home.cli("list", "--json", env=env, check=True).stdout)[0]
    assert task["session_id"] and task["session_id"] in sessions[0].read_text()


def test_a_denied_gemini_call_does_not_run_and_the_model_reads_the_reason(
    home: Home, work_dir: Path, gemini: Any
) -> None:
    fake, env, _user = gemini
    home.serve(env=env)
    request = home.start_and_wait_for_approval("gemini", work_dir, env, model=MODEL)
    denied = home.cli("deny", request["id"], "--reason", "not on a Friday", env=env)
    assert denied.returncode == 0, denied.stderr
    home.wait_state(1, "succeeded", "failed")
    assert not (work_dir / "made.txt").exists()
    responses = function_responses(fake.requests[-1])
    assert responses and "not on a Friday" in json.dumps(responses[-1])


def test_a_read_only_gemini_tool_is_allowed_without_asking(
    home: Home, work_dir: Path, gemini: Any
) -> None:
    fake, env, _user = gemini
    (work_dir / "notes.txt").write_text("hello from the notes\n")
    fake.script[0] = call("read_file", {"file_path": str(work_dir / "notes.txt")})
    home.serve(env=env)
    home.cli("run", "--agent", "gemini", "--model", MODEL, "--cwd", str(work_dir),
             "read the notes", env=env, check=True)  # fmt: skip
    assert home.wait_state(1, "succeeded", "failed").state.value == "succeeded"
    assert "hello from the notes" in json.dumps(function_responses(fake.requests[-1]))
    past = json.loads(home.cli("approvals", "--all", "--json", env=env).stdout)
    assert [(a["tool"], a["state"], a["decided_by"]) for a in past] == [
        ("read_file", "allowed", "auto-allow")
    ]


def test_a_gemini_decision_reaches_the_agent_across_a_sigkilled_agentry(
    home: Home, work_dir: Path, gemini: Any
) -> None:
    _fake, env, _user = gemini
    server = home.serve(env=env)
    request = home.start_and_wait_for_approval("gemini", work_dir, env, model=MODEL)
    server.send_signal(signal.SIGKILL)
    server.wait()

    home.serve(env=env)
    assert home.pending_approvals(env)[0]["id"] == request["id"]
    assert home.cli("approve", request["id"], env=env).returncode == 0
    assert home.wait_state(1, "succeeded", "failed", timeout=60).state.value == "succeeded"
    assert (work_dir / "made.txt").exists()
