"""Finding the real Claude Code CLI for tests that drive it against FakeAnthropic."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REPO_CLAUDE = ROOT / ".cache" / "npm" / "node_modules" / ".bin" / "claude"


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_claude() -> Path | None:
    """$AGENTRY_CLAUDE_BIN, then `claude` on PATH, then the repo's npm cache; None if absent."""
    override = os.environ.get("AGENTRY_CLAUDE_BIN")
    if override and _executable(Path(override)):
        return Path(override)
    on_path = shutil.which("claude")
    if on_path:
        return Path(on_path)
    return REPO_CLAUDE if _executable(REPO_CLAUDE) else None


def require_claude() -> Path:
    """The CLI's path; skips the test when it is missing, or fails it under CI's strict mode."""
    path = find_claude()
    if path is not None:
        return path
    message = (
        "Claude Code CLI not installed; .ci/run installs it with npm into "
        f"{REPO_CLAUDE.parent.parent.parent} (or set AGENTRY_CLAUDE_BIN)"
    )
    if os.environ.get("AGENTRY_REQUIRE_REAL_CLI") == "1":
        pytest.fail(message)
    pytest.skip(message)
