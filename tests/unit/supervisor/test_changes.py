"""Tests for app.supervisor.changes: a worktree task's Changes, with the real git."""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers.gitrepo import sealed_git, sh

from app.core.models import TaskSpec
from app.core.settings import Settings
from app.core.states import RunState
from app.core.workspaces import WorkspaceState
from app.store import repo, workspace_repo
from app.store.db import Connection, open_database, transaction
from app.supervisor import commands
from app.supervisor.changes import PeerCache, build, count_lines, request, split_diff
from app.supervisor.git import Git
from app.supervisor.git_output import FileChange

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@pytest.fixture(autouse=True)
def no_git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sealed_git(tmp_path, monkeypatch)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    sh(path, "init", "-q", "-b", "main")
    (path / "app.py").write_text("def hello():\n    return 1\n")
    (path / "old.txt").write_text("to be deleted\n")
    sh(path, "add", ".")
    sh(path, "commit", "-q", "-m", "first")
    return path


@pytest.fixture
def conn(tmp_path: Path):
    connection = open_database(tmp_path / "agentry.db")
    yield connection
    connection.close()


def worktree_task(conn: Connection, git: Git, project: Path, tmp_path: Path) -> tuple[int, Path]:
    """A submitted task (its run queued, so active) with a ready worktree on its branch."""
    spec = TaskSpec(argv=("true",), cwd=str(project), worktree=True)
    task_id, _ = commands.submit(conn, spec, Settings())
    path = tmp_path / "worktrees" / str(task_id)
    sha = git.resolve(project, "main")
    with transaction(conn):
        workspace_repo.record_intent(conn, task_id, repo=str(project), path=str(path),
                                     branch=f"agentry/{task_id}", base="main", base_sha=sha,
                                     subdir="")  # fmt: skip
    git.worktree_add(project, path, f"agentry/{task_id}", sha)
    with transaction(conn):
        workspace_repo.transition(conn, task_id, WorkspaceState.READY)
    return task_id, path


def end_run(conn: Connection, task_id: int) -> None:
    run = repo.get_task(conn, task_id).latest_run
    assert run is not None
    with transaction(conn):
        repo.transition(conn, run.id, RunState.STARTING)
        repo.transition(conn, run.id, RunState.SUCCEEDED, exit_code=0)


def test_changes_list_committed_uncommitted_and_untracked_files_with_counts_and_diffs(
    conn: Connection, project: Path, tmp_path: Path
) -> None:
    git = Git()
    task_id, path = worktree_task(conn, git, project, tmp_path)
    (path / "app.py").write_text("def hello():\n    return 2\n\n\ndef bye():\n    pass\n")
    sh(path, "commit", "-q", "-am", "Return two")
    (path / "old.txt").unlink()
    (path / "new dir").mkdir()
    (path / "new dir" / "notes.md").write_text("# notes\n")

    wanted = request(conn, task_id)
    assert wanted is not None and wanted.peers == ()
    changes = build(git, wanted, PeerCache())

    by_path = {f.path: f for f in changes.files}
    assert {p: f.change.status for p, f in by_path.items()} == {
        "app.py": "modified", "old.txt": "deleted", "new dir/notes.md": "untracked"}  # fmt: skip
    assert (by_path["app.py"].added, by_path["app.py"].removed) == (5, 1)
    assert (by_path["old.txt"].added, by_path["old.txt"].removed) == (0, 1)
    assert (by_path["new dir/notes.md"].added, by_path["new dir/notes.md"].removed) == (1, 0)
    assert [subject for _, subject in changes.commits] == ["Return two"]
    assert changes.uncommitted == {"old.txt", "new dir/notes.md"}
    assert "+    return 2" in changes.diff_of("app.py")
    assert "-to be deleted" in changes.diff_of("old.txt")
    assert "+# notes" in changes.diff_of("new dir/notes.md")
    assert "return 2" not in changes.diff_of("old.txt")
    assert changes.overlaps == {}


def test_a_task_without_a_ready_worktree_has_no_changes(
    conn: Connection, project: Path, tmp_path: Path
) -> None:
    plain, _ = commands.submit(conn, TaskSpec(argv=("true",), cwd=str(project)), Settings())
    assert request(conn, plain) is None
    task_id, _ = worktree_task(conn, Git(), project, tmp_path)
    with transaction(conn):
        workspace_repo.transition(conn, task_id, WorkspaceState.REMOVING)
    assert request(conn, task_id) is None


def test_a_file_changed_by_two_active_tasks_is_marked_in_both(
    conn: Connection, project: Path, tmp_path: Path
) -> None:
    git = Git()
    one, path_one = worktree_task(conn, git, project, tmp_path)
    two, path_two = worktree_task(conn, git, project, tmp_path)
    (path_one / "app.py").write_text("one\n")
    (path_one / "only-one.txt").write_text("mine\n")
    (path_two / "app.py").write_text("two\n")

    cache = PeerCache(ttl_s=0.0)
    first = request(conn, one)
    second = request(conn, two)
    assert first is not None and second is not None
    assert build(git, first, cache).overlaps == {"app.py": (two,)}
    assert build(git, second, cache).overlaps == {"app.py": (one,)}


