"""Tests for app.runner.procs with real child processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from helpers.agentry import alive, kill_group
from helpers.wait import wait_until

from app.runner import procs

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")

Spawn = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start processes in their own session; whatever is left is killed afterwards."""
    started: list[subprocess.Popen[bytes]] = []

    def start(argv: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, start_new_session=True, **kwargs)  # type: ignore[call-overload]
        started.append(proc)
        return proc

    yield start
    for proc in started:
        kill_group(proc.pid)
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _sleeper(spawn: Spawn) -> subprocess.Popen[bytes]:
    return spawn([sys.executable, "-c", "import time; time.sleep(60)"])


def _create_time(pid: int) -> float:
    return psutil.Process(pid).create_time()


# --- find_process ----------------------------------------------------------------------


def test_find_process_returns_the_process_when_create_time_matches(spawn: Spawn) -> None:
    child = _sleeper(spawn)
    found = procs.find_process(child.pid, _create_time(child.pid))
    assert found is not None
    assert found.pid == child.pid


def test_find_process_tolerates_create_time_rounded_through_json(spawn: Spawn) -> None:
    child = _sleeper(spawn)
    rounded = round(_create_time(child.pid), 3)
    assert procs.find_process(child.pid, rounded) is not None


@pytest.mark.parametrize("offset", [5.0, -5.0, 0.5])
def test_find_process_with_another_create_time_is_none(spawn: Spawn, offset: float) -> None:
    """The same pid with another start time is a reused pid: never taken for ours."""
    child = _sleeper(spawn)
    assert procs.find_process(child.pid, _create_time(child.pid) + offset) is None


def test_find_process_without_pid_is_none() -> None:
    assert procs.find_process(None, 123.0) is None


def test_find_process_without_create_time_is_none(spawn: Spawn) -> None:
    child = _sleeper(spawn)
    assert procs.find_process(child.pid, None) is None


def test_find_process_of_a_zombie_is_none(spawn: Spawn) -> None:
    child = spawn([sys.executable, "-c", "pass"])
    create_time = _create_time(child.pid)
    wait_until(
        lambda: psutil.Process(child.pid).status() == psutil.STATUS_ZOMBIE,
        message="the child to exit unreaped",
    )
    assert procs.find_process(child.pid, create_time) is None


def test_find_process_of_a_reaped_process_is_none(spawn: Spawn) -> None:
    child = spawn([sys.executable, "-c", "pass"])
    create_time = _create_time(child.pid)
    child.wait()
    assert procs.find_process(child.pid, create_time) is None


def test_is_alive_follows_find_process(spawn: Spawn) -> None:
    child = _sleeper(spawn)
    create_time = _create_time(child.pid)
    assert procs.is_alive(child.pid, create_time)
    assert not procs.is_alive(child.pid, create_time + 5)


def test_identity_is_pid_and_start_stamp(spawn: Spawn) -> None:
    child = _sleeper(spawn)
    pid, stamp = procs.identity(psutil.Process(child.pid))
    assert pid == child.pid and stamp == procs.start_stamp(psutil.Process(child.pid))
    assert procs.find_process(pid, stamp) is not None
    assert procs.find_process(pid, stamp + 0.5) is None, "another start is another process"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's boot-time drift")
def test_a_wall_clock_step_does_not_make_a_live_process_look_gone(
    spawn: Spawn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Linux the kernel moves its boot time when the clock is stepped, and psutil's
    create_time of every process with it; the stamp counts from boot instead."""
    child = _sleeper(spawn)
    pid, stamp = procs.identity(psutil.Process(child.pid))
    assert stamp < 1e9, "seconds since boot"
    real = psutil.Process.create_time
    monkeypatch.setattr(psutil.Process, "create_time", lambda self: real(self) + 2.0)
    assert procs.find_process(pid, stamp) is not None


def test_a_stamp_stored_by_an_earlier_version_still_identifies_its_process(
    spawn: Spawn,
) -> None:
    """Runs started before an update stored psutil's create_time: they are reattached."""
    child = _sleeper(spawn)
    assert procs.find_process(child.pid, _create_time(child.pid)) is not None
    assert procs.find_process(child.pid, _create_time(child.pid) + 5) is None


# --- kill_tree -------------------------------------------------------------------------


def test_kill_tree_stops_the_parent_and_its_grandchild(spawn: Spawn) -> None:
    parent = spawn(["sh", "-c", "sleep 60 & sleep 60"])
    root = psutil.Process(parent.pid)
    descendants = wait_until(lambda: root.children(recursive=True), message="the sleeps to start")
    pids = [parent.pid, *(p.pid for p in descendants)]

    procs.kill_tree(root, grace=1.0)

    assert [pid for pid in pids if alive(pid)] == []


def test_kill_tree_kills_a_process_that_ignores_sigterm_after_the_grace(
    spawn: Spawn, tmp_path: Path
) -> None:
    ready = tmp_path / "ready"
    stubborn = spawn(
        [
            sys.executable,
            "-c",
            "import pathlib, signal, sys, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "pathlib.Path(sys.argv[1]).touch()\n"
            "time.sleep(60)\n",
            str(ready),
        ]
    )
    wait_until(ready.exists, message="SIGTERM to be ignored")

    procs.kill_tree(psutil.Process(stubborn.pid), grace=0.3)

    assert not alive(stubborn.pid)


def test_kill_tree_of_a_process_that_already_exited_does_not_raise(spawn: Spawn) -> None:
    child = spawn([sys.executable, "-c", "pass"])
    root = psutil.Process(child.pid)
    child.wait()
    procs.kill_tree(root, grace=0.1)
    assert not alive(child.pid)


def test_kill_tree_lets_a_polite_process_end_on_sigterm(spawn: Spawn, tmp_path: Path) -> None:
    marker = tmp_path / "terminated"
    polite = spawn(
        [
            sys.executable,
            "-c",
            "import pathlib, signal, sys, time\n"
            "def bye(*_):\n"
            "    pathlib.Path(sys.argv[1]).write_text('bye')\n"
            "    sys.exit(0)\n"
            "signal.signal(signal.SIGTERM, bye)\n"
            "pathlib.Path(sys.argv[1] + '.ready').touch()\n"
            "time.sleep(60)\n",
            str(marker),
        ]
    )
    wait_until(Path(f"{marker}.ready").exists, message="the SIGTERM handler")

    procs.kill_tree(psutil.Process(polite.pid), grace=5.0)

    assert marker.read_text() == "bye"
    assert not alive(polite.pid)
