"""Usage and rate limits as the agents report them: the reset-time reading, each adapter's
recognition of its CLI's limit lines (recorded ones from tests/fixtures/agents, and the
documented shapes that cannot be recorded offline), what must not count as a limit, and
what a run's summary keeps."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from helpers.agent_cli import fixture_lines

from app.core.agent_events import AgentEvent, Error, Limit, Result, RunSummary, Text, ToolResult
from app.supervisor.adapters.claude import ClaudeAdapter, ClaudeParser, claude_limit
from app.supervisor.adapters.codex import CodexParser, codex_limit
from app.supervisor.adapters.gemini import GeminiParser, gemini_limit
from app.supervisor.adapters.limits import (
    next_midnight,
    one_line,
    parse_timestamp,
    reset_time,
    span_seconds,
    status_kind,
)
from app.supervisor.summary import summarize

# "Now" for every test: Wednesday 1 July 2026, 12:00 UTC (08:00 in New York, 21:00 in
# Tokyo, 22:00 in Melbourne).
NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC).timestamp()


def at(text: str, zone: str = "UTC") -> float:
    """An ISO local time in ``zone`` as epoch seconds."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def feed(parser: Any, lines: list[str]) -> list[AgentEvent]:
    return [event for line in lines for event in parser.feed(line)]


def limits(events: list[AgentEvent]) -> list[Limit]:
    return [event for event in events if isinstance(event, Limit)]


def summary_of(events: list[AgentEvent]) -> RunSummary:
    summary = RunSummary()
    for event in events:
        summary.absorb(event)
    return summary


# --- reset times ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Claude Code's plan limits (AGENT-CLIS.md), each the next such moment after NOW.
        ("You've hit your session limit · resets 8pm (America/New_York)",
         at("2026-07-01T20:00", "America/New_York")),
        ("You've hit your weekly limit · resets Jul 15 at 12am (Australia/Melbourne)",
         at("2026-07-15T00:00", "Australia/Melbourne")),
        ("You've hit your limit · resets at 4 a.m. (Asia/Tokyo)",
         at("2026-07-02T04:00", "Asia/Tokyo")),
        # The forms Claude Code 2.1.197 formats (minutes, a date beyond 24 h, another year).
        ("resets 8:30pm (Europe/Berlin)", at("2026-07-01T20:30", "Europe/Berlin")),
        ("resets Jul 15, 8pm (Europe/Berlin)", at("2026-07-15T20:00", "Europe/Berlin")),
        ("resets Jan 3, 2027, 8:30am (Europe/Berlin)", at("2027-01-03T08:30", "Europe/Berlin")),
        # Earlier today in that zone: tomorrow. A month already past this year: next year.
        ("resets 7am (America/New_York)", at("2026-07-02T07:00", "America/New_York")),
        ("resets Mar 1, 9am (Europe/Berlin)", at("2027-03-01T09:00", "Europe/Berlin")),
        ("resets 12pm (UTC)", at("2026-07-01T12:00")),  # right now counts as "next"
        ("resets 12am (UTC)", at("2026-07-02T00:00")),
        ("resets 20:15 (UTC)", at("2026-07-01T20:15")),
        # Codex CLI: a date and time in the computer's zone (here UTC), or a span.
        ("You\u2019ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro) or "
         "try again at Jul 5th, 2026 8:19 PM.", at("2026-07-05T20:19")),
        ("try again at Dec 12th, 2026 12:32 AM.", at("2026-12-12T00:32")),
        ("You've hit your usage limit. Upgrade to Pro (…) or try again in 5 days 22 hours "
         "11 minutes.", NOW + timedelta(days=5, hours=22, minutes=11).total_seconds()),
        ("try again in 45 minutes", NOW + 45 * 60),
        ("Please try again in 1s.", NOW + 1),
    ],
)  # fmt: skip
def test_reset_times_in_every_documented_shape(text: str, expected: float) -> None:
    assert reset_time(text, NOW, ZoneInfo("UTC")) == expected


