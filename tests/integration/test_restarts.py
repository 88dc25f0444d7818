"""Restart policies end to end (issue #15): real runners and agents, the CLI's flags, the
supervisor in-process and as `agentry serve`, SIGKILLed while a backoff runs."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from helpers.agentry import Home, run_async, tick
from helpers.wait import async_wait_until, wait_until

from app.core.restarts import FLAP_RUNS
from app.supervisor.supervisor import Supervisor

FAILS = ["sh", "-c", "exit 1"]


def _run(home: Home, work_dir: Path, *flags: str, argv: list[str] = FAILS) -> int:
    done = home.cli("run", "--cwd", str(work_dir), *flags, "--", *argv, check=True)
    return int(done.stdout.strip())


def _supervise_until(home: Home, done: object, timeout: float = 30) -> None:
    async def scenario() -> None:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            await async_wait_until(done, timeout=timeout)  # type: ignore[arg-type]
            tick(sup)  # ... and nothing more follows
        finally:
            await sup.stop()

    run_async(scenario())


def _ended(home: Home, task_id: int, runs: int) -> bool:
    ran = home.runs(task_id)
    return len(ran) == runs and ran[-1].state.is_terminal


def test_on_failure_with_two_restarts_runs_three_times_then_says_it_gave_up(
    home: Home, work_dir: Path
) -> None:
    task_id = _run(home, work_dir, "--restart", "on-failure", "--max-restarts", "2",
                   "--backoff", "0..0")  # fmt: skip
    _supervise_until(home, lambda: _ended(home, task_id, 3))
    runs = home.runs(task_id)
    assert [(r.kind.value, r.state.value, r.exit_code) for r in runs] == [
        ("start", "failed", 1), ("restart", "failed", 1), ("restart", "failed", 1)
    ]  # fmt: skip
    assert runs[-1].message is not None and runs[-1].message.endswith("gave up after 2 restarts")
    listed = json.loads(home.cli("list", "--json", check=True).stdout)
    assert listed[0]["message"].endswith("gave up after 2 restarts")
    assert listed[0]["not_before"] is None  # it waits for nothing any more


def test_a_success_is_restarted_only_by_always(home: Home, work_dir: Path) -> None:
    once = _run(home, work_dir, "--restart", "on-failure", "--backoff", "0..0", argv=["true"])
    again = _run(home, work_dir, "--restart", "always", "--max-restarts", "1",
                 "--backoff", "0..0", argv=["true"])  # fmt: skip
    _supervise_until(home, lambda: _ended(home, once, 1) and _ended(home, again, 2))
    assert [r.state.value for r in home.runs(again)] == ["succeeded", "succeeded"]


def test_a_cancelled_or_timed_out_task_is_not_restarted(home: Home, work_dir: Path) -> None:
    slow = ["sleep", "30"]
    timed = _run(home, work_dir, "--restart", "always", "--backoff", "0..0", "--timeout", "1",
                 argv=slow)  # fmt: skip
    cancelled = _run(home, work_dir, "--restart", "always", "--backoff", "0..0", argv=slow)

    async def scenario() -> None:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            await async_wait_until(lambda: home.run(cancelled).state.value == "running")
            sup.cancel(cancelled)
            await async_wait_until(
                lambda: _ended(home, cancelled, 1) and _ended(home, timed, 1), timeout=30
            )
            tick(sup)
        finally:
            await sup.stop()

    run_async(scenario())
    assert [r.state.value for r in home.runs(timed)] == ["timed_out"]
    assert [r.state.value for r in home.runs(cancelled)] == ["cancelled"]


def test_a_waiting_restart_can_be_cancelled_and_is_then_not_restarted(
    home: Home, work_dir: Path
) -> None:
    task_id = _run(home, work_dir, "--restart", "on-failure", "--backoff", "1h..1h")
    _supervise_until(home, lambda: len(home.runs(task_id)) == 2)
    waiting = home.run(task_id)
    assert (waiting.state.value, waiting.wait_reason) == ("queued", "restart")
    assert waiting.not_before is not None and waiting.not_before > waiting.created_at + 3500
    assert "(restart at " in home.cli("list").stdout
    waits = json.loads(home.cli("list", "--json").stdout)[0]
    assert (waits["not_before"], waits["wait_reason"]) == (waiting.not_before, "restart")
    home.cli("cancel", str(task_id), check=True)
    _supervise_until(home, lambda: home.run(task_id).state.value == "cancelled")
    assert len(home.runs(task_id)) == 2


def test_a_task_that_keeps_ending_at_once_is_stopped_as_flapping(
    home: Home, work_dir: Path
) -> None:
    task_id = _run(home, work_dir, "--restart", "always", "--max-restarts", "50",
                   "--backoff", "0..0", argv=["true"])  # fmt: skip
    _supervise_until(home, lambda: _ended(home, task_id, FLAP_RUNS))
    last = home.run(task_id)
    assert last.message is not None and "flapping" in last.message
    assert len(home.runs(task_id)) == FLAP_RUNS


def test_a_backoff_survives_a_sigkill_of_the_supervisor_and_restarts_exactly_once(
    home: Home, work_dir: Path
) -> None:
    task_id = _run(home, work_dir, "--restart", "on-failure", "--max-restarts", "1",
                   "--backoff", "3s..3s")  # fmt: skip
    first = home.serve()
    wait_until(lambda: len(home.runs(task_id)) == 2, message="the restart queued")
    waiting = home.run(task_id)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert waiting.not_before is not None and waiting.state.value == "queued"
    home.serve()
    run = home.wait_state(task_id, "failed", timeout=30)
    runs = home.runs(task_id)
    assert len(runs) == 2 and run.id == waiting.id
    assert run.started_at is not None and run.started_at >= waiting.not_before
    assert run.message is not None and run.message.endswith("gave up after 1 restart")


def test_an_ending_taken_in_at_recovery_is_restarted(home: Home, work_dir: Path) -> None:
    """The run fails while no supervisor runs: the next start's recovery takes the ending
    in and queues the restart in the same transaction."""
    gate = work_dir / "go"
    argv = ["sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done; exit 3"]
    task_id = _run(home, work_dir, "--restart", "on-failure", "--max-restarts", "1",
                   "--backoff", "0..0", argv=argv)  # fmt: skip
    first = home.serve()
    home.wait_state(task_id, "running")
    first.send_signal(signal.SIGKILL)
    first.wait()
    gate.touch()
    wait_until(lambda: (home.run_dir(task_id) / "exit.json").exists(), message="exit.json")
    notes: dict[int, str] = {}
    steps: dict[int, str] = {}

    async def scenario() -> None:
        sup = Supervisor(home.locations)
        report = await sup.start()
        notes.update(report.notes)
        steps.update(report.next_steps)
        try:
            await async_wait_until(lambda: _ended(home, task_id, 2))
        finally:
            await sup.stop()

    run_async(scenario())
    ran = [(r.kind.value, r.exit_code) for r in home.runs(task_id)]
    assert ran == [("start", 3), ("restart", 3)]
    # The recovery screen says what followed the ending it found.
    said = notes[task_id]
    assert said.startswith("ended while Agentry was away — exit code 3; restart 1 of 1 at")
    assert steps[task_id].startswith("restart 1 of 1 at")  # in the row, not only the tooltip


def test_a_waiting_restart_starts_at_once_when_resumed(home: Home, work_dir: Path) -> None:
    task_id = _run(home, work_dir, "--restart", "on-failure", "--max-restarts", "1",
                   "--backoff", "1h..1h")  # fmt: skip
    _supervise_until(home, lambda: len(home.runs(task_id)) == 2)
    said = home.cli("resume", str(task_id), check=True).stdout
    assert said.startswith(f"Task {task_id}: starting now rather than at ")
    _supervise_until(home, lambda: _ended(home, task_id, 2))
    assert [r.state.value for r in home.runs(task_id)] == ["failed", "failed"]
    ended = home.cli("resume", str(task_id))  # waits for nothing now: a session resume, as before
    assert ended.returncode != 0 and "use Retry" in ended.stderr
