"""Supervisor CPU cost while it watches 60 running agents that each print a line a second.

Target: ``agentry serve --headless`` uses under 3 % of one core, measured as its own user +
system CPU time over a 20 s window once all 60 agents are running (no output pane open).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from benchlib import ROOT, Bench, Home, Processes, kill_run_processes
from helpers.wait import wait_until

from app.runner import protocol

AGENTS = 60
WINDOW_S = 20.0
SETTLE_S = 3.0
TARGET_PERCENT = 3.0
AGENT = ["sh", "-c", "while true; do echo tick; sleep 1; done"]


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def _runner_processes(home: Home) -> list[psutil.Process]:
    found = []
    for run_dir in home.locations.runs.iterdir():
        info = protocol.read_runner_info(run_dir)
        if info is not None:
            with contextlib.suppress(psutil.NoSuchProcess):
                found.append(psutil.Process(info.runner_pid))
    return found


@pytest.mark.benchmark
def test_supervisor_cpu_with_60_agents(
    home: Home, tmp_path: Path, processes: Processes, bench: Bench
) -> None:
    home.write_settings(
        max_concurrency=AGENTS, gate_max_cpu_percent=100.0, gate_max_memory_percent=100.0
    )
    log_out = open(tmp_path / "serve.out", "wb")  # noqa: SIM115 - closed in finally
    log_err = open(tmp_path / "serve.err", "wb")  # noqa: SIM115
    try:
        serve = processes.start(
            [sys.executable, "-m", "app", "serve", "--headless"],
            env=home.env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log_out,
            stderr=log_err,
        )
        wait_until(
            lambda: (
                serve.poll() is not None or b"Supervising" in (tmp_path / "serve.out").read_bytes()
            ),
            30,
            message="serve to start",
        )
        assert serve.poll() is None, (tmp_path / "serve.err").read_text()
        task_ids = [home.submit(AGENT, tmp_path, title=f"ticker {i}") for i in range(AGENTS)]

        def all_running() -> bool:
            with home.db() as conn:
                states = conn.execute("SELECT state, count(*) FROM runs GROUP BY state").fetchall()
            counts = {row[0]: row[1] for row in states}
            assert serve.poll() is None, (tmp_path / "serve.err").read_text()
            assert set(counts) <= {"queued", "starting", "running"}, counts
            return counts.get("running", 0) == AGENTS

        t_submit = time.perf_counter()
        wait_until(all_running, 180, message=f"all {AGENTS} agents running", interval=0.5)
        ramp_s = time.perf_counter() - t_submit
        time.sleep(SETTLE_S)

        me = psutil.Process(serve.pid)
        runners = _runner_processes(home)
        cpu0, runners0, wall0 = _cpu(me), sum(map(_cpu, runners)), time.perf_counter()
        time.sleep(WINDOW_S)
        cpu1, runners1, wall1 = _cpu(me), sum(map(_cpu, runners)), time.perf_counter()
        rss_mb = me.memory_info().rss / 2**20
        still_running = all_running()
        lines = sum(
            (home.locations.runs / d.name / protocol.OUTPUT).read_bytes().count(b"\n")
            for d in home.locations.runs.iterdir()
        )
    finally:
        processes.stop_all()  # `serve` stops on SIGTERM; the agents outlive it by design
        kill_run_processes(home)
        log_out.close()
        log_err.close()

    wall = wall1 - wall0
    percent = 100.0 * (cpu1 - cpu0) / wall
    runner_percent = 100.0 * (runners1 - runners0) / wall / max(len(runners), 1)
    passed = percent < TARGET_PERCENT
    bench.report(
        "supervisor_cpu_60_agents",
        measured=(
            f"`agentry serve --headless` user+system CPU over {wall:.0f} s with {AGENTS} "
            "running agents each printing a line a second (no output watched); percent of "
            "one core"
        ),
        target=f"< {TARGET_PERCENT:.0f} % of a core",
        passed=passed,
        figures={
            "cpu_percent": round(percent, 2),
            "window_s": round(wall, 1),
            "serve_rss_mib": round(rss_mb, 1),
            "per_runner_cpu_percent": round(runner_percent, 3),
            "ramp_to_all_running_s": round(ramp_s, 1),
        },
        extra={"tasks": len(task_ids), "output_lines_total": lines, "all_running": still_running},
    )
    assert still_running, "agents stopped during the window"
    assert passed, f"serve used {percent:.2f} % of a core"