@pytest.mark.parametrize(
    "text",
    [
        "API Error: Request rejected (429) · This request would exceed your rate limit.",
        "resets 8",  # a number is not a time
        "resets 13pm (UTC)",
        "resets 8pm (Mars/Olympus_Mons)",  # an unknown zone: say nothing rather than guess
        "resets Feb 30 at 8pm (UTC)",
        "try again in a moment",
        "try again in 3 bananas",
        "",
    ],
)
def test_no_reset_time_when_none_is_given_or_it_makes_no_sense(text: str) -> None:
    assert reset_time(text, NOW, ZoneInfo("UTC")) is None


def test_a_zoneless_time_is_read_in_the_zone_given() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    assert reset_time("try again at Jul 5th, 2026 8:19 PM.", NOW, tokyo) == at(
        "2026-07-05T20:19", "Asia/Tokyo"
    )


def test_a_reset_across_a_dst_change_keeps_its_wall_time() -> None:
    # Sunday 8 March 2026, 01:00 in New York (EST); clocks go forward at 02:00.
    before = at("2026-03-08T01:00", "America/New_York")
    found = reset_time("resets 8pm (America/New_York)", before)
    assert found == at("2026-03-08T20:00", "America/New_York")
    assert found is not None and found - before == 18 * 3600  # one hour fewer that day


def test_span_units() -> None:
    assert span_seconds("1 day 2 hours 3 minutes 4 seconds") == 86400 + 7200 + 180 + 4
    assert span_seconds("2h 5m") == 7500
    assert span_seconds("10 parsecs") is None


def test_gemini_daily_quota_resets_at_midnight_pacific() -> None:
    # 12:00 UTC = 05:00 in Los Angeles (PDT): the next midnight there is 07:00 UTC tomorrow.
    assert next_midnight("America/Los_Angeles", NOW) == at(
        "2026-07-02T00:00", "America/Los_Angeles"
    )
    # 05:00 UTC on 1 July is still 30 June, 22:00, in Los Angeles.
    late = datetime(2026, 7, 1, 5, 0, tzinfo=UTC).timestamp()
    assert next_midnight("America/Los_Angeles", late) == at(
        "2026-07-01T00:00", "America/Los_Angeles"
    )
    assert next_midnight("Nowhere/Else", NOW) is None


def test_small_helpers() -> None:
    assert status_kind(429) == "rate"
    assert status_kind(529) == "overloaded" and status_kind(503) == "overloaded"
    assert status_kind(500) is None and status_kind(None) is None
    assert one_line("\n  first line  \nsecond") == "first line"
    assert parse_timestamp("2026-07-01T12:00:00.000Z") == NOW
    assert parse_timestamp("yesterday") is None and parse_timestamp(None) is None


# --- Claude Code ------------------------------------------------------------------------


def claude_parser() -> ClaudeParser:
    return ClaudeParser(clock=lambda: NOW, tz=ZoneInfo("UTC"))


def test_claude_recorded_429_is_a_rate_limit_and_the_run_ends_on_it() -> None:
    events = feed(claude_parser(), fixture_lines("claude", "limit_429.jsonl"))
    found = limits(events)
    message = ("API Error: Request rejected (429) · This request would exceed your account's "
               "rate limit. Please try again later.")  # fmt: skip
    # The synthetic assistant message and the result both say so.
    assert found == [Limit("rate", message, None)] * 2
    assert any(isinstance(e, Error) for e in events)  # what a person reads stays
    summary = summary_of(events)
    assert summary.ok is False and summary.limit == Limit("rate", message, None)


def test_claude_recorded_retry_then_429_is_one_limit_at_the_end() -> None:
    lines = fixture_lines("claude", "limit_429_retry.jsonl")
    retry = [line for line in lines if '"api_retry"' in line]
    assert retry and limits(feed(claude_parser(), retry)) == []  # a retry is no limit yet
    assert summary_of(feed(claude_parser(), lines)).limit is not None


