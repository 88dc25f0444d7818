"""A large data folder written straight into SQLite, for the benchmarks at scale (listing,
the app's start-up, recovery): thousands of tasks as a long-used installation has them.

Most tasks ended (in the mix of :data:`ENDINGS`), ``queued`` wait their turn and the first
``running`` are live: their runner.json names stand-in processes (recovery checks only pid
and create time, so a ``sleep`` will do). Every task has the events a real one would have,
and every run that started has its folder, so the database and the runs folder have a
realistic size. Tasks are spread over a few projects, as a person's are.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil

from app.core.locations import Locations
from app.core.models import TaskSpec
from app.core.states import RunState
from app.runner import protocol
from app.runner.protocol import RunnerInfo, RunSpec
from app.store.db import open_database, transaction
from app.store.locations import ensure_folders

ENDINGS = (
    # (state, reason, exit code, share)
    (RunState.SUCCEEDED, "exit", 0, 0.70),
    (RunState.FAILED, "exit", 1, 0.15),
    (RunState.CANCELLED, "cancelled", -15, 0.07),
    (RunState.TIMED_OUT, "timeout", -9, 0.03),
    (RunState.INTERRUPTED, "interrupted", None, 0.05),
)


def build_database(
    locations: Locations,
    *,
    tasks: int,
    queued: int,
    stand_ins: list[subprocess.Popen[bytes]],
    folders: list[Path],
    ended_folders: bool = True,
) -> None:
    """``tasks`` tasks with one run each, in one transaction. Tasks 1..len(stand_ins) are
    running, the next ``queued`` are queued, the rest ended; task n works in
    ``folders[n % len(folders)]``. ``ended_folders``: ended runs get their (empty) folder
    too, as they have on a real machine (the runs folder is listed at start-up)."""
    ensure_folders(locations)
    running = len(stand_ins)
    rng = random.Random(42)
    now = time.time()
    # Rows for executemany, columns in the tables' order.
    task_rows: list[tuple[Any, ...]] = []
    runs: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    states = [s for s, *_ in ENDINGS]
    weights = [w for *_, w in ENDINGS]
    by_state = {s: (reason, code) for s, reason, code, _ in ENDINGS}
    shape = TaskSpec(argv=(), cwd="").to_json()  # every field a spec has, as stored
    for n in range(1, tasks + 1):
        argv = ["sh", "-c", f"make test-{n % 37} && echo task {n}"]
        cwd = str(folders[n % len(folders)])
        title = f"task {n}: check module {n % 211}"
        spec = json.dumps({**shape, "argv": argv, "cwd": cwd, "title": title})
        created = now - (tasks - n) * 5.0
        task_rows.append((n, title, "shell", spec, 0, created, n))
        events.append((created, "task_created", n, None, None, None, json.dumps({"title": title})))
        events.append((created, "run_state", n, n, None, "queued", None))
        run_dir = f"{n:06d}-{n:06x}"
        if n <= running:
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
                RunSpec(run_id=n, task_id=n, argv=argv, cwd=cwd, timeout=3600.0, grace=1.0),
            )
            protocol.write_runner_info(
                folder, RunnerInfo(proc.pid, ct, proc.pid, ct, ct, ct + 3600.0)
            )
            (folder / protocol.OUTPUT).write_text("working\n")
        elif n <= running + queued:
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
            if ended_folders:
                locations.run_dir(run_dir).mkdir(parents=True)
    conn = open_database(locations.database)
    try:
        with transaction(conn):
            conn.execute("PRAGMA defer_foreign_keys = ON")  # tasks and runs point at each other
            conn.executemany(
                "INSERT INTO tasks (id, title, agent, spec_json, priority, created_at, "
                "latest_run_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                task_rows,
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
