"""``agentry run -- true`` as a whole process: interpreter start, imports, queueing the task.

Target (issue #14): median of 20 runs ≤ 60 ms with no supervisor running (the task is only
queued). Also reported: the same with `agentry serve` running, a bare ``python -c pass``
(the floor no Python program gets under), and the slowest imports (``-X importtime``).
Bytecode is kept and output buffered, as on a user's machine (see conftest.py).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time

import pytest
from benchlib import ROOT, Bench, Home, Processes

RUNS = 20
TARGET_S = 0.060
COMMAND = [sys.executable, "-m", "app", "run", "--", "true"]


def _times(argv: list[str], env: dict[str, str], runs: int = RUNS) -> list[float]:
    subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, timeout=60, check=True)  # warm
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, timeout=60, check=True)
        durations.append(time.perf_counter() - started)
    return durations


def _slowest_imports(env: dict[str, str], top: int = 12) -> list[tuple[str, float]]:
    """Imports by cumulative milliseconds, top level and one below (``-X importtime``)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *COMMAND[1:]],
        env=env, cwd=ROOT, text=True, capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    rows = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match[2]) <= 3:
            rows.append((match[3], int(match[1]) / 1000))
    return sorted(rows, key=lambda r: -r[1])[:top]


def _figures(durations: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(durations) * 1000, 1),
        "min_ms": round(min(durations) * 1000, 1),
        "max_ms": round(max(durations) * 1000, 1),
    }


@pytest.mark.benchmark
def test_run_true_starts_fast(home: Home, bench: Bench, processes: Processes) -> None:
    bare = _times([sys.executable, "-c", "pass"], home.env)
    queued = _times(COMMAND, home.env)
    imports = _slowest_imports(home.env)

    serve = processes.start(
        [sys.executable, "-m", "app", "serve"], env=home.env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert serve.stdout is not None
    for line in serve.stdout:  # its start report, then "Supervising …" once it is up
        if line.startswith("Supervising"):
            break
    assert serve.poll() is None, "agentry serve did not start"
    served = _times(COMMAND, home.env)

    median = statistics.median(queued)
    passed = median <= TARGET_S
    bench.report(
        "cli_run_true_start",
        measured=(
            f"wall time of `python -m app run -- true` as a subprocess, median of {RUNS} "
            "(after one warm-up), no supervisor running: the task is queued; bytecode kept"
        ),
        target=f"median <= {TARGET_S * 1000:.0f} ms",
        passed=passed,
        figures={**_figures(queued), "bare_python_median_ms": _figures(bare)["median_ms"]},
        extra={
            "with_serve_running": _figures(served),
            "bare_python_c_pass": _figures(bare),
            "slowest_imports_ms": imports,
        },
    )
    assert passed, f"`agentry run -- true` took {median * 1000:.1f} ms (median)"
