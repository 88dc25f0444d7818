"""GeminiAdapter: argv of ``gemini -o stream-json`` runs and the parsing of its JSONL output."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from helpers.agent_cli import (
    fixture_lines,
)

from app.core.agent_events import (
    AgentEvent,
    Error,
    Raw,
    Result,
    RunSummary,
    Session,
    Text,
    ToolCall,
    ToolResult,
)
from app.supervisor.adapters.base import MAX_PROMPT_ARG, AgentOptions, HookConfig, LaunchError
from app.supervisor.adapters.gemini import (
    GeminiAdapter,
    GeminiParser,
    hook_home,
    strip_json_comments,
    with_hook,
)

EXE = "/usr/local/bin/gemini"


@pytest.fixture
def adapter() -> GeminiAdapter:
    return GeminiAdapter()


# --- argv ------------------------------------------------------------------------------


def test_resume_with_model_and_approval_mode(adapter: GeminiAdapter) -> None:
    options = AgentOptions(
        model="gemini-2.5-pro", permission_mode="auto_edit", extra_args=("--skip-trust",)
    )
    inv = adapter.build("go on", options, executable=EXE, session_id="abc123")
    assert inv.argv == [
        EXE,
        "-o",
        "stream-json",
        "-m",
        "gemini-2.5-pro",
        "--approval-mode",
        "auto_edit",
        "--resume",
        "abc123",
        "--skip-trust",
        "-p",
        "go on",
    ]
    assert inv.stdin_text is None


@pytest.mark.parametrize("mode", ["default", "auto_edit", "yolo", "plan"])
def test_permission_modes(adapter: GeminiAdapter, mode: str) -> None:
    inv = adapter.build("x", AgentOptions(permission_mode=mode), executable=EXE)
    assert inv.argv == [EXE, "-o", "stream-json", "--approval-mode", mode, "-p", "x"]
    assert mode in adapter.permission_modes


def test_long_prompt_goes_to_stdin_without_p(adapter: GeminiAdapter) -> None:
    prompt = "z" * (MAX_PROMPT_ARG + 1)
    for session in (None, "abc123"):
        inv = adapter.build(prompt, AgentOptions(), executable=EXE, session_id=session)
        assert "-p" not in inv.argv
        assert all(len(arg) < MAX_PROMPT_ARG for arg in inv.argv)
        assert inv.stdin_text == prompt
    assert adapter.build(prompt, AgentOptions(), executable=EXE).argv == [
        EXE,
        "-o",
        "stream-json",
    ]


def test_prompt_at_the_limit_stays_in_argv(adapter: GeminiAdapter) -> None:
    prompt = "z" * MAX_PROMPT_ARG
    inv = adapter.build(prompt, AgentOptions(), executable=EXE)
    assert inv.argv[-2:] == ["-p", prompt] and inv.stdin_text is None


def test_prompt_that_looks_like_a_flag_goes_to_stdin(adapter: GeminiAdapter) -> None:
    inv = adapter.build("--help me", AgentOptions(), executable=EXE)
    assert inv.argv == [EXE, "-o", "stream-json"]
    assert inv.stdin_text == "--help me"


# --- approvals: Agentry's BeforeTool hook -----------------------------------------------

HOOK = HookConfig(["/opt/agentry/agentry-cli", "hook", "gemini-pretool", "--run", "3"], 1200)


def test_with_approvals_the_hook_decides_unless_the_user_chose_a_mode(
    adapter: GeminiAdapter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_CLI_HOME", str(tmp_path / "user"))
    inv = adapter.build("go", AgentOptions(), executable=EXE, run_dir=tmp_path / "run", hook=HOOK)
    assert inv.argv == [EXE, "-o", "stream-json", "--approval-mode", "yolo", "-p", "go"]
    assert inv.env == {"GEMINI_CLI_HOME": str(tmp_path / "run" / "gemini-home")}
    chosen = adapter.build("go", AgentOptions(permission_mode="plan"), executable=EXE,
                           run_dir=tmp_path / "run", hook=HOOK)  # fmt: skip
    assert chosen.argv[3:5] == ["--approval-mode", "plan"]


def test_the_hook_goes_last_and_keeps_the_users_hooks_and_settings() -> None:
    user_hook = {"matcher": "write_file", "hooks": [{"type": "command", "command": "lint"}]}
    settings: dict[str, Any] = {
        "ui": {"theme": "Dracula"},
        "hooks": {"BeforeTool": [user_hook], "AfterTool": [user_hook]},
        "hooksConfig": {"enabled": False, "disabled": ["other"]},
    }
    merged = with_hook(settings, HOOK)
    theirs, ours = merged["hooks"]["BeforeTool"]
    assert theirs == user_hook and merged["hooks"]["AfterTool"] == [user_hook]
    assert ours["matcher"] == ".*"
    (entry,) = ours["hooks"]
    assert entry["command"] == "/opt/agentry/agentry-cli hook gemini-pretool --run 3"
    assert entry["timeout"] == 1_200_000
    assert entry["name"].startswith("agentry-approvals-")
    again: Any = with_hook(settings, HOOK)
    assert entry["name"] != again["hooks"]["BeforeTool"][1]["hooks"][0]["name"], (
        "a random name per run: no disabled list can name it"
    )
    assert merged["hooksConfig"] == {"enabled": True, "disabled": ["other"]}
    assert merged["ui"] == {"theme": "Dracula"}
    assert settings["hooks"]["BeforeTool"] == [user_hook], "the input is not changed"


@pytest.mark.parametrize("where", ["workspace", "system"])
def test_a_settings_layer_above_the_users_that_turns_hooks_off_refuses_the_run(
    adapter: GeminiAdapter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    project = tmp_path / "project"
    (project / ".gemini").mkdir(parents=True)
    system = tmp_path / "etc" / "settings.json"
    system.parent.mkdir()
    monkeypatch.setenv("GEMINI_CLI_SYSTEM_SETTINGS_PATH", str(system))
    adapter.preflight(project)  # nothing there: fine
    off = '{"hooksConfig": {"enabled": false}} // said the project'
    target = project / ".gemini" / "settings.json" if where == "workspace" else system
    target.write_text(off)
    with pytest.raises(LaunchError, match="turns Gemini's hooks off") as caught:
        adapter.preflight(project)
    assert str(target) in str(caught.value)
    target.write_text('{"hooksConfig": {"enabled": true}}')
    adapter.preflight(project)


def test_on_windows_the_hook_line_is_for_powershell(
    adapter: GeminiAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.supervisor.adapters import gemini

    monkeypatch.setattr(gemini, "IS_WINDOWS", True)
    hook = HookConfig(["C:\\Program Files\\Agentry\\agentry-cli.exe", "hook",
                       "gemini-pretool", "--run", "3"], 1200)  # fmt: skip
    assert adapter.hook_line(hook) == (
        "& 'C:\\Program Files\\Agentry\\agentry-cli.exe' hook gemini-pretool --run 3"
    )
    monkeypatch.setenv("ComSpec", "C:\\Windows\\System32\\WindowsPowerShell\\powershell.exe")
    shell = adapter.hook_shell(dict(os.environ))
    assert shell is not None and shell[1:] == ["-NoProfile", "-NonInteractive", "-Command"]


def test_settings_with_comments_are_read_like_gemini_reads_them(tmp_path: Path) -> None:
    text = """{
      // the theme
      "ui": {"theme": "a // not a comment", "x": "/* nor this */"}, /* block
      comment */ "tools": {"sandbox": false}
    }"""
    assert json.loads(strip_json_comments(text)) == {
        "ui": {"theme": "a // not a comment", "x": "/* nor this */"},
        "tools": {"sandbox": False},
    }
    (tmp_path / ".gemini").mkdir()
    (tmp_path / ".gemini" / "settings.json").write_text(text)
    files, _links = hook_home(HOOK, tmp_path)
    merged = json.loads(files["gemini-home/.gemini/settings.json"])
    assert merged["ui"]["theme"] == "a // not a comment"


def test_broken_user_settings_stop_the_launch_with_the_file_named(tmp_path: Path) -> None:
    (tmp_path / ".gemini").mkdir()
    broken = tmp_path / ".gemini" / "settings.json"
    broken.write_text('{"ui": {"theme": ')
    with pytest.raises(LaunchError, match=r"settings\.json are not valid JSON") as caught:
        hook_home(HOOK, tmp_path)
    assert str(broken) in str(caught.value) and "turn off approvals" in str(caught.value)
    assert broken.read_text() == '{"ui": {"theme": ', "the user's file is left as it was"
    broken.write_text("[1, 2]")
    with pytest.raises(LaunchError, match="not a JSON object"):
        hook_home(HOOK, tmp_path)


def test_a_first_ever_run_makes_the_real_session_folder_and_links_the_rest(
    tmp_path: Path,
) -> None:
    (tmp_path / ".agents").mkdir()
    (tmp_path / ".gemini").mkdir()
    (tmp_path / ".gemini" / "gone.json").symlink_to(tmp_path / "nowhere")  # dangling: skipped
    files, links = hook_home(HOOK, tmp_path)
    assert (tmp_path / ".gemini" / "tmp").is_dir(), "sessions must land in the real home"
    assert links == {"gemini-home/.gemini/tmp": str(tmp_path / ".gemini" / "tmp"),
                     "gemini-home/.agents": str(tmp_path / ".agents")}  # fmt: skip
    assert list(files) == ["gemini-home/.gemini/settings.json"]


# --- parsing ---------------------------------------------------------------------------


def _feed(lines: list[str]) -> list[AgentEvent]:
    parser = GeminiParser()
    events: list[AgentEvent] = []
    for line in lines:
        events += parser.feed(line)
    return events


def test_docs_example_line_by_line() -> None:
    parser = GeminiParser()
    out = [parser.feed(line) for line in fixture_lines("gemini", "headless_docs_example.jsonl")]
    assert out == [
        [Session("abc123", "gemini-2.0-flash-exp")],
        [],
        [ToolCall("Bash", {"command": "ls -la"}, "bash-123")],
        [ToolResult("bash-123", True, "file1.txt\nfile2.txt")],
        [Text("Here are the files...")],
        [Result(ok=True, input_tokens=50, output_tokens=200, duration_ms=3000.0)],
    ]


def test_docs_example_summary() -> None:
    summary = RunSummary()
    for event in _feed(fixture_lines("gemini", "headless_docs_example.jsonl")):
        summary.absorb(event)
    assert (summary.session_id, summary.model) == ("abc123", "gemini-2.0-flash-exp")
    assert (summary.ok, summary.input_tokens, summary.output_tokens) == (True, 50, 200)


def test_formatter_test_events_line_by_line() -> None:
    parser = GeminiParser()
    out = [parser.feed(line) for line in fixture_lines("gemini", "formatter_test_events.jsonl")]
    assert out == [
        [Session("test-session-123", "gemini-2.0-flash-exp")],
        [],
        [Text("4")],
        [ToolCall("Read", {"file_path": "/path/to/file.txt"}, "read-123")],
        [ToolResult("read-123", True, "File contents here")],
        [ToolResult("read-123", False, "File not found")],
        [Error("warning: Loop detected, stopping execution")],
        [Result(ok=True, input_tokens=50, output_tokens=50, duration_ms=1200.0)],
        [
            Error("Maximum session turns exceeded"),
            Result(
                ok=False,
                text="Maximum session turns exceeded",
                input_tokens=50,
                output_tokens=50,
                duration_ms=1200.0,
            ),
        ],
    ]


def test_delta_fragments_are_separate_texts() -> None:
    first = '{"type":"message","role":"assistant","content":"Hel","delta":true}'
    second = '{"type":"message","role":"assistant","content":"lo","delta":true}'
    assert _feed([first, second]) == [Text("Hel"), Text("lo")]


def test_error_severity_error_is_not_prefixed() -> None:
    line = '{"type":"error","timestamp":"t","severity":"error","message":"quota"}'
    assert GeminiParser().feed(line) == [Error("quota")]


def _parse(agent_fixture: str) -> list[AgentEvent]:
    parser = GeminiParser()
    return [e for line in fixture_lines("gemini", agent_fixture) for e in parser.feed(line)]


def test_real_approved_command_is_a_call_a_result_and_a_reply() -> None:
    events = _parse("real_0.61.0_approved_command.jsonl")
    assert not [e for e in events if isinstance(e, Raw)], "every real line is understood"
    session, call, result, reply, done = events
    assert session == Session("dc22535f-2984-4f9d-b1ca-da03b8af15a1", "gemini-2.5-flash")
    assert isinstance(call, ToolCall) and call.tool == "run_shell_command"
    assert call.input["command"] == "touch /tmp/gp/made.txt"
    assert isinstance(result, ToolResult) and result.ok and result.call_id == call.call_id
    assert reply == Text("All done.")
    assert isinstance(done, Result) and done.ok and done.output_tokens == 10


def test_real_denied_command_shows_the_hooks_reason_as_a_failed_result() -> None:
    events = _parse("real_0.61.0_denied_command.jsonl")
    assert not [e for e in events if isinstance(e, Raw)]
    (result,) = [e for e in events if isinstance(e, ToolResult)]
    assert not result.ok and result.output == "Tool execution blocked: not on a Friday"
