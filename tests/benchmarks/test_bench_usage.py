"""The usage view at scale: 100,000 runs of 20,000 tasks spread over a year, a quarter of
them with a cost, all with tokens (issue #15's usage view).

Target: `agentry usage --days 90 --json` answers in under 1 s as a whole process; also
reported: the query alone for 7, 30, 90 and 365 days.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
from benchlib import ROOT, Bench, Home

from app.store.db import open_database
from app.store.usage_repo import usage_report

TASKS = 20_000
RUNS_EACH = 5
TARGET_S = 1.0


def _fill(home: Home) -> None:
    conn = open_database(home.locations.database)
    rng = random.Random(15)
    now = time.time()
    agents = ("claude", "codex", "gemini", "shell")
    with conn:
        conn.executemany(
            "INSERT INTO tasks (id, title, agent, spec_json, created_at) VALUES (?, ?, ?, ?, ?)",
            ((t, f"task {t}", agents[t % 4], json.dumps({"argv": [], "cwd": f"/src/p{t % 7}"}),
              now) for t in range(1, TASKS + 1)),
        )  # fmt: skip
        rows = []
        for t in range(1, TASKS + 1):
            for attempt in range(1, RUNS_EACH + 1):
                end = now - rng.random() * 365 * 86400
                cost = rng.random() if t % 4 == 0 else None
                rows.append((t, attempt, "succeeded", f"{t}-{attempt}", end - 5, end, cost,
                             1000, 100))  # fmt: skip
        conn.executemany(
            "INSERT INTO runs (task_id, attempt, state, dir, created_at, ended_at, cost_usd, "
            "input_tokens, output_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    conn.close()


@pytest.mark.benchmark
def test_usage_of_100k_runs(home: Home, bench: Bench) -> None:
    _fill(home)
    conn = open_database(home.locations.database)
    today = date.today()
    query_ms = {}
    for days in (7, 30, 90, 365):
        since = today - timedelta(days=days - 1)
        usage_report(conn, since, today)  # warm
        took = []
        for _ in range(5):
            started = time.perf_counter()
            usage_report(conn, since, today)
            took.append(time.perf_counter() - started)
        query_ms[f"{days}_days"] = round(statistics.median(took) * 1000, 1)
    conn.close()
    command = [sys.executable, "-m", "app", "usage", "--days", "90", "--json"]
    subprocess.run(command, env=home.env, cwd=ROOT, capture_output=True, check=True)  # warm
    whole = []
    for _ in range(5):
        started = time.perf_counter()
        done = subprocess.run(command, env=home.env, cwd=ROOT, capture_output=True, check=True)
        whole.append(time.perf_counter() - started)
    assert json.loads(done.stdout)["total"]["runs"] > 20_000
    median = statistics.median(whole)
    passed = median < TARGET_S
    bench.report(
        "usage_100k_runs",
        measured=(
            f"{TASKS * RUNS_EACH:,} runs of {TASKS:,} tasks over a year; wall time of "
            "`agentry usage --days 90 --json` as a process (median of 5); the query alone "
            "per period (median of 5)"
        ),
        target=f"whole command < {TARGET_S:g} s",
        passed=passed,
        figures={"command_90_days_s": round(median, 3), **{f"query_{k}_ms": v
                                                           for k, v in query_ms.items()}},
    )  # fmt: skip
    assert passed, f"agentry usage --days 90 took {median:.2f} s"
