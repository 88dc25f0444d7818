"""A usage limit pauses a task and resumes its agent's session (issue #15), end to end
with the real Codex CLI against a fake OpenAI server that answers with Codex's real
usage-limit error: the task pauses until the reset; meanwhile the agent's other queued
task waits and a shell task runs; Agentry SIGKILLed while paused and started again after
the reset (its clock moved on, not slept through) resumes the session exactly once."""

from __future__ import annotations

import signal
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import fake_anthropic, fake_gemini, fake_openai
from helpers.agentry import Home, run_async, tick
from helpers.claude_cli import require_claude
from helpers.real_cli import require_cli
from helpers.wait import async_wait_until, wait_until

from app.core.limits import BACKOFF_MIN_S
from app.core.models import RunKind
from app.core.states import RunState
from app.store import limit_repo
from app.supervisor.supervisor import Supervisor

MARGIN_S = 60.0


def test_a_usage_limit_pauses_the_task_and_its_session_resumes_once_after_the_reset(
    home: Home, work_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codex = require_cli("codex", "AGENTRY_CODEX_BIN", "@openai/codex")
    home.write_settings(agent_paths={"codex": str(codex)}, limit_resume_margin_s=MARGIN_S)
    # A reset on a whole minute, two days ahead, in this computer's zone (as Codex says it).
    local = datetime.now().astimezone().replace(second=0, microsecond=0)
    resets_at = int((local + timedelta(days=2, minutes=7)).timestamp())
    script = [
        fake_openai.usage_limit(resets_at, resets_at - int(time.time())),
        fake_openai.text("Picked up where I left off: done."),
        fake_openai.text("The other task: done."),
    ]
    fake = fake_openai.FakeOpenAI(script).start()
    try:
        env = fake.child_env(fake.codex_home(tmp_path / "user-home"), base=home.env)
        model = ("--model", fake_openai.MODEL)

        def submit(*args: str) -> int:
            done = home.cli("run", "--cwd", str(work_dir), *args, env=env, check=True)
            return int(done.stdout)

        task_id = submit("--agent", "codex", *model, "write the report")
        serve = home.serve(env)
        wait_until(lambda: len(home.runs(task_id)) == 2, timeout=60, message="the pause")
        first, waiting = home.runs(task_id)
        assert first.state is RunState.FAILED and first.message is not None
        assert "hit its usage limit; paused until the reset" in first.message
        assert (waiting.kind, waiting.state, waiting.wait_reason) == (
            RunKind.AFTER_LIMIT, RunState.QUEUED, "limit")  # fmt: skip
        assert waiting.not_before == resets_at + MARGIN_S
        assert waiting.resume_session is not None
        assert waiting.resume_session == first.session_id  # its own session, resumed

        other = submit("--agent", "codex", *model, "another report")
        shell = submit("--", "true")
        home.wait_state(shell, "succeeded")  # another agent's work runs meanwhile
        assert home.run(other).state is RunState.QUEUED  # Codex's other task waits
        assert len(fake.requests) == 1

        serve.send_signal(signal.SIGKILL)  # killed while the task is paused
        serve.wait()
        with home.db() as conn:
            assert limit_repo.agent_limits(conn, time.time())["codex"].until == resets_at

        for name, value in env.items():  # the runners the next supervisor starts inherit it
            monkeypatch.setenv(name, value)
        after_reset = resets_at + MARGIN_S + 1

        async def restarted() -> None:
            sup = Supervisor(home.locations, clock=lambda: after_reset)
            await sup.start()
            try:
                await async_wait_until(
                    lambda: (
                        home.run(task_id).state.is_terminal and home.run(other).state.is_terminal
                    ),
                    timeout=60,
                )
            finally:
                await sup.stop()

        run_async(restarted(), timeout=90)
    finally:
        fake.stop()
    runs = home.runs(task_id)
    assert len(runs) == 2  # resumed exactly once
    assert (runs[1].state, runs[1].exit_code) == (RunState.SUCCEEDED, 0)
    assert "Picked up where I left off" in home.output(task_id)
    assert home.run(other).state is RunState.SUCCEEDED


def test_claude_rate_limited_waits_and_resumes_its_session_with_the_settings_message(
    home: Home, work_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claude Code on an API key names no reset for a 429: the task waits a growing while
    (BACKOFF_MIN_S first), then resumes its session, told what Settings say."""
    home.write_settings(agent_paths={"claude": str(require_claude())},
                        limit_resume_message="The limit reset. Go on.")  # fmt: skip
    script = [fake_anthropic.rate_limited(1), fake_anthropic.text("Back at it: finished.")]
    now = [time.time()]
    with fake_anthropic.FakeAnthropic(script) as fake:
        for name, value in fake.child_env(tmp_path / "claude-home", base=home.env).items():
            monkeypatch.setenv(name, value)
        task_id = int(home.cli("run", "--agent", "claude", "--cwd", str(work_dir), "fix it",
                               check=True).stdout)  # fmt: skip

        async def scenario() -> None:
            sup = Supervisor(home.locations, clock=lambda: now[0])
            await sup.start()
            try:
                await async_wait_until(lambda: len(home.runs(task_id)) == 2, timeout=60)
                first, waiting = home.runs(task_id)
                assert waiting.not_before is not None and first.ended_at is not None
                assert waiting.not_before == first.ended_at + BACKOFF_MIN_S
                tick(sup)  # not yet: nothing starts
                now[0] = waiting.not_before + 1
                await async_wait_until(lambda: home.run(task_id).state.is_terminal, timeout=60)
            finally:
                await sup.stop()

        run_async(scenario(), timeout=120)
        resumed = fake.main_requests()[-1]
    first, second = home.runs(task_id)
    assert (second.kind, second.state) == (RunKind.AFTER_LIMIT, RunState.SUCCEEDED)
    assert second.resume_session == first.session_id is not None
    assert second.prompt == "The limit reset. Go on."
    assert "The limit reset. Go on." in str(resumed)


def test_gemini_daily_quota_pauses_until_midnight_pacific_and_resumes_its_session(
    home: Home, work_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = require_cli("gemini", "AGENTRY_GEMINI_BIN", "@google/gemini-cli")
    home.write_settings(agent_paths={"gemini": str(path)}, limit_resume_margin_s=0)
    user = fake_gemini.user_home(tmp_path / "user-home", trusted=[work_dir])
    script = [fake_gemini.quota_exceeded(per_day=True), fake_gemini.text("Resumed: done.")]
    fake = fake_gemini.FakeGemini(script).start()
    now = [time.time()]
    try:
        for name, value in fake.child_env(user, base=home.env).items():
            monkeypatch.setenv(name, value)
        task_id = int(home.cli("run", "--agent", "gemini", "--model", fake_gemini.MODEL, "--cwd",
                               str(work_dir), "triage", check=True).stdout)  # fmt: skip

        async def scenario() -> None:
            sup = Supervisor(home.locations, clock=lambda: now[0])
            await sup.start()
            try:
                await async_wait_until(lambda: len(home.runs(task_id)) == 2, timeout=60)
                waiting = home.run(task_id)
                assert waiting.not_before is not None and waiting.wait_reason == "limit"
                midnight = datetime.fromtimestamp(
                    waiting.not_before, ZoneInfo("America/Los_Angeles")
                )
                assert (midnight.hour, midnight.minute) == (0, 0)  # the daily quota's reset
                tick(sup)
                now[0] = waiting.not_before + 1
                await async_wait_until(lambda: home.run(task_id).state.is_terminal, timeout=60)
            finally:
                await sup.stop()

        run_async(scenario(), timeout=120)
    finally:
        fake.stop()
    _first, second = home.runs(task_id)
    assert (second.kind, second.state) == (RunKind.AFTER_LIMIT, RunState.SUCCEEDED)
    # Gemini CLI cannot resume a session its model never answered: the task starts afresh.
    assert second.resume_session is None and second.prompt == "triage"
    assert "Resumed: done." in home.output(task_id)
