"""A lost database is never a silent fresh start (#12 §1): the run folders are a second
record, the supervisor refuses to start over runs it does not know, read-only commands
create nothing, and `agentry recover --rebuild` brings every task back."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
from pathlib import Path
from typing import Any

from helpers.agentry import Home
from helpers.wait import wait_until

from app.supervisor.rebuild import EXIT_DATABASE_LOST


def listing(home: Home) -> dict[int, dict[str, Any]]:
    done = home.cli("list", "--json", "--limit", "1000", check=True)
    return {t["id"]: t for t in json.loads(done.stdout)}


def delete_database(home: Home) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{home.locations.database}{suffix}")


def fifty_tasks_in_every_state(home: Home, work_dir: Path) -> dict[int, str]:
    """Tasks that succeeded, failed with their own codes, timed out, were cancelled while
    running, were interrupted (runner and agent killed) and are still running."""
    home.write_settings(max_concurrency=60)
    expected: dict[int, str] = {}
    for n in range(20):
        expected[home.submit(["sh", "-c", f"echo ok {n}"], work_dir)] = "succeeded"
    for n in range(15):
        expected[home.submit(["sh", "-c", f"exit {n % 5 + 1}"], work_dir)] = "failed"
    for _ in range(5):
        expected[home.submit(["sleep", "30"], work_dir, timeout=1)] = "timed_out"
    cancel = [home.submit(["sleep", "30"], work_dir) for _ in range(5)]
    kill = [home.submit(["sleep", "30"], work_dir) for _ in range(3)]
    alive = [home.submit(["sleep", "30"], work_dir) for _ in range(2)]
    server = home.serve()
    for task_id in (*cancel, *kill, *alive):
        home.wait_state(task_id, "running", timeout=60)
    for task_id in cancel:
        home.cli("cancel", str(task_id), check=True)
        expected[task_id] = "cancelled"
    for task_id in kill:
        info = home.runner_info(task_id)
        for pid in (info.runner_pid, info.agent_pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        expected[task_id] = "interrupted"
    for task_id in alive:
        expected[task_id] = "running"
    wait_until(lambda: all(home.run(t).state.value == s for t, s in expected.items()),
               timeout=60, message="every task in its state")  # fmt: skip
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    return expected


def test_a_deleted_database_of_fifty_tasks_is_refused_then_rebuilt_with_exit_codes(
    home: Home, work_dir: Path
) -> None:
    expected = fifty_tasks_in_every_state(home, work_dir)
    before = listing(home)
    assert len(before) == 50
    delete_database(home)

    # read-only commands say so and create nothing
    listed = home.cli("list")
    assert listed.returncode == EXIT_DATABASE_LOST
    assert "50 run folder(s)" in listed.stderr and "agentry recover --rebuild" in listed.stderr
    doctor = home.cli("doctor")
    assert "agentry recover --rebuild" in doctor.stdout
    assert not home.locations.database.exists(), "a read-only command made a database"
    # the supervisor refuses to start over them: no silent fresh start
    serve = home.cli("serve", "--headless", timeout=30)
    assert serve.returncode == EXIT_DATABASE_LOST
    assert "hold runs that the database" in serve.stderr and "Nothing was started" in serve.stderr

    rebuilt = home.cli("recover", "--rebuild", "--json", check=True)
    report = json.loads(rebuilt.stdout)
    assert sorted(report["tasks"]) == sorted(expected) and report["runs"] == 50
    assert report["skipped"] == {} and report["renumbered"] == {}
    assert sorted(report["running"]) == sorted(t for t, s in expected.items() if s == "running")

    after = listing(home)
    for task_id, was in before.items():
        now = after[task_id]
        assert (now["state"], now["exit_code"]) == (was["state"], was["exit_code"]), task_id
        assert (now["agent"], now["title"]) == (was["agent"], was["title"])
    # and the rebuilt data folder is a normal one: the live runs are followed to their end
    server = home.serve()
    for task_id in (t for t, s in expected.items() if s == "running"):
        info = home.runner_info(task_id)
        os.kill(info.agent_pid, signal.SIGTERM)
        home.wait_state(task_id, "failed", timeout=30)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)


def test_an_older_copy_of_the_database_is_caught_and_only_the_missing_runs_come_back(
    home: Home, work_dir: Path, tmp_path: Path
) -> None:
    first = 1
    home.cli("run", "--wait", "--cwd", str(work_dir), "--", "sh", "-c", "exit 0", check=True)
    home.cli("run", "--wait", "--", "true", check=True)
    copy = tmp_path / "old.db"
    with home.db() as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(home.locations.database, copy)
    later = home.cli("run", "--wait", "--title", "Later", "--", "sh", "-c", "exit 4")
    assert later.returncode == 4
    delete_database(home)
    shutil.copy(copy, home.locations.database)  # e.g. a restored or synced older file

    serve = home.cli("serve", "--headless", timeout=30)
    assert serve.returncode == EXIT_DATABASE_LOST
    assert "knows 2 task(s) but not these runs" in serve.stderr
    listed = home.cli("list")
    assert listed.returncode == 0 and "hold runs that the database" in listed.stderr

    rebuilt = home.cli("recover", "--rebuild", check=True)
    assert "1 task(s) and 1 run(s) brought back" in rebuilt.stdout
    assert "The database as it was is kept as" in rebuilt.stdout
    assert any(p.name.startswith("agentry.db.before-rebuild-") for p in home.path.iterdir())
    after = listing(home)
    assert (after[3]["state"], after[3]["exit_code"]) == ("failed", 4)
    assert after[first]["state"] == "succeeded"


def test_tasks_made_after_the_loss_keep_their_ids_and_the_lost_ones_get_new_ones(
    home: Home, work_dir: Path
) -> None:
    home.cli("run", "--wait", "--cwd", str(work_dir), "--", "sh", "-c", "exit 2")
    delete_database(home)
    # a command that changes something makes a new database (only reading ones do not)
    home.cli("run", "--cwd", str(Path.cwd()), "--", "true", check=True)
    report = json.loads(home.cli("recover", "--rebuild", "--json", check=True).stdout)
    assert report["renumbered"] == {"1": 2}
    assert listing(home)[2]["exit_code"] == 2


def test_a_fresh_data_folder_is_not_a_lost_one(home: Home) -> None:
    listed = home.cli("list")
    assert listed.returncode == 0 and "No tasks yet" in listed.stdout
    assert not home.locations.database.exists()
    empty = home.cli("recover", "--rebuild", check=True)
    assert "0 task(s) and 0 run(s) brought back" in empty.stdout


def test_an_emptied_database_is_refused_not_started_fresh(home: Home, work_dir: Path) -> None:
    home.cli("run", "--wait", "--cwd", str(work_dir), "--", "true", check=True)
    home.locations.database.write_bytes(b"")
    serve = home.cli("serve", "--headless", timeout=30)
    assert serve.returncode == EXIT_DATABASE_LOST, serve.stderr
    assert "it is missing or empty" in serve.stderr


def test_a_wal_deleted_after_a_crash_is_refused_not_started_fresh(
    home: Home, work_dir: Path
) -> None:
    server = home.serve()  # holds a connection: nobody checkpoints the WAL into the file
    task_id = home.submit(["true"], work_dir)
    home.wait_state(task_id, "succeeded")
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=10)
    wal = Path(f"{home.locations.database}-wal")
    assert wal.stat().st_size > 0
    wal.unlink()  # what a careless sync or clean-up tool does

    serve = home.cli("serve", "--headless", timeout=30)
    assert serve.returncode == EXIT_DATABASE_LOST, serve.stderr
    rebuilt = home.cli("recover", "--rebuild", check=True)
    assert "1 task(s) and 1 run(s) brought back" in rebuilt.stdout
    assert listing(home)[task_id]["state"] == "succeeded"
