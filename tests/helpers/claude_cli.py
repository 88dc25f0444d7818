"""Finding the real Claude Code CLI for tests that drive it against FakeAnthropic."""

from __future__ import annotations

from pathlib import Path

from helpers.real_cli import NPM_BIN, find_cli, require_cli

REPO_CLAUDE = NPM_BIN / "claude"


def find_claude() -> Path | None:
    """$AGENTRY_CLAUDE_BIN, then `claude` on PATH, then the repo's npm cache; None if absent."""
    return find_cli("claude", "AGENTRY_CLAUDE_BIN")


def require_claude() -> Path:
    return require_cli("claude", "AGENTRY_CLAUDE_BIN", "@anthropic-ai/claude-code")
