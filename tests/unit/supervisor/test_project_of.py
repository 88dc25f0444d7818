"""Which project a working folder belongs to, read from the .git entries (no git run)."""

from __future__ import annotations

from pathlib import Path

from helpers.gitrepo import git, make_repo

from app.supervisor.workspaces import project_of


def test_a_folder_in_a_repository_belongs_to_its_checkout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "web", {"README.md": "web"})
    (repo / "src" / "deep").mkdir(parents=True)
    assert project_of(str(repo)) == str(repo)
    assert project_of(str(repo / "src" / "deep")) == str(repo)


def test_a_linked_worktree_belongs_to_the_main_checkout(tmp_path: Path) -> None:
    api = make_repo(tmp_path / "api", {"README.md": "api"})
    linked = tmp_path / "elsewhere" / "api-feature"
    git(api, "worktree", "add", "-q", "-b", "feature", str(linked))
    (linked / "pkg").mkdir()
    assert project_of(str(linked)) == str(api.resolve())
    assert project_of(str(linked / "pkg")) == str(api.resolve())


def test_outside_any_repository_or_gone_the_folder_is_its_own_project(tmp_path: Path) -> None:
    plain = tmp_path / "notes"
    plain.mkdir()
    assert project_of(str(plain)) == str(plain)
    assert project_of(str(tmp_path / "gone" / "x")) == str(tmp_path / "gone" / "x")


def test_a_git_file_that_is_not_a_linked_worktree_makes_its_folder_the_project(
    tmp_path: Path,
) -> None:
    sub = tmp_path / "outer" / "vendored"
    sub.mkdir(parents=True)
    (tmp_path / "outer" / ".git").mkdir()
    modules = tmp_path / "outer" / ".git" / "modules" / "vendored"
    modules.mkdir(parents=True)
    (sub / ".git").write_text(f"gitdir: {modules}\n")  # a submodule: no commondir
    assert project_of(str(sub)) == str(sub)
    (sub / ".git").write_text("garbage\n")
    assert project_of(str(sub)) == str(sub)
