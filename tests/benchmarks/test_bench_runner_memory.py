"""What an idle runner costs (there is one per running agent): memory and CPU.

Targets (issue 14), per runner while 20 of them wait beside 20 `sleep` agents started by a
supervisor: at most 4 MiB USS (memory unique to the process, psutil ``memory_full_info``:
what one more agent really costs once libpython's pages are shared), and at most 0.02 %
of a core over a 60 s window (Linux: the scheduler's own run time from
``/proc/<pid>/schedstat``, in nanoseconds; elsewhere psutil's user + system time, in
ticks). Wake-ups (voluntary context switches) over the window are reported too.

Workload to rerun against another supervisor (supervisord, task-spooler): 20 programs
``sleep 600`` started at once and left alone; measure each per-program helper process
(Agentry's runner) the same way over a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import time
from pathlib import Path

import psutil
import pytest
from benchlib import Bench, Home, cpu_seconds, kill_run_processes, task_state
from helpers.wait import async_wait_until

from app.core.models import TaskSpec
from app.runner import protocol
from app.store import repo
from app.supervisor.supervisor import Supervisor

RUNNERS = 20
WINDOW_S = 60.0
SETTLE_S = 3.0
TARGET_USS_MIB = 4.0
TARGET_CPU_PERCENT = 0.02


@pytest.mark.benchmark
def test_idle_runners_memory_and_cpu(home: Home, tmp_path: Path, bench: Bench) -> None:
    home.write_settings(
        max_concurrency=RUNNERS, gate_max_cpu_percent=100.0, gate_max_memory_percent=100.0
    )
    found: dict[str, list[float]] = {"uss": [], "rss": [], "cpu": [], "wakeups": []}

    async def scenario() -> None:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            ids = [
                sup.submit(TaskSpec(argv=("sleep", "600"), cwd=str(tmp_path), title=f"idle {i}"))
                for i in range(RUNNERS)
            ]
            await async_wait_until(
                lambda: all(task_state(sup.conn, t).value == "running" for t in ids),
                120,
                message=f"all {RUNNERS} runs to be running",
                interval=0.1,
            )
            runners = []
            for task_id in ids:
                run = repo.get_task(sup.conn, task_id).latest_run
                assert run is not None
                info = protocol.read_runner_info(sup.run_dir(run))
                assert info is not None
                runners.append(psutil.Process(info.runner_pid))
            await asyncio.sleep(SETTLE_S)
            for runner in runners:
                found["rss"].append(runner.memory_info().rss / 2**20)
                with contextlib.suppress(psutil.AccessDenied):
                    found["uss"].append(runner.memory_full_info().uss / 2**20)
            cpu0 = [cpu_seconds(r) for r in runners]
            woke0 = [r.num_ctx_switches().voluntary for r in runners]
            wall0 = time.monotonic()
            await asyncio.sleep(WINDOW_S)
            wall = time.monotonic() - wall0
            for runner, cpu, woke in zip(runners, cpu0, woke0, strict=True):
                found["cpu"].append(100.0 * (cpu_seconds(runner) - cpu) / wall)
                found["wakeups"].append(runner.num_ctx_switches().voluntary - woke)
            for task_id in ids:
                sup.cancel(task_id)
            await async_wait_until(
                lambda: all(task_state(sup.conn, t).is_terminal for t in ids),
                60,
                message="the cancelled runs to end",
                interval=0.1,
            )
        finally:
            await sup.stop()

    started = time.perf_counter()
    try:
        asyncio.run(asyncio.wait_for(scenario(), 300))
    finally:
        kill_run_processes(home)

    uss = found["uss"]
    uss_max = max(uss) if uss else None
    cpu_max = max(found["cpu"])
    passed = uss_max is not None and uss_max <= TARGET_USS_MIB and cpu_max <= TARGET_CPU_PERCENT
    bench.report(
        "runner_idle_cost",
        measured=(
            f"{RUNNERS} runners (python -I -S app/runner/__main__.py) of running `sleep 600` "
            f"agents started by a supervisor: USS (memory unique to each) and RSS via psutil "
            f"after {SETTLE_S:.0f} s, then CPU "
            f"({'schedstat' if sys.platform.startswith('linux') else 'cpu_times'}) and "
            f"voluntary context switches over {WINDOW_S:.0f} s; max and median per runner"
        ),
        target=f"<= {TARGET_USS_MIB:.0f} MiB USS and <= {TARGET_CPU_PERCENT} % CPU per runner",
        passed=passed,
        figures={
            "uss_mib_max": round(uss_max, 2) if uss_max is not None else None,
            "uss_mib_median": round(statistics.median(uss), 2) if uss else None,
            "rss_mib_median": round(statistics.median(found["rss"]), 2),
            "cpu_percent_max": round(cpu_max, 4),
            "cpu_percent_median": round(statistics.median(found["cpu"]), 4),
            "wakeups_per_min_max": max(found["wakeups"]),
        },
        extra={"runners": RUNNERS, "elapsed_s": round(time.perf_counter() - started, 1)},
    )
    assert passed, f"runner USS max {uss_max} MiB, CPU max {cpu_max:.4f} %"
