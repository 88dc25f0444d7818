"""Schedules with a real supervisor and database: due while closed runs once (or is
skipped), overlap is respected, an occurrence is all or nothing, a SIGKILLed `serve`
neither loses nor doubles one, and the CLI round trip."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.agentry import Home, run_async
from helpers.wait import wait_until

from app.core.models import TaskSpec
from app.core.schedules import CatchUp, Overlap, ScheduleKind
from app.store import schedule_repo
from app.supervisor.events import Notice
from app.supervisor.supervisor import Supervisor

HOUR = 3600.0
T0 = 1_800_000_000.0  # a fixed "now"; the tests move it instead of waiting


def _events(home: Home, kind: str) -> list[dict[str, Any]]:
    with home.db() as conn:
        rows = conn.execute("SELECT task_id, detail FROM events WHERE kind = ? ORDER BY id",
                            (kind,)).fetchall()  # fmt: skip
    return [{"task_id": r[0], **json.loads(r[1])} for r in rows]


def _tasks(home: Home) -> list[int]:
    with home.db() as conn:
        return [row[0] for row in conn.execute("SELECT id FROM tasks ORDER BY id")]


async def _supervised(home: Home, now: float, *, paused: bool = True) -> Supervisor:
    """A started supervisor whose clock reads ``now``; with ``paused`` its queue starts
    nothing, so a scheduled task stays queued (and no agent outlives the test)."""
    sup = Supervisor(home.locations)
    sup.schedules.clock = lambda: now
    sup.set_paused(paused)
    await sup.start()
    return sup


def _add_hourly(home: Home, work_dir: Path, **options: Any) -> int:
    async def scenario() -> int:
        sup = await _supervised(home, T0)
        try:
            spec = TaskSpec(argv=("true",), cwd=str(work_dir))
            return sup.schedules.add(spec, ScheduleKind.EVERY, "1h", **options).id
        finally:
            await sup.stop()

    return int(run_async(scenario()))


def _start_at(home: Home, now: float) -> None:
    async def scenario() -> None:
        sup = await _supervised(home, now)
        await sup.stop()

    run_async(scenario())


def test_due_while_closed_runs_once_at_the_next_start_however_many_times_passed(
    home: Home, work_dir: Path
) -> None:
    schedule_id = _add_hourly(home, work_dir)
    assert _tasks(home) == []
    _start_at(home, T0 + 5.5 * HOUR)  # five occurrences passed while closed
    ran = _events(home, "schedule_ran")
    assert len(ran) == 1 and ran[0]["missed"] is True
    assert _tasks(home) == [ran[0]["task_id"]]
    with home.db() as conn:
        schedule = schedule_repo.get_schedule(conn, schedule_id)
    assert schedule.next_run_at == T0 + 6 * HOUR  # on its rhythm, after now
    assert schedule.last_run_at == T0 + 5.5 * HOUR
    assert schedule.last_task_id == ran[0]["task_id"]
    _start_at(home, T0 + 5.75 * HOUR)  # started again before the next time: nothing more
    assert len(_tasks(home)) == 1


def test_catch_up_skip_runs_nothing_missed_and_goes_on_with_the_next_time(
    home: Home, work_dir: Path
) -> None:
    schedule_id = _add_hourly(home, work_dir, catch_up=CatchUp.SKIP)
    _start_at(home, T0 + 3.5 * HOUR)
    assert _tasks(home) == []
    skipped = _events(home, "schedule_skipped")
    assert len(skipped) == 1 and "catch-up skip" in skipped[0]["why"]
    with home.db() as conn:
        assert schedule_repo.get_schedule(conn, schedule_id).next_run_at == T0 + 4 * HOUR


def test_a_one_shot_runs_once_and_is_then_done(home: Home, work_dir: Path) -> None:
    async def scenario() -> list[int]:
        now = [T0]
        sup = await _supervised(home, T0)
        sup.schedules.clock = lambda: now[0]
        try:
            spec = TaskSpec(argv=("true",), cwd=str(work_dir))
            schedule = sup.schedules.add(spec, ScheduleKind.AT, "2027-01-15T09:00")
            assert schedule.next_run_at is not None and schedule.next_run_at > T0
            now[0] = schedule.next_run_at
            started = sup.schedules.run_due()
            now[0] += 7 * 86400
            return started + sup.schedules.run_due()
        finally:
            await sup.stop()

    assert len(run_async(scenario())) == 1
    with home.db() as conn:
        (schedule,) = schedule_repo.list_schedules(conn)
    assert schedule.next_run_at is None and schedule.last_task_id == _tasks(home)[0]


def test_resume_goes_on_from_the_next_time_to_come_without_the_paused_ones(
    home: Home, work_dir: Path
) -> None:
    schedule_id = _add_hourly(home, work_dir)

    async def scenario() -> None:
        now = [T0 + 0.5 * HOUR]
        sup = await _supervised(home, now[0])
        sup.schedules.clock = lambda: now[0]
        try:
            assert sup.schedules.pause(schedule_id).paused
            now[0] = T0 + 4.5 * HOUR
            assert sup.schedules.run_due() == []  # paused: due times pass by
            resumed = sup.schedules.resume(schedule_id)
            assert not resumed.paused and resumed.next_run_at == T0 + 5 * HOUR
            assert sup.schedules.run_due() == []
        finally:
            await sup.stop()

    run_async(scenario())
    assert _tasks(home) == []


def test_a_schedule_does_not_start_a_task_while_its_previous_one_is_still_queued(
    home: Home, work_dir: Path
) -> None:
    skip_id = _add_hourly(home, work_dir)
    allow_id = _add_hourly(home, work_dir, overlap=Overlap.ALLOW)

    async def scenario() -> None:
        now = [T0 + HOUR]
        sup = await _supervised(home, now[0])  # paused: what it queues stays queued
        sup.schedules.clock = lambda: now[0]
        notices: list[Notice] = []
        sup.bus.subscribe(lambda e: notices.append(e) if isinstance(e, Notice) else None)
        try:
            assert len(sup.schedules.run_due()) == 0  # on_started ran both already
            now[0] = T0 + 2 * HOUR
            assert len(sup.schedules.run_due()) == 1  # only the --overlap allow one
        finally:
            await sup.stop()
        [notice] = notices
        assert notice.level == "info"  # the status bar's, not a desktop notification
        assert notice.text.startswith(f"Schedule {skip_id} (every 1h) skipped a run: its "
                                      "previous task")  # fmt: skip

    run_async(scenario())
    ran = _events(home, "schedule_ran")
    assert [e["schedule"] for e in ran] == [skip_id, allow_id, allow_id]
    skipped = _events(home, "schedule_skipped")
    assert [e["schedule"] for e in skipped] == [skip_id]
    assert f"previous task {ran[0]['task_id']} is still queued" in skipped[0]["why"]
    assert len(_tasks(home)) == 3


@pytest.mark.expect_error_log("^running due schedules failed$")
def test_an_occurrence_that_fails_before_its_commit_leaves_no_task_and_stays_due(
    home: Home, work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The task, the schedule's next time and its event commit together: a failure (a
    crash) after the task was written but before the schedule moved on writes nothing."""
    schedule_id = _add_hourly(home, work_dir)

    def crash(*args: object, **kwargs: object) -> bool:
        raise sqlite3.OperationalError("disk I/O error (simulated crash)")

    async def scenario() -> None:
        sup = Supervisor(home.locations)
        sup.schedules.clock = lambda: T0 + HOUR
        sup.set_paused(True)
        with monkeypatch.context() as patched:
            patched.setattr(schedule_repo, "record_due", crash)
            await sup.start()  # on_started's run fails (and is reported): nothing written
        try:
            assert _tasks(home) == []
            assert len(sup.schedules.run_due()) == 1  # still due: now it runs
        finally:
            await sup.stop()

    run_async(scenario())
    assert len(_tasks(home)) == 1
    with home.db() as conn:
        assert schedule_repo.get_schedule(conn, schedule_id).next_run_at == T0 + 2 * HOUR


