"""The real Claude Code CLI, offline, against FakeAnthropic: the scenarios adapters rely on."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.claude_cli import require_claude
from helpers.fake_anthropic import (
    FakeAnthropic,
    Reply,
    last_tool_result,
    text,
    tool,
    tool_result_text,
)

TIMEOUT_S = 60
STREAM_JSON = ["--output-format", "stream-json", "--verbose"]


@dataclass
class Result:
    returncode: int
    lines: list[dict[str, Any]]
    stderr: str

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["type"] == kind]

    @property
    def final(self) -> dict[str, Any]:
        return self.lines[-1]


@pytest.fixture
def claude() -> Path:
    return require_claude()


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    home, cwd = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    cwd.mkdir()
    return home, cwd


def run_claude(claude: Path, fake: FakeAnthropic, dirs: tuple[Path, Path], *args: str) -> Result:
    home, cwd = dirs
    proc = subprocess.run(
        [str(claude), *args, *STREAM_JSON],
        cwd=cwd,
        env=fake.child_env(home),
        stdin=subprocess.DEVNULL,  # an open, silent stdin costs a 3 s wait and a warning
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return Result(proc.returncode, lines, proc.stderr)


def test_text_reply_gives_init_assistant_and_result_lines(
    claude: Path, dirs: tuple[Path, Path]
) -> None:
    with FakeAnthropic([text("Hello from the fake.")]) as fake:
        result = run_claude(claude, fake, dirs, "-p", "say hello")

    assert result.returncode == 0, result.stderr
    assert [line["type"] for line in result.lines] == ["system", "assistant", "result"]
    init, final = result.lines[0], result.final
    assert init["subtype"] == "init"
    assert init["cwd"] == str(dirs[1])
    assert final["subtype"] == "success"
    assert final["is_error"] is False
    assert final["result"] == "Hello from the fake."
    assert final["session_id"] == init["session_id"]
    assert len(fake.main_requests()) == 1
    assert any(p.startswith("POST /v1/messages") for p in fake.paths)


def test_bash_tool_runs_and_its_result_goes_back_to_the_model(
    claude: Path, dirs: tuple[Path, Path]
) -> None:
    script = [tool("Bash", {"command": "echo hi > made.txt"}), text("Made it.")]
    with FakeAnthropic(script) as fake:
        result = run_claude(
            claude, fake, dirs, "-p", "make a file", "--permission-mode", "bypassPermissions"
        )

    assert result.returncode == 0, result.stderr
    assert (dirs[1] / "made.txt").read_text() == "hi\n"
    tool_results = [b for u in result.of_type("user") for b in u["message"]["content"]]
    assert [b["type"] for b in tool_results] == ["tool_result"]
    assert tool_results[0]["is_error"] is False
    assert result.final["num_turns"] == 2
    assert result.final["result"] == "Made it."
    sent = last_tool_result(fake.main_requests()[-1])
    assert sent is not None and sent["tool_use_id"] == tool_results[0]["tool_use_id"]


def test_resume_sends_the_earlier_turns_under_the_same_session(
    claude: Path, dirs: tuple[Path, Path]
) -> None:
    with FakeAnthropic([text("Noted: kiwi.")]) as fake:
        first = run_claude(claude, fake, dirs, "-p", "remember the word kiwi")
    session_id = first.final["session_id"]

    with FakeAnthropic([text("It was kiwi.")]) as fake:
        second = run_claude(claude, fake, dirs, "-p", "what was the word?", "--resume", session_id)

    assert second.returncode == 0, second.stderr
    assert second.final["session_id"] == session_id
    messages = fake.main_requests()[-1]["messages"]
    turns = [(m["role"], _texts(m)) for m in messages if m["role"] in ("user", "assistant")]
    assert any(role == "user" and "remember the word kiwi" in t for role, t in turns)
    assert ("assistant", "Noted: kiwi.") in turns
    assert turns[-1][0] == "user" and "what was the word?" in turns[-1][1]


def test_pretooluse_hook_deny_reaches_the_model_and_blocks_the_command(
    claude: Path, dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    hook = tmp_path / "deny.py"
    hook.write_text(
        "import json, sys\n"
        "json.load(sys.stdin)\n"
        "print(json.dumps({'hookSpecificOutput': {'hookEventName': 'PreToolUse',"
        " 'permissionDecision': 'deny', 'permissionDecisionReason': 'no shell today'}}))\n"
    )
    command = f"{sys.executable} {hook}"
    settings = {"hooks": {"PreToolUse": [{"matcher": "*", "hooks": [_hook(command)]}]}}

    def script(body: dict[str, Any]) -> Reply:
        sent = last_tool_result(body)
        if sent is None:
            return tool("Bash", {"command": "echo hi > made.txt"})
        return text("refused: " + tool_result_text(sent))

    with FakeAnthropic(script) as fake:
        result = run_claude(
            claude,
            fake,
            dirs,
            "-p",
            "make a file",
            "--permission-mode",
            "bypassPermissions",
            "--settings",
            json.dumps(settings),
        )

    assert result.returncode == 0, result.stderr
    assert not (dirs[1] / "made.txt").exists()
    sent = last_tool_result(fake.main_requests()[-1])
    assert sent is not None and sent["is_error"] is True
    assert tool_result_text(sent) == "no shell today"
    assert result.final["result"] == "refused: no shell today"
    assert [d["tool_name"] for d in result.final["permission_denials"]] == ["Bash"]


def test_fake_answers_non_streaming_and_side_requests_without_using_the_script() -> None:
    with FakeAnthropic([text("main")]) as fake:
        side = _post(fake.url + "/v1/messages", {"model": "m", "messages": []})
        main = _post(fake.url + "/v1/messages?beta=true", {"model": "m", "tools": []})
        extra = _post(fake.url + "/v1/messages/count_tokens", {"messages": []})

    assert side["content"] == [{"type": "text", "text": "ok"}]
    assert main["content"] == [{"type": "text", "text": "main"}]
    assert main["stop_reason"] == "end_turn"
    assert extra["input_tokens"] >= 1
    assert len(fake.requests) == 2
    assert len(fake.main_requests()) == 1


def _hook(command: str) -> dict[str, Any]:
    return {"type": "command", "command": command, "timeout": 600}


def _texts(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content if isinstance(b, dict))


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())
