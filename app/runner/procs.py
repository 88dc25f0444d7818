"""Processes by identity: (pid, create_time) liveness and stopping a whole process tree.

Shared by the runner (timeout, cancel) and the supervisor (orphaned agents, doctor).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import psutil

from app.core.log import get_logger
from app.core.platform import IS_WINDOWS
from app.runner import procinfo

log = get_logger(__name__)

# A start stamp is a float; allow rounding through JSON and SQLite.
_CREATE_TIME_TOLERANCE = 0.01
_SIGKILL = getattr(signal, "SIGKILL", 9)
# Stamps above this are seconds since the epoch (psutil's create_time, as stored by
# earlier versions and on every platform but Linux); below it, seconds since boot.
_EPOCH_STAMP = 1e9


def start_stamp(proc: psutil.Process) -> float:
    """When ``proc`` started, as a value that identifies it together with its pid.

    On Linux psutil's create_time is boot time + start ticks, and the kernel moves its
    boot time whenever the wall clock is stepped (NTP after a resume, a manual change):
    every live process would then look like a different one. There the stamp is the
    start in seconds since boot, which no clock change touches.
    """
    if procinfo.LINUX:
        since_boot = procinfo.since_boot(proc.pid)
        if since_boot is not None:
            return since_boot
    return proc.create_time()


def stamp_of(pid: int) -> float | None:
    """:func:`start_stamp` of the process ``pid``, or None if it is gone."""
    try:
        return start_stamp(psutil.Process(pid))
    except psutil.NoSuchProcess:
        return None


def identity(proc: psutil.Process) -> tuple[int, float]:
    return proc.pid, start_stamp(proc)


def find_process(pid: int | None, create_time: float | None) -> psutil.Process | None:
    """The live process with this pid *and* create time, or None.

    A pid reused by another program has a different create time and is never taken for
    ours; a zombie (exited, not yet reaped) counts as gone.
    """
    if not pid or create_time is None:
        return None
    try:
        proc = psutil.Process(pid)
        live = proc.create_time() if create_time > _EPOCH_STAMP else start_stamp(proc)
        if abs(live - create_time) > _CREATE_TIME_TOLERANCE:
            return None
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
    return proc


def pid_exists(pid: int) -> bool:
    """Whether any process (of any user) has this pid now; 0 and negative pids are never a
    process that wrote a file."""
    return pid > 0 and psutil.pid_exists(pid)


def is_alive(pid: int | None, create_time: float | None) -> bool:
    return find_process(pid, create_time) is not None


def kill_tree(root: psutil.Process, grace: float, *, windows: bool = IS_WINDOWS) -> None:
    """Ask the whole tree to stop, wait up to ``grace`` seconds, then kill what is left.

    Descendants are listed before any signal, since a child whose parent already died is
    no longer found by ``children()``; on POSIX the agent's own process group catches
    those too.
    """
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        procs = [root]
    _signal_all(root, procs, signal.SIGTERM, windows)
    alive = _wait_gone(procs, max(grace, 0.0))
    if alive or not windows:
        _signal_all(root, alive, _SIGKILL, windows)
        _wait_gone(alive, 5.0)


def tree_memory(pid: int) -> int | None:
    """The resident memory of ``pid`` and its descendants, in bytes (what a memory limit
    counts); None once ``pid`` is gone. A process that ends meanwhile counts nothing."""
    try:
        root = psutil.Process(pid)
        members = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0
    for proc in members:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


def kill_tree_of(pid: int, grace: float) -> None:
    """:func:`kill_tree` from the process ``pid`` (the runner's own child), if it is there."""
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    kill_tree(root, grace)


def _wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until every process has exited; a zombie counts as exited, since its reaper may
    be someone else (or no one, under a container init that never reaps)."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in procs if _running(p)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.02)


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True


def _signal_all(root: psutil.Process, procs: list[psutil.Process], sig: int, windows: bool) -> None:
    if not windows:
        # The agent leads its own process group (start_new_session): one call reaches all.
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            os.killpg(root.pid, sig)
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            if sig == _SIGKILL:
                proc.kill()
            elif windows:
                proc.terminate()  # TerminateProcess: no polite signal reaches a detached tree
            else:
                proc.send_signal(sig)


def stop_group(pgid: int, grace: float, *, windows: bool = IS_WINDOWS) -> int:
    """Stop what is left of an agent's process group after the agent itself exited
    (background jobs, servers it started); returns how many there were.

    The agent leads its own group (start_new_session), so its leftovers keep its pgid even
    after they are re-parented. Windows has no process groups to find them by: 0 there.
    """
    if windows or not procinfo.group_may_remain(pgid):
        return 0
    left = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if proc.pid != pgid and os.getpgid(proc.pid) == pgid and _running(proc):
                left.append(proc)
    if not left:
        return 0
    for proc in left:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(signal.SIGTERM)
    alive = _wait_gone(left, max(grace, 0.0))
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    _wait_gone(alive, 5.0)
    return len(left)


def find_runner(run_dir: Path) -> psutil.Process | None:
    """A live runner started on ``run_dir`` (``app.runner DIR`` or ``--runner DIR``)."""
    for proc in psutil.process_iter(["cmdline"]):
        if _runs(proc.info.get("cmdline") or [], run_dir) and _running(proc):
            return proc
    return None


def _runs(cmdline: list[str], run_dir: Path) -> bool:
    """Whether a command line is that of a runner on ``run_dir``."""
    is_runner = "app.runner" in cmdline or "--runner" in cmdline
    return is_runner and str(run_dir) in cmdline


def runner_parent(pid: int, create_time: float, run_dir: Path) -> psutil.Process | None:
    """The runner on ``run_dir`` whose child is the live process (pid, create_time), e.g.
    its setup command; None when that process is gone or its parent is not that runner
    (the runner died and the child was adopted)."""
    child = find_process(pid, create_time)
    if child is None:
        return None
    try:
        parent = child.parent()
        if parent is not None and _runs(parent.cmdline(), run_dir) and _running(parent):
            return parent
    except psutil.Error:
        pass
    return None


def send(proc: psutil.Process, sig: int) -> bool:
    """Send ``sig`` to ``proc`` (found by identity just before); False if it is gone."""
    try:
        proc.send_signal(sig)
    except psutil.Error:
        return False
    return True
