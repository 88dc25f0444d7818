"""Tasks in git worktrees of their own (DESIGN §7a), with the real git CLI and real runners."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from helpers.agentry import Home, run_async
from helpers.gitrepo import git, isolate_git, make_repo
from helpers.wait import async_wait_until, wait_until

from app.core.models import WorktreeRepair
from app.core.workspaces import Workspace, WorkspaceState
from app.store import workspace_repo
from app.store.db import transaction
from app.supervisor.supervisor import Supervisor


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository on branch main with one committed file, and an isolated git config."""
    isolate_git(tmp_path, monkeypatch)
    return make_repo(tmp_path / "project", {"a.txt": "line\n"})


def commit_change(text: str) -> list[str]:
    return ["sh", "-c", f"echo {text} > a.txt && git commit -q -am '{text}' && pwd"]


def workspace(home: Home, task_id: int) -> Workspace:
    with home.db() as conn:
        found = workspace_repo.get(conn, task_id)
    assert found is not None
    return found


def test_two_worktree_tasks_change_the_same_line_on_their_own_branches(
    home: Home, repo: Path
) -> None:
    one = int(home.cli("run", "--worktree", "--title", "First", "--cwd", str(repo), "--",
                       *commit_change("one"), check=True).stdout)  # fmt: skip
    two = int(home.cli("run", "--worktree", "--title", "Second", "--cwd", str(repo), "--",
                       *commit_change("two"), check=True).stdout)  # fmt: skip
    server = home.serve()
    for task_id in (one, two):
        home.wait_state(task_id, "succeeded", "failed")
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)

    for task_id, text in ((one, "one"), (two, "two")):
        assert home.run(task_id).state.value == "succeeded", home.output(task_id)
        ws = workspace(home, task_id)
        assert ws.state is WorkspaceState.READY
        assert Path(ws.path).parent == home.locations.worktrees
        assert home.output(task_id).strip() == ws.path  # the agent worked in its worktree
        assert git(repo, "show", f"{ws.branch}:a.txt") == f"{text}\n"
    assert workspace(home, one).branch == f"agentry/{one}-first"
    # The person's checkout is exactly as it was: same branch, same file, nothing dirty.
    assert (repo / "a.txt").read_text() == "line\n"
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


def test_a_folder_outside_a_repository_refuses_worktree_and_queues_nothing(
    home: Home, work_dir: Path
) -> None:
    refused = home.cli("run", "--worktree", "--cwd", str(work_dir), "--", "true")
    assert refused.returncode == 1
    assert "is not inside a git repository" in refused.stderr
    assert "without --worktree" in refused.stderr
    assert home.cli("list", "--json", check=True).stdout.strip() == "[]"


def test_an_unknown_base_is_refused_by_name(home: Home, repo: Path) -> None:
    refused = home.cli("run", "--worktree", "--base", "no-such-branch", "--cwd", str(repo),
                       "--", "true")  # fmt: skip
    assert refused.returncode == 1 and "no-such-branch" in refused.stderr


def test_a_task_in_a_subfolder_works_in_the_same_subfolder_of_its_worktree(
    home: Home, repo: Path
) -> None:
    (repo / "pkg").mkdir()
    (repo / "pkg" / "b.txt").write_text("b\n")
    git(repo, "add", "pkg")
    git(repo, "commit", "-q", "-m", "pkg")
    ran = home.cli("run", "--worktree", "--wait", "--cwd", str(repo / "pkg"), "--", "pwd")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == str(Path(workspace(home, 1).path) / "pkg")


def test_retry_and_a_deleted_worktree_reuse_the_tasks_branch(home: Home, repo: Path) -> None:
    first = home.cli("run", "--worktree", "--wait", "--cwd", str(repo), "--",
                     "sh", "-c", "echo more >> a.txt; git commit -q -am more; pwd")  # fmt: skip
    assert first.returncode == 0, first.stderr
    ws = workspace(home, 1)
    # A supervisor that stays until the retries end (`run --wait` of another task would
    # stop when that task ends, and could leave a retry running unrecorded).
    server = home.serve()
    try:
        home.cli("retry", "1", check=True)
        home.wait_state(1, "succeeded", "failed")
        assert home.output(1).strip() == ws.path, "the retry ran in the same worktree"

        subprocess.run(["rm", "-rf", ws.path], check=True)  # deleted behind Agentry's back
        home.cli("retry", "1", check=True)
        home.wait_state(1, "succeeded", "failed")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert home.run(1).state.value == "succeeded", home.output(1)
    # made again on its branch: both earlier runs' commits are there, then the third's
    assert (Path(ws.path) / "a.txt").read_text() == "line\nmore\nmore\nmore\n"


