"""CodexAdapter: argv of ``codex exec --json`` runs and the parsing of its JSONL output."""

from __future__ import annotations

import json
import tomllib

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
from app.supervisor.adapters.base import AgentOptions, HookConfig
from app.supervisor.adapters.codex import CodexAdapter, CodexParser, hook_override

EXE = "/opt/bin/codex"


@pytest.fixture
def adapter() -> CodexAdapter:
    return CodexAdapter()


# --- argv ------------------------------------------------------------------------------


def test_resume_puts_every_option_before_the_subcommand(adapter: CodexAdapter) -> None:
    options = AgentOptions(
        model="gpt-5-codex",
        permission_mode="workspace-write",
        extra_args=("-c", "model_reasoning_effort=high"),
    )
    inv = adapter.build(
        "and now the tests",
        options,
        executable=EXE,
        session_id="0199a213-81c0-7800-8aa1-bbab2a035a53",
    )
    assert inv.argv == [
        EXE,
        "exec",
        "--json",
        "-m",
        "gpt-5-codex",
        "-s",
        "workspace-write",
        "--skip-git-repo-check",
        "-c",
        "model_reasoning_effort=high",
        "resume",
        "0199a213-81c0-7800-8aa1-bbab2a035a53",
        "-",
    ]
    assert inv.stdin_text == "and now the tests"


@pytest.mark.parametrize("mode", ["read-only", "workspace-write", "danger-full-access"])
def test_permission_mode_is_the_sandbox(adapter: CodexAdapter, mode: str) -> None:
    inv = adapter.build("x", AgentOptions(permission_mode=mode), executable=EXE)
    assert inv.argv == [EXE, "exec", "--json", "-s", mode, "--skip-git-repo-check", "-"]
    assert mode in adapter.permission_modes


def test_model_option(adapter: CodexAdapter) -> None:
    inv = adapter.build("x", AgentOptions(model="o4-mini"), executable=EXE)
    assert inv.argv == [EXE, "exec", "--json", "-m", "o4-mini", "--skip-git-repo-check", "-"]


# --- parsing: fixtures -----------------------------------------------------------------


def _feed(lines: list[str]) -> list[AgentEvent]:
    parser = CodexParser()
    events: list[AgentEvent] = []
    for line in lines:
        events += parser.feed(line)
    return events


def test_docs_sample_line_by_line() -> None:
    parser = CodexParser()
    lines = fixture_lines("codex", "exec_docs_sample.jsonl")
    out = [parser.feed(line) for line in lines]
    assert out[0] == [Session("0199a213-81c0-7800-8aa1-bbab2a035a53")]
    assert out[1] == []
    assert out[2] == [Text("**Searching for README files**", role="thinking")]
    assert out[3] == [ToolCall("shell", {"command": "bash -lc ls"}, "item_1")]
    assert len(out[4]) == 1 and isinstance(out[4][0], ToolResult)
    assert out[4][0].call_id == "item_1" and out[4][0].ok
    assert out[4][0].output.startswith("2025-09-11\nAGENTS.md\n")
    assert out[4][0].output.endswith("sdk\ntmp\n")
    assert out[5] == [Text("**Checking repository root for README**", role="thinking")]
    assert out[6] == [Text("Yep \u2014 there\u2019s a `README.md` in the repository root.")]
    assert out[7] == [Result(ok=True, input_tokens=24763, output_tokens=122)]


def test_docs_sample_summary() -> None:
    summary = RunSummary()
    for event in _feed(fixture_lines("codex", "exec_docs_sample.jsonl")):
        summary.absorb(event)
    assert summary.session_id == "0199a213-81c0-7800-8aa1-bbab2a035a53"
    assert (summary.ok, summary.input_tokens, summary.output_tokens) == (True, 24763, 122)
    assert summary.cost_usd is None


def test_turn_failed_from_the_issue_tracker() -> None:
    [line] = fixture_lines("codex", "turn_failed_issue.jsonl")
    assert CodexParser().feed(line) == [Error("..."), Result(ok=False, text="...")]


