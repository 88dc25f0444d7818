"""Resident memory of one runner process (there is one per running agent).

Target: under 25 MB RSS (25 MiB, 26.2e6 bytes), read with psutil from the pid in
runner.json while its agent (``sleep 5``) runs; the highest of ten samples over a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import psutil
import pytest
from benchlib import Bench, Home, kill_run_processes, task_state
from helpers.wait import async_wait_until

from app.core.models import TaskSpec
from app.runner import protocol
from app.store import repo
from app.supervisor.supervisor import Supervisor

TARGET_MIB = 25.0


@pytest.mark.benchmark
def test_runner_resident_memory(home: Home, tmp_path: Path, bench: Bench) -> None:
    samples: list[tuple[int, int | None]] = []  # (rss, uss) in bytes

    async def scenario() -> None:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            task_id = sup.submit(TaskSpec(argv=("sleep", "5"), cwd=str(tmp_path)))
            run = repo.get_task(sup.conn, task_id).latest_run
            assert run is not None
            run_dir = sup.run_dir(run)
            info = await async_wait_until(
                lambda: protocol.read_runner_info(run_dir), 15, message="runner.json", interval=0.02
            )
            await async_wait_until(
                lambda: task_state(sup.conn, task_id).value == "running",
                15,
                message="the run to be running",
                interval=0.02,
            )
            runner = psutil.Process(info.runner_pid)
            for _ in range(10):
                rss = runner.memory_info().rss
                uss = None
                with contextlib.suppress(psutil.AccessDenied):
                    uss = runner.memory_full_info().uss
                samples.append((rss, uss))
                await asyncio.sleep(0.1)
            sup.cancel(task_id)
            await async_wait_until(
                lambda: task_state(sup.conn, task_id).is_terminal,
                20,
                message="the cancelled run to end",
                interval=0.05,
            )
        finally:
            await sup.stop()

    started = time.perf_counter()
    try:
        asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        kill_run_processes(home)

    rss_mib = max(s[0] for s in samples) / 2**20
    ussed = [s[1] for s in samples if s[1] is not None]
    uss_mib = max(ussed) / 2**20 if ussed else None
    passed = rss_mib < TARGET_MIB
    bench.report(
        "runner_rss",
        measured=(
            "RSS of the runner (python -m app.runner) of a running `sleep 5` agent, via "
            "psutil from runner.json's pid; max of 10 samples over 1 s; USS = memory unique "
            "to it (what an extra runner really costs)"
        ),
        target=f"< {TARGET_MIB:.0f} MiB RSS",
        passed=passed,
        figures={
            "rss_mib": round(rss_mib, 2),
            "uss_mib": round(uss_mib, 2) if uss_mib is not None else None,
        },
        extra={"elapsed_s": round(time.perf_counter() - started, 1)},
    )
    assert passed, f"runner RSS {rss_mib:.1f} MiB"
