"""Claude's stream-json, as recorded from the real CLI (tests/fixtures/claude/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.agent_cli import fake_cli, only_path

from app.core.agent_events import (
    Error,
    Raw,
    Result,
    RunSummary,
    Session,
    Text,
    ToolCall,
    ToolResult,
)
from app.core.render import Renderer
from app.supervisor.adapters import AgentOptions, get_adapter

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "claude"


def _events(name: str) -> list[object]:
    parser = get_adapter("claude").parser()
    lines = (FIXTURES / name).read_text().splitlines()
    return [event for line in lines for event in parser.feed(line)]


def test_a_text_answer_yields_session_text_and_a_result_with_cost() -> None:
    events = _events("text_only.jsonl")
    assert isinstance(events[0], Session) and events[0].session_id
    assert any(isinstance(e, Text) and e.text for e in events)
    result = events[-1]
    assert isinstance(result, Result) and result.ok and result.turns == 1
    assert result.cost_usd is not None and result.cost_usd > 0
    assert result.input_tokens and result.output_tokens


def test_a_bash_call_yields_the_tool_its_command_and_its_result() -> None:
    events = _events("tool_bash.jsonl")
    call = next(e for e in events if isinstance(e, ToolCall))
    assert call.tool == "Bash" and call.summary == "echo hi > made.txt"
    done = next(e for e in events if isinstance(e, ToolResult))
    assert done.ok and done.call_id == call.call_id


def test_a_denied_call_comes_back_as_a_failed_tool_result_with_the_reason() -> None:
    events = _events("hook_deny.jsonl")
    denied = next(e for e in events if isinstance(e, ToolResult))
    assert not denied.ok and denied.output


def test_an_api_error_is_an_error_event_and_a_failed_result() -> None:
    events = _events("api_error.jsonl")
    assert any(isinstance(e, Error) for e in events)
    assert isinstance(events[-1], Result) and not events[-1].ok


def test_the_session_id_is_the_same_on_resume_as_in_the_first_run() -> None:
    first = next(e for e in _events("resume_first.jsonl") if isinstance(e, Session))
    later = next(e for e in _events("resume.jsonl") if isinstance(e, Session))
    assert first.session_id == later.session_id


def test_retry_notices_are_shown_raw_not_dropped() -> None:
    raw = [e for e in _events("api_retry.jsonl") if isinstance(e, Raw)]
    assert raw and '"api_retry"' in raw[0].line


@pytest.mark.parametrize(
    "line",
    [
        '{"type":"assistant","message":{"content":[{"type":"text","te',  # truncated
        "Warning: no stdin data received in 3s",  # a plain banner
        "\ufffd\ufffd{not json",  # non-UTF-8 bytes decoded with errors='replace'
        '{"type":"assistant","message":"not an object"}',
        '{"type":"brand_new_event","x":1}',
        "[1, 2, 3]",
    ],
)
def test_a_line_the_parser_cannot_read_is_shown_raw_and_never_raises(line: str) -> None:
    assert get_adapter("claude").parser().feed(line) == [Raw(line)]


def test_the_renderer_turns_a_transcript_into_readable_lines_and_totals() -> None:
    renderer = Renderer(get_adapter("claude").parser())
    lines = [out for line in (FIXTURES / "tool_bash.jsonl").read_text().splitlines()
             for out in renderer.feed(line)]  # fmt: skip
    text = "\n".join(lines)
    assert "▸ Bash" in text and "echo hi > made.txt" in text and '{"type"' not in text
    assert isinstance(renderer.summary, RunSummary) and renderer.summary.session_id
    assert renderer.summary.cost_usd is not None


def test_argv_for_a_fresh_run_with_options(tmp_path: Path) -> None:
    invocation = get_adapter("claude").build(
        "do it", AgentOptions(model="sonnet", permission_mode="acceptEdits"), executable="claude"
    )
    assert invocation.argv == ["claude", "-p", "--output-format", "stream-json", "--verbose",
                               "--model", "sonnet", "--permission-mode", "acceptEdits"]  # fmt: skip
    assert invocation.stdin_text == "do it"


def test_detection_finds_claude_on_path_with_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_cli(tmp_path, "claude", "2.1.197 (Claude Code)")
    only_path(monkeypatch, tmp_path)
    found = get_adapter("claude").detect()
    assert found.found and found.version == "2.1.197 (Claude Code)"


def test_tool_output_is_one_line_compact_and_in_full_when_expanded() -> None:
    from app.core.render import render

    result = ToolResult("t1", True, "line one\nline two\nline three")
    assert render(result) == ["  \x1b[2m✓ line one (+2 more lines)\x1b[0m"]
    expanded = render(result, expanded=True)
    assert len(expanded) == 4 and expanded[-1].endswith("line three")
