"""Usage and rate limits end to end: Agentry runs each real agent CLI against its fake model
server answering with that provider's real limit error, and the run's output, read as the
supervisor reads it (``summary.summarize``), says it ended on a limit of the right kind
and with the right reset time. Each run takes a second or two: the CLIs do not retry
these errors (Claude Code is told not to with ``CLAUDE_CODE_MAX_RETRIES=0``)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from helpers import fake_anthropic, fake_gemini, fake_openai
from helpers.agentry import Home
from helpers.claude_cli import require_claude
from helpers.real_cli import require_cli

from app.core.agent_events import RunSummary
from app.runner import protocol
from app.supervisor.adapters import get_adapter
from app.supervisor.summary import summarize


def run_and_summarize(home: Home, agent: str, work_dir: Path, env: dict[str, str],
                      *model: str) -> RunSummary:  # fmt: skip
    done = home.cli("run", "--agent", agent, *model, "--wait", "--cwd", str(work_dir),
                    "say hello", env=env, timeout=120)  # fmt: skip
    assert done.returncode != 0, "a run that hit a limit did not succeed"
    first = home.runs(1)[0]  # the run that hit it (a pause queues the next one)
    log = protocol.output_log(home.locations.run_dir(first.dir))
    return summarize(log, get_adapter(agent))


def test_claude_429_ends_the_run_on_a_rate_limit(
    home: Home, work_dir: Path, tmp_path: Path
) -> None:
    home.write_settings(agent_paths={"claude": str(require_claude())})
    reset = int(time.time()) + 3600
    with fake_anthropic.FakeAnthropic([fake_anthropic.rate_limited(1, reset)]) as fake:
        env = fake.child_env(tmp_path / "claude-home", base=home.env)
        summary = run_and_summarize(home, "claude", work_dir, env)
        assert len(fake.main_requests()) == 1
    assert summary.limit is not None and summary.limit.kind == "rate"
    assert "429" in summary.limit.message
    # An API key's 429 names no reset (the plan's reset headers are shown to plans only).
    assert summary.limit.resets_at is None
    assert summary.ok is False and summary.session_id


def test_claude_529_ends_the_run_overloaded(home: Home, work_dir: Path, tmp_path: Path) -> None:
    home.write_settings(agent_paths={"claude": str(require_claude())})
    with fake_anthropic.FakeAnthropic([fake_anthropic.overloaded()]) as fake:
        env = fake.child_env(tmp_path / "claude-home", base=home.env)
        summary = run_and_summarize(home, "claude", work_dir, env)
    assert summary.limit is not None and summary.limit.kind == "overloaded"


def test_codex_usage_limit_ends_the_run_with_its_reset_time(
    home: Home, work_dir: Path, tmp_path: Path
) -> None:
    home.write_settings(agent_paths={"codex": str(require_cli("codex", "AGENTRY_CODEX_BIN",
                                                              "@openai/codex"))})  # fmt: skip
    # A reset on a whole minute in this computer's zone, as Codex prints it ("… 8:19 PM").
    local = datetime.now().astimezone()
    resets_at = int(
        (local.replace(second=0, microsecond=0) + timedelta(days=2, minutes=7)).timestamp()
    )
    reply = fake_openai.usage_limit(resets_at, resets_at - int(time.time()))
    fake = fake_openai.FakeOpenAI([reply]).start()
    try:
        env = fake.child_env(fake.codex_home(tmp_path / "user-home"), base=home.env)
        summary = run_and_summarize(home, "codex", work_dir, env, "--model", fake_openai.MODEL)
    finally:
        fake.stop()
    assert summary.limit is not None and summary.limit.kind == "usage"
    assert "usage limit" in summary.limit.message
    assert summary.limit.resets_at == resets_at


def test_gemini_daily_quota_ends_the_run_until_midnight_pacific(
    home: Home, work_dir: Path, tmp_path: Path
) -> None:
    path = require_cli("gemini", "AGENTRY_GEMINI_BIN", "@google/gemini-cli")
    home.write_settings(agent_paths={"gemini": str(path)})
    user = fake_gemini.user_home(tmp_path / "user-home", trusted=[work_dir])
    fake = fake_gemini.FakeGemini([fake_gemini.quota_exceeded(per_day=True)]).start()
    try:
        env = fake.child_env(user, base=home.env)
        before = time.time()
        summary = run_and_summarize(home, "gemini", work_dir, env, "--model", fake_gemini.MODEL)
        after = time.time()
    finally:
        fake.stop()
    assert summary.limit is not None and summary.limit.kind == "usage"
    assert "daily quota" in summary.limit.message
    pacific = ZoneInfo("America/Los_Angeles")
    midnights = {_next_midnight(moment, pacific) for moment in (before, after)}
    assert summary.limit.resets_at in midnights


def _next_midnight(moment: float, zone: ZoneInfo) -> float:
    day = datetime.fromtimestamp(moment, zone).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
