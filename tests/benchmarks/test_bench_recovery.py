"""Start-up recovery of a large data folder: 10,000 tasks, 1,000 queued, 50 live runners;
and 100,000 tasks of the same mix.

Targets: ``recover()`` under 200 ms in total at 10,000 tasks; at 100,000, recovery and the
app's whole supervisor start each under 1 s.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from benchlib import Bench, Home, Processes
from bigdata import build_database

from app.core.models import RecoveryReport
from app.store.db import open_database, transaction
from app.store.organise_repo import SEEN_KEY
from app.store.recovery_repo import set_meta
from app.supervisor.recovery import recover
from app.supervisor.supervisor import Supervisor

TASKS = 10_000
RUNNING = 50
QUEUED = 1_000
TARGET_MS = 200.0


@pytest.mark.benchmark
def test_recovery_of_10k_tasks(
    home: Home, tmp_path: Path, processes: Processes, bench: Bench
) -> None:
    # Stand-in runners: recovery checks only pid + create_time, so a live `sleep` will do.
    stand_ins = [processes.start(["sleep", "60"], stdin=subprocess.DEVNULL) for _ in range(RUNNING)]
    build_database(
        home.locations, tasks=TASKS, queued=QUEUED, stand_ins=stand_ins, folders=[tmp_path],
        ended_folders=False,
    )  # fmt: skip
    db_mb = home.locations.database.stat().st_size / 1e6

    conn = open_database(home.locations.database)
    try:
        t0 = time.perf_counter()
        report = recover(conn, home.locations, grace=1)
        wall_ms = (time.perf_counter() - t0) * 1000
        counts = report.counts()
        # Repeats on the same folder (nothing changes: the stand-ins are still alive).
        repeats = []
        for _ in range(5):
            t1 = time.perf_counter()
            recover(conn, home.locations, grace=1)
            repeats.append((time.perf_counter() - t1) * 1000)
    finally:
        conn.close()

    async def start_supervisor() -> tuple[float, dict[str, int]]:
        sup = Supervisor(home.locations)
        t2 = time.perf_counter()
        started = await sup.start()
        elapsed = (time.perf_counter() - t2) * 1000
        await sup.stop()
        return elapsed, started.counts()

    start_ms, start_counts = asyncio.run(start_supervisor())
    alive = sum(p.poll() is None for p in stand_ins)

    passed = wall_ms < TARGET_MS and report.duration_ms < TARGET_MS
    bench.report(
        "recovery_10k",
        measured=(
            f"recover() over {TASKS} tasks ({QUEUED} queued, {RUNNING} live runners, rest "
            f"ended); DB {db_mb:.1f} MB; duration_ms is the report's own figure, wall_ms the "
            f"whole call, per_job_us = wall / active runs reconciled"
        ),
        target=f"< {TARGET_MS:.0f} ms",
        passed=passed,
        figures={
            "duration_ms": round(report.duration_ms, 2),
            "wall_ms": round(wall_ms, 2),
            "per_job_us": round(wall_ms * 1000 / RUNNING, 1),
            "per_task_us": round(wall_ms * 1000 / TASKS, 2),
            "repeat_median_ms": round(statistics.median(repeats), 2),
            "supervisor_start_ms": round(start_ms, 2),
            "reattached": counts["reattached"],
            "queued": counts["queued"],
            "interrupted": counts["interrupted"],
        },
        extra={"python": sys.version.split()[0], "stand_ins_alive_after": alive},
    )
    assert counts["reattached"] == RUNNING, report.describe()
    assert counts["queued"] == QUEUED, report.describe()
    assert counts["interrupted"] == 0 and counts["finished"] == 0, report.describe()
    assert start_counts["reattached"] == RUNNING and start_counts["queued"] == QUEUED
    assert alive == RUNNING, "recovery must not stop live runners"
    assert passed, f"recovery took {wall_ms:.1f} ms (report: {report.duration_ms:.1f} ms)"


# ---------------------------------------------------------------------- 100,000 tasks

SCALE_TASKS = 100_000
SCALE_TARGET_MS = 1000.0


@pytest.mark.benchmark
def test_recovery_of_100k_tasks(
    home: Home, tmp_path: Path, processes: Processes, bench: Bench
) -> None:
    """bigdata's mix at 100,000 tasks (every ended run with its folder), and the app's view
    of it: the supervisor's whole start in "gui" mode, what ended in the last hour since the
    app last showed the list included."""
    stand_ins = [
        processes.start(["sleep", "120"], stdin=subprocess.DEVNULL) for _ in range(RUNNING)
    ]
    folders = [tmp_path / f"project-{i}" for i in range(5)]
    for folder in folders:
        folder.mkdir()
    t0 = time.perf_counter()
    build_database(
        home.locations, tasks=SCALE_TASKS, queued=QUEUED, stand_ins=stand_ins, folders=folders
    )
    build_s = time.perf_counter() - t0
    db_mb = home.locations.database.stat().st_size / 1e6

    conn = open_database(home.locations.database)
    try:
        t1 = time.perf_counter()
        report = recover(conn, home.locations, grace=1)
        wall_ms = (time.perf_counter() - t1) * 1000
        counts = report.counts()
        repeats = []
        for _ in range(5):
            t2 = time.perf_counter()
            recover(conn, home.locations, grace=1)
            repeats.append((time.perf_counter() - t2) * 1000)
        with transaction(conn):  # the app last showed the list an hour ago
            set_meta(conn, SEEN_KEY, repr(time.time() - 3600))
    finally:
        conn.close()

    async def start_app_supervisor() -> tuple[float, RecoveryReport]:
        sup = Supervisor(home.locations, mode="gui")
        t3 = time.perf_counter()
        started = await sup.start()
        elapsed = (time.perf_counter() - t3) * 1000
        await sup.stop()
        return elapsed, started

    start_ms, started = asyncio.run(start_app_supervisor())
    alive = sum(p.poll() is None for p in stand_ins)
    passed = wall_ms < SCALE_TARGET_MS and start_ms < SCALE_TARGET_MS
    bench.report(
        "recovery_100k",
        measured=(
            f"recover() over {SCALE_TASKS} tasks ({QUEUED} queued, {RUNNING} live runners, "
            f"the rest ended, each ended run with its folder); DB {db_mb:.0f} MB; wall_ms the "
            "whole call; supervisor_start_ms: Supervisor(mode='gui').start() on the same "
            "folder (database check, run folders against the database, recovery, what ended "
            "in the last hour since the app last showed it)"
        ),
        target=f"< {SCALE_TARGET_MS:.0f} ms, recovery and the supervisor's start",
        passed=passed,
        figures={
            "wall_ms": round(wall_ms, 2),
            "duration_ms": round(report.duration_ms, 2),
            "repeat_median_ms": round(statistics.median(repeats), 2),
            "supervisor_start_ms": round(start_ms, 1),
            "ended_lately": len(started.recorded_elsewhere),
            "reattached": counts["reattached"],
            "queued": counts["queued"],
        },
        extra={"build_s": round(build_s, 1), "stand_ins_alive_after": alive},
    )
    assert counts["reattached"] == RUNNING and counts["queued"] == QUEUED, report.describe()
    assert counts["interrupted"] == 0 and counts["finished"] == 0, report.describe()
    assert 0 < len(started.recorded_elsewhere) < 1000, started.describe()
    assert alive == RUNNING, "recovery must not stop live runners"
    assert passed, f"recovery {wall_ms:.1f} ms, supervisor start {start_ms:.1f} ms"
