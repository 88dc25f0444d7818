"""The supervisor's worktree actions (``supervisor.worktrees``), as the Changes tab calls them:
git off the event loop, one action per worktree at a time, refusals as messages."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from helpers.agentry import Home, run_async
from helpers.gitrepo import git, isolate_git, make_repo
from helpers.wait import async_wait_until

from app.core.models import TaskSpec
from app.core.workspaces import WorkspaceState
from app.store import land_repo
from app.store.db import transaction
from app.supervisor.commands import CommandRefused
from app.supervisor.supervisor import Supervisor


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_git(tmp_path, monkeypatch)
    return make_repo(tmp_path / "project", {"a.txt": "line\n"})


def commit(text: str) -> tuple[str, ...]:
    return ("sh", "-c", f"echo {text} > a.txt && git commit -q -am '{text}'")


async def ended_task(sup: Supervisor, repo: Path, argv: tuple[str, ...]) -> int:
    task_id = sup.submit(TaskSpec(argv=argv, cwd=str(repo), worktree=True, title="Work"))
    await async_wait_until(lambda: (s := sup.task(task_id).state) and s.is_terminal, timeout=30)
    return task_id


def test_status_reads_size_merged_and_remote_and_merge_moves_the_base(
    home: Home, repo: Path, tmp_path: Path
) -> None:
    git(repo, "remote", "add", "origin", str(tmp_path / "nowhere.git"))

    async def scenario() -> None:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            work = "echo new > b.txt && git add b.txt && git commit -qm b && echo c > c.txt"
            task_id = await ended_task(sup, repo, ("sh", "-c", work))
            before = await sup.worktrees.status(task_id)
            assert before.state is WorkspaceState.READY and before.remote == "origin"
            assert before.size and before.size > len("new\n")
            assert not before.merged
            merged = await sup.worktrees.merge(task_id)
            assert merged.committed_changes and merged.fast_forward
            assert (await sup.worktrees.status(task_id)).merged
            assert (await sup.worktrees.at_risk(task_id)).nothing  # merged work is not lost
        finally:
            await sup.stop()

    run_async(scenario())
    assert (repo / "b.txt").read_text() == "new\n" and (repo / "c.txt").read_text() == "c\n"


def test_a_second_action_on_a_worktree_is_refused_while_one_is_under_way(
    home: Home, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            task_id = await ended_task(sup, repo, ("sh", "-c", "echo new > b.txt"))
            entered, release = threading.Event(), threading.Event()
            real = sup.git.commit_all

            def slow_commit_all(worktree: Path, message: str) -> bool:
                entered.set()
                release.wait(10)  # blocks the executor's thread, never the loop
                return real(worktree, message)

            monkeypatch.setattr(sup.git, "commit_all", slow_commit_all)
            first = asyncio.ensure_future(sup.worktrees.merge(task_id))
            await async_wait_until(entered.is_set)
            with pytest.raises(CommandRefused, match="busy merging; try again"):
                await sup.worktrees.discard(task_id)
            release.set()
            await first
            removed = await sup.worktrees.discard(task_id)  # free again once it is done
            assert not Path(removed.path).exists()
            assert (await sup.worktrees.status(task_id)).state is WorkspaceState.REMOVED
            with pytest.raises(CommandRefused, match="was discarded"):
                await sup.worktrees.merge(task_id)
        finally:
            await sup.stop()

    run_async(scenario())


def test_actions_that_change_the_worktree_are_refused_while_its_run_is_active(
    home: Home, repo: Path, tmp_path: Path
) -> None:
    gate = tmp_path / "go"

    async def scenario() -> None:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            argv = ("sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done")
            task_id = sup.submit(TaskSpec(argv=argv, cwd=str(repo), worktree=True, title="W"))
            await async_wait_until(lambda: sup.task(task_id).state.value == "running")  # type: ignore[union-attr]
            for action in (sup.worktrees.merge, sup.worktrees.push, sup.worktrees.discard):
                with pytest.raises(CommandRefused, match="still running in its worktree"):
                    await action(task_id)
            gate.touch()
        finally:
            await sup.stop()

    run_async(scenario())


def test_a_land_in_progress_keeps_merge_and_discard_off_its_branch(home: Home, repo: Path) -> None:
    ran = home.cli("run", "--worktree", "--wait", "--cwd", str(repo), "--", *commit("x"))
    assert ran.returncode == 0, ran.stderr
    with home.db() as conn, transaction(conn):  # queued behind others: no supervisor runs it
        land_repo.create(conn, 1, repo=str(repo), base="main", check="")

    for command in ("merge", "discard"):
        refused = home.cli(command, "1", "--yes" if command == "discard" else "--squash")
        assert refused.returncode == 1
        assert "task 1 is being landed on main; wait for the land to end" in refused.stderr
    assert git(repo, "log", "-1", "--format=%s") == "first\n"


def test_a_status_read_in_flight_when_the_supervisor_stops_still_answers(
    home: Home, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        sup = Supervisor(home.locations)
        await sup.start()
        task_id = await ended_task(sup, repo, commit("x"))
        entered, release = threading.Event(), threading.Event()
        real = sup.git.is_ancestor

        def slow_is_ancestor(top: Path, ancestor: str, descendant: str) -> bool:
            entered.set()
            release.wait(10)
            return real(top, ancestor, descendant)

        monkeypatch.setattr(sup.git, "is_ancestor", slow_is_ancestor)
        reading = asyncio.ensure_future(sup.worktrees.status(task_id))
        await async_wait_until(entered.is_set)
        await sup.stop()  # the app quits while git is still being asked
        release.set()
        status = await reading  # the database was read before leaving the loop
        assert status.state is WorkspaceState.READY and not status.landing

    run_async(scenario())
