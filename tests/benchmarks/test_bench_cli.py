"""``agentry list --json`` with 100 and with 10,000 tasks, as a whole command (interpreter
start included).

Target: median of 5 runs under 0.3 s wall time (10,000 tasks: buffered or not). The
report also gives the bare interpreter start-up and the slowest imports (``python -X
importtime``), since those, not the query, are most of what a short command costs.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from benchlib import ROOT, Bench, Home
from bigdata import build_database

from app.core.models import TaskSpec
from app.store.db import open_database
from app.store.locations import ensure_folders
from app.store.settings import load_settings
from app.supervisor import commands

TASKS = 100
RUNS = 5
TARGET_S = 0.3
COMMAND = [sys.executable, "-m", "app", "list", "--json"]


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    result = subprocess.run(
        argv, env=env, cwd=ROOT, text=True, capture_output=True, timeout=60, check=False
    )
    return time.perf_counter() - started, result


def _slowest_imports(env: dict[str, str], top: int = 12) -> list[tuple[str, float]]:
    """Top-level-ish imports by cumulative microseconds, from ``-X importtime``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *COMMAND[1:]],
        env=env,
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=60,
        check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match[2]) <= 3:  # depth 0 or 1: what the CLI itself pulls in
            rows.append((match[3].strip(), int(match[1]) / 1000))
    return sorted(rows, key=lambda r: -r[1])[:top]


@pytest.mark.benchmark
def test_list_json_100_tasks(home: Home, tmp_path: Path, bench: Bench) -> None:
    settings = load_settings(home.locations.settings)
    ensure_folders(home.locations)
    conn = open_database(home.locations.database)
    try:
        for i in range(TASKS):
            spec = TaskSpec(argv=("echo", str(i)), cwd=str(tmp_path), title=f"task {i}")
            commands.submit(conn, spec, settings)
    finally:
        conn.close()

    _timed(COMMAND, home.env)  # warm the page cache and .pyc files
    durations = []
    for _ in range(RUNS):
        elapsed, result = _timed(COMMAND, home.env)
        assert result.returncode == 0, result.stderr
        assert len(json.loads(result.stdout)) == TASKS
        durations.append(elapsed)
    bare = statistics.median(_timed([sys.executable, "-c", "pass"], home.env)[0] for _ in range(5))
    imports = statistics.median(
        _timed([sys.executable, "-c", "import app.cli"], home.env)[0] for _ in range(5)
    )
    med = statistics.median(durations)
    passed = med < TARGET_S
    bench.report(
        "cli_list_json_100",
        measured=(
            f"wall time of `python -m app list --json` as a subprocess with {TASKS} tasks, "
            f"median of {RUNS} (after one warm-up run)"
        ),
        target=f"median < {TARGET_S} s",
        passed=passed,
        figures={
            "median_s": round(med, 3),
            "min_s": round(min(durations), 3),
            "max_s": round(max(durations), 3),
            "bare_python_s": round(bare, 3),
            "python_import_app_cli_s": round(imports, 3),
        },
        extra={"slowest_imports_ms": _slowest_imports(home.env)},
    )
    assert passed, f"`agentry list --json` took {med:.3f} s (median)"


# ---------------------------------------------------------------------- 10,000 tasks

SCALE_TASKS = 10_000
SCALE_QUEUED = 1_000


@pytest.mark.benchmark
def test_list_json_10k_tasks(home: Home, tmp_path: Path, bench: Bench) -> None:
    """`agentry list --json` of 10,000 tasks (bigdata: most ended, 1,000 queued, five
    projects, a run folder each), buffered and with PYTHONUNBUFFERED=1, whole process."""
    folders = [tmp_path / f"project-{i}" for i in range(5)]
    for folder in folders:
        folder.mkdir()
    build_database(
        home.locations, tasks=SCALE_TASKS, queued=SCALE_QUEUED, stand_ins=[], folders=folders
    )
    unbuffered_env = {**home.env, "PYTHONUNBUFFERED": "1"}
    _timed(COMMAND, home.env)  # warm the page cache and .pyc files
    durations, unbuffered = [], []
    for _ in range(RUNS):
        elapsed, result = _timed(COMMAND, home.env)
        assert result.returncode == 0, result.stderr
        listed = json.loads(result.stdout)
        assert len(listed) == SCALE_TASKS and listed[0]["id"] == SCALE_TASKS
        assert result.stdout == json.dumps(listed, indent=2) + "\n"  # as json.dump wrote it
        durations.append(elapsed)
        elapsed, result = _timed(COMMAND, unbuffered_env)
        assert result.returncode == 0, result.stderr
        unbuffered.append(elapsed)
    imports = statistics.median(
        _timed([sys.executable, "-c", "import app.cli.program"], home.env)[0] for _ in range(5)
    )
    med, med_unbuffered = statistics.median(durations), statistics.median(unbuffered)
    passed = med <= TARGET_S and med_unbuffered <= TARGET_S
    bench.report(
        "cli_list_json_10k",
        measured=(
            f"wall time of `python -m app list --json` as a subprocess with {SCALE_TASKS} tasks "
            f"({SCALE_QUEUED} queued, the rest ended; 5 projects; ~{len(result.stdout) // 1000} "
            f"kB of JSON), median of {RUNS} after one warm-up run; the same with "
            "PYTHONUNBUFFERED=1; bytecode kept, as installed"
        ),
        target=f"median <= {TARGET_S} s, buffered or not",
        passed=passed,
        figures={
            "median_s": round(med, 3),
            "min_s": round(min(durations), 3),
            "unbuffered_median_s": round(med_unbuffered, 3),
            "unbuffered_min_s": round(min(unbuffered), 3),
            "python_import_app_cli_program_s": round(imports, 3),
        },
        extra={"all_s": [round(d, 3) for d in durations]},
    )
    assert passed, f"`agentry list --json` of {SCALE_TASKS} tasks took {med:.3f} s (median)"