def test_diff_shows_what_the_task_changed_and_discard_names_what_would_be_lost(
    home: Home, repo: Path
) -> None:
    ran = home.cli("run", "--worktree", "--wait", "--cwd", str(repo), "--",
                   "sh", "-c", "echo changed > a.txt; echo new > b.txt")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    ws = workspace(home, 1)

    diff = home.cli("diff", "1", check=True).stdout
    assert "-line" in diff and "+changed" in diff and "+new" in diff
    stat = home.cli("diff", "1", "--stat", check=True).stdout
    assert "+1 -1  a.txt" in stat and "+1 -0  b.txt" in stat

    refused = home.cli("discard", "1")  # no terminal to ask, and work would be lost
    assert refused.returncode == 1
    assert "a.txt" in refused.stdout and "b.txt" in refused.stdout
    assert "--yes" in refused.stderr and Path(ws.path).is_dir()

    home.cli("discard", "1", "--yes", check=True)
    assert not Path(ws.path).exists()
    assert ws.branch not in git(repo, "branch", "--list")
    assert workspace(home, 1).state is WorkspaceState.REMOVED
    assert (repo / "a.txt").read_text() == "line\n"
    again = home.cli("diff", "1")
    assert again.returncode == 1 and "discarded" in again.stderr


def test_a_task_in_place_has_no_worktree_to_diff(home: Home, repo: Path) -> None:
    home.cli("run", "--wait", "--cwd", str(repo), "--", "true", check=True)
    refused = home.cli("diff", "1")
    assert refused.returncode == 1 and "no worktree of its own" in refused.stderr


SLOW_GIT = """#!/bin/sh
# git, but `worktree add` first says it started and then hangs: a crash lands mid-add
case "$*" in *"worktree add"*) touch "{marker}"; sleep 120;; esac
exec {git} "$@"
"""


def test_a_sigkill_while_the_worktree_is_being_created_is_repaired_on_the_next_start(
    home: Home, repo: Path, tmp_path: Path
) -> None:
    wrapper = tmp_path / "slow-bin"
    wrapper.mkdir()
    marker = tmp_path / "adding"
    real_git = subprocess.run(["which", "git"], capture_output=True, text=True).stdout.strip()
    (wrapper / "git").write_text(SLOW_GIT.format(marker=marker, git=real_git))
    (wrapper / "git").chmod(0o755)
    slow_env = {**home.env, "PATH": f"{wrapper}{os.pathsep}{os.environ['PATH']}"}
    task_id = int(home.cli("run", "--worktree", "--cwd", str(repo), "--", "pwd",
                           check=True).stdout)  # fmt: skip

    server = home.serve(env=slow_env)
    wait_until(marker.exists, message="git worktree add under way")
    assert workspace(home, task_id).state is WorkspaceState.CREATING  # the intent came first
    doomed = [server.pid, *(p.pid for p in psutil.Process(server.pid).children(recursive=True))]
    for pid in doomed:  # the supervisor and the git it is waiting for, at once
        os.kill(pid, signal.SIGKILL)
    server.wait()

    async def restart() -> None:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            await async_wait_until(
                lambda: home.run(task_id).state.value == "succeeded",
                timeout=30,
                message="the task to run in its repaired worktree",
            )
        finally:
            await sup.stop()

    run_async(restart())
    ws = workspace(home, task_id)
    assert ws.state is WorkspaceState.READY
    assert home.output(task_id).strip() == ws.path
    assert git(repo, "status", "--porcelain") == ""


def test_a_discard_cut_short_by_a_crash_is_completed_and_reported_at_start(
    home: Home, repo: Path
) -> None:
    ran = home.cli("run", "--worktree", "--wait", "--cwd", str(repo), "--", "true")
    assert ran.returncode == 0, ran.stderr
    ws = workspace(home, 1)
    with home.db() as conn, transaction(conn):  # the discard's intent, then a crash
        workspace_repo.transition(conn, 1, WorkspaceState.REMOVING)

    async def restart() -> dict[int, WorktreeRepair]:
        sup = Supervisor(home.locations)
        report = await sup.start()
        await sup.stop()
        return report.worktrees

    assert run_async(restart()) == {1: WorktreeRepair.REMOVED}
    assert not Path(ws.path).exists() and ws.branch not in git(repo, "branch", "--list")
    assert workspace(home, 1).state is WorkspaceState.REMOVED
    listed = home.cli("recovery", check=True).stdout
    assert "1 worktree(s) repaired" in listed


if sys.platform == "win32":  # pragma: no cover
    pytestmark = pytest.mark.skip(reason="POSIX shells drive these tasks")


# ---------------------------------------------------------------- merging


