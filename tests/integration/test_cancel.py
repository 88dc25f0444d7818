"""Cancel: the whole process tree stops, and a cancel racing a natural exit ends exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import psutil
from helpers.agentry import Home, alive, run_async
from helpers.wait import async_wait_until

from app.core.models import TaskSpec
from app.runner import protocol
from app.supervisor.commands import CommandRefused
from app.supervisor.supervisor import Supervisor


async def _wait_state(sup: Supervisor, home: Home, task_id: int, *states: str) -> str:
    state: str = await async_wait_until(
        lambda: (value := home.run(task_id).state.value) in states and value,
        timeout=20,
        message=lambda: f"task {task_id} in {states} (stuck in {home.run(task_id).state.value})",
    )
    return state


def test_cancel_stops_the_agent_and_every_process_it_started(home: Home, work_dir: Path) -> None:
    async def scenario() -> None:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            task_id = sup.submit(
                TaskSpec(
                    argv=("sh", "-c", "sleep 60 & echo $! > child.pid; sleep 60"), cwd=str(work_dir)
                )
            )
            await _wait_state(sup, home, task_id, "running")
            await async_wait_until((work_dir / "child.pid").exists, message="the child's pid")
            child = int((work_dir / "child.pid").read_text())
            agent = home.runner_info(task_id).agent_pid
            sup.cancel(task_id)
            assert await _wait_state(sup, home, task_id, "cancelled") == "cancelled"
            assert not alive(agent) and not alive(child)
            assert home.run(task_id).reason == "cancelled"
        finally:
            await sup.stop()

    run_async(scenario())


def test_cancelling_a_queued_task_never_starts_it(home: Home, work_dir: Path) -> None:
    task_id = home.submit(["sh", "-c", "touch started"], work_dir)
    result = home.cli("cancel", str(task_id))
    assert result.returncode == 0 and "before it started" in result.stdout
    home.cli("run", "--wait", "--", "true", check=True)  # a supervisor comes and goes
    assert home.run(task_id).state.value == "cancelled"
    assert not (work_dir / "started").exists()
    again = home.cli("cancel", str(task_id))
    assert again.returncode == 1 and "already ended (cancelled)" in again.stderr


def test_cancel_racing_a_natural_exit_ends_in_exactly_one_final_state(
    home: Home, work_dir: Path
) -> None:
    async def scenario() -> list[int]:
        sup = Supervisor(home.locations)
        await sup.start()
        ids = []
        try:
            for delay in (0.0, 0.1, 0.2, 0.3, 0.4):
                task_id = sup.submit(TaskSpec(argv=("sleep", "0.3"), cwd=str(work_dir)))
                await _wait_state(sup, home, task_id, "running")
                await asyncio.sleep(delay)
                # Already ended on its own is also a valid outcome of the race.
                with contextlib.suppress(CommandRefused):
                    sup.cancel(task_id)
                ids.append(task_id)
            for task_id in ids:
                await _wait_state(sup, home, task_id, "succeeded", "cancelled")
        finally:
            await sup.stop()
        return ids

    for task_id in run_async(scenario()):
        with home.db() as conn:
            finals = conn.execute(
                "SELECT new_state FROM events WHERE task_id = ? AND new_state IN "
                "('succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted')",
                (task_id,),
            ).fetchall()
        assert len(finals) == 1
        ended = protocol.read_exit(home.run_dir(task_id))
        assert ended is not None and finals[0][0] == home.run(task_id).state.value


def test_a_recorded_pid_now_used_by_another_process_is_not_taken_for_our_runner(
    home: Home, work_dir: Path
) -> None:
    task_id = home.submit(["sleep", "60"], work_dir)
    run_dir = home.locations.run_dir(home.run(task_id).dir)
    with home.db() as conn:
        conn.execute("UPDATE runs SET state = 'running' WHERE task_id = ?", (task_id,))
    me = psutil.Process()
    protocol.write_spec(
        run_dir,
        protocol.RunSpec(run_id=1, task_id=task_id, argv=["sleep", "60"], cwd=str(work_dir)),
    )
    protocol.write_runner_info(
        run_dir,
        protocol.RunnerInfo(
            runner_pid=os.getpid(),
            runner_create_time=me.create_time() - 1000.0,
            agent_pid=os.getpid(),
            agent_create_time=me.create_time() - 1000.0,
            started_at=0.0,
            deadline=None,
        ),
    )

    async def recover() -> list[int]:
        sup = Supervisor(home.locations)
        report = await sup.start()
        await sup.stop()
        return report.interrupted

    assert run_async(recover()) == [task_id]
    assert home.run(task_id).state.value == "interrupted"
    assert alive(os.getpid())  # and we were certainly not killed as an "orphan"