def test_claude_recorded_529_is_overloaded() -> None:
    events = feed(claude_parser(), fixture_lines("claude", "limit_529.jsonl"))
    kinds = {limit.kind for limit in limits(events)}
    assert kinds == {"overloaded"}
    assert summary_of(events).limit is not None


@pytest.mark.parametrize("name", ["api_error.jsonl", "api_retry.jsonl", "text_only.jsonl",
                                  "tool_bash.jsonl", "hook_deny.jsonl"])  # fmt: skip
def test_claude_recorded_runs_without_a_limit_have_none(name: str) -> None:
    events = feed(claude_parser(), fixture_lines("claude", name))
    assert limits(events) == []
    assert summary_of(events).limit is None


def claude_result(text: str, *, is_error: bool = True, status: int | None = None) -> str:
    return json.dumps({"type": "result", "subtype": "success", "is_error": is_error,
                       "api_error_status": status, "num_turns": 1, "result": text,
                       "session_id": "s1"})  # fmt: skip


def claude_synthetic(text: str, error: str = "rate_limit") -> str:
    message = {"model": "<synthetic>", "role": "assistant",
               "content": [{"type": "text", "text": text}]}  # fmt: skip
    return json.dumps({"type": "assistant", "message": message, "error": error})


@pytest.mark.parametrize(
    ("text", "kind", "resets_at"),
    [
        ("You've hit your session limit · resets 8pm (America/New_York)", "usage",
         at("2026-07-01T20:00", "America/New_York")),
        ("You\u2019ve hit your weekly limit · resets Jul 15 at 12am (Australia/Melbourne)", "usage",
         at("2026-07-15T00:00", "Australia/Melbourne")),
        ("You've hit your limit · resets at 4 a.m. (Asia/Tokyo)", "usage",
         at("2026-07-02T04:00", "Asia/Tokyo")),
        ("You've hit your Opus limit · resets Jul 3, 5pm (Europe/London)", "usage",
         at("2026-07-03T17:00", "Europe/London")),
        ("Claude AI usage limit reached|1751234567", "usage", 1751234567.0),
        ('API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":'
         '"Number of request tokens has exceeded your per-minute rate limit"}}', "rate", None),
        ('API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":'
         '"Overloaded"}}', "overloaded", None),
        ("API Error: 503 upstream connect error", "overloaded", None),
    ],
)  # fmt: skip
def test_claude_documented_shapes(text: str, kind: str, resets_at: float | None) -> None:
    for line in (claude_result(text), claude_synthetic(text)):
        found = limits(claude_parser().feed(line))
        assert found == [Limit(kind, text, resets_at)], line  # type: ignore[arg-type]


def test_claude_old_usage_limit_form_counts_even_as_a_success_result() -> None:
    # Older versions printed it as the run's plain result text.
    line = claude_result("Claude AI usage limit reached|1751234567", is_error=False)
    assert limits(claude_parser().feed(line)) == [
        Limit("usage", "Claude AI usage limit reached|1751234567", 1751234567.0)
    ]


def test_claude_status_field_decides_when_the_text_does_not_say() -> None:
    assert claude_limit("Request rejected", 429, NOW) == Limit("rate", "Request rejected")
    assert claude_limit("API Error: 500 fake 500.", 500, NOW) is None


def test_claude_rate_limit_event_rejected_is_a_usage_limit() -> None:
    info = {"status": "rejected", "resetsAt": 1782928800, "rateLimitType": "five_hour"}
    line = json.dumps({"type": "rate_limit_event", "rate_limit_info": info, "session_id": "s"})
    assert claude_parser().feed(line) == [
        Limit("usage", "You've hit your session limit", 1782928800.0)
    ]
    warning = json.dumps({"type": "rate_limit_event",
                          "rate_limit_info": {**info, "status": "allowed_warning"}})  # fmt: skip
    assert limits(claude_parser().feed(warning)) == []