def _two_tasks_on_one_line(home: Home, repo: Path) -> tuple[int, int]:
    """Tasks 1 and 2, each having committed its own text on the same line of a.txt."""
    for title, text in (("First", "one"), ("Second", "two")):
        ran = home.cli("run", "--worktree", "--wait", "--title", title, "--cwd", str(repo),
                       "--", *commit_change(text))  # fmt: skip
        assert ran.returncode == 0, ran.stderr
    return 1, 2


def test_merging_the_first_fast_forwards_and_a_conflicting_second_changes_nothing(
    home: Home, repo: Path
) -> None:
    first, second = _two_tasks_on_one_line(home, repo)

    merged = home.cli("merge", str(first), check=True)
    assert "fast-forward" in merged.stdout
    assert (repo / "a.txt").read_text() == "one\n"  # the checkout moved with its branch
    assert git(repo, "rev-parse", "main") == git(repo, "rev-parse", workspace(home, first).branch)
    before = git(repo, "rev-parse", "main")

    refused = home.cli("merge", str(second))
    assert refused.returncode == 1
    assert "conflicts in a.txt" in refused.stderr and "nothing was changed" in refused.stderr
    assert git(repo, "rev-parse", "main") == before
    assert (repo / "a.txt").read_text() == "one\n"
    assert git(repo, "status", "--porcelain") == ""
    assert not (repo / ".git" / "MERGE_HEAD").exists()
    assert git(repo, "worktree", "list").count("\n") == 3  # no scratch worktree left behind


def test_uncommitted_work_is_committed_then_merged_with_a_merge_commit(
    home: Home, repo: Path
) -> None:
    ran = home.cli("run", "--worktree", "--wait", "--title", "Add b", "--cwd", str(repo), "--",
                   "sh", "-c", "echo b > b.txt")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    (repo / "c.txt").write_text("c\n")  # the base moves on meanwhile: no fast-forward
    git(repo, "add", "c.txt")
    git(repo, "commit", "-q", "-m", "c")

    merged = home.cli("merge", "1", check=True).stdout
    assert "Committed the uncommitted changes" in merged and "merge commit" in merged
    assert (repo / "b.txt").read_text() == "b\n" and (repo / "c.txt").exists()
    assert git(repo, "log", "-1", "--format=%s") == "Merge task 1: Add b\n"
    assert git(repo, "status", "--porcelain") == ""


def test_squash_makes_one_commit_and_rebase_keeps_history_linear(home: Home, repo: Path) -> None:
    for title in ("Squashed", "Rebased"):
        ran = home.cli("run", "--worktree", "--wait", "--title", title, "--cwd", str(repo), "--",
                       "sh", "-c", f"echo 1 > {title}.txt && git add . && git commit -qm one && "
                       f"echo 2 >> {title}.txt && git commit -qam two")  # fmt: skip
        assert ran.returncode == 0, ran.stderr
    git(repo, "commit", "-q", "--allow-empty", "-m", "base moved")

    home.cli("merge", "1", "--squash", check=True)
    assert git(repo, "log", "-1", "--format=%s") == "Squashed\n"
    assert git(repo, "rev-list", "--count", "HEAD^..HEAD") == "1\n"
    home.cli("merge", "2", "--rebase", check=True)
    assert git(repo, "log", "-2", "--format=%s") == "two\none\n"
    assert git(repo, "rev-list", "--merges", "--count", "HEAD") == "0\n"
    assert (repo / "Squashed.txt").exists() and (repo / "Rebased.txt").exists()


def test_a_dirty_checkout_of_the_base_refuses_the_merge_and_names_the_file(
    home: Home, repo: Path
) -> None:
    first, _ = _two_tasks_on_one_line(home, repo)
    (repo / "a.txt").write_text("my own edit\n")
    before = git(repo, "rev-parse", "main")
    refused = home.cli("merge", str(first))
    assert refused.returncode == 1
    assert "uncommitted changes (a.txt)" in refused.stderr
    assert git(repo, "rev-parse", "main") == before
    assert (repo / "a.txt").read_text() == "my own edit\n"


def test_a_base_not_checked_out_anywhere_moves_without_touching_the_checkout(
    home: Home, repo: Path
) -> None:
    git(repo, "branch", "release")
    ran = home.cli("run", "--worktree", "--base", "release", "--wait", "--cwd", str(repo), "--",
                   *commit_change("for-release"))  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    home.cli("merge", "1", check=True)
    assert git(repo, "show", "release:a.txt") == "for-release\n"
    assert (repo / "a.txt").read_text() == "line\n" and git(repo, "rev-parse", "main") != git(
        repo, "rev-parse", "release"
    )


