"""The supervisor in-process: events, concurrency limit, priority, the resource gate."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest
from helpers.agentry import Home, counting_agent, run_async, tick
from helpers.wait import async_wait_until

from app.core.models import TaskSpec
from app.core.settings import Settings
from app.supervisor.events import Event, Notice, OutputLines, RunStateChanged, TaskAdded
from app.supervisor.supervisor import Supervisor


def test_subscribers_see_every_state_change_and_every_output_line(
    home: Home, work_dir: Path
) -> None:
    events: list[Event] = []

    async def scenario() -> int:
        sup = Supervisor(home.locations)
        sup.bus.subscribe(events.append)
        await sup.start()
        try:
            # The agent counts once the test has seen it running: a run that ends before
            # the supervisor's first look goes from starting straight to its end.
            go = work_dir / "go"
            waits = f"import os, time\nwhile not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
            agent = [*counting_agent(20, 0.01)]
            agent[-1] = waits + agent[-1]
            task_id = sup.submit(TaskSpec(argv=tuple(agent), cwd=str(work_dir)))
            sup.watch_output(home.run(task_id).id)
            await async_wait_until(lambda: home.run(task_id).state.value == "running")
            go.touch()
            await async_wait_until(lambda: home.run(task_id).state.value == "succeeded")
            await async_wait_until(
                lambda: sum(len(e.lines) for e in events if isinstance(e, OutputLines)) >= 20
            )
        finally:
            await sup.stop()
        return task_id

    task_id = run_async(scenario())
    assert TaskAdded(task_id, home.run(task_id).id) in events
    states = [e.new.value for e in events if isinstance(e, RunStateChanged)]
    assert states == ["queued", "starting", "running", "succeeded"]
    lines = [line for e in events if isinstance(e, OutputLines) for line in e.lines]
    assert lines == [str(i) for i in range(1, 21)]


def test_no_more_than_max_concurrency_agents_run_at_once_and_priority_goes_first(
    home: Home, work_dir: Path
) -> None:
    home.write_settings(max_concurrency=2)
    peak = 0

    async def scenario() -> list[int]:
        nonlocal peak
        sup = Supervisor(home.locations)
        sup.set_paused(True)  # enqueue everything first so priority decides, not arrival
        await sup.start()
        try:
            low = [sup.submit(TaskSpec(argv=("sleep", "0.3"), cwd=str(work_dir))) for _ in range(4)]
            high = sup.submit(TaskSpec(argv=("sleep", "0.3"), cwd=str(work_dir), priority=10))
            sup.set_paused(False)
            ids = [*low, high]
            while not all(home.run(t).state.value == "succeeded" for t in ids):
                running = sum(home.run(t).state.value in ("starting", "running") for t in ids)
                peak = max(peak, running)
                await asyncio.sleep(0.02)
        finally:
            await sup.stop()
        return ids

    ids = run_async(scenario())
    assert peak == 2
    with home.db() as conn:
        order = [
            row[0]
            for row in conn.execute(
                "SELECT task_id FROM events WHERE new_state = 'starting' ORDER BY id"
            )
        ]
    assert order == [ids[-1], *ids[:-1]]


def test_the_resource_gate_holds_new_starts_and_says_why(home: Home, work_dir: Path) -> None:
    home.write_settings(gate_max_memory_percent=1.0)
    notices: list[Notice] = []

    async def scenario() -> tuple[str, str]:
        sup = Supervisor(home.locations)
        sup.bus.subscribe(lambda e: notices.append(e) if isinstance(e, Notice) else None)
        await sup.start()
        try:
            task_id = sup.submit(TaskSpec(argv=("true",), cwd=str(work_dir)))
            tick(sup)  # rounds that would have started it
            held = home.run(task_id).state.value
            sup.apply_settings(Settings(gate_max_memory_percent=100.0, gate_max_cpu_percent=100.0))
            await async_wait_until(lambda: home.run(task_id).state.value == "succeeded")
            return held, home.run(task_id).state.value
        finally:
            await sup.stop()

    assert run_async(scenario()) == ("queued", "succeeded")
    assert any("memory in use" in n.text and "1% limit" in n.text for n in notices)


def test_a_paused_queue_starts_nothing_until_resumed(home: Home, work_dir: Path) -> None:
    async def scenario() -> tuple[str, str]:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            sup.set_paused(True)
            task_id = sup.submit(TaskSpec(argv=("true",), cwd=str(work_dir)))
            tick(sup)  # rounds that would have started it
            held = home.run(task_id).state.value
            sup.set_paused(False)
            await async_wait_until(lambda: home.run(task_id).state.value == "succeeded")
            return held, home.run(task_id).state.value
        finally:
            await sup.stop()

    assert run_async(scenario()) == ("queued", "succeeded")


def test_a_task_enqueued_by_another_process_is_started(home: Home, work_dir: Path) -> None:
    async def scenario() -> str:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            proc = await asyncio.create_subprocess_exec(
                *home.cli_argv("run", "--cwd", str(work_dir), "--", "true"), env=home.env
            )
            assert await proc.wait() == 0
            await async_wait_until(lambda: home.run(1).state.value == "succeeded")
            return home.run(1).state.value
        finally:
            await sup.stop()

    assert run_async(scenario()) == "succeeded"


def test_a_task_without_a_timeout_gets_the_default_and_none_means_no_limit(
    home: Home, work_dir: Path
) -> None:
    home.write_settings(default_timeout_s=90.0)
    default = home.submit(["true"], work_dir)
    unlimited = home.submit(["true"], work_dir, timeout=0.0)
    own = home.submit(["true"], work_dir, timeout=5.0)
    assert [home.run(t).timeout for t in (default, unlimited, own)] == [90.0, None, 5.0]


# The injected bug in launcher.prepare is logged with its traceback, then the run fails.
@pytest.mark.expect_error_log(r"^launching run \d+ failed$")
def test_a_run_that_cannot_be_launched_fails_with_the_reason_and_does_not_block_the_queue(
    home: Home, work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Left queued, a run whose launch raised was retried every tick ahead of the rest."""
    from app.supervisor import launcher

    home.write_settings(max_concurrency=1)
    real = launcher.prepare

    def prepare(run_dir: Path, task, run, *args, **kwargs):
        if task.spec.title == "broken":
            raise RuntimeError("something unforeseen")
        return real(run_dir, task, run, *args, **kwargs)

    monkeypatch.setattr(launcher, "prepare", prepare)

    async def scenario() -> tuple[int, int]:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            broken = sup.submit(TaskSpec(argv=("true",), cwd=str(work_dir), title="broken"))
            fine = sup.submit(TaskSpec(argv=("true",), cwd=str(work_dir), title="fine"))
            await async_wait_until(lambda: home.run(fine).state.value == "succeeded")
        finally:
            await sup.stop()
        return broken, fine

    broken, _fine = run_async(scenario())
    run = home.run(broken)
    assert run.state.value == "failed" and "something unforeseen" in (run.message or "")


