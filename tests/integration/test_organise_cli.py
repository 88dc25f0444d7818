"""Archive, delete and clear tasks as a user does it from the command line: real runs,
real run folders, a real database, and a supervisor that must still start afterwards."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path

import pytest
from helpers.agentry import Home, py
from helpers.gitrepo import isolate_git, make_repo

from app.store import organise_repo, repo
from app.store.db import transaction
from app.supervisor import organise
from app.supervisor.supervisor import Supervisor

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shells drive the tasks")

WAIT_FOR_FILE = "import os, sys, time\nwhile not os.path.exists(sys.argv[1]): time.sleep(0.05)"


def ran(home: Home, work_dir: Path, code: int, title: str) -> int:
    """A task that ran to its end under a supervisor of the command's own."""
    result = home.cli("run", "--wait", "--title", title, "--cwd", str(work_dir),
                      "--", "sh", "-c", f"echo {title}; exit {code}")  # fmt: skip
    assert result.returncode == code, result.stderr
    return listed(home, "--all", "--limit", "1")[0]


def retried(home: Home, task_id: int, state: str) -> None:
    """Run the task again under `serve`, which is then stopped the way a person stops it."""
    serve = home.serve()
    assert home.cli("retry", str(task_id)).returncode == 0
    home.wait_state(task_id, state)
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=30) == 0


def listed(home: Home, *flags: str) -> list[int]:
    return [t["id"] for t in json.loads(home.cli("list", "--json", *flags, check=True).stdout)]


def test_an_archived_task_leaves_the_list_and_comes_back_when_unarchived(
    home: Home, work_dir: Path
) -> None:
    first, second = ran(home, work_dir, 0, "one"), ran(home, work_dir, 0, "two")
    done = home.cli("archive", str(first))
    assert done.returncode == 0 and done.stdout == f"Task {first}: archived.\n"
    assert listed(home) == [second]
    assert listed(home, "--archived") == [first]
    assert listed(home, "--all") == [second, first]
    shown = json.loads(home.cli("list", "--json", "--all").stdout)
    assert [t["archived"] for t in shown] == [False, True]
    assert "(archived)" in home.cli("list", "--all").stdout.splitlines()[-1]
    assert home.cli("unarchive", str(first)).returncode == 0
    assert listed(home) == [second, first]
    with home.db() as conn:
        kinds = [e["kind"] for e in repo.events_for_task(conn, first)]
    assert kinds[-2:] == ["archived", "unarchived"]


def test_a_running_task_is_neither_archived_nor_deleted(
    home: Home, work_dir: Path, tmp_path: Path
) -> None:
    home.serve()
    flag = tmp_path / "go"
    task_id = home.submit([*py(WAIT_FOR_FILE), str(flag)], work_dir)
    home.wait_state(task_id, "running")
    archive = home.cli("archive", str(task_id))
    assert archive.returncode != 0
    assert f"task {task_id} is still running; cancel it or wait" in archive.stderr
    rm = home.cli("rm", "--yes", str(task_id))
    assert rm.returncode != 0 and "is still running" in rm.stderr
    assert "Nothing was deleted" in rm.stderr
    assert home.run_dir(task_id).is_dir() and listed(home) == [task_id]
    flag.touch()
    home.wait_state(task_id, "succeeded")


def test_rm_deletes_the_rows_and_run_folders_keeps_the_audit_entry_and_a_start_still_works(
    home: Home, work_dir: Path
) -> None:
    keep = ran(home, work_dir, 0, "keep")
    gone = ran(home, work_dir, 3, "gone")
    retried(home, gone, "failed")
    folders = [home.locations.run_dir(r.dir) for r in home.runs(gone)]
    assert len(folders) == 2 and all(f.is_dir() for f in folders)

    result = home.cli("rm", "--yes", str(gone))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Task {gone}: deleted with 2 run folder(s).\n"
    assert not any(f.exists() for f in folders)
    assert listed(home, "--all") == [keep]
    with home.db() as conn:
        assert (
            conn.execute("SELECT count(*) FROM runs WHERE task_id = ?", (gone,)).fetchone()[0] == 0
        )
        events = repo.events_for_task(conn, gone)
    assert events[-1]["kind"] == "deleted"
    assert json.loads(events[-1]["detail"])["title"] == "gone"

    async def start_and_stop() -> list[int]:
        supervisor = Supervisor(home.locations)
        await supervisor.start()  # no "database lost": nothing unknown is left behind
        try:
            return [t.id for t in supervisor.tasks()]
        finally:
            await supervisor.stop()

    assert asyncio.run(start_and_stop()) == [keep]


