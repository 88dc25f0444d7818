"""The supervisor's housekeeping: clean-up off its loop and the prune of old merged
worktrees, with real git, real runners and a clock moved forward instead of waiting."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from helpers.agentry import Home, run_async
from helpers.gitrepo import git, isolate_git, make_repo
from helpers.wait import async_wait_until

from app.core.settings import Settings
from app.core.workspaces import Workspace, WorkspaceState
from app.store import land_repo, workspace_repo
from app.store import repo as task_repo
from app.store.db import transaction
from app.supervisor import housekeeping
from app.supervisor.cleanup import Outcome
from app.supervisor.events import Event, Notice
from app.supervisor.supervisor import Supervisor

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shells drive the tasks")

DAY = housekeeping.DAY_S


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_git(tmp_path, monkeypatch)
    return make_repo(tmp_path / "project", {"a.txt": "line\n"})


def worktree_task(home: Home, repo: Path, title: str, script: str) -> int:
    ran = home.cli("run", "--worktree", "--wait", "--title", title, "--cwd", str(repo),
                   "--", "sh", "-c", script)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return max(t["id"] for t in json.loads(home.cli("list", "--json", check=True).stdout))


def workspace(home: Home, task_id: int) -> Workspace:
    with home.db() as conn:
        found = workspace_repo.get(conn, task_id)
    assert found is not None
    return found


def merged_unmerged_and_dirty(home: Home, repo: Path) -> tuple[int, int, int]:
    """Task 1's commit is merged into main; task 2's commit is not; task 3 left a file
    uncommitted."""
    merged = worktree_task(home, repo, "Merged", "echo one > a.txt && git commit -qam one")
    unmerged = worktree_task(home, repo, "Unmerged", "echo two > b.txt && git add b.txt && "
                             "git commit -qm two")  # fmt: skip
    dirty = worktree_task(home, repo, "Dirty", "echo draft > c.txt")
    home.cli("merge", str(merged), check=True)
    return merged, unmerged, dirty


def test_prune_removes_only_merged_worktrees_of_tasks_ended_more_than_n_days_ago(
    home: Home, repo: Path
) -> None:
    merged, unmerged, dirty = merged_unmerged_and_dirty(home, repo)
    home.write_settings(prune_merged_after_days=7)
    notices: list[Notice] = []

    def collect(event: Event) -> None:
        if isinstance(event, Notice):
            notices.append(event)

    async def prune() -> tuple[Outcome, Outcome]:
        sup = Supervisor(home.locations)
        await sup.start()
        sup.bus.subscribe(collect)
        try:
            today = await sup.housekeeping.prune()  # they ended seconds ago
            assert Path(workspace(home, merged).path).is_dir()
            sup.housekeeping.clock = lambda: time.time() + 8 * DAY
            return today, await sup.housekeeping.prune()
        finally:
            await sup.stop()

    today, later = run_async(prune())
    assert today.removed == ()
    assert [c.task_id for c in later.removed] == [merged] and later.failed == ()
    gone = workspace(home, merged)
    assert gone.state is WorkspaceState.REMOVED and not Path(gone.path).exists()
    assert gone.branch not in git(repo, "branch", "--list")
    for kept in (unmerged, dirty):
        assert workspace(home, kept).state is WorkspaceState.READY
        assert Path(workspace(home, kept).path).is_dir()
    assert [(n.level, n.task_id) for n in notices] == [("info", merged)]
    assert "more than 7 days ago" in notices[0].text and gone.path in notices[0].text
    with home.db() as conn:
        audited = [e for e in task_repo.events_for_task(conn, merged) if e["kind"] == "cleaned_up"]
    assert len(audited) == 1 and json.loads(audited[0]["detail"])["by"].startswith("prune")


def test_the_supervisor_prunes_shortly_after_start_only_when_the_setting_is_on(
    home: Home, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    merged = worktree_task(home, repo, "Merged", "echo one > a.txt && git commit -qam one")
    home.cli("merge", str(merged), check=True)
    monkeypatch.setattr(housekeeping, "FIRST_PRUNE_S", 0.0)

    async def supervise(days: int) -> list[Notice]:
        home.write_settings(prune_merged_after_days=days)
        sup = Supervisor(home.locations)
        sup.housekeeping.clock = lambda: time.time() + 30 * DAY
        notices: list[Notice] = []
        sup.bus.subscribe(lambda e: notices.append(e) if isinstance(e, Notice) else None)
        await sup.start()
        try:
            if days:
                await async_wait_until(lambda: notices, message="the prune's notice")
            else:
                for _ in range(8):  # ticks pass; with the setting off nothing is pruned
                    sup.tick()
                    await sup.housekeeping.drain()
        finally:
            await sup.stop()
        return notices

    assert run_async(supervise(0)) == []
    assert workspace(home, merged).state is WorkspaceState.READY
    notices = run_async(supervise(7))
    assert [n.task_id for n in notices] == [merged]
    assert workspace(home, merged).state is WorkspaceState.REMOVED


def test_clean_up_lists_safe_and_risky_worktrees_and_removes_only_what_was_chosen(
    home: Home, repo: Path
) -> None:
    merged, unmerged, dirty = merged_unmerged_and_dirty(home, repo)

    async def clean() -> tuple[dict[str, bool], dict[str, str], Outcome]:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            found = await sup.housekeeping.find()
            chosen = [c for c in found if c.id in (f"W{merged}", f"W{dirty}")]
            return ({c.id: c.safe for c in found}, {c.id: c.why for c in found},
                    await sup.housekeeping.remove(chosen))  # fmt: skip
        finally:
            await sup.stop()

    safe, why, outcome = run_async(clean())
    assert safe == {f"W{merged}": True, f"W{unmerged}": False, f"W{dirty}": False}
    assert why[f"W{unmerged}"] == "holds 1 commit not in main"
    assert why[f"W{dirty}"] == "holds 1 uncommitted file"
    assert sorted(c.task_id or 0 for c in outcome.removed) == [merged, dirty]
    assert workspace(home, unmerged).state is WorkspaceState.READY
    for task_id in (merged, dirty):
        assert workspace(home, task_id).state is WorkspaceState.REMOVED
        with home.db() as conn:
            kinds = [e["kind"] for e in task_repo.events_for_task(conn, task_id)]
        assert "cleaned_up" in kinds


def test_a_worktree_whose_task_is_being_landed_is_neither_listed_nor_pruned(
    home: Home, repo: Path
) -> None:
    merged, _unmerged, _dirty = merged_unmerged_and_dirty(home, repo)
    with home.db() as conn, transaction(conn):  # a land of it, queued
        land_repo.create(conn, merged, repo=str(repo), base="main", check="")

    async def look() -> tuple[list[str], Outcome]:
        sup = Supervisor(home.locations)  # not started: its lander would move the land on
        sup.settings = Settings(prune_merged_after_days=1)
        sup.housekeeping.clock = lambda: time.time() + 8 * DAY
        found = [c.id for c in await sup.housekeeping.find()]
        return found, await sup.housekeeping.prune()

    found, pruned = run_async(look())
    assert f"W{merged}" not in found and pruned.removed == ()
    assert workspace(home, merged).state is WorkspaceState.READY
