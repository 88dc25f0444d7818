"""Claude's stream-json, as recorded from the real CLI (tests/fixtures/agents/claude/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from helpers.agent_cli import fixture_lines

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
from app.core.approvals import Approval, ApprovalState
from app.core.platform import current_user
from app.core.render import Decisions, Renderer
from app.supervisor.adapters import AgentOptions, get_adapter


def _events(name: str) -> list[object]:
    parser = get_adapter("claude").parser()
    return [event for line in fixture_lines("claude", name) for event in parser.feed(line)]


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


def test_the_renderer_turns_a_transcript_into_readable_lines_and_totals() -> None:
    renderer = Renderer(get_adapter("claude").parser())
    lines = [out for line in fixture_lines("claude", "tool_bash.jsonl")
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


def test_tool_output_is_one_line_compact_and_in_full_when_expanded() -> None:
    from app.core.render import render

    result = ToolResult("t1", True, "line one\nline two\nline three")
    assert render(result) == ["  \x1b[2m✓ line one (+2 more lines)\x1b[0m"]
    expanded = render(result, expanded=True)
    assert len(expanded) == 4 and expanded[-1].endswith("line three")


def _plain(lines: list[str]) -> list[str]:
    from app.core import ansi

    return [ansi.strip(line) for line in lines]


def _rendered(name: str, decisions: Decisions | None = None) -> list[str]:
    renderer = Renderer(get_adapter("claude").parser(), decisions=decisions)
    return _plain([out for line in fixture_lines("claude", name) for out in renderer.feed(line)])


def _approval(state: ApprovalState, by: str, reason: str | None) -> Approval:
    return Approval(id="a1", run_id=1, task_id=1, agent="claude", tool="Bash", input={},
                    cwd=None, state=state, created_at=1000.0, expires_at=1900.0, reason=reason,
                    decided_at=1010.0, decided_by=by, tool_use_id="toolu_fake000002")  # fmt: skip


def test_agentrys_hook_deny_is_a_denied_result_with_only_the_reason() -> None:
    (denied,) = [e for e in _events("agentry_hook_deny.jsonl") if isinstance(e, ToolResult)]
    assert denied.denied and not denied.ok and denied.output == "not on a Friday"
    other = [e for e in _events("hook_deny.jsonl") if isinstance(e, ToolResult)]
    assert not other[0].denied  # a JSON deny of another hook: the agent's text as it is


def test_a_denied_call_never_shows_the_hook_command_line() -> None:
    text = "\n".join(_rendered("agentry_hook_deny.jsonl"))
    assert "hook error" not in text and "-m app hook" not in text
    assert "✗ Denied: not on a Friday" in text


def test_the_approval_on_record_says_who_denied_and_when() -> None:
    person = _approval(ApprovalState.DENIED, current_user(), "not on a Friday")
    lines = _rendered("agentry_hook_deny.jsonl", lambda call_id, settled=False: person)
    denied = next(line for line in lines if "Denied" in line)
    assert denied.strip().startswith("✗ Denied by you: not on a Friday · ")
    assert lines.index(denied) == 1 + next(i for i, x in enumerate(lines) if x.startswith("▸ Bash"))


def test_an_expired_request_reads_no_answer_in_its_wait() -> None:
    expired = _approval(ApprovalState.EXPIRED, "agentry", "No one answered …")
    lines = _rendered("agentry_hook_expired.jsonl", lambda call_id, settled=False: expired)
    assert any("✗ Denied: no answer in 15 min" in line for line in lines)
    assert not any("hook error" in line for line in lines)


def test_the_session_line_is_printed_once_with_its_model_explained() -> None:
    lines = _rendered("text_only.jsonl")
    sessions = [line for line in lines if line.startswith("session ")]
    assert len(sessions) == 1 and sessions[0].endswith("claude-opus-4-8[1m] (1M context)")