def test_a_task_whose_run_ended_no_longer_counts_as_an_overlap(
    conn: Connection, project: Path, tmp_path: Path
) -> None:
    git = Git()
    one, path_one = worktree_task(conn, git, project, tmp_path)
    two, path_two = worktree_task(conn, git, project, tmp_path)
    (path_one / "app.py").write_text("one\n")
    (path_two / "app.py").write_text("two\n")
    end_run(conn, two)

    wanted = request(conn, one)
    assert wanted is not None and wanted.peers == ()
    assert build(git, wanted, PeerCache()).overlaps == {}


def test_split_diff_names_renamed_binary_and_quoted_files() -> None:
    text = (
        "diff --git a/old.py b/new.py\n"
        "similarity index 90%\n"
        "rename from old.py\n"
        "rename to new.py\n"
        "diff --git a/logo.png b/logo.png\n"
        "Binary files a/logo.png and b/logo.png differ\n"
        'diff --git "a/tab\\there" "b/tab\\there"\n'
        "--- /dev/null\n"
        '+++ "b/tab\\there"\n'
        "@@ -0,0 +1 @@\n"
        "+x\n"
    )
    parts = split_diff(text)
    assert list(parts) == ["new.py", "logo.png", "tab\there"]
    assert parts["tab\there"].endswith("+x\n")


def test_counts_come_from_the_diff_shown_and_a_binary_file_has_none() -> None:
    parts = split_diff(
        "diff --git a/logo.png b/logo.png\n"
        "Binary files a/logo.png and b/logo.png differ\n"
        "diff --git a/a.py b/a.py\n"
        "--- a/a.py\n"
        "+++ b/a.py\n"
        "@@ -1,2 +1,2 @@\n"
        "--- a comment that starts with dashes\n"
        "+++ and its replacement\n"
        " kept\n"
        "\\ No newline at end of file\n"
    )
    assert count_lines(parts["logo.png"]) == (None, None)
    assert count_lines(parts["a.py"]) == (1, 1)


def test_one_review_reads_what_changes_diff_status_and_commits_read_apart(
    conn: Connection, project: Path, tmp_path: Path
) -> None:
    git = Git()
    _, path = worktree_task(conn, git, project, tmp_path)
    (path / "app.py").write_text("def hello():\n    return 2\n")
    sh(path, "commit", "-q", "-am", "Return two")
    (path / "old.txt").unlink()
    (path / "notes.md").write_text("# notes\n")
    sh(path, "mv", "app.py", "main.py")
    nested = path / "vendor"  # a nested repository: listed by status, not diffed as a file
    nested.mkdir()
    sh(nested, "init", "-q")

    review = git.review(path, "main")
    assert list(review.changes) == git.changes(path, "main")
    assert review.diff == git.diff(path, "main")
    assert list(review.uncommitted) == git.status(path)
    assert list(review.commits) == git.commits(path, "main")
    assert {c.status for c in review.changes} >= {"deleted", "untracked"}
    assert "vendor/" not in {c.path for c in review.changes}


class CountingGit(Git):
    """A real Git that counts the worktree passes for a peer's file list, and can hold one."""

    def __init__(self) -> None:
        super().__init__()
        self.listed: list[str] = []
        self.hold = threading.Event()
        self.hold.set()

    def changes(self, worktree: Path, base: str) -> list[FileChange]:
        self.listed.append(worktree.name)
        self.hold.wait(10)
        return super().changes(worktree, base)


def test_a_peers_file_list_is_read_once_by_whoever_asks_first(
    conn: Connection, project: Path, tmp_path: Path
) -> None:
    git = CountingGit()
    task_id, path = worktree_task(conn, git, project, tmp_path)
    (path / "app.py").write_text("changed\n")
    peer = workspace_repo.get(conn, task_id)
    assert peer is not None
    cache = PeerCache()
    git.hold.clear()  # the first reading stays in flight until both have asked
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(cache.files, git, peer)
        second = pool.submit(cache.files, git, peer)
        time.sleep(0.3)
        git.hold.set()
        assert first.result(timeout=30) == second.result(timeout=30) == {"app.py"}
    assert git.listed == [path.name]


def test_a_peer_waits_for_the_list_its_own_refresh_is_reading(
    conn: Connection, project: Path, tmp_path: Path
) -> None:
    git = CountingGit()
    task_id, _ = worktree_task(conn, git, project, tmp_path)
    peer = workspace_repo.get(conn, task_id)
    assert peer is not None
    cache = PeerCache()
    with ThreadPoolExecutor(1) as pool, cache.reading(peer.path) as found:
        asked = pool.submit(cache.files, git, peer)
        time.sleep(0.3)
        assert not asked.done()
        found(frozenset({"read.py"}))
        assert asked.result(timeout=30) == {"read.py"}
    assert git.listed == []  # nothing read twice