def test_a_sigkilled_serve_between_due_and_commit_runs_the_occurrence_exactly_once(
    home: Home, work_dir: Path
) -> None:
    out = work_dir / "out"
    home.cli("schedule", "add", "--every", "1h", "--cwd", str(work_dir), "--",
             "sh", "-c", f"echo ran >> {out}", check=True)  # fmt: skip
    first = home.serve()
    blocker = sqlite3.connect(home.locations.database, isolation_level=None, timeout=10)
    try:
        # Make it due and, in the same breath, hold the write lock: `serve` notices the
        # change, finds the schedule due and waits for the lock to commit its occurrence.
        blocker.execute("BEGIN IMMEDIATE")
        blocker.execute("UPDATE schedules SET next_run_at = ?", (time.time() - 1,))
        blocker.execute("COMMIT")
        blocker.execute("BEGIN IMMEDIATE")
        time.sleep(1.0)  # its timer fires at once; the kill may come at any point of it
        first.send_signal(signal.SIGKILL)
        first.wait()
        blocker.execute("ROLLBACK")
    finally:
        blocker.close()
    assert _tasks(home) == []  # nothing committed, nothing lost: it is still due
    second = home.serve()
    try:
        wait_until(lambda: len(_tasks(home)) == 1, message="the occurrence to run")
        task_id = _tasks(home)[0]
        home.wait_state(task_id, "succeeded")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait()
    assert len(_tasks(home)) == 1 and out.read_text() == "ran\n"
    assert len(_events(home, "schedule_ran")) == 1


