"""Shared helpers of the benchmarks: reporting, percentiles, waiting, process cleanup."""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from helpers.agentry import Home, kill_group  # noqa: E402

from app.core.states import RunState  # noqa: E402
from app.runner import protocol  # noqa: E402
from app.store import repo  # noqa: E402
from app.store.db import Connection  # noqa: E402

OUT_ENV = "AGENTRY_BENCH_OUT"

# ---------------------------------------------------------------------- figures


def cpu_seconds(proc: psutil.Process) -> float:
    """CPU time ``proc`` used so far: the scheduler's nanoseconds where there are any
    (Linux ``/proc/PID/schedstat``), else psutil's user + system time, in 10 ms ticks —
    too coarse for one quiet process."""
    with (
        contextlib.suppress(OSError, ValueError, IndexError),
        open(f"/proc/{proc.pid}/schedstat") as f,
    ):
        return int(f.read().split()[0]) / 1e9
    times = proc.cpu_times()
    return times.user + times.system


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "ram_gb": round(psutil.virtual_memory().total / 1e9, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
    }


class Bench:
    """Prints a benchmark's figures and appends them as JSON to $AGENTRY_BENCH_OUT."""

    def __init__(self, test_name: str) -> None:
        self.test_name = test_name

    def report(
        self,
        name: str,
        *,
        measured: str,
        target: str,
        passed: bool,
        figures: dict[str, Any],
        extra: dict[str, Any] | None = None,
    ) -> None:
        shown = " ".join(f"{k}={_fmt(v)}" for k, v in figures.items())
        verdict = "PASS" if passed else "MISS"
        print(f"\nBENCH {name}: {shown} | target {target} -> {verdict} | measured: {measured}")
        for key, value in (extra or {}).items():
            print(f"      {key}: {_fmt(value)}")
        out = os.environ.get(OUT_ENV)
        if not out:
            return
        record = {
            "name": name,
            "test": self.test_name,
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "measured": measured,
            "target": target,
            "passed": passed,
            "figures": figures,
            "extra": extra or {},
            "machine": machine(),
        }
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


# ---------------------------------------------------------------------- waiting


def task_state(conn: Connection, task_id: int) -> RunState:
    """The state of a task's latest run (every task here has one)."""
    state = repo.get_task(conn, task_id).state
    assert state is not None, f"task {task_id} has no run"
    return state


# ---------------------------------------------------------------------- processes


class Processes:
    """Processes a benchmark starts itself; all killed (and reaped) at teardown."""

    def __init__(self) -> None:
        self.popens: list[subprocess.Popen[Any]] = []

    def start(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
        proc = subprocess.Popen(argv, **kwargs)
        self.popens.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.popens:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        for proc in self.popens:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def kill_run_processes(home: Home) -> None:
    """Kill every runner and agent (whole process groups) named by a runner.json in ``home``."""
    runs = home.locations.runs
    if not runs.exists():
        return
    for run_dir in runs.iterdir():
        with contextlib.suppress(Exception):
            info = protocol.read_runner_info(run_dir)
            if info is not None:
                for pid in (info.agent_pid, info.runner_pid):
                    kill_group(pid)


def create_time_offset(samples: int = 7) -> float:
    """psutil's create_time minus the wall clock, in seconds (about ±10 ms).

    On Linux create_time is boot time (whole seconds) plus clock ticks since boot, so it
    can be off from ``time.time()`` by up to a second; subtract this before comparing.
    """
    offsets = []
    for _ in range(samples):
        before = time.time()
        proc = subprocess.Popen(["sleep", "5"], stdin=subprocess.DEVNULL)
        after = time.time()
        try:
            offsets.append(psutil.Process(proc.pid).create_time() - (before + after) / 2)
        finally:
            proc.kill()
            proc.wait()
    return statistics.median(offsets)
