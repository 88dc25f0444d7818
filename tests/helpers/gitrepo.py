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


def sealed_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the machine's nor the user's git config (nor a hook's GIT_DIR, nor a
    repository above ``tmp_path``) reaches any git this test starts."""
    from app.supervisor.git_process import REPOSITORY_ENV

    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    for name in REPOSITORY_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


def sh(folder: Path, *args: str) -> str:
    """git as a person would run it, to set a test up (not the code under test)."""
    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
