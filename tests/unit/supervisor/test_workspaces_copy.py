"""The files a new worktree gets from the checkout (a project's "files to copy")."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from app.supervisor.workspaces import copy_untracked_setup


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    top = tmp_path / "checkout"
    (top / "config").mkdir(parents=True)
    (top / ".env").write_text("SECRET=1\n")
    (top / ".env.local").write_text("LOCAL=1\n")
    (top / "config" / "db.local.toml").write_text("[db]\n")
    (top / "config" / "app.toml").write_text("[app]\n")
    return top


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    tree = tmp_path / "worktree"
    tree.mkdir()
    return tree


def test_the_default_copies_the_top_level_env_files(checkout: Path, worktree: Path) -> None:
    assert copy_untracked_setup(checkout, worktree) == [".env", ".env.local"]
    assert (worktree / ".env").read_text() == "SECRET=1\n"


def test_patterns_keep_relative_paths_and_make_the_folders(checkout: Path, worktree: Path) -> None:
    copied = copy_untracked_setup(checkout, worktree, ("config/*.local.toml",))
    assert copied == ["config/db.local.toml"]
    assert (worktree / "config" / "db.local.toml").read_text() == "[db]\n"
    assert not (worktree / "config" / "app.toml").exists()


def test_a_recursive_pattern_finds_files_in_subfolders(checkout: Path, worktree: Path) -> None:
    (checkout / "pkg" / "api").mkdir(parents=True)
    (checkout / "pkg" / "api" / ".env").write_text("API=1\n")
    copied = copy_untracked_setup(checkout, worktree, ("**/.env",))
    assert copied == [".env", "pkg/api/.env"]
    assert (worktree / "pkg" / "api" / ".env").read_text() == "API=1\n"


def test_a_file_the_worktree_has_is_never_overwritten(checkout: Path, worktree: Path) -> None:
    (worktree / ".env").write_text("tracked\n")
    assert copy_untracked_setup(checkout, worktree) == [".env.local"]
    assert (worktree / ".env").read_text() == "tracked\n"


def test_folders_are_skipped(checkout: Path, worktree: Path) -> None:
    (checkout / ".env.d").mkdir()
    (checkout / ".env.d" / "inner").write_text("x")
    assert copy_untracked_setup(checkout, worktree) == [".env", ".env.local"]
    assert not (worktree / ".env.d").exists()


def test_gits_own_files_are_never_copied(checkout: Path, worktree: Path) -> None:
    (checkout / ".git").mkdir()
    (checkout / ".git" / "config").write_text("[core]\n")
    assert copy_untracked_setup(checkout, worktree, (".git/*", "**/config")) == []


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlinks_are_never_followed_out_of_the_checkout(
    checkout: Path, worktree: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.local.toml").write_text("do not copy\n")
    (outside / ".env.other").write_text("do not copy\n")
    os.symlink(outside / ".env.other", checkout / ".env.link")  # a linked file
    os.symlink(outside, checkout / "linked")  # a linked folder
    copied = copy_untracked_setup(checkout, worktree, (".env*", "linked/*.local.toml"))
    assert copied == [".env", ".env.local"]
    assert not (worktree / ".env.link").exists() and not (worktree / "linked").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_a_link_in_the_worktree_is_not_written_through(
    checkout: Path, worktree: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, worktree / "config")  # e.g. a tracked symlink to another folder
    assert copy_untracked_setup(checkout, worktree, ("config/*.local.toml",)) == []
    assert list(elsewhere.iterdir()) == []


def test_an_unusable_pattern_is_skipped_not_fatal(checkout: Path, worktree: Path) -> None:
    assert copy_untracked_setup(checkout, worktree, ("", ".env")) == [".env"]


def test_no_patterns_copy_nothing(checkout: Path, worktree: Path) -> None:
    assert copy_untracked_setup(checkout, worktree, ()) == []
    assert list(worktree.iterdir()) == []
