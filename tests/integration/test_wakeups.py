"""The supervisor is woken by its run folders' files: output reaches subscribers and an
exit is ingested with the slow poll and the tick made far too long to do it."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.agentry import Home, py, run_async
from helpers.wait import async_wait_until

from app.core.models import TaskSpec
from app.supervisor import supervisor as supervisor_module
from app.supervisor.events import Event, OutputLines
from app.supervisor.supervisor import Supervisor

FOREVER = 3600.0

# Prints two lines at once, two more once `more` exists, and ends once `stop` exists.
AGENT = py(
    "import os, time\n"
    "def wait(name):\n"
    "    while not os.path.exists(name):\n"
    "        time.sleep(0.02)\n"
    "print('one', flush=True)\n"
    "print('two', flush=True)\n"
    "wait('more')\n"
    "print('three', flush=True)\n"
    "print('four', flush=True)\n"
    "wait('stop')\n"
)


def test_output_lines_arrive_with_the_slow_poll_made_very_long(home: Home, work_dir: Path) -> None:
    events: list[Event] = []

    def lines() -> list[str]:
        return [line for e in events if isinstance(e, OutputLines) for line in e.lines]

    def shown() -> str:
        return f"the lines (now {lines()})"

    async def scenario() -> None:
        sup = Supervisor(home.locations)
        sup.tails.safety_s = FOREVER
        sup.bus.subscribe(events.append)
        await sup.start()
        try:
            task_id = sup.submit(TaskSpec(argv=tuple(AGENT), cwd=str(work_dir)))
            sup.watch_output(home.run(task_id).id)  # queued: its folder is made later
            await async_wait_until(lambda: lines() == ["one", "two"], message=shown)
            (work_dir / "more").touch()
            await async_wait_until(
                lambda: lines() == ["one", "two", "three", "four"], message=shown
            )
            assert home.run(task_id).state.value == "running"  # not delivered by its end
        finally:
            (work_dir / "stop").touch()
            await sup.stop()

    run_async(scenario())


def test_an_exit_is_ingested_with_the_tick_made_very_long(
    home: Home, work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor_module, "TICK_S", FOREVER)
    monkeypatch.setattr(supervisor_module, "LIVENESS_S", FOREVER)

    async def scenario() -> None:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            task_id = sup.submit(TaskSpec(argv=tuple(AGENT), cwd=str(work_dir)))
            await async_wait_until(
                lambda: home.run(task_id).state.value == "running",
                message=lambda: f"the run to be seen running (now {home.run(task_id).state})",
            )
            (work_dir / "more").touch()
            (work_dir / "stop").touch()
            await async_wait_until(
                lambda: home.run(task_id).state.value == "succeeded",
                message=lambda: f"the exit to be ingested (now {home.run(task_id).state})",
            )
        finally:
            (work_dir / "stop").touch()
            await sup.stop()

    run_async(scenario())
