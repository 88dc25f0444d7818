"""AiderAdapter: argv of one-message aider runs, the per-task chat history, plain output."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.supervisor.adapters.aider import AiderAdapter
from app.supervisor.adapters.base import MAX_PROMPT_ARG, AgentOptions

EXE = "/home/me/.local/bin/aider"
FLAGS = ["--yes-always", "--no-pretty", "--no-stream", "--no-check-update",
         "--no-show-release-notes"]  # fmt: skip


@pytest.fixture
def adapter() -> AiderAdapter:
    return AiderAdapter()


# --- argv ------------------------------------------------------------------------------


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
