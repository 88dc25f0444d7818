"""Start-up recovery of a large data folder: 10,000 tasks, 1,000 queued, 50 live runners.

Target: ``recover()`` under 200 ms in total.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from benchlib import Bench, Home, Processes

from app.core.states import RunState
from app.runner import protocol
from app.runner.protocol import RunnerInfo, RunSpec
from app.store.db import open_database, transaction
from app.store.locations import ensure_folders
from app.supervisor.recovery import recover
from app.supervisor.supervisor import Supervisor

TASKS = 10_000
RUNNING = 50
QUEUED = 1_000
TARGET_MS = 200.0

ENDINGS = (
    # (state, reason, exit code, share)
    (RunState.SUCCEEDED, "exit", 0, 0.70),
    (RunState.FAILED, "exit", 1, 0.15),
    (RunState.CANCELLED, "cancelled", -15, 0.07),
    (RunState.TIMED_OUT, "timeout", -9, 0.03),
    (RunState.INTERRUPTED, "interrupted", None, 0.05),
)


def _build_database(home: Home, stand_ins: list[subprocess.Popen[bytes]], cwd: Path) -> None:
    """10,000 tasks with one run each, written straight into SQLite in one transaction.

    Tasks 1..50 are running (their runner.json names the live stand-ins), the next 1,000
    are queued, the rest ended in a terminal state. Each task gets the events a real one
    would have, so the database has a realistic size.
    """
    locations = home.locations
    ensure_folders(locations)
    rng = random.Random(42)
    now = time.time()
    # Rows for executemany, columns in the tables' order.
    tasks: list[tuple[Any, ...]] = []
    runs: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    states = [s for s, *_ in ENDINGS]
    weights = [w for *_, w in ENDINGS]
    by_state = {s: (reason, code) for s, reason, code, _ in ENDINGS}
    for n in range(1, TASKS + 1):
        argv = ["sh", "-c", f"echo task {n}"]
        spec: dict[str, Any] = {
            "argv": argv,
            "cwd": str(cwd),
            "title": "",
            "agent": "shell",
            "env": {},
            "prompt": None,
            "timeout": None,
            "priority": 0,
        }
        created = now - (TASKS - n) * 5.0
        tasks.append((n, " ".join(argv), "shell", json.dumps(spec), 0, created, n))
        events.append((created, "task_created", n, None, None, None, None))
        events.append((created, "run_state", n, n, None, "queued", None))
        run_dir = f"{n:06d}-{n:06x}"
        if n <= RUNNING:
            proc = psutil.Process(stand_ins[n - 1].pid)
            ct = proc.create_time()
            head = (n, n, 1, "running", run_dir, 0, 3600.0, created)
            runs.append((*head, ct, None, None, None, None, proc.pid, ct, proc.pid, ct))
            events.append((created, "run_state", n, n, "queued", "starting", None))
            events.append((created, "run_state", n, n, "starting", "running", None))
            folder = locations.run_dir(run_dir)
            folder.mkdir(parents=True)
            protocol.write_spec(
                folder,
                RunSpec(run_id=n, task_id=n, argv=argv, cwd=str(cwd), timeout=3600.0, grace=1.0),
            )
            protocol.write_runner_info(
                folder, RunnerInfo(proc.pid, ct, proc.pid, ct, ct, ct + 3600.0)
            )
            (folder / protocol.OUTPUT).write_text("working\n")
        elif n <= RUNNING + QUEUED:
            runs.append((n, n, 1, "queued", run_dir, 0, 3600.0, created, *[None] * 9))
        else:
            state = rng.choices(states, weights)[0]
            reason, code = by_state[state]
            message = "runner vanished" if state is RunState.INTERRUPTED else None
            ended = (n, n, 1, state.value, run_dir, 0, 3600.0, created, created + 1, created + 60)
            runs.append((*ended, code, reason, message, 1000 + n, created, 2000 + n, created))
            events.append((created, "run_state", n, n, "queued", "starting", None))
            events.append((created, "run_state", n, n, "starting", "running", None))
            events.append((created, "run_state", n, n, "running", state.value, None))
    conn = open_database(locations.database)
    try:
        with transaction(conn):
            conn.execute("PRAGMA defer_foreign_keys = ON")  # tasks and runs point at each other
            conn.executemany(
                "INSERT INTO tasks (id, title, agent, spec_json, priority, created_at, "
                "latest_run_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                tasks,
            )
            conn.executemany(
                "INSERT INTO runs (id, task_id, attempt, state, dir, priority, timeout, "
                "created_at, started_at, ended_at, exit_code, reason, message, runner_pid, "
                "runner_create_time, agent_pid, agent_create_time) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                runs,
            )
            conn.executemany(
                "INSERT INTO events (at, kind, task_id, run_id, old_state, new_state, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                events,
            )
            conn.execute("INSERT INTO meta (key, value) VALUES ('session', 'running')")
    finally:
        conn.close()


@pytest.mark.benchmark
def test_recovery_of_10k_tasks(
    home: Home, tmp_path: Path, processes: Processes, bench: Bench
) -> None:
    # Stand-in runners: recovery checks only pid + create_time, so a live `sleep` will do.
    stand_ins = [processes.start(["sleep", "60"], stdin=subprocess.DEVNULL) for _ in range(RUNNING)]
    _build_database(home, stand_ins, tmp_path)
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