def test_rm_without_a_terminal_asks_for_yes_and_deletes_nothing(home: Home, work_dir: Path) -> None:
    task_id = ran(home, work_dir, 0, "one")
    result = home.cli("rm", str(task_id))
    assert result.returncode != 0 and "pass --yes" in result.stderr
    assert listed(home) == [task_id] and home.run_dir(task_id).is_dir()


def test_a_task_with_a_worktree_is_not_deleted_and_the_message_says_what_to_do(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(tmp_path, monkeypatch)
    project = make_repo(tmp_path / "project", {"a.txt": "line\n"})
    result = home.cli("run", "--worktree", "--wait", "--cwd", str(project),
                      "--", "sh", "-c", "echo two > b.txt")  # fmt: skip
    assert result.returncode == 0, result.stderr
    rm = home.cli("rm", "--yes", "1")
    assert rm.returncode != 0
    assert "task 1 still has its worktree" in rm.stderr and "`agentry discard 1`" in rm.stderr
    assert home.run_dir(1).is_dir()


def test_clear_archives_finished_tasks_failed_ones_only_when_asked(
    home: Home, work_dir: Path
) -> None:
    ok, bad = ran(home, work_dir, 0, "ok"), ran(home, work_dir, 2, "bad")
    dry = home.cli("clear", "--dry-run")
    assert dry.returncode == 0 and dry.stdout.splitlines() == [
        "Would archive 1 task(s):",
        f"  #{ok} succeeded  ok",
    ]
    assert listed(home) == [bad, ok], "a dry run changes nothing"
    assert home.cli("clear", "--older-than", "7d").stdout == "Nothing to clear.\n"
    assert home.cli("clear").returncode == 0
    assert listed(home) == [bad]
    assert home.cli("clear", "--failed").returncode == 0
    assert listed(home) == [] and listed(home, "--archived") == [bad, ok]


def test_clear_delete_removes_what_it_lists_and_a_bad_age_is_a_usage_error(
    home: Home, work_dir: Path
) -> None:
    ok = ran(home, work_dir, 0, "ok")
    folder = home.run_dir(ok)
    assert home.cli("clear", "--older-than", "soon").returncode == 2
    result = home.cli("clear", "--delete", "--yes")
    assert result.returncode == 0 and f"Task {ok}: deleted" in result.stdout
    assert not folder.exists() and listed(home, "--all") == []


def test_clearable_takes_only_tasks_that_ended_long_enough_ago(home: Home, work_dir: Path) -> None:
    old, new = ran(home, work_dir, 0, "old"), ran(home, work_dir, 0, "new")
    with home.db() as conn, transaction(conn):
        conn.execute(
            "UPDATE runs SET ended_at = ? WHERE task_id = ?", (time.time() - 9 * 86400, old)
        )
    with home.db() as conn:
        week = organise.clearable(conn, organise.ClearFilter(older_than_days=7))
        every = organise.clearable(conn, organise.ClearFilter())
    assert [t.id for t in week] == [old] and [t.id for t in every] == [new, old]


def test_a_dismissed_task_is_news_again_when_a_later_run_ends(home: Home, work_dir: Path) -> None:
    task_id = ran(home, work_dir, 1, "flaky")
    with home.db() as conn:
        organise.dismiss(conn, task_id)
        assert repo.get_task(conn, task_id).dismissed
    retried(home, task_id, "failed")
    with home.db() as conn:
        assert not repo.get_task(conn, task_id).dismissed
        assert [t.id for t in organise_repo.ended_since(conn, 0.0)] == [task_id]