def test_cli_round_trip(home: Home, work_dir: Path) -> None:
    def cli(*args: str) -> str:
        return home.cli("schedule", *args, check=True).stdout

    added = cli("add", "--cron", "0 9 * * 1-5", "--cwd", str(work_dir), "--", "make", "test")
    assert added.startswith("Schedule 1: cron 0 9 * * 1-5, next run ")
    cli("add", "--every", "30m", "--overlap", "allow", "--catch-up", "skip", "--cwd",
        str(work_dir), "--agent", "demo", "tidy", "up")  # fmt: skip
    listing = json.loads(cli("list", "--json"))
    assert [(s["id"], s["when"], s["what"], s["paused"]) for s in listing] == [
        (1, "cron 0 9 * * 1-5", "make test", False),
        (2, "every 30m", "demo: tidy up", False),
    ]
    assert (listing[1]["overlap"], listing[1]["catch_up"]) == ("allow", "skip")
    assert listing[0]["next_run_at"] > time.time() and listing[0]["last_run_at"] is None
    assert "paused" in cli("pause", "1")
    assert json.loads(cli("list", "--json"))[0]["paused"] is True
    assert "paused" in cli("list").splitlines()[1]
    assert "resumed, next run" in cli("resume", "#1")
    assert "removed" in cli("remove", "2")
    assert [s["id"] for s in json.loads(cli("list", "--json"))] == [1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cron", "0 9 * *"], "is not a cron expression"),
        (["--at", "2020-01-01T09:00"], "is in the past; give a time still to come"),
        (["--every", "often"], "is not a duration"),
        (["--at", "2099-01-01T09:00", "--agent", "nosuch", "hi"], "nosuch"),
    ],
)
def test_cli_refuses_bad_schedules_saying_why(
    home: Home, work_dir: Path, args: list[str], message: str
) -> None:
    result = home.cli("schedule", "add", *args, "--cwd", str(work_dir), "--", "true")
    assert result.returncode != 0 and message in result.stderr
    assert json.loads(home.cli("schedule", "list", "--json", check=True).stdout) == []


def test_cli_names_an_unknown_schedule(home: Home) -> None:
    for verb in ("pause", "resume", "remove"):
        result = home.cli("schedule", verb, "42")
        assert result.returncode == 1
        assert "no schedule 42; `agentry schedule list` shows" in result.stderr


def test_resuming_a_one_shot_whose_time_passed_while_paused_says_it_has_nothing_left(
    home: Home, work_dir: Path
) -> None:
    def cli(*args: str) -> str:
        return home.cli("schedule", *args, check=True).stdout

    cli("add", "--at", "2099-01-01T09:00", "--cwd", str(work_dir), "--", "./release.sh")
    cli("pause", "1")
    past = time.time() - 60
    with home.db() as conn:  # its time goes by while it is paused
        conn.execute("UPDATE schedules SET expr = ?, next_run_at = ? WHERE id = 1",
                     (str(int(past)), past))  # fmt: skip
    said = cli("resume", "1")
    assert "resumed, but it has nothing left to run: its time passed while it was paused" in said
    assert "add it again with a new --at" in said
    assert _tasks(home) == []
