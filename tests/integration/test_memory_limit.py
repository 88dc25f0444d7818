"""A task's memory limit (issue #15): the runner measures the agent's whole process tree
about once a second and stops it above the limit, saying how much it used; a task under
its limit runs to its end. Real runners, agents and memory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers.agentry import Home, py, run_async
from helpers.wait import async_wait_until

from app.core.states import ExitReason, RunState
from app.supervisor.supervisor import Supervisor

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell starts the tree")

HOLD = (
    "import time\nblock = bytearray({mb} * 1024 * 1024)\n"
    "block[::4096] = b'x' * len(block[::4096])\ntime.sleep({s})"
)


def _supervise(home: Home, task_id: int) -> None:
    async def scenario() -> None:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            await async_wait_until(lambda: home.run(task_id).state.is_terminal, timeout=30)
        finally:
            await sup.stop()

    run_async(scenario())


def test_a_tree_over_its_memory_limit_is_stopped_with_how_much_it_used(
    home: Home, work_dir: Path
) -> None:
    """The memory is held by the agent's child, not the agent: the tree is what counts."""
    (work_dir / "hog.py").write_text(HOLD.format(mb=200, s=30))
    child = f"'{sys.executable}' hog.py"
    done = home.cli("run", "--cwd", str(work_dir), "--memory-limit", "96M", "--",
                    "sh", "-c", f"{child} & wait", check=True)  # fmt: skip
    task_id = int(done.stdout)
    _supervise(home, task_id)
    run = home.run(task_id)
    assert (run.state, run.reason) == (RunState.FAILED, ExitReason.MEMORY_LIMIT)
    assert run.message is not None
    assert run.message.startswith("used ") and run.message.endswith(
        "MB, over its 96 MB limit; stopped the agent"
    )
    assert "over its 96 MB limit" in home.output(task_id)


def test_a_task_under_its_limit_runs_to_its_end(home: Home, work_dir: Path) -> None:
    done = home.cli("run", "--cwd", str(work_dir), "--memory-limit", "1G", "--",
                    *py(HOLD.format(mb=20, s=1.5)), check=True)  # fmt: skip
    task_id = int(done.stdout)
    _supervise(home, task_id)
    run = home.run(task_id)
    assert (run.state, run.exit_code) == (RunState.SUCCEEDED, 0)


def test_settings_give_the_default_limit_and_a_task_may_say_none(
    home: Home, work_dir: Path
) -> None:
    home.write_settings(default_memory_limit_mb=64)
    hog = py(HOLD.format(mb=150, s=3))
    limited = int(home.cli("run", "--cwd", str(work_dir), "--", *hog, check=True).stdout)
    free = int(home.cli("run", "--cwd", str(work_dir), "--memory-limit", "none", "--", *hog,
                        check=True).stdout)  # fmt: skip
    _supervise(home, free)
    _supervise(home, limited)
    assert home.run(limited).reason is ExitReason.MEMORY_LIMIT
    assert (home.run(free).state, home.run(free).exit_code) == (RunState.SUCCEEDED, 0)


def test_a_size_that_cannot_be_read_is_refused_before_anything_is_queued(
    home: Home, work_dir: Path
) -> None:
    done = home.cli("run", "--cwd", str(work_dir), "--memory-limit", "lots", "--", "true")
    assert done.returncode == 2
    assert "'lots' is not a size; use e.g. 4G, 512M or 'none'" in done.stderr


def test_the_supervisor_says_how_much_memory_a_running_task_uses(
    home: Home, work_dir: Path
) -> None:
    (work_dir / "hog.py").write_text(HOLD.format(mb=64, s=30))
    task_id = int(home.cli("run", "--cwd", str(work_dir), "--memory-limit", "1G", "--",
                           sys.executable, "hog.py", check=True).stdout)  # fmt: skip

    async def scenario() -> tuple[int | None, int | None]:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            await async_wait_until(lambda: home.run(task_id).state is RunState.RUNNING)
            await async_wait_until(lambda: (sup.memory_use(sup.task(task_id)) or 0) > 64 * 2**20)
            running = sup.memory_use(sup.task(task_id))
            sup.cancel(task_id)
            await async_wait_until(lambda: home.run(task_id).state.is_terminal)
            return running, sup.memory_use(sup.task(task_id))
        finally:
            await sup.stop()

    running, ended = run_async(scenario())
    assert running is not None and 64 * 2**20 < running < 1024 * 2**20
    assert ended is None
