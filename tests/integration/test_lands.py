"""``agentry land`` (DESIGN §7a): rebase, check, fast-forward, one at a time per repository,
with the real git CLI, real runners and real supervisors (some of them SIGKILLed)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest
from helpers.agentry import Home
from helpers.gitrepo import git, isolate_git, make_repo
from helpers.wait import wait_until

from app.core.lands import Land, LandState
from app.core.workspaces import Workspace
from app.store import land_repo, workspace_repo
from app.store.db import transaction


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_git(tmp_path, monkeypatch)
    return make_repo(tmp_path / "project", {"a.txt": "line\n", "b.txt": "b\n"})


def worktree_task(home: Home, repo: Path, script: str, title: str = "Work") -> int:
    """A worktree task that ran ``script`` (sh) in its worktree and ended."""
    ran = home.cli("run", "--worktree", "--wait", "--title", title, "--cwd", str(repo), "--",
                   "sh", "-c", script)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return len(home.cli("list", "--json", check=True).stdout.split('"id"')) - 1


def workspace(home: Home, task_id: int) -> Workspace:
    with home.db() as conn:
        found = workspace_repo.get(conn, task_id)
    assert found is not None
    return found


def lands(home: Home, task_id: int) -> list[Land]:
    with home.db() as conn:
        return land_repo.of_task(conn, task_id)


def set_check(home: Home, repo: Path, command: str) -> None:
    home.write_settings(project_check={str(repo.resolve()): command})


def head(folder: Path, ref: str = "HEAD") -> str:
    return git(folder, "rev-parse", ref).strip()


def test_a_passing_check_lands_the_rebased_branch_and_moves_the_checkout(
    home: Home, repo: Path
) -> None:
    task = worktree_task(home, repo, "echo task >> a.txt; git commit -q -am 'task work'")
    (repo / "b.txt").write_text("moved on\n")  # the base moves on after the task began
    git(repo, "commit", "-q", "-am", "base work")
    set_check(home, repo, "echo checking in $(pwd); grep -q task a.txt && grep -q moved b.txt")

    landed = home.cli("land", str(task))

    assert landed.returncode == 0, landed.stderr
    ws = workspace(home, task)
    assert f"checking in {ws.path}" in landed.stdout  # the check's output, as it ran
    assert "landed: main is now at" in landed.stderr
    # main fast-forwarded to the rebased branch: linear, the task's commit on top
    assert head(repo) == head(repo, ws.branch)
    assert git(repo, "log", "--format=%s", "main").split("\n")[:3] == [
        "task work", "base work", "first"
    ]  # fmt: skip
    assert (repo / "a.txt").read_text() == "line\ntask\n"  # the checkout's files moved too
    assert git(repo, "status", "--porcelain") == ""
    (land,) = lands(home, task)
    assert land.state is LandState.LANDED and land.run_id is not None
    check_run = home.runs(task)[-1]
    assert check_run.kind.value == "check" and check_run.state.value == "succeeded"
    assert "checking in" in home.output(task)  # in the task's transcript


def test_a_failing_check_leaves_the_base_untouched(home: Home, repo: Path) -> None:
    task = worktree_task(home, repo, "echo broken > a.txt")  # left uncommitted
    set_check(home, repo, "echo 'FAILED test_login'; exit 3")
    before = head(repo)

    failed = home.cli("land", str(task))

    assert failed.returncode == 1
    assert "FAILED test_login" in failed.stdout
    assert "`echo 'FAILED test_login'; exit 3` did not pass (exit code 3;" in failed.stderr
    assert "main was not changed" in failed.stderr
    assert head(repo) == before and (repo / "a.txt").read_text() == "line\n"
    # what the agent left uncommitted was committed on its own branch, nothing lost
    ws = workspace(home, task)
    assert git(repo, "show", f"{ws.branch}:a.txt") == "broken\n"
    assert lands(home, task)[0].state is LandState.FAILED


def test_a_rebase_conflict_names_the_file_and_changes_nothing(home: Home, repo: Path) -> None:
    task = worktree_task(home, repo, "echo mine > a.txt; git commit -q -am mine")
    (repo / "a.txt").write_text("theirs\n")
    git(repo, "commit", "-q", "-am", "theirs")
    set_check(home, repo, "true")
    ws = workspace(home, task)
    branch_before, base_before = head(repo, ws.branch), head(repo)

    failed = home.cli("land", str(task))

    assert failed.returncode == 1
    assert "conflicts in a.txt" in failed.stderr and "Ask the agent to rebase" in failed.stderr
    assert (head(repo, ws.branch), head(repo)) == (branch_before, base_before)
    assert git(Path(ws.path), "status", "--porcelain") == ""  # no rebase left half-done
    assert len(home.runs(task)) == 1, "no check was run"


def test_without_a_check_command_land_says_how_to_set_one_or_to_skip_it(
    home: Home, repo: Path
) -> None:
    task = worktree_task(home, repo, "echo x >> a.txt")
    refused = home.cli("land", str(task))
    assert refused.returncode == 1
    assert "no check command is set for" in refused.stderr and "--no-check" in refused.stderr
    assert lands(home, task) == []

    landed = home.cli("land", "--no-check", str(task))
    assert landed.returncode == 0, landed.stderr
    assert (repo / "a.txt").read_text() == "line\nx\n"
    assert len(home.runs(task)) == 1, "no check run without a check"


def test_a_task_without_a_worktree_cannot_land(home: Home, repo: Path) -> None:
    home.cli("run", "--wait", "--cwd", str(repo), "--", "true", check=True)
    refused = home.cli("land", "1")
    assert refused.returncode == 1 and "has no worktree of its own to land" in refused.stderr


def test_lands_on_one_repository_go_one_at_a_time_in_order(home: Home, repo: Path) -> None:
    first = worktree_task(home, repo, "echo one > one.txt; git add one.txt", "One")
    second = worktree_task(home, repo, "echo two > two.txt; git add two.txt", "Two")
    marks = repo.parent / "marks"
    # Each check notes when it starts and ends: the second must start after the first ended.
    set_check(home, repo, f"echo start $(basename $(pwd)) >> {marks}; sleep 1; "
                          f"echo end $(basename $(pwd)) >> {marks}")  # fmt: skip
    for task in (first, second):
        home.cli("land", "--detach", str(task), check=True)
    server = home.serve()
    wait_until(lambda: all(lands(home, t)[0].state.is_terminal for t in (first, second)),
               timeout=60, message="both lands to end")  # fmt: skip
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)

    assert [land.state for t in (first, second) for land in lands(home, t)] == [
        LandState.LANDED, LandState.LANDED
    ]  # fmt: skip
    one, two = workspace(home, first).path, workspace(home, second).path
    names = [Path(one).name, Path(two).name]
    assert marks.read_text().split("\n")[:4] == [
        f"start {names[0]}", f"end {names[0]}", f"start {names[1]}", f"end {names[1]}"
    ]  # fmt: skip
    # the second was rebased onto the first's landing before its own check
    assert (repo / "one.txt").exists() and (repo / "two.txt").exists()
    assert git(repo, "log", "--format=%s", "main").split("\n")[:3] == ["Two", "One", "first"]


def test_a_land_whose_supervisor_is_killed_during_the_check_lands_after_restart(
    home: Home, repo: Path
) -> None:
    task = worktree_task(home, repo, "echo done >> a.txt")
    gate = repo.parent / "gate"
    set_check(home, repo, f"while [ ! -e {gate} ]; do sleep 0.1; done; echo checked")
    home.cli("land", "--detach", str(task), check=True)
    server = home.serve()
    wait_until(lambda: lands(home, task)[0].state is LandState.CHECKING and
               home.run(task).state.value == "running", timeout=30,
               message="the check to run")  # fmt: skip
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=10)
    gate.touch()  # the check finishes while nobody supervises
    time.sleep(0.3)

    server = home.serve()
    wait_until(lambda: lands(home, task)[0].state.is_terminal, timeout=30,
               message="the land to end after the restart")  # fmt: skip
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    assert lands(home, task)[0].state is LandState.LANDED, lands(home, task)[0].message
    assert (repo / "a.txt").read_text() == "line\ndone\n"


def test_a_rebase_a_crash_left_in_progress_is_started_over(home: Home, repo: Path) -> None:
    task = worktree_task(home, repo, "echo a >> a.txt; git commit -q -am a1; "
                                     "echo b >> b.txt; git commit -q -am b1")  # fmt: skip
    git(repo, "commit", "-q", "--allow-empty", "-m", "base moved")
    ws = workspace(home, task)
    # As if the supervisor died in the middle of the rebase: one stopped half-way.
    git(Path(ws.path), "-c", "sequence.editor=sed -i s/^pick/edit/", "rebase", "-i", "main")
    assert (Path(git(Path(ws.path), "rev-parse", "--git-path", "rebase-merge").strip())).exists()
    with home.db() as conn, transaction(conn):
        land = land_repo.create(conn, task, repo=str(repo.resolve()), base="main", check="")
        land_repo.transition(conn, land.id, LandState.REBASING, head_before=head(repo, ws.branch))

    server = home.serve()
    wait_until(lambda: lands(home, task)[0].state.is_terminal, timeout=30,
               message="the interrupted land to end")  # fmt: skip
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)

    assert lands(home, task)[0].state is LandState.LANDED, lands(home, task)[0].message
    assert git(repo, "log", "--format=%s", "main").split("\n")[:4] == [
        "b1", "a1", "base moved", "first"
    ]  # fmt: skip


def test_a_land_whose_base_moved_before_the_crash_is_only_recorded(home: Home, repo: Path) -> None:
    task = worktree_task(home, repo, "echo x >> a.txt; git commit -q -am x")
    ws = workspace(home, task)
    tip, base = head(repo, ws.branch), head(repo)
    git(repo, "merge", "-q", "--ff-only", ws.branch)  # the swap happened, its record did not
    with home.db() as conn, transaction(conn):
        land = land_repo.create(conn, task, repo=str(repo.resolve()), base="main", check="")
        land_repo.transition(conn, land.id, LandState.REBASING, head_before=tip)
        land_repo.transition(conn, land.id, LandState.LANDING, base_sha=base, head_sha=tip)

    server = home.serve()
    wait_until(lambda: lands(home, task)[0].state.is_terminal, timeout=30,
               message="the interrupted land to end")  # fmt: skip
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    assert lands(home, task)[0].state is LandState.LANDED
    assert head(repo) == tip


def test_a_queued_land_can_be_cancelled(home: Home, repo: Path) -> None:
    task = worktree_task(home, repo, "echo x >> a.txt")
    set_check(home, repo, "true")
    home.cli("land", "--detach", str(task), check=True)
    again = home.cli("land", "--detach", str(task))
    assert again.returncode == 1 and "already being landed" in again.stderr
    cancelled = home.cli("land", "--cancel", str(task))
    assert cancelled.returncode == 0, cancelled.stderr
    assert lands(home, task)[0].state is LandState.CANCELLED
    assert (repo / "a.txt").read_text() == "line\n"


def test_a_check_whose_runner_dies_fails_the_land_saying_so(home: Home, repo: Path) -> None:
    task = worktree_task(home, repo, "echo done >> a.txt")
    set_check(home, repo, "sleep 60")
    home.cli("land", "--detach", str(task), check=True)
    server = home.serve()
    wait_until(lambda: home.run(task).kind.value == "check" and
               home.run(task).state.value == "running", timeout=30,
               message="the check to run")  # fmt: skip
    info = home.runner_info(task)
    for pid in (info.runner_pid, info.agent_pid):  # the machine went down under it
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    wait_until(lambda: lands(home, task)[0].state.is_terminal, timeout=30,
               message="the land to end")  # fmt: skip
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    land = lands(home, task)[0]
    assert land.state is LandState.FAILED
    assert "was interrupted before it finished" in land.message
    assert "main was not changed" in land.message
    assert (repo / "a.txt").read_text() == "line\n"