def test_a_new_worktree_gets_the_checkouts_env_files_git_leaves_out(home: Home, repo: Path) -> None:
    (repo / ".gitignore").write_text(".env*\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore env")
    (repo / ".env").write_text("API_KEY=local\n")
    (repo / ".env.test").write_text("DB=test\n")
    ran = home.cli("run", "--worktree", "--wait", "--cwd", str(repo), "--", "cat", ".env",
                   ".env.test")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "API_KEY=local\nDB=test\n"
    assert git(Path(workspace(home, 1).path), "status", "--porcelain") == ""  # still ignored


# ---------------------------------------------------------------- pushing


def test_push_sends_the_branch_to_the_bases_remote_and_says_where_to_open_a_request(
    home: Home, repo: Path, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    ran = home.cli("run", "--worktree", "--wait", "--title", "Docs", "--cwd", str(repo), "--",
                   *commit_change("docs"))  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    branch = workspace(home, 1).branch

    pushed = home.cli("push", "1", check=True).stdout
    assert f"Pushed {branch} to origin." in pushed
    assert git(remote, "show", f"{branch}:a.txt") == "docs\n"

    # With a GitHub remote and no gh installed, --pr gives the compare URL instead.
    git(repo, "remote", "set-url", "origin", "git@github.com:me/project.git")
    git(repo, "remote", "set-url", "--push", "origin", str(remote))  # pushes still go here
    no_gh = {**home.env, "PATH": "/usr/bin:/bin"}
    with_pr = home.cli("push", "1", "--pr", env=no_gh, check=True).stdout
    assert "gh is not installed" in with_pr
    assert f"https://github.com/me/project/compare/main...{branch}?expand=1" in with_pr


def test_push_without_a_remote_says_how_to_add_one(home: Home, repo: Path) -> None:
    home.cli("run", "--worktree", "--wait", "--cwd", str(repo), "--", "true", check=True)
    refused = home.cli("push", "1")
    assert refused.returncode == 1 and "git remote add origin" in refused.stderr


# ---------------------------------------------------------------- clean-up


def test_cleanup_removes_merged_worktrees_and_keeps_what_may_hold_work_unless_named(
    home: Home, repo: Path
) -> None:
    first, second = _two_tasks_on_one_line(home, repo)
    home.cli("merge", str(first), check=True)  # task 1's work is in main; task 2's is not
    stray = home.locations.worktrees / "left-by-hand"
    stray.mkdir()
    (stray / "notes.txt").write_text("mine\n")
    orphan_run = home.locations.runs / "000099-abcdef"
    orphan_run.mkdir()

    listed = json.loads(home.cli("cleanup", "--dry-run", "--json", check=True).stdout)
    by_id = {c["id"]: c for c in listed}
    assert by_id[f"W{first}"]["kind"] == "merged worktree" and by_id[f"W{first}"]["safe"]
    unmerged = by_id[f"W{second}"]  # offered, but never removed unless named
    assert unmerged["kind"] == "unmerged worktree" and not unmerged["safe"]
    assert "1 commit not in main" in unmerged["why"]
    strays = [c for c in listed if c["what"] == str(stray)]
    assert strays and not strays[0]["safe"] and strays[0]["size"] > 0
    assert any(c["what"] == str(orphan_run) and c["safe"] for c in listed)  # empty
    assert not any(c["removed"] for c in listed) and Path(workspace(home, first).path).exists()

    out = home.cli("cleanup", check=True).stdout
    assert "Kept what may hold work" in out
    assert workspace(home, first).state is WorkspaceState.REMOVED
    assert not Path(workspace(home, first).path).exists() and stray.is_dir()
    assert Path(workspace(home, second).path).is_dir()

    stray_id = next(c["id"] for c in listed if c["what"] == str(stray))
    home.cli("cleanup", "--include", stray_id, check=True)
    assert not stray.exists()
    assert home.cli("cleanup", "--include", "Z9").returncode == 1


def test_cleanup_lists_a_runner_no_task_knows_and_stops_it_only_when_named(
    home: Home, work_dir: Path
) -> None:
    folder = home.locations.runs / "000042-stray00"
    folder.mkdir(parents=True)
    stray = subprocess.Popen(  # looks like a runner of this data folder to the process table
        [sys.executable, "-c", "import time; time.sleep(60)", "app.runner", str(folder)],
        start_new_session=True,
    )
    try:
        listed = json.loads(home.cli("cleanup", "--dry-run", "--json", check=True).stdout)
        runner = next(c for c in listed if c["kind"] == "unknown runner")
        assert runner["id"] == f"P{stray.pid}" and not runner["safe"]
        home.cli("cleanup", check=True)
        assert stray.poll() is None, "a runner is never stopped unless named"
        home.cli("cleanup", "--include", runner["id"], check=True)
        assert stray.wait(timeout=10) is not None
    finally:
        if stray.poll() is None:
            stray.kill()
            stray.wait()
