"""Real git repositories for tests: an identity and a config of their own, so neither the
machine's nor the developer's git settings change what a test sees."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(folder: Path, *args: str) -> str:
    """Run git in ``folder``; its standard output (raises when git fails)."""
    done = subprocess.run(
        ["git", "-C", str(folder), *args],
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def isolate_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A HOME without a git config, and the test identity, for every git this test starts."""
    (tmp_path / "git-home").mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(tmp_path / "git-home"))
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


def make_repo(path: Path, files: dict[str, str]) -> Path:
    """A repository on branch main whose first commit holds ``files`` (name -> text)."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "first")
    return path