# --- parsing: shapes from codex-rs/exec/src/exec_events.rs -----------------------------


def _line(data: dict[str, object]) -> str:
    return json.dumps(data)


def test_file_change_is_an_edit_call_and_result() -> None:
    changes = [{"path": "/repo/a.txt", "kind": "add"}, {"path": "/repo/b.rs", "kind": "update"}]
    item = {"id": "item_4", "type": "file_change", "changes": changes, "status": "completed"}
    assert CodexParser().feed(_line({"type": "item.completed", "item": item})) == [
        ToolCall("edit", {"path": "/repo/a.txt", "changes": changes}, "item_4"),
        ToolResult("item_4", True, "add /repo/a.txt\nupdate /repo/b.rs"),
    ]


def test_failed_command_is_a_failed_result() -> None:
    parser = CodexParser()
    started = {
        "id": "i",
        "type": "command_execution",
        "command": "false",
        "aggregated_output": "",
        "exit_code": None,
        "status": "in_progress",
    }
    done = dict(started, aggregated_output="boom\n", exit_code=1, status="failed")
    assert parser.feed(_line({"type": "item.started", "item": started})) == [
        ToolCall("shell", {"command": "false"}, "i")
    ]
    assert parser.feed(_line({"type": "item.updated", "item": started})) == []
    assert parser.feed(_line({"type": "item.completed", "item": done})) == [
        ToolResult("i", False, "boom\n")
    ]


def test_mcp_tool_call_and_web_search() -> None:
    parser = CodexParser()
    mcp = {
        "id": "m",
        "type": "mcp_tool_call",
        "server": "github",
        "tool": "search_issues",
        "arguments": {"q": "bug"},
        "result": None,
        "error": None,
        "status": "in_progress",
    }
    assert parser.feed(_line({"type": "item.started", "item": mcp})) == [
        ToolCall("mcp__github__search_issues", {"q": "bug"}, "m")
    ]
    result = {"content": [{"type": "text", "text": "3 issues"}], "structured_content": None}
    done = dict(mcp, status="completed", result=result)
    assert parser.feed(_line({"type": "item.completed", "item": done})) == [
        ToolResult("m", True, "3 issues")
    ]
    search = {"id": "w", "type": "web_search", "query": "codex exec resume"}
    assert parser.feed(_line({"type": "item.completed", "item": search})) == [
        ToolCall("web_search", {"query": "codex exec resume"}, "w"),
        ToolResult("w", True, ""),
    ]


def test_errors_and_todo_list() -> None:
    parser = CodexParser()
    assert parser.feed(_line({"type": "error", "message": "Reconnecting... 2/5"})) == [
        Error("Reconnecting... 2/5")
    ]
    error_item = {"id": "e", "type": "error", "message": "command timed out"}
    assert parser.feed(_line({"type": "item.completed", "item": error_item})) == [
        Error("command timed out")
    ]
    todo = {
        "id": "t",
        "type": "todo_list",
        "items": [{"text": "read", "completed": True}, {"text": "fix", "completed": False}],
    }
    assert parser.feed(_line({"type": "item.started", "item": todo})) == [
        Text("[x] read\n[ ] fix", role="thinking")
    ]
    assert parser.feed(_line({"type": "item.completed", "item": todo})) == []


def test_legacy_item_type_field_is_understood() -> None:
    # codex 0.4x (openai/codex PR #4525): "item_type" and "assistant_message".
    line = _line(
        {
            "type": "item.completed",
            "item": {"id": "item_3", "item_type": "assistant_message", "text": "hi"},
        }
    )
    assert CodexParser().feed(line) == [Text("hi")]


# --- approvals: Agentry's PreToolUse hook ----------------------------------------------

HOOK = HookConfig(["/opt/Agentry/agentry-cli", "hook", "codex-pretool", "--run", "3"], 1200)