def claude_user(content: list[dict[str, Any]] | str) -> str:
    return json.dumps({"type": "user", "message": {"role": "user", "content": content}})


def claude_assistant(text: str) -> str:
    message = {"model": "claude-opus-4-8", "role": "assistant",
               "content": [{"type": "text", "text": text}]}  # fmt: skip
    return json.dumps({"type": "assistant", "message": message})


QUOTED = "You've hit your session limit · resets 8pm (America/New_York)"


@pytest.mark.parametrize(
    "line",
    [
        # A tool's output that mentions a rate limit or quotes the message.
        claude_user([{"type": "tool_result", "tool_use_id": "t1", "is_error": True,
                      "content": "curl: (22) 429 Too Many Requests: rate limit exceeded"}]),
        claude_user([{"type": "tool_result", "tool_use_id": "t2", "content": QUOTED}]),
        # The person's prompt quoting the message.
        claude_user(f"Why did I get '{QUOTED}' yesterday? Also API Error: 429"),
        claude_user([{"type": "text", "text": f"Explain: {QUOTED}"}]),
        # The model's own words about it.
        claude_assistant(f"The message '{QUOTED}' means your plan's window ran out."),
        claude_assistant("API Error: 429 is what the server returns when rate limited."),
        # A successful run whose final text quotes it.
        claude_result(f"Done. Note: {QUOTED}", is_error=False),
        # A failed run for another reason.
        claude_result("API Error: 500 fake 500. This is a server-side issue", status=500),
        claude_result("Reached maximum number of turns (3)"),
    ],
)  # fmt: skip
def test_claude_lines_that_merely_mention_a_limit_are_not_one(line: str) -> None:
    events = claude_parser().feed(line)
    assert limits(events) == []


def test_claude_model_text_quoting_a_limit_is_still_shown() -> None:
    events = claude_parser().feed(claude_assistant(QUOTED))
    assert events == [Text(QUOTED)]
    tool = claude_parser().feed(claude_user([{"type": "tool_result", "tool_use_id": "t",
                                              "content": QUOTED}]))  # fmt: skip
    assert tool == [ToolResult("t", True, QUOTED)]


# --- Codex CLI --------------------------------------------------------------------------


def codex_parser() -> CodexParser:
    return CodexParser(clock=lambda: NOW, tz=ZoneInfo("UTC"))


def test_codex_recorded_usage_limit_gives_its_reset_time() -> None:
    events = feed(codex_parser(), fixture_lines("codex", "real_0.171.0_usage_limit.jsonl"))
    found = limits(events)
    assert len(found) == 1  # from turn.failed only, not also from the `error` before it
    assert found[0].kind == "usage"
    assert found[0].message.startswith("You\u2019ve hit your usage limit.")
    # Recorded with the machine's zone at UTC: "try again at Dec 12th, 2026 12:32 AM".
    assert found[0].resets_at == at("2026-12-12T00:32")
    summary = summary_of(events)
    assert summary.ok is False and summary.limit == found[0]


def test_codex_recorded_429_after_retries_is_a_rate_limit() -> None:
    events = feed(codex_parser(), fixture_lines("codex", "real_0.171.0_rate_limit.jsonl"))
    assert limits(events) == [
        Limit("rate", "exceeded retry limit, last status: 429 Too Many Requests", None)
    ]


