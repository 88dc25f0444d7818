"""`agentry logs --follow`: prints the output as it is written and ends with the run,
woken by the run folder's files, or by the poll where notifications are unavailable."""

from __future__ import annotations

import asyncio
import io
import sys
import threading
from pathlib import Path

import pytest
from helpers.agentry import ROOT, Home, py, run_async
from helpers.wait import async_wait_until

from app.cli.follow import follow, follow_blocking
from app.core.models import Run, TaskSpec
from app.supervisor.supervisor import Supervisor

# Prints a line, a second once `more` exists, and ends (code 3) once `stop` exists.
AGENT = py(
    "import os, sys, time\n"
    "def wait(name):\n"
    "    while not os.path.exists(name):\n"
    "        time.sleep(0.02)\n"
    "print('first', flush=True)\n"
    "wait('more')\n"
    "print('second', flush=True)\n"
    "wait('stop')\n"
    "sys.exit(3)\n"
)


def test_logs_follow_prints_lines_as_written_and_ends_with_the_run(
    home: Home, work_dir: Path
) -> None:
    async def scenario() -> tuple[bytes, int]:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            task_id = sup.submit(TaskSpec(argv=tuple(AGENT), cwd=str(work_dir)))
            follower = await asyncio.create_subprocess_exec(
                *home.cli_argv("logs", "--follow", str(task_id)),
                env={**home.env, "AGENTRY_HOME": str(home.path)},
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
            )
            assert follower.stdout is not None
            first = await asyncio.wait_for(follower.stdout.readline(), 30)
            (work_dir / "more").touch()
            second = await asyncio.wait_for(follower.stdout.readline(), 30)
            assert follower.returncode is None  # still following: the run goes on
            (work_dir / "stop").touch()
            rest = await asyncio.wait_for(follower.stdout.read(), 30)
            code = await asyncio.wait_for(follower.wait(), 30)
            assert home.run(task_id).state.value == "failed"
            return first + second + rest, code
        finally:
            (work_dir / "stop").touch()
            await sup.stop()

    printed, code = run_async(scenario())
    assert printed == b"first\nsecond\n"
    assert code == 0


@pytest.mark.parametrize("blocking", [False, True], ids=["on-the-loop", "blocking"])
def test_follow_without_file_notifications_polls_to_the_end(
    home: Home, work_dir: Path, monkeypatch: pytest.MonkeyPatch, blocking: bool
) -> None:
    monkeypatch.setitem(sys.modules, "watchdog.observers", None)  # notifications unavailable
    out = io.StringIO()

    async def scenario() -> str:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            task_id = sup.submit(TaskSpec(argv=tuple(AGENT), cwd=str(work_dir)))
            run_id = home.run(task_id).id
            if blocking:  # its own connection, in a thread: as `logs --follow` in a process

                def job() -> Run:
                    with home.db() as conn:
                        return follow_blocking(conn, home.locations, run_id, out)

                following = asyncio.get_running_loop().run_in_executor(None, job)
            else:
                following = asyncio.ensure_future(follow(sup.conn, home.locations, run_id, out))
            await async_wait_until(lambda: out.getvalue() == "first\n", message=out.getvalue)
            (work_dir / "more").touch()
            await async_wait_until(lambda: "second" in out.getvalue(), message=out.getvalue)
            assert not following.done()
            (work_dir / "stop").touch()
            run = await asyncio.wait_for(following, 30)
            return run.state.value
        finally:
            (work_dir / "stop").touch()
            await sup.stop()

    assert run_async(scenario()) == "failed"
    assert out.getvalue() == "first\nsecond\n"


def test_following_a_run_still_queued_lets_the_loop_supervise_meanwhile(
    home: Home, work_dir: Path
) -> None:
    """`run --wait` follows on the loop that hosts the supervisor: until the run folder
    exists the follower must sleep (on runs/), not spin, or nothing ever launches it."""
    out = io.StringIO()
    result: list[str] = []

    async def scenario() -> None:
        sup = Supervisor(home.locations)
        sup.set_paused(True)
        await sup.start()
        try:
            task_id = sup.submit(TaskSpec(argv=("echo", "late"), cwd=str(work_dir)))
            following = asyncio.ensure_future(
                follow(sup.conn, home.locations, home.run(task_id).id, out)
            )
            for _ in range(3):
                await asyncio.sleep(0.05)  # never resumed if the follower spins
            sup.set_paused(False)
            result.append((await asyncio.wait_for(following, 30)).state.value)
        finally:
            await sup.stop()

    thread = threading.Thread(target=run_async, args=(scenario(),), daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the follower held the event loop"
    assert result == ["succeeded"] and out.getvalue() == "late\n"
