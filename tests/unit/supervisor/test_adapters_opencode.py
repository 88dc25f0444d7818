"""OpencodeAdapter: argv of ``opencode run --format json`` and the parsing of its events."""

from __future__ import annotations

import json
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
from app.supervisor.adapters.base import AgentOptions
from app.supervisor.adapters.opencode import OpencodeAdapter, OpencodeParser

EXE = "/home/me/.opencode/bin/opencode"
SESSION = "ses_6783457c2ffeICANaRjenHkVxv"


@pytest.fixture
def adapter() -> OpencodeAdapter:
    return OpencodeAdapter()


# --- argv ------------------------------------------------------------------------------


def test_resume_with_model_and_auto(adapter: OpencodeAdapter) -> None:
    options = AgentOptions(
        model="anthropic/claude-sonnet-4-5", permission_mode="auto", extra_args=("--thinking",)
    )
    inv = adapter.build("continue", options, executable=EXE, session_id=SESSION)
    assert inv.argv == [
        EXE,
        "run",
        "--format",
        "json",
        "-m",
        "anthropic/claude-sonnet-4-5",
        "--session",
        SESSION,
        "--auto",
        "--thinking",
    ]
    assert inv.stdin_text == "continue"


def test_default_permission_mode_adds_nothing(adapter: OpencodeAdapter) -> None:
    inv = adapter.build("x", AgentOptions(permission_mode="default"), executable=EXE)
    assert inv.argv == [EXE, "run", "--format", "json"]


# --- parsing: fixtures -----------------------------------------------------------------


def _feed(parser: OpencodeParser, lines: list[str]) -> list[AgentEvent]:
    events: list[AgentEvent] = []
    for line in lines:
        events += parser.feed(line)
    return events


def test_pr2810_steps_line_by_line() -> None:
    parser = OpencodeParser()
    start, finish = fixture_lines("opencode", "pr2810_steps.jsonl")
    assert parser.feed(start) == [Session(SESSION)]
    assert parser.feed(finish) == [
        Result(ok=True, turns=1, cost_usd=0.0070147, input_tokens=11087, output_tokens=145)
    ]


def test_session_is_announced_once() -> None:
    parser = OpencodeParser()
    lines = fixture_lines("opencode", "pr2810_steps.jsonl")
    events = _feed(parser, lines + lines)
    assert [e for e in events if isinstance(e, Session)] == [Session(SESSION)]
    last = events[-1]
    assert isinstance(last, Result)
    assert (last.turns, last.input_tokens, last.output_tokens) == (2, 22174, 290)
    assert last.cost_usd == pytest.approx(0.0140294)


def test_issue47972_error() -> None:
    [line] = fixture_lines("opencode", "issue47972_error.jsonl")
    message = "Unexpected server error. Check server logs for details."
    assert OpencodeParser().feed(line) == [
        Session("ses_f7eaf57b4ffeRoCprFrTfUsZZJ"),
        Error(message),
        Result(ok=False, text=message),
    ]


# --- parsing: shapes emitted by packages/opencode/src/cli/cmd/run.ts -----------------------


def _event(kind: str, **data: Any) -> str:
    return json.dumps({"type": kind, "timestamp": 1758919897000, "sessionID": SESSION, **data})


def test_text_reasoning_and_tools() -> None:
    parser = OpencodeParser()
    text = {"id": "prt_1", "type": "text", "text": "Done.", "time": {"start": 1, "end": 2}}
    thought = {"id": "prt_2", "type": "reasoning", "text": "Check the tests first."}
    bash = {
        "id": "prt_3",
        "callID": "toolu_01",
        "type": "tool",
        "tool": "bash",
        "state": {"status": "completed", "input": {"command": "ls"}, "output": "a\nb\n"},
    }
    failed = {
        "id": "prt_4",
        "callID": "toolu_02",
        "type": "tool",
        "tool": "edit",
        "state": {"status": "error", "input": {"filePath": "/x.py"}, "error": "no such file"},
    }
    events = _feed(
        parser,
        [
            _event("reasoning", part=thought),
            _event("tool_use", part=bash),
            _event("tool_use", part=failed),
            _event("text", part=text),
        ],
    )
    assert events == [
        Session(SESSION),
        Text("Check the tests first.", role="thinking"),
        ToolCall("bash", {"command": "ls"}, "toolu_01"),
        ToolResult("toolu_01", True, "a\nb\n"),
        ToolCall("edit", {"filePath": "/x.py"}, "toolu_02"),
        ToolResult("toolu_02", False, "no such file"),
        Text("Done."),
    ]


def test_done_reports_rejected_permissions() -> None:
    parser = OpencodeParser()
    assert parser.feed(_event("done", reason="idle", rejected=[])) == [Session(SESSION)]
    assert parser.feed(_event("done", reason="idle", rejected=["edit", "bash"])) == [
        Error("opencode rejected permission requests: edit, bash")
    ]


def test_unknown_type_still_names_the_session() -> None:
    line = _event("compaction", part={})
    assert OpencodeParser().feed(line) == [Session(SESSION), Raw(line)]


def test_summary_over_a_run() -> None:
    summary = RunSummary()
    parser = OpencodeParser()
    for event in _feed(parser, fixture_lines("opencode", "pr2810_steps.jsonl")):
        summary.absorb(event)
    assert summary.session_id == SESSION
    assert (summary.ok, summary.input_tokens, summary.output_tokens) == (True, 11087, 145)
    assert summary.cost_usd == pytest.approx(0.0070147)
