"""Each health check in its green, amber and red states, made real: a runner killed while
the supervisor was away, a live runner whose heartbeat file is old, a tool call waiting, a
database that is garbage or missing, an agent path that does not exist, a disk below the
limits, an unusable settings file. The checks are read by app.supervisor.doctor.collect,
the one function behind `agentry doctor`, its --json and the Health view."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from helpers.agentry import Home, kill_group
from helpers.wait import wait_until

from app.core.approvals import ApprovalState
from app.core.health import HealthReport
from app.core.states import RunState
from app.runner import protocol
from app.store import approval_repo, health_repo, repo
from app.store.db import transaction
from app.supervisor.doctor import collect
from app.supervisor.health_checks import Thresholds

QUICK = {"detections": {}, "run_integrity": False}  # agents are tested on their own


def checks(home: Home, **kwargs: object) -> HealthReport:
    return collect(home.locations, **{**QUICK, **kwargs})  # type: ignore[arg-type]


def status(report: HealthReport, key: str) -> str:
    return report.check(key).status


def test_a_fresh_data_folder_has_no_database_yet_and_nothing_fails(home: Home) -> None:
    report = checks(home)
    assert status(report, "database") == "ok" and "no Agentry database" in (
        report.check("database").summary
    )
    assert status(report, "runners") == "ok" and status(report, "supervisor") == "ok"
    assert status(report, "backups") == "warn"  # none made yet: amber, with what to do
    assert "agentry backup" in report.check("backups").action
    assert not report.problems
    assert not home.locations.database.exists(), "the checks made a database"


def test_run_folders_without_a_database_are_red_and_say_how_to_rebuild(
    home: Home, work_dir: Path
) -> None:
    serve = home.serve()
    task_id = home.submit(["echo", "hi"], work_dir)
    home.wait_state(task_id, "succeeded")
    serve.terminate()
    serve.wait(timeout=30)
    for suffix in ("", "-wal", "-shm"):
        home.locations.database.with_name(home.locations.database.name + suffix).unlink(
            missing_ok=True
        )
    report = checks(home)
    assert status(report, "database") == "fail"
    assert "agentry recover --rebuild" in report.check("database").action


def test_a_garbage_database_is_red_and_the_checks_that_need_it_say_so(home: Home) -> None:
    home.locations.database.parent.mkdir(parents=True, exist_ok=True)
    home.locations.database.write_bytes(b"this is not SQLite at all, " * 200)
    report = checks(home)
    assert status(report, "database") == "fail"
    assert "not an Agentry database" in report.check("database").summary
    for key in ("runners", "heartbeats", "approvals", "recovery"):
        assert status(report, key) == "warn" and "cannot be read" in report.check(key).summary
    assert home.locations.database.read_bytes().startswith(b"this is not SQLite")


def test_integrity_checks_are_recorded_by_the_supervisor_and_by_the_doctor(home: Home) -> None:
    serve = home.serve()
    wait_until(lambda: _integrity(home) is not None, message="the start-up's integrity check")
    at, verdict = _integrity(home) or (0.0, "")
    assert verdict == "ok"
    shown = checks(home)  # without running one: the recorded one is shown
    assert shown.check("database").data["integrity_checked_at"] == at
    assert "integrity ok" in shown.check("database").summary
    rechecked = checks(home, run_integrity=True)
    assert rechecked.check("database").data["integrity_checked_at"] > at
    assert status(rechecked, "supervisor") == "ok" and "running: pid" in (
        rechecked.check("supervisor").summary
    )
    assert rechecked.check("supervisor").data["running"] is True
    serve.terminate()
    serve.wait(timeout=30)


def _integrity(home: Home) -> tuple[float, str] | None:
    with home.db() as conn:
        return health_repo.last_integrity(conn)


def test_a_dead_runner_and_a_stale_heartbeat_are_amber_with_what_to_do(
    home: Home, work_dir: Path
) -> None:
    serve = home.serve()
    doomed = home.submit(["sleep", "60"], work_dir)
    stuck = home.submit(["sleep", "60"], work_dir)
    for task_id in (doomed, stuck):
        home.wait_state(task_id, "running")
    healthy = checks(home)
    assert status(healthy, "runners") == "ok" and healthy.check("runners").data["alive"] == 2
    assert status(healthy, "heartbeats") == "ok"
    serve.terminate()  # the supervisor goes; the runners stay, as they do when it quits
    serve.wait(timeout=30)
    doomed_runner = home.runner_info(doomed).runner_pid
    kill_group(doomed_runner)
    wait_until(lambda: not _exists(doomed_runner), message="the killed runner to be gone")
    heartbeat = home.run_dir(stuck) / protocol.HEARTBEAT
    old = time.time() - 3600
    os.utime(heartbeat, (old, old))

    report = checks(home)
    runners = report.check("runners")
    assert runners.status == "warn" and runners.data["dead_runs"] == [home.run(doomed).id]
    assert "1 of 2 runners alive" in runners.summary and "interrupted" in runners.action
    beats = report.check("heartbeats")
    assert beats.status == "warn" and list(beats.data["stale_runs"]) == [str(home.run(stuck).id)]
    assert beats.action
    lenient = checks(home, thresholds=Thresholds(stale_heartbeat_s=7200))
    assert status(lenient, "heartbeats") == "ok"
    home.cleanup()


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_waiting_tool_call_is_amber_with_its_age(home: Home, work_dir: Path) -> None:
    task_id = home.submit(["true"], work_dir, agent="claude", prompt="go")
    with home.db() as conn:
        run_id = home.run(task_id).id
        with transaction(conn):
            repo.transition(conn, run_id, RunState.STARTING)
            repo.transition(conn, run_id, RunState.RUNNING)
            approval_repo.create(conn, run_id=run_id, task_id=task_id, agent="claude",
                                 tool="Bash", tool_input={"command": "ls"}, cwd=str(work_dir),
                                 expires_in=600)  # fmt: skip
        conn.execute("UPDATE approvals SET created_at = created_at - 300")
        assert approval_repo.pending(conn)[0].state is ApprovalState.PENDING
    approvals = checks(home).check("approvals")
    assert approvals.status == "warn" and approvals.data["pending"] == 1
    assert approvals.data["oldest_age_s"] >= 300 and "5 min" in approvals.summary
    assert "agentry approvals" in approvals.action


def test_the_disk_is_amber_below_the_low_mark_and_red_below_the_gate(home: Home) -> None:
    assert status(checks(home, thresholds=Thresholds(low_disk_bytes=0)), "disk") == "ok"
    low = checks(home, thresholds=Thresholds(low_disk_bytes=1 << 60)).check("disk")
    assert low.status == "warn" and "may soon fill" in low.summary and low.action
    home.write_settings(gate_min_free_disk_mb=1_000_000)  # more than this test disk holds
    gated = checks(home, thresholds=Thresholds(low_disk_bytes=0)).check("disk")
    assert gated.status == "fail" and "queued tasks wait" in gated.summary
    assert gated.data["free_bytes"] > 0


def test_an_unusable_settings_file_is_red_and_left_where_it_is(home: Home) -> None:
    home.locations.settings.write_text('{"max_concurrency": 0}')
    report = checks(home)
    assert status(report, "settings") == "fail"
    assert "max_concurrency" in report.check("settings").summary
    assert home.locations.settings.read_text() == '{"max_concurrency": 0}'
    home.locations.settings.write_text("{not json")
    assert status(checks(home), "settings") == "fail"


def test_agents_found_with_their_version_and_a_missing_one_named(
    home: Home, tmp_path: Path
) -> None:
    fake = tmp_path / "claude"
    fake.write_text("#!/bin/sh\necho '9.8.7 (Claude Code)'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    home.write_settings(agent_paths={"claude": str(fake)})
    found = collect(home.locations, run_integrity=False).check("agents")
    assert found.status == "ok" and "Claude Code 9.8.7 (Claude Code)" in found.summary
    assert found.data["agents"]["claude"]["version"] == "9.8.7 (Claude Code)"
    home.write_settings(agent_paths={"claude": str(tmp_path / "gone")})
    missing = collect(home.locations, run_integrity=False).check("agents")
    assert missing.status == "warn" and "does not exist" in missing.summary
    assert missing.data["agents"]["claude"]["found"] is False and missing.action


def test_backups_are_amber_when_off_or_late_and_green_when_recent(home: Home) -> None:
    with home.db():
        pass  # a database to back up
    home.cli("backup", check=True)
    assert status(checks(home), "backups") == "ok"
    newest = next(home.locations.backups.iterdir())
    old = time.time() - 30 * 86400
    os.utime(newest, (old, old))
    late = checks(home).check("backups")
    assert late.status == "warn" and "30 days ago" in late.summary
    home.write_settings(backups_every_h=0.0)
    assert "off" in checks(home).check("backups").summary


def test_the_last_recovery_is_shown_with_what_it_found(home: Home) -> None:
    serve = home.serve()
    wait_until(lambda: checks(home).check("recovery").data["at"] is not None,
               message="the first start-up's report")  # fmt: skip
    recovery = checks(home).check("recovery")
    assert recovery.status == "ok" and "nothing to recover" in recovery.summary
    serve.terminate()
    serve.wait(timeout=30)