@pytest.mark.parametrize(
    ("message", "kind", "resets_at"),
    [
        ("You've hit your usage limit. Upgrade to Pro (https://openai.com/chatgpt/pricing) or "
         "try again in 5 days 22 hours 11 minutes.", "usage", NOW + 5 * 86400 + 22 * 3600 + 660),
        ("You\u2019ve hit your usage limit. Upgrade to Plus to continue using Codex "
         "(https://openai.com/chatgpt/pricing), or try again at Jul 5th, 2026 8:19 PM.",
         "usage", at("2026-07-05T20:19")),
        ('unexpected status 429 Too Many Requests: {"error":{"type":"usage_limit_reached",'
         '"message":"The usage limit has been reached","plan_type":"free",'
         '"resets_at":1775317531,"resets_in_seconds":602705}}', "usage", 1775317531.0),
        ('{"error":{"type":"usage_limit_reached","resets_in_seconds":3600}}', "usage",
         NOW + 3600),
        ("stream disconnected before completion: Rate limit reached for gpt-5 in organization "
         "org-x on tokens per min (TPM). Please try again in 20s.", "rate", NOW + 20),
        ("unexpected status 503 Service Unavailable: upstream overloaded", "overloaded", None),
        ("stream error: server_is_overloaded", "overloaded", None),
    ],
)  # fmt: skip
def test_codex_documented_shapes(message: str, kind: str, resets_at: float | None) -> None:
    line = json.dumps({"type": "turn.failed", "error": {"message": message}})
    found = limits(codex_parser().feed(line))
    assert found == [Limit(kind, one_line(message), resets_at)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "line",
    [
        # A transient notice on the top-level `error` line (Codex retries on its own).
        {"type": "error", "message": "Reconnecting... 2/5 (unexpected status 429 Too Many "
                                     "Requests)"},
        # A command whose output mentions a rate limit.
        {"type": "item.completed", "item": {"id": "i1", "type": "command_execution",
         "command": "curl api", "aggregated_output": "HTTP 429: rate limit exceeded",
         "exit_code": 22, "status": "failed"}},
        # The model quoting the message.
        {"type": "item.completed", "item": {"id": "i2", "type": "agent_message",
         "text": "You've hit your usage limit. Upgrade to Pro or try again in 5 days."}},
        # A failed turn for another reason.
        {"type": "turn.failed", "error": {"message": "unexpected status 401 Unauthorized"}},
        {"type": "turn.failed", "error": {"message": "sandbox denied writing 4290 bytes"}},
    ],
)  # fmt: skip
def test_codex_lines_that_merely_mention_a_limit_are_not_one(line: dict[str, Any]) -> None:
    assert limits(codex_parser().feed(json.dumps(line))) == []


def test_codex_limit_function_directly() -> None:
    assert codex_limit("all good", NOW) is None


# --- Gemini CLI -------------------------------------------------------------------------


def gemini_parser() -> GeminiParser:
    return GeminiParser(clock=lambda: NOW)


def test_gemini_recorded_daily_quota_resets_at_pacific_midnight_after_the_line() -> None:
    events = feed(gemini_parser(), fixture_lines("gemini", "real_0.61.0_daily_quota.jsonl"))
    found = limits(events)
    assert len(found) == 1 and found[0].kind == "usage"
    assert found[0].message == "[API Error: You have exhausted your daily quota on this model.]"
    # The result line's own timestamp (2026-12-05T01:07 UTC = 4 Dec, 17:07 PST) is "now".
    assert found[0].resets_at == at("2026-12-05T00:00", "America/Los_Angeles")
    assert summary_of(events).limit == found[0]


def test_gemini_recorded_per_minute_quota_is_a_rate_limit_without_reset() -> None:
    events = feed(gemini_parser(), fixture_lines("gemini", "real_0.61.0_minute_quota.jsonl"))
    found = limits(events)
    assert len(found) == 1 and found[0].kind == "rate" and found[0].resets_at is None
    assert found[0].message.startswith("[API Error: You exceeded your current quota")


def gemini_result(message: str, **extra: Any) -> str:
    error = {"type": "unknown", "message": message}
    return json.dumps({"type": "result", "status": "error", "error": error, "stats": {}, **extra})