def test_the_hook_goes_on_the_command_line_and_the_sandbox_lets_approved_edits_happen(
    adapter: CodexAdapter,
) -> None:
    inv = adapter.build("go", AgentOptions(), executable=EXE, hook=HOOK)
    assert inv.argv == [EXE, "exec", "--json", "-c", hook_override(HOOK.shell_command(), 1200),
                        "-c", "features.codex_hooks=true", "--dangerously-bypass-hook-trust",
                        "-s", "workspace-write", "--skip-git-repo-check", "-"]  # fmt: skip
    assert inv.files == {} and inv.env == {}, "nothing is written into ~/.codex or the project"
    chosen = adapter.build("go", AgentOptions(permission_mode="read-only"), executable=EXE,
                           hook=HOOK)  # fmt: skip
    assert chosen.argv[chosen.argv.index("-s") + 1] == "read-only"


@pytest.mark.parametrize(
    "command",
    [
        ["/opt/Agentry/agentry-cli", "hook", "codex-pretool", "--run", "3"],
        ['C:\\Program Files\\Agentry "beta"\\agentry-cli.exe', "hook", "codex-pretool"],
        ["/home/zoë/.venv/bin/python", "-m", "app", "hook", "codex-pretool", "--run", "12"],
    ],
)
def test_the_hook_override_is_toml_codex_reads_back_exactly(command: list[str]) -> None:
    hook = HookConfig(command, 1200)
    parsed = tomllib.loads(hook_override(hook.shell_command(), hook.timeout_s))
    (group,) = parsed["hooks"]["PreToolUse"]
    assert group["matcher"] == "*"
    assert group["hooks"] == [{"type": "command", "command": hook.shell_command(),
                               "timeout": 1200,
                               "statusMessage": "Waiting for approval in Agentry"}]  # fmt: skip


def test_codexs_notice_about_the_trust_bypass_is_not_shown_but_other_errors_are() -> None:
    parser = CodexParser()
    notice = {"type": "item.completed", "item": {"id": "item_0", "type": "error", "message":
              "`--dangerously-bypass-hook-trust` is enabled. Enabled hooks may run without "
              "review for this invocation."}}  # fmt: skip
    assert parser.feed(json.dumps(notice)) == []
    other = {"type": "item.completed", "item": {"id": "item_1", "type": "error",
                                                "message": "Model metadata not found"}}  # fmt: skip
    assert parser.feed(json.dumps(other)) == [Error("Model metadata not found")]


def _parse(name: str) -> list[AgentEvent]:
    parser = CodexParser()
    return [e for line in fixture_lines("codex", name) for e in parser.feed(line)]


def test_real_approved_command_is_one_call_with_its_result() -> None:
    events = _parse("real_0.171.0_approved_command.jsonl")
    assert not [e for e in events if isinstance(e, Raw)], "every real line is understood"
    assert events[0] == Session("01a22806-3b9a-7281-8c75-1e0d0c7b251f")
    errors = [e for e in events if isinstance(e, Error)]
    assert [e.message for e in errors] == [
        "Model metadata for `fake-model` not found. Defaulting to fallback metadata; "
        "this can degrade performance and cause issues."
    ], "the trust-bypass notice Agentry asked for is not shown, other notices are"
    (call,) = [e for e in events if isinstance(e, ToolCall)]
    (result,) = [e for e in events if isinstance(e, ToolResult)]
    assert call.input["command"].endswith("echo hello > /tmp/codex-research/work/created.txt'")
    assert result.call_id == call.call_id and result.ok
    assert isinstance(events[-1], Result) and events[-1].ok


def test_real_denied_command_never_runs_and_the_reply_quotes_the_reason() -> None:
    events = _parse("real_0.171.0_denied_command.jsonl")
    assert not [e for e in events if isinstance(e, (Raw, ToolCall))]
    (reply,) = [e for e in events if isinstance(e, Text)]
    assert "Command blocked by PreToolUse hook: Denied by Agentry user." in reply.text


def test_real_apply_patch_is_an_edit_of_the_added_file() -> None:
    events = _parse("real_0.171.0_apply_patch.jsonl")
    assert not [e for e in events if isinstance(e, Raw)]
    (call,) = [e for e in events if isinstance(e, ToolCall)]
    assert call.tool == "edit" and call.input["path"] == "/tmp/codex-research/work/created.txt"
