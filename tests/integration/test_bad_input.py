"""Bad input found by the fault audit (#12 §5) gets one clear message and changes nothing:
absurd timeouts, an empty command, and hook input that is not UTF-8 or nested too deep."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers.agentry import ROOT, Home

from app.core.durations import DurationError, parse_duration
from app.core.settings import Settings


@pytest.mark.parametrize("timeout", ["9" * 400, "800h", "99999999"])
def test_a_timeout_beyond_thirty_days_is_refused_and_nothing_is_queued(
    home: Home, work_dir: Path, timeout: str
) -> None:
    refused = home.cli("run", "--timeout", timeout, "--cwd", str(work_dir), "--", "true")
    assert refused.returncode == 2
    assert "longer than 30 days; use 'none' for no limit" in refused.stderr
    assert home.cli("list", "--json", check=True).stdout.strip() == "[]"


def test_durations_and_settings_share_the_bound() -> None:
    assert parse_duration("720h") == 30 * 24 * 3600
    with pytest.raises(DurationError):
        parse_duration("721h")
    assert Settings(default_timeout_s=float("inf")).problems() == [
        "default_timeout_s is longer than 30 days; use 'none' for no limit"
    ]
    assert Settings(default_timeout_s=float("nan")).problems() != []


@pytest.mark.parametrize("command", [[""], ["  ", "arg"]])
def test_an_empty_command_is_a_usage_error(home: Home, work_dir: Path, command: list[str]) -> None:
    refused = home.cli("run", "--cwd", str(work_dir), "--", *command)
    assert refused.returncode == 2 and "give the command to run" in refused.stderr
    assert home.cli("list", "--json", check=True).stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("payload", "said"),
    [
        (b'{"tool_name": "Bash", "tool_input": {"command": "ls \xff\xfe"}}', "not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (json.dumps({"tool_name": "Bash"}).encode()[:-3], "is not JSON"),
    ],
)
def test_the_hook_denies_bad_input_with_one_plain_line(
    home: Home, payload: bytes, said: str
) -> None:
    done = subprocess.run(
        home.cli_argv("hook", "claude-pretool", "--run", "1"),
        input=payload,
        env=home.env,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2  # deny
    assert done.stdout == b""
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and said in lines[0] and "Denied to be safe" in lines[0]
    assert "Traceback" not in done.stderr.decode()
