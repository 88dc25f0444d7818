"""Tests for app.supervisor.git: the real `git` in temporary repositories, no global config."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers.gitrepo import sealed_git, sh

from app.core.platform import IS_WINDOWS
from app.supervisor.git import (
    Git,
    GitError,
    GitMissing,
    NotARepository,
    UnknownRef,
    install_hint,
)
from app.supervisor.git_output import (
    DiffStat,
    FileChange,
    WorktreeInfo,
    parse_name_status,
    parse_numstat,
    parse_status,
    parse_worktrees,
)

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@pytest.fixture(autouse=True)
def no_git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sealed_git(tmp_path, monkeypatch)


def commit(repo: Path, name: str, text: str, message: str) -> str:
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_text(text, encoding="utf-8")
    sh(repo, "add", "--", name)
    sh(repo, "commit", "-q", "-m", message)
    return sh(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def git() -> Git:
    return Git()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    sh(path, "init", "-q", "-b", "main")
    commit(path, "a.txt", "one\ntwo\nthree\n", "first")
    return path.resolve()


@pytest.fixture
def worktree(git: Git, repo: Path, tmp_path: Path) -> Path:
    """A task's worktree on branch agentry/1-task, made from main."""
    path = tmp_path / "worktrees" / "1-task"
    git.worktree_add(repo, path, "agentry/1-task", "main")
    return path.resolve()


