"""AmazonQAdapter: argv of ``q chat --no-interactive`` runs; plain text output."""

from __future__ import annotations

import pytest
from helpers.agent_cli import (
    fixture_lines,
)

from app.core.agent_events import Raw
from app.supervisor.adapters.amazonq import AmazonQAdapter
from app.supervisor.adapters.base import MAX_PROMPT_ARG, AgentOptions

EXE = "/usr/local/bin/q"


@pytest.fixture
def adapter() -> AmazonQAdapter:
    return AmazonQAdapter()


# --- argv ------------------------------------------------------------------------------


def test_resume_with_trust_all_and_model(adapter: AmazonQAdapter) -> None:
    options = AgentOptions(
        model="claude-sonnet-4", permission_mode="trust-all", extra_args=("--agent", "dev")
    )
    inv = adapter.build("and fix it", options, executable=EXE, session_id="previous")
    assert inv.argv == [
        EXE,
        "chat",
        "--no-interactive",
        "--trust-all-tools",
        "--resume",
        "--model",
        "claude-sonnet-4",
        "--agent",
        "dev",
        "and fix it",
    ]


def test_default_permission_mode_trusts_nothing(adapter: AmazonQAdapter) -> None:
    inv = adapter.build("x", AgentOptions(permission_mode="default"), executable=EXE)
    assert inv.argv == [EXE, "chat", "--no-interactive", "x"]
    assert adapter.permission_modes == ("default", "trust-all")


def test_long_prompt_goes_to_stdin(adapter: AmazonQAdapter) -> None:
    prompt = "w" * (MAX_PROMPT_ARG + 1)
    for session in (None, "previous"):
        inv = adapter.build(prompt, AgentOptions(), executable=EXE, session_id=session)
        assert all(len(arg) < MAX_PROMPT_ARG for arg in inv.argv)
        assert inv.stdin_text == prompt
    assert adapter.build(prompt, AgentOptions(), executable=EXE).argv == [
        EXE,
        "chat",
        "--no-interactive",
    ]


def test_prompt_that_looks_like_a_flag_goes_to_stdin(adapter: AmazonQAdapter) -> None:
    inv = adapter.build("-v please", AgentOptions(), executable=EXE)
    assert inv.argv == [EXE, "chat", "--no-interactive"]
    assert inv.stdin_text == "-v please"


# --- parsing ---------------------------------------------------------------------------


def test_error_line_text(adapter: AmazonQAdapter) -> None:
    [line] = fixture_lines("q", "issue2195_error.txt")
    assert adapter.parser().feed(line) == [
        Raw("error: Input must be supplied when running in non-interactive mode")
    ]
