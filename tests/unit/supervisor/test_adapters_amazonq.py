"""AmazonQAdapter: argv of ``q chat --no-interactive`` runs; plain text output."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.agent_cli import (
    fake_cli,
    fixture_lines,
    fixture_names,
    only_path,
    sources_name_every_fixture,
)

from app.core.agent_events import Raw
from app.supervisor.adapters.amazonq import AmazonQAdapter
from app.supervisor.adapters.base import MAX_PROMPT_ARG, AgentOptions, LineParser

EXE = "/usr/local/bin/q"


@pytest.fixture
def adapter() -> AmazonQAdapter:
    return AmazonQAdapter()


# --- argv ------------------------------------------------------------------------------


def test_fresh_run_puts_the_prompt_last(adapter: AmazonQAdapter) -> None:
    inv = adapter.build("Show me the current directory", AgentOptions(), executable=EXE)
    assert inv.argv == [EXE, "chat", "--no-interactive", "Show me the current directory"]
    assert inv.stdin_text is None


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


def test_class_facts(adapter: AmazonQAdapter) -> None:
    assert (adapter.name, adapter.label, adapter.executables) == (
        "q",
        "Amazon Q Developer CLI",
        ("q",),
    )
    assert not adapter.structured and adapter.supports_resume
    assert type(adapter.parser()) is LineParser


# --- detection -------------------------------------------------------------------------


def test_detects_the_executable_on_path(
    adapter: AmazonQAdapter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    exe = fake_cli(bin_dir, "q", "q 1.19.3")
    only_path(monkeypatch, bin_dir)
    found = adapter.detect()
    assert found.found and Path(found.path or "") == exe
    assert found.version == "q 1.19.3"


def test_absent_executable_is_not_found_with_the_install_hint(
    adapter: AmazonQAdapter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_path(monkeypatch, tmp_path / "empty")
    found = adapter.detect()
    assert not found.found and found.path is None and found.problem is None
    assert adapter.install_hint in found.describe()
    assert "command-line-installing" in adapter.install_hint


def test_configured_path_that_does_not_exist_is_a_problem(
    adapter: AmazonQAdapter, tmp_path: Path
) -> None:
    missing = str(tmp_path / "q")
    found = adapter.detect(missing)
    assert not found.found and found.problem == f"{missing} does not exist"


# --- parsing ---------------------------------------------------------------------------


def test_every_fixture_is_named_in_sources() -> None:
    assert sources_name_every_fixture("q") == []


@pytest.mark.parametrize("name", ["issue1373_guide_lines.txt", "issue2195_error.txt"])
def test_recorded_lines_are_shown_as_they_are(adapter: AmazonQAdapter, name: str) -> None:
    parser = adapter.parser()
    lines = fixture_lines("q", name)
    assert lines
    assert [parser.feed(line) for line in lines] == [[Raw(line)] for line in lines]


def test_error_line_text(adapter: AmazonQAdapter) -> None:
    [line] = fixture_lines("q", "issue2195_error.txt")
    assert adapter.parser().feed(line) == [
        Raw("error: Input must be supplied when running in non-interactive mode")
    ]


def test_malformed_lines_come_back_raw(adapter: AmazonQAdapter) -> None:
    lines = fixture_lines("q", "malformed.txt")
    assert any("\ufffd" in line for line in lines)
    assert any("\x1b[" in line for line in lines)  # ANSI is kept for the pane to render
    parser = adapter.parser()
    for line in lines:
        assert parser.feed(line) == ([Raw(line)] if line.strip() else [])


def test_every_fixture_line_parses_without_raising(adapter: AmazonQAdapter) -> None:
    for name in fixture_names("q"):
        parser = adapter.parser()
        for line in fixture_lines("q", name):
            assert isinstance(parser.feed(line), list)