def fake_git(folder: Path, says: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if IS_WINDOWS:
        path = folder / "git.cmd"
        path.write_text(f"@echo {says}\n", encoding="utf-8")
    else:
        path = folder / "git"
        path.write_text(f"#!/bin/sh\necho '{says}'\n", encoding="utf-8")
        path.chmod(0o755)
    return path


# --- the executable --------------------------------------------------------------------


def test_check_returns_the_version_and_remembers_it(
    git: Git, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = git.check()
    assert version.startswith("git version ")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert git.check() == version


def test_a_missing_executable_is_git_missing_with_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(GitMissing, match=r"git was not found at .*nowhere.*; install"):
        Git(str(tmp_path / "nowhere" / "git")).check()


def test_git_missing_from_path_says_so(monkeypatch: pytest.MonkeyPatch, repo: Path) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(GitMissing, match="git was not found on PATH"):
        Git().toplevel(repo)


def test_an_old_git_is_git_missing_naming_both_versions(tmp_path: Path, repo: Path) -> None:
    old = Git(str(fake_git(tmp_path / "bin", "git version 2.20.1")))
    with pytest.raises(GitMissing, match=r"git version 2\.20\.1 at .* is too old.*2\.25 or newer"):
        old.check()
    with pytest.raises(GitMissing):
        old.current_branch(repo)


def test_something_that_is_not_git_is_git_missing(tmp_path: Path) -> None:
    with pytest.raises(GitMissing, match="did not say which git it is"):
        Git(str(fake_git(tmp_path / "bin", "hello"))).check()


@pytest.mark.skipif(IS_WINDOWS, reason="a POSIX shell script stands in for git")
def test_a_git_that_hangs_is_stopped_at_the_timeout(tmp_path: Path, repo: Path) -> None:
    hanging = tmp_path / "bin" / "git"
    hanging.parent.mkdir()
    hanging.write_text(
        '#!/bin/sh\n[ "$1" = --version ] && exec echo "git version 2.45.0"\nexec sleep 30\n',
        encoding="utf-8",
    )
    hanging.chmod(0o755)
    git = Git(str(hanging))
    git.timeout_s = 0.2
    with pytest.raises(GitError, match=r"did not finish `git symbolic-ref .*` in .* within") as e:
        git.current_branch(repo)
    assert e.value.returncode is None


@pytest.mark.parametrize("platform", ["win32", "darwin", "linux"])
def test_the_install_hint_fits_the_platform(platform: str) -> None:
    assert install_hint(platform).startswith("install ")


# --- repositories and refs ---------------------------------------------------------------


def test_toplevel_of_a_subfolder_is_the_repository(git: Git, repo: Path) -> None:
    (repo / "sub" / "deeper").mkdir(parents=True)
    assert git.toplevel(repo / "sub" / "deeper").resolve() == repo


def test_toplevel_outside_a_repository_is_not_a_repository(git: Git, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(
        NotARepository, match="is not inside a git repository; run the task in"
    ) as e:
        git.toplevel(plain)
    assert e.value.returncode == 128
    assert "not a git repository" in e.value.stderr


def test_git_dir_inherited_from_a_hook_is_ignored(
    git: Git, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere" / ".git"))
    assert git.toplevel(repo).resolve() == repo


def test_current_branch_is_the_short_name(git: Git, repo: Path) -> None:
    assert git.current_branch(repo) == "main"


def test_current_branch_of_a_detached_head_is_none(git: Git, repo: Path) -> None:
    sh(repo, "checkout", "-q", "--detach")
    assert git.current_branch(repo) is None


def test_resolve_gives_the_full_sha_of_branches_tags_and_short_shas(git: Git, repo: Path) -> None:
    sha = sh(repo, "rev-parse", "HEAD").strip()
    sh(repo, "tag", "-a", "-m", "v1", "v1")
    assert git.resolve(repo, "main") == sha
    assert git.resolve(repo, "v1") == sha  # the commit, not the annotated tag object
    assert git.resolve(repo, sha[:8]) == sha


@pytest.mark.parametrize("ref", ["nope", "-x", "--all", ""])
def test_resolve_of_an_unknown_ref_is_unknown_ref(git: Git, repo: Path, ref: str) -> None:
    with pytest.raises(UnknownRef, match="is not a branch, tag or commit of"):
        git.resolve(repo, ref)


def test_branch_exists(git: Git, repo: Path) -> None:
    sh(repo, "branch", "feature/x")
    assert git.branch_exists(repo, "main")
    assert git.branch_exists(repo, "feature/x")
    assert not git.branch_exists(repo, "feature")
    assert not git.branch_exists(repo, "nope")


def test_merge_base_is_where_two_branches_diverge(git: Git, repo: Path) -> None:
    fork = sh(repo, "rev-parse", "HEAD").strip()
    sh(repo, "checkout", "-q", "-b", "side")
    commit(repo, "b.txt", "b\n", "side")
    sh(repo, "checkout", "-q", "main")
    commit(repo, "c.txt", "c\n", "main moves on")
    assert git.merge_base(repo, "main", "side") == fork


def test_merge_base_of_an_unknown_ref_is_unknown_ref(git: Git, repo: Path) -> None:
    with pytest.raises(UnknownRef, match=r"^nope is not a branch"):
        git.merge_base(repo, "main", "nope")


def test_merge_base_of_unrelated_histories_is_a_git_error(git: Git, repo: Path) -> None:
    sh(repo, "checkout", "-q", "--orphan", "other")
    commit(repo, "z.txt", "z\n", "unrelated")
    with pytest.raises(GitError, match="have no commit in common"):
        git.merge_base(repo, "main", "other")


def test_delete_branch(git: Git, repo: Path) -> None:
    sh(repo, "branch", "merged")
    git.delete_branch(repo, "merged")
    assert not git.branch_exists(repo, "merged")
    git.delete_branch(repo, "merged")  # absent: nothing to do


def test_delete_branch_refuses_unmerged_work_unless_forced(git: Git, repo: Path) -> None:
    sh(repo, "checkout", "-q", "-b", "work")
    commit(repo, "w.txt", "w\n", "unmerged")
    sh(repo, "checkout", "-q", "main")
    with pytest.raises(GitError, match=r"could not delete the branch work in .*not fully merged"):
        git.delete_branch(repo, "work")
    git.delete_branch(repo, "work", force=True)
    assert not git.branch_exists(repo, "work")


# --- worktrees ---------------------------------------------------------------------------


def test_worktree_add_makes_the_branch_from_the_base(git: Git, repo: Path, tmp_path: Path) -> None:
    base = sh(repo, "rev-parse", "HEAD").strip()
    sh(repo, "tag", "base")
    commit(repo, "later.txt", "later\n", "after the base")
    path = tmp_path / "wt" / "3-fix"
    git.worktree_add(repo, path, "agentry/3-fix", "base")
    assert (path / "a.txt").read_text(encoding="utf-8") == "one\ntwo\nthree\n"
    assert not (path / "later.txt").exists()
    assert git.current_branch(path) == "agentry/3-fix"
    assert git.resolve(path, "HEAD") == base
    assert git.current_branch(repo) == "main"
    assert not git.dirty(repo)


def test_worktree_add_from_an_unknown_base_makes_nothing(
    git: Git, repo: Path, tmp_path: Path
) -> None:
    with pytest.raises(UnknownRef):
        git.worktree_add(repo, tmp_path / "wt", "agentry/4", "nope")
    assert not git.branch_exists(repo, "agentry/4")
    assert not (tmp_path / "wt").exists()


def test_worktree_add_after_a_crash_that_left_the_branch_uses_it(
    git: Git, repo: Path, tmp_path: Path
) -> None:
    sh(repo, "branch", "agentry/5")
    commit(repo, "b.txt", "b\n", "main moves on")
    path = tmp_path / "wt5"
    git.worktree_add(repo, path, "agentry/5", "main")
    assert git.current_branch(path) == "agentry/5"
    assert not (path / "b.txt").exists()  # the branch as git made it, not a new one


def test_worktree_add_again_after_it_finished_changes_nothing(
    git: Git, repo: Path, worktree: Path
) -> None:
    (worktree / "work.txt").write_text("agent's work\n", encoding="utf-8")
    git.worktree_add(repo, worktree, "agentry/1-task", "main")
    assert (worktree / "work.txt").exists()


def test_worktree_add_after_a_crash_mid_checkout_makes_it_again(
    git: Git, repo: Path, worktree: Path
) -> None:
    sh(repo, "worktree", "lock", "--reason", "initializing", str(worktree))
    (worktree / "a.txt").unlink()  # git was still writing files
    git.worktree_add(repo, worktree, "agentry/1-task", "main")
    assert (worktree / "a.txt").exists()
    [_, info] = git.worktrees(repo)
    assert info.locked is None


def test_worktree_add_onto_an_occupied_folder_says_what_it_was_doing(
    git: Git, repo: Path, tmp_path: Path
) -> None:
    path = tmp_path / "occupied"
    path.mkdir()
    (path / "x").write_text("x", encoding="utf-8")
    with pytest.raises(GitError) as raised:
        git.worktree_add(repo, path, "agentry/6", "main")
    message = str(raised.value)
    assert message.startswith(f"git could not create the worktree {path} for branch agentry/6")
    assert "already exists" in message
    assert raised.value.returncode not in (0, None)
    assert "worktree" in raised.value.argv


def test_worktrees_lists_the_main_checkout_first(
    git: Git, repo: Path, worktree: Path, tmp_path: Path
) -> None:
    detached = tmp_path / "detached"
    sh(repo, "worktree", "add", "-q", "--detach", str(detached), "main")
    sh(repo, "worktree", "lock", "--reason", "on a USB stick", str(detached))
    head = sh(repo, "rev-parse", "HEAD").strip()
    main, *linked = git.worktrees(repo)  # the linked ones in no particular order
    assert main == WorktreeInfo(main.path, head, "main")
    assert main.path.resolve() == repo
    by_path = {w.path.resolve(): w for w in linked}
    assert by_path.keys() == {worktree, detached.resolve()}
    assert (by_path[worktree].branch, by_path[worktree].head) == ("agentry/1-task", head)
    assert by_path[detached.resolve()].branch is None
    assert by_path[detached.resolve()].locked == "on a USB stick"


def test_worktree_remove_removes_folder_and_record(git: Git, repo: Path, worktree: Path) -> None:
    git.worktree_remove(repo, worktree)
    assert not worktree.exists()
    assert [w.path.resolve() for w in git.worktrees(repo)] == [repo]
    assert git.branch_exists(repo, "agentry/1-task")  # the branch is the caller's to delete


def test_worktree_remove_keeps_uncommitted_work_unless_forced(
    git: Git, repo: Path, worktree: Path
) -> None:
    (worktree / "a.txt").write_text("changed\n", encoding="utf-8")
    with pytest.raises(GitError, match=r"could not remove the worktree .*modified or untracked"):
        git.worktree_remove(repo, worktree)
    assert (worktree / "a.txt").exists()
    git.worktree_remove(repo, worktree, force=True)
    assert not worktree.exists()


def test_worktree_remove_of_a_vanished_folder_prunes_its_record(
    git: Git, repo: Path, worktree: Path
) -> None:
    shutil.rmtree(worktree)
    git.worktree_remove(repo, worktree)
    git.worktree_remove(repo, worktree)  # and again: nothing left to do
    assert [w.path.resolve() for w in git.worktrees(repo)] == [repo]


def test_forced_worktree_remove_of_a_vanished_locked_folder_drops_it(
    git: Git, repo: Path, worktree: Path
) -> None:
    sh(repo, "worktree", "lock", "--reason", "initializing", str(worktree))
    shutil.rmtree(worktree)
    git.worktree_prune(repo)
    assert len(git.worktrees(repo)) == 2  # prune keeps a locked record
    git.worktree_remove(repo, worktree, force=True)
    assert [w.path.resolve() for w in git.worktrees(repo)] == [repo]


def test_delete_branch_of_a_removed_worktree(git: Git, repo: Path, worktree: Path) -> None:
    git.worktree_remove(repo, worktree)
    git.delete_branch(repo, "agentry/1-task")
    assert not git.branch_exists(repo, "agentry/1-task")


# --- what changed ------------------------------------------------------------------------


def test_status_of_a_clean_worktree_is_empty(git: Git, worktree: Path) -> None:
    assert git.status(worktree) == []
    assert not git.dirty(worktree)


def test_status_names_each_kind_of_change(git: Git, worktree: Path) -> None:
    commit(worktree, "gone.txt", "bye\n", "to delete")
    commit(worktree, "old name.txt", "rename me\n" * 5, "to rename")
    (worktree / "a.txt").write_text("changed\n", encoding="utf-8")
    (worktree / "gone.txt").unlink()
    sh(worktree, "mv", "old name.txt", "new name.txt")
    (worktree / "staged.txt").write_text("s\n", encoding="utf-8")
    sh(worktree, "add", "staged.txt")
    (worktree / "dir with space" / "deep").mkdir(parents=True)
    (worktree / "dir with space" / "deep" / "ü.txt").write_text("u\n", encoding="utf-8")
    assert sorted(git.status(worktree), key=lambda c: c.path) == [
        FileChange("a.txt", "modified"),
        FileChange("dir with space/deep/ü.txt", "untracked"),
        FileChange("gone.txt", "deleted"),
        FileChange("new name.txt", "renamed", "old name.txt"),
        FileChange("staged.txt", "added"),
    ]
    assert git.dirty(worktree)


@pytest.mark.skipif(IS_WINDOWS, reason="Windows forbids newlines in file names")
def test_status_keeps_newlines_and_tabs_in_file_names(git: Git, worktree: Path) -> None:
    (worktree / "two\nlines\t.txt").write_text("x\n", encoding="utf-8")
    assert git.status(worktree) == [FileChange("two\nlines\t.txt", "untracked")]


def test_dirty_counts_an_untracked_file(git: Git, worktree: Path) -> None:
    (worktree / "new.txt").write_text("x\n", encoding="utf-8")
    assert git.dirty(worktree)


def test_dirty_ignores_ignored_files(git: Git, worktree: Path) -> None:
    commit(worktree, ".gitignore", "*.log\n", "ignore logs")
    (worktree / "debug.log").write_text("x\n", encoding="utf-8")
    assert not git.dirty(worktree)


@pytest.fixture
def changed(git: Git, repo: Path, worktree: Path) -> Path:
    """A worktree with a commit, an uncommitted change, an untracked text and binary file,
    while main moved on with a change of its own."""
    commit(repo, "main-only.txt", "main\n", "main moves on")
    commit(worktree, "committed.txt", "c1\nc2\n", "agent: add committed.txt")
    commit(worktree, "b.txt", "b\n", "agent: add b.txt")
    (worktree / "a.txt").write_text("one\nTWO\nthree\n", encoding="utf-8")
    (worktree / "new file.txt").write_text("n1\nn2\nn3", encoding="utf-8")
    (worktree / "blob.bin").write_bytes(b"\x00\x01\x02binary")
    return worktree


def test_diff_shows_commits_uncommitted_and_untracked_against_the_merge_base(
    git: Git, changed: Path
) -> None:
    diff = git.diff(changed, "main")
    assert "diff --git a/a.txt b/a.txt\n" in diff
    assert "-two\n+TWO\n" in diff
    assert "+++ b/committed.txt\n@@ -0,0 +1,2 @@\n+c1\n+c2\n" in diff
    # git ends a file name with a space in it by a tab on the ---/+++ lines (as GNU diff does)
    assert "+++ b/new file.txt\t\n@@ -0,0 +1,3 @@\n+n1\n+n2\n+n3\n" in diff
    assert "Binary files /dev/null and b/blob.bin differ" in diff
    assert "main-only" not in diff  # main's own later work is not the task's change


def test_diff_leaves_the_index_alone(git: Git, changed: Path) -> None:
    git.diff(changed, "main")
    assert FileChange("new file.txt", "untracked") in git.status(changed)


def test_diff_prefixes_paths_whatever_the_user_configured(
    git: Git, changed: Path, tmp_path: Path
) -> None:
    (tmp_path / "home" / ".gitconfig").write_text(
        "[diff]\n\tnoprefix = true\n[color]\n\tui = always\n", encoding="utf-8"
    )
    diff = git.diff(changed, "main")
    assert "+++ b/new file.txt\t\n" in diff
    assert "\x1b[" not in diff


def test_diff_skips_a_nested_repository_and_files_that_vanished_meanwhile(
    git: Git, worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested = worktree / "vendor" / "lib"
    nested.mkdir(parents=True)
    sh(nested, "init", "-q", "-b", "main")
    (worktree / "kept.txt").write_text("k\n", encoding="utf-8")
    assert "+++ b/kept.txt\n" in git.diff(worktree, "main")
    listed = Git._untracked
    monkeypatch.setattr(Git, "_untracked", lambda self, w: [*listed(self, w), "vanished.txt"])
    diff = git.diff(worktree, "main")
    assert "kept.txt" in diff
    assert "vanished" not in diff
    assert [s.path for s in git.diff_stat(worktree, "main")] == ["kept.txt"]


def test_diff_stat_counts_lines_and_marks_binary_files(git: Git, changed: Path) -> None:
    assert sorted(git.diff_stat(changed, "main"), key=lambda s: s.path) == [
        DiffStat("a.txt", 1, 1),
        DiffStat("b.txt", 1, 0),
        DiffStat("blob.bin", None, None),
        DiffStat("committed.txt", 2, 0),
        DiffStat("new file.txt", 3, 0),
    ]


def test_changes_lists_each_file_since_the_base(git: Git, changed: Path) -> None:
    sh(changed, "mv", "b.txt", "b2.txt")
    assert sorted(git.changes(changed, "main"), key=lambda c: c.path) == [
        FileChange("a.txt", "modified"),
        FileChange("b2.txt", "added"),  # b.txt is new since the base, under either name
        FileChange("blob.bin", "untracked"),
        FileChange("committed.txt", "added"),
        FileChange("new file.txt", "untracked"),
    ]


def test_diff_of_an_unknown_base_is_unknown_ref(git: Git, worktree: Path) -> None:
    with pytest.raises(UnknownRef, match=r"^nope is not"):
        git.diff(worktree, "nope")
    with pytest.raises(UnknownRef):
        git.diff_stat(worktree, "nope")


def test_commits_lists_the_branch_commits_oldest_first(git: Git, changed: Path) -> None:
    found = git.commits(changed, "main")
    assert [subject for _, subject in found] == [
        "agent: add committed.txt",
        "agent: add b.txt",
    ]
    assert found[1][0] == sh(changed, "rev-parse", "HEAD").strip()


def test_commits_of_an_unknown_base_is_unknown_ref(git: Git, worktree: Path) -> None:
    with pytest.raises(UnknownRef):
        git.commits(worktree, "nope")


# --- parsers -------------------------------------------------------------------------------


def test_parse_worktrees_reads_the_newline_format_of_git_before_2_36() -> None:
    text = (
        "worktree /repo\nHEAD " + "a" * 40 + "\nbranch refs/heads/main\n\n"
        "worktree /wt/new\nHEAD " + "0" * 40 + "\nbranch refs/heads/agentry/2\n"
        "locked initializing\n\n"
        "worktree /bare\nbare\n\n"
    )
    assert parse_worktrees(text, "\n") == [
        WorktreeInfo(Path("/repo"), "a" * 40, "main"),
        WorktreeInfo(Path("/wt/new"), None, "agentry/2", "initializing"),
        WorktreeInfo(Path("/bare"), None, None),
    ]


def test_parse_status_reads_renames_copies_and_conflicts() -> None:
    text = "R  new\0old\0C  copy\0src\0UU both\0AA added by both\0 M m\0AM am\0 D d\0?? u\0"
    assert parse_status(text) == [
        FileChange("new", "renamed", "old"),
        FileChange("copy", "added"),
        FileChange("both", "conflicted"),
        FileChange("added by both", "conflicted"),
        FileChange("m", "modified"),
        FileChange("am", "added"),
        FileChange("d", "deleted"),
        FileChange("u", "untracked"),
    ]


def test_parse_name_status_reads_scores_and_both_paths() -> None:
    text = "M\0m\0R087\0old\0new\0A\0a\0D\0d\0T\0t\0"
    assert parse_name_status(text) == [
        FileChange("m", "modified"),
        FileChange("new", "renamed", "old"),
        FileChange("a", "added"),
        FileChange("d", "deleted"),
        FileChange("t", "modified"),
    ]


def test_parse_numstat_reads_renames_and_binaries() -> None:
    text = "1\t2\tplain\0" + "3\t0\t\0old\0new\0" + "-\t-\t\0/dev/null\0bin\0"
    assert parse_numstat(text) == [
        DiffStat("plain", 1, 2),
        DiffStat("new", 3, 0),
        DiffStat("bin", None, None),
    ]
