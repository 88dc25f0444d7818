"""Backups of the database with real processes: made online while `serve` runs tasks,
on the supervisor's schedule and at its clean stop; a damaged database stops start-up
naming the backup; `agentry restore` refuses while Agentry runs and keeps the old file."""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
from pathlib import Path

import pytest
from helpers.agentry import Home, counting_agent, run_async
from helpers.wait import async_wait_until

from app.store import backup
from app.store.backup import DatabaseDamaged
from app.supervisor.supervisor import Supervisor

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals stop serve")


def _task_ids(path: Path) -> list[int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT id FROM tasks ORDER BY id")]
    finally:
        conn.close()


def _listed(home: Home) -> list[int]:
    return [t["id"] for t in json.loads(home.cli("list", "--json", check=True).stdout)]


def _stop(proc: object) -> None:
    proc.send_signal(signal.SIGINT)  # type: ignore[attr-defined]
    assert proc.wait(timeout=30) == 0  # type: ignore[attr-defined]


def _damage(path: Path) -> None:
    """Scribble over the root page of the ``tasks`` table (the schema stays readable)."""
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'tasks'").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(path, "r+b") as stream:
        stream.seek((root - 1) * size)
        stream.write(b"\xa5" * 64)


def test_a_backup_made_while_serve_runs_tasks_holds_every_task(home: Home, work_dir: Path) -> None:
    serve = home.serve()
    ids = [home.submit(counting_agent(40, 0.05), work_dir, title=f"t{n}") for n in range(6)]
    home.wait_state(ids[0], "running")
    made = Path(home.cli("backup", check=True).stdout.strip())
    assert made.parent == home.locations.backups
    assert _task_ids(made) == ids
    assert serve.poll() is None  # the supervisor never stopped for it
    for task_id in ids:
        assert home.wait_state(task_id, "succeeded", timeout=60).exit_code == 0
    listed = home.cli("backup", "--list", check=True).stdout
    assert made.name in listed and "manual" in listed
    _stop(serve)


def test_serve_backs_up_at_a_clean_stop_keeping_the_newest_n(home: Home, work_dir: Path) -> None:
    home.write_settings(backups_keep=2)
    home.submit(["true"], work_dir)
    for _ in range(3):
        _stop(home.serve())
    kept = backup.list_backups(home.locations.backups)
    assert [b.reason for b in kept] == ["shutdown", "shutdown"]
    assert _task_ids(kept[0].path) == [1]


def test_no_shutdown_backup_when_the_schedule_is_off(home: Home) -> None:
    home.write_settings(backups_every_h=0)
    _stop(home.serve())
    assert backup.list_backups(home.locations.backups) == []


def test_the_supervisor_backs_up_when_the_schedule_says_it_is_due(
    home: Home, work_dir: Path
) -> None:
    home.submit(["true"], work_dir)

    async def scheduled() -> list[str]:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            assert backup.list_backups(home.locations.backups) == []  # not due yet
            sup.backups._due = 0.0  # a day has passed
            await async_wait_until(
                lambda: backup.list_backups(home.locations.backups), message="the daily backup"
            )
            return [b.reason for b in backup.list_backups(home.locations.backups)]
        finally:
            await sup.stop()

    assert run_async(scheduled()) == ["daily"]
    assert [b.reason for b in backup.list_backups(home.locations.backups)] == [
        "shutdown",
        "daily",
    ]


def test_a_damaged_database_stops_start_up_naming_the_newest_backup(
    home: Home, work_dir: Path
) -> None:
    for n in range(30):
        home.submit(["true"], work_dir, title=f"task {n}")
    made = Path(home.cli("backup", check=True).stdout.strip())
    _damage(home.locations.database)

    serve = home.cli("serve", "--headless", timeout=60)
    assert serve.returncode != 0
    assert "is damaged" in serve.stderr and str(made) in serve.stderr
    assert "`agentry restore`" in serve.stderr

    with pytest.raises(DatabaseDamaged):
        run_async(Supervisor(home.locations).start())


def test_restore_is_refused_while_serve_runs_and_works_once_it_stopped(
    home: Home, work_dir: Path
) -> None:
    first = home.submit(["sh", "-c", "exit 3"], work_dir, title="before the backup")
    serve = home.serve()
    home.wait_state(first, "failed")
    made = Path(home.cli("backup", check=True).stdout.strip())
    later = home.submit(["sh", "-c", "exit 5"], work_dir, title="after the backup")
    home.wait_state(later, "failed")

    refused = home.cli("restore", "--yes")
    assert refused.returncode == 2
    assert "Quit Agentry first" in refused.stderr
    assert _listed(home) == [later, first]
    assert list(home.locations.data.glob("agentry.db.replaced-*")) == []

    _stop(serve)
    declined = home.cli("restore", made.name, input="n\n")
    assert declined.returncode == 1 and "Nothing was restored" in declined.stdout
    assert _task_ids(home.locations.database) == [first, later]
    restored = home.cli("restore", made.name, input="y\n")
    assert restored.returncode == 0, restored.stderr
    (aside,) = home.locations.data.glob("agentry.db.replaced-*")
    assert f"Kept the replaced file as {aside}" in restored.stdout
    assert "1 task(s) and 1 run(s) brought back" in restored.stdout
    assert _task_ids(aside) == [first, later]  # the replaced database, whole

    # The task made after the backup came back from its run folder, exit code and all.
    assert _listed(home) == [later, first]
    assert (home.run(first).exit_code, home.run(later).exit_code) == (3, 5)
    restarted = home.serve()  # and nothing stops the next start
    _stop(restarted)
