"""Tests for the pure parts of app.cli.tasks: durations typed by users and exit statuses."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from app.cli.common import EXIT_ERROR
from app.cli.tasks import exit_status, parse_duration
from app.core.models import Run
from app.core.states import ExitReason, RunState

# --- parse_duration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("90s", 90.0),
        ("30m", 1800.0),
        ("2h", 7200.0),
        ("1h30m", 5400.0),
        ("1h 30m", 5400.0),
        ("1h30m15s", 5415.0),
        ("1m30", 90.0),
        ("1.5h", 5400.0),
        ("0.5", 0.5),
        (" 2H ", 7200.0),
    ],
)
def test_parse_duration_reads_seconds_minutes_and_hours(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["none", "None", "NEVER", "0"])
def test_parse_duration_reads_no_limit_as_zero(text: str) -> None:
    assert parse_duration(text) == 0


@pytest.mark.parametrize("text", ["abc", "", "  ", "-5", "5x", "h", "30m1h", "1e3"])
def test_parse_duration_refuses_text_that_is_not_a_duration(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(text)


def test_parse_duration_error_quotes_the_input_and_shows_examples() -> None:
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        parse_duration("soon")
    message = str(caught.value)
    assert "'soon'" in message
    assert "30m" in message
    assert "2h" in message
    assert "none" in message


def test_parse_duration_errors_become_argparse_usage_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = argparse.ArgumentParser(prog="agentry run")
    parser.add_argument("--timeout", type=parse_duration)
    with pytest.raises(SystemExit) as caught:
        parser.parse_args(["--timeout", "soon"])
    assert caught.value.code == 2
    assert "not a duration" in capsys.readouterr().err


# --- exit_status -----------------------------------------------------------------------


def _run(state: RunState, exit_code: int | None = None, reason: str | None = None) -> Run:
    values: dict[str, Any] = {
        "id": 1,
        "task_id": 1,
        "attempt": 1,
        "state": state,
        "dir": "000001-abcdef",
        "priority": 0,
        "timeout": None,
        "created_at": 0.0,
        "exit_code": exit_code,
        "reason": ExitReason(reason) if reason else None,
    }
    return Run(**values)


@pytest.mark.parametrize(
    ("run", "status"),
    [
        pytest.param(_run(RunState.SUCCEEDED, 0, "exit"), 0, id="succeeded"),
        pytest.param(_run(RunState.FAILED, 1, "exit"), 1, id="failed-1"),
        pytest.param(_run(RunState.FAILED, 3, "exit"), 3, id="failed-3"),
        pytest.param(_run(RunState.FAILED, 255, "exit"), 255, id="failed-255"),
        pytest.param(_run(RunState.TIMED_OUT, -15, "timeout"), 124, id="timed-out"),
        pytest.param(_run(RunState.CANCELLED, -15, "cancelled"), 130, id="cancelled"),
        pytest.param(_run(RunState.CANCELLED, None, None), 130, id="cancelled-while-queued"),
        pytest.param(_run(RunState.INTERRUPTED, None, "interrupted"), 75, id="interrupted"),
        pytest.param(_run(RunState.FAILED, None, "spawn_error"), 127, id="spawn-error"),
        pytest.param(_run(RunState.FAILED, -9, "exit"), 137, id="killed-by-sigkill"),
        pytest.param(_run(RunState.FAILED, -15, "exit"), 143, id="killed-by-sigterm"),
        pytest.param(_run(RunState.FAILED, None, None), EXIT_ERROR, id="failed-without-code"),
    ],
)
def test_exit_status_follows_shell_conventions(run: Run, status: int) -> None:
    assert exit_status(run) == status


def test_exit_status_of_a_timed_out_run_ignores_the_agent_code() -> None:
    assert exit_status(_run(RunState.TIMED_OUT, 0, "timeout")) == 124