@pytest.mark.parametrize(
    ("message", "kind", "daily"),
    [
        ('[API Error: {"error":{"code":429,"message":"Quota exceeded for quota metric '
         "'Gemini 2.5 Pro Requests' and limit 'Gemini 2.5 Pro Requests per day per user per "
         "tier' of service 'cloudcode-pa.googleapis.com'\",\"status\":\"RESOURCE_EXHAUSTED\"}}]",
         "usage", True),
        ('[API Error: {"error":{"code":429,"message":"Resource has been exhausted (e.g. check '
         'quota).","status":"RESOURCE_EXHAUSTED"}}]', "rate", False),
        ("[API Error: You exceeded your current quota, please check your plan and billing "
         "details.]", "rate", False),
        ('[API Error: {"error":{"code":503,"message":"The model is overloaded. Please try '
         'again later.","status":"UNAVAILABLE"}}]', "overloaded", False),
    ],
)  # fmt: skip
def test_gemini_documented_shapes(message: str, kind: str, daily: bool) -> None:
    found = limits(gemini_parser().feed(gemini_result(message)))
    resets_at = next_midnight("America/Los_Angeles", NOW) if daily else None
    assert found == [Limit(kind, one_line(message), resets_at)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "line",
    [
        {"type": "tool_result", "tool_id": "t", "status": "error",
         "error": {"message": "HTTP 429 Too Many Requests: Quota exceeded"}},
        {"type": "message", "role": "assistant",
         "content": "A 429 RESOURCE_EXHAUSTED means your daily quota is used up."},
        {"type": "message", "role": "user", "content": "why Quota exceeded per day?"},
        {"type": "result", "status": "success", "stats": {},
         "error": {"message": "Quota exceeded per day"}},
        {"type": "result", "status": "error", "stats": {},
         "error": {"message": "[API Error: 400 API key not valid]"}},
    ],
)  # fmt: skip
def test_gemini_lines_that_merely_mention_a_limit_are_not_one(line: dict[str, Any]) -> None:
    assert limits(gemini_parser().feed(json.dumps(line))) == []


def test_gemini_limit_function_directly() -> None:
    assert gemini_limit("[API Error: 500 Internal]", NOW) is None


# --- the run's summary ------------------------------------------------------------------


def test_summary_keeps_the_last_limit_and_a_later_success_clears_it() -> None:
    first, second = Limit("rate", "429"), Limit("usage", "quota", 1.0)
    assert summary_of([first, second, Result(ok=False)]).limit == second
    # The agent retried on its own and the turn then succeeded: not ended on a limit.
    assert summary_of([first, Result(ok=True)]).limit is None
    assert summary_of([Result(ok=True), first]).limit == first


def test_a_finished_log_reads_wall_time_resets_from_when_it_was_written(tmp_path: Path) -> None:
    # Read long after: the run ended at 12:00 UTC saying "resets 8pm"; that is 20:00 that
    # day, even when Agentry reads the log the next morning (after a restart).
    log = tmp_path / "output.log"
    log.write_text(claude_result("You've hit your session limit · resets 8pm (UTC)") + "\n")
    os.utime(log, (NOW, NOW))
    summary = summarize(log, ClaudeAdapter())
    assert summary.limit is not None and summary.limit.resets_at == at("2026-07-01T20:00")
    assert summarize(tmp_path / "missing.log", ClaudeAdapter()).limit is None


def test_claude_plan_reset_from_the_event_wins_over_the_texts_minute() -> None:
    exact = at("2026-07-01T20:00:37", "America/New_York")
    info = {"status": "rejected", "resetsAt": exact, "rateLimitType": "five_hour"}
    lines = [json.dumps({"type": "rate_limit_event", "rate_limit_info": info}),
             claude_synthetic(QUOTED), claude_result(QUOTED)]  # fmt: skip
    events = feed(claude_parser(), lines)
    assert [limit.resets_at for limit in limits(events)] == [exact] * 3
    assert summary_of(events).limit == Limit("usage", QUOTED, exact)
