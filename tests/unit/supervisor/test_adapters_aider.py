"""AiderAdapter: argv of one-message aider runs, the per-task chat history, plain output."""

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
from app.supervisor.adapters.aider import AiderAdapter
from app.supervisor.adapters.base import MAX_PROMPT_ARG, AgentOptions, LineParser

EXE = "/home/me/.local/bin/aider"
FLAGS = ["--yes-always", "--no-pretty", "--no-stream", "--no-check-update",
         "--no-show-release-notes"]  # fmt: skip


@pytest.fixture
def adapter() -> AiderAdapter:
    return AiderAdapter()


# --- argv ------------------------------------------------------------------------------


def test_fresh_run_reads_the_prompt_file_and_keeps_history_in_the_run_folder(
    adapter: AiderAdapter, tmp_path: Path
) -> None:
    run_dir = tmp_path / "runs" / "7"
    inv = adapter.build("add a test", AgentOptions(), executable=EXE, run_dir=run_dir)
    assert inv.argv == [
        EXE,
        "--message-file",
        str(run_dir / "prompt.md"),
        *FLAGS,
        "--chat-history-file",
        str(run_dir / "aider.chat.history.md"),
    ]
    assert inv.files == {"prompt.md": "add a test"}
    assert inv.stdin_text is None


def test_first_run_with_a_task_history_path_does_not_restore(
    adapter: AiderAdapter, tmp_path: Path
) -> None:
    history = tmp_path / "task" / "aider.chat.history.md"
    inv = adapter.build(
        "x", AgentOptions(), executable=EXE, session_id=str(history), run_dir=tmp_path
    )
    assert inv.argv == [
        EXE,
        "--message-file",
        str(tmp_path / "prompt.md"),
        *FLAGS,
        "--chat-history-file",
        str(history),
    ]


def test_resume_restores_the_existing_history(adapter: AiderAdapter, tmp_path: Path) -> None:
    history = tmp_path / "task" / "aider.chat.history.md"
    history.parent.mkdir()
    history.write_text("# aider chat started at 2024-05-01 10:00:00\n", encoding="utf-8")
    options = AgentOptions(model="sonnet", extra_args=("--no-auto-commits",))
    run_dir = tmp_path / "run"
    inv = adapter.build(
        "now the docs", options, executable=EXE, session_id=str(history), run_dir=run_dir
    )
    assert inv.argv == [
        EXE,
        "--message-file",
        str(run_dir / "prompt.md"),
        *FLAGS,
        "--chat-history-file",
        str(history),
        "--restore-chat-history",
        "--model",
        "sonnet",
        "--no-auto-commits",
    ]
    assert inv.files == {"prompt.md": "now the docs"}


def test_without_run_dir_a_short_prompt_uses_message(adapter: AiderAdapter) -> None:
    inv = adapter.build("hello", AgentOptions(model="gpt-4o"), executable=EXE)
    assert inv.argv == [EXE, "--message", "hello", *FLAGS, "--model", "gpt-4o"]
    assert inv.files == {}


def test_long_prompt_never_reaches_argv(adapter: AiderAdapter, tmp_path: Path) -> None:
    prompt = "q" * (MAX_PROMPT_ARG + 500)
    inv = adapter.build(prompt, AgentOptions(), executable=EXE, run_dir=tmp_path)
    assert all(len(arg) < MAX_PROMPT_ARG for arg in inv.argv)
    assert inv.files == {"prompt.md": prompt}
    with pytest.raises(ValueError, match="run_dir"):
        adapter.build(prompt, AgentOptions(), executable=EXE)


def test_class_facts(adapter: AiderAdapter) -> None:
    assert (adapter.name, adapter.label, adapter.executables) == ("aider", "Aider", ("aider",))
    assert adapter.install_hint == "pip install aider-chat"
    assert not adapter.structured and adapter.supports_resume
    assert type(adapter.parser()) is LineParser


# --- detection -------------------------------------------------------------------------


def test_detects_the_executable_on_path(
    adapter: AiderAdapter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    exe = fake_cli(bin_dir, "aider", "aider 0.86.1")
    only_path(monkeypatch, bin_dir)
    found = adapter.detect()
    assert found.found and Path(found.path or "") == exe
    assert found.version == "aider 0.86.1"


def test_absent_executable_is_not_found_with_the_install_hint(
    adapter: AiderAdapter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_path(monkeypatch, tmp_path / "empty")
    found = adapter.detect()
    assert not found.found and found.path is None and found.problem is None
    assert "pip install aider-chat" in found.describe()


def test_configured_path_that_does_not_exist_is_a_problem(
    adapter: AiderAdapter, tmp_path: Path
) -> None:
    missing = str(tmp_path / "aider")
    found = adapter.detect(missing)
    assert not found.found and found.problem == f"{missing} does not exist"


# --- parsing ---------------------------------------------------------------------------


def test_every_fixture_is_named_in_sources() -> None:
    assert sources_name_every_fixture("aider") == []


def test_banner_lines_are_shown_as_they_are(adapter: AiderAdapter) -> None:
    parser = adapter.parser()
    lines = fixture_lines("aider", "usage_banner.txt")
    assert lines[0] == "Aider v0.37.1-dev"
    assert [parser.feed(line) for line in lines] == [[Raw(line)] for line in lines]


def test_malformed_lines_come_back_raw(adapter: AiderAdapter) -> None:
    lines = fixture_lines("aider", "malformed.txt")
    assert any("\ufffd" in line for line in lines)
    parser = adapter.parser()
    for line in lines:
        assert parser.feed(line) == ([Raw(line)] if line.strip() else [])


def test_every_fixture_line_parses_without_raising(adapter: AiderAdapter) -> None:
    for name in fixture_names("aider"):
        parser = adapter.parser()
        for line in fixture_lines("aider", name):
            assert isinstance(parser.feed(line), list)