def test_opening_a_finished_runs_output_delivers_its_unterminated_last_line(
    home: Home, work_dir: Path
) -> None:
    events: list[Event] = []

    async def scenario() -> None:
        sup = Supervisor(home.locations)
        sup.bus.subscribe(events.append)
        await sup.start()
        try:
            task_id = sup.submit(
                TaskSpec(argv=("printf", "first\\nFINAL ANSWER: 42"), cwd=str(work_dir))
            )
            await async_wait_until(lambda: home.run(task_id).state.value == "succeeded")
            events.clear()
            sup.watch_output(home.run(task_id).id)  # a pane opened after the end
            await async_wait_until(lambda: any(isinstance(e, OutputLines) for e in events))
        finally:
            await sup.stop()

    run_async(scenario())
    lines = [line for e in events if isinstance(e, OutputLines) for line in e.lines]
    assert lines == ["first", "FINAL ANSWER: 42"]


def test_text_that_is_not_utf8_is_refused_with_where_it_is(home: Home, work_dir: Path) -> None:
    from app.supervisor.commands import CommandRefused, submit

    with home.db() as conn, pytest.raises(CommandRefused, match="the command has characters"):
        submit(conn, TaskSpec(argv=("cat", "caf\udce9.txt"), cwd=str(work_dir)), Settings())


def test_stopping_agents_to_quit_starts_nothing_new_and_leaves_the_queue_for_next_time(
    home: Home, work_dir: Path
) -> None:
    """It used to cancel the running run, then launch the queued one and leave it running."""
    home.write_settings(max_concurrency=1)

    async def scenario() -> tuple[int, int, list[int]]:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            first = sup.submit(TaskSpec(argv=("sleep", "60"), cwd=str(work_dir)))
            second = sup.submit(TaskSpec(argv=("sleep", "60"), cwd=str(work_dir)))
            await async_wait_until(lambda: home.run(first).state.value == "running")
            stopped = await sup.stop_agents(timeout=20)
        finally:
            await sup.stop()
        return first, second, stopped

    first, second, stopped = run_async(scenario())
    assert stopped == [first]
    assert home.run(first).state.value == "cancelled"
    assert home.run(second).state.value == "queued", "it waits for the next start"


def test_runs_started_together_are_launched_side_by_side_in_queue_order(
    home: Home, work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four free slots start four runners at once (each launch waits here until all four
    are being started), and the runs still move to `starting` in the queue's order."""
    from app.supervisor import launcher

    home.write_settings(max_concurrency=4)
    together = threading.Barrier(4, timeout=20)
    real = launcher.launch

    def launch(run_dir: Path):
        together.wait()
        return real(run_dir)

    monkeypatch.setattr(launcher, "launch", launch)

    async def scenario() -> list[int]:
        sup = Supervisor(home.locations)
        sup.set_paused(True)
        await sup.start()
        try:
            ids = [
                sup.submit(TaskSpec(argv=("true",), cwd=str(work_dir), priority=p))
                for p in (0, 5, 1, 3)
            ]
            sup.set_paused(False)
            await async_wait_until(lambda: all(home.run(t).state.value == "succeeded" for t in ids))
        finally:
            await sup.stop()
        return ids

    low, high, one, three = run_async(scenario())
    with home.db() as conn:
        order = [
            row[0]
            for row in conn.execute(
                "SELECT task_id FROM events WHERE new_state = 'starting' ORDER BY id"
            )
        ]
    assert order == [high, three, one, low]


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="exits are noticed on the tick here")
def test_a_drain_moves_on_as_runners_exit_without_waiting_for_a_tick(
    home: Home, work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no tick at all, each runner's exit is what ends its run and starts the next."""
    from app.supervisor import supervisor

    monkeypatch.setattr(supervisor, "TICK_S", 3600.0)
    home.write_settings(max_concurrency=2)

    async def scenario() -> list[str]:
        sup = Supervisor(home.locations)
        sup.set_paused(True)
        await sup.start()
        try:
            ids = [sup.submit(TaskSpec(argv=("true",), cwd=str(work_dir))) for _ in range(6)]
            sup.set_paused(False)
            await async_wait_until(
                lambda: all(home.run(t).state.is_terminal for t in ids), timeout=30
            )
        finally:
            await sup.stop()
        return [home.run(t).state.value for t in ids]

    assert run_async(scenario()) == ["succeeded"] * 6


def test_stop_ends_the_loop_even_when_a_wake_comes_with_it(home: Home) -> None:
    """A wake (a runner exiting, a submit) just before stop() must not swallow the stop:
    asyncio.wait_for on Python 3.11 returns the wake instead, and the loop ran on."""

    async def scenario() -> bool:
        sup = Supervisor(home.locations)
        await sup.start()
        await asyncio.sleep(0.1)  # the loop waits for a wake or its tick
        sup.set_paused(False)  # a wake: its waiter is done, not yet told
        await asyncio.sleep(0)
        stopping = asyncio.create_task(sup.stop())
        done, _ = await asyncio.wait({stopping}, timeout=10)
        if not done:  # the loop ran on: cancel it again, so the test ends
            sup._loop_task.cancel()  # type: ignore[union-attr]
            await stopping
        return bool(done)

    assert run_async(scenario()), "stop() waited for a loop that ran on"
