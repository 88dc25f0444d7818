"""The runner's waiter on Windows: its own mechanisms, as before the POSIX one slimmed down.

``subprocess`` with the creation flags that give the agent a process group of its own and
no window; a thread per process that alone waits on it; a poll of the ``cancel`` file
every ``POLL_S``, since Windows has no signal for Agentry to send. Memory and wake-ups
matter less than getting these right: there is no fork and no SIGCHLD to sleep on.
"""

from __future__ import annotations

import signal
import subprocess
import threading

from app.core.platform import agent_popen_kwargs, popen_command
from app.runner import procs
from app.runner.waiter import Waiter

POLL_S = 0.25


class WindowsWaiter(Waiter):
    def __init__(self) -> None:
        self._children: dict[int, tuple[subprocess.Popen[bytes], threading.Event]] = {}

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stop_signal = signum

    def spawn(
        self, argv: list[str], cwd: str, env: dict[str, str], stdin: str | None, output: int
    ) -> int:
        source = open(stdin, "rb") if stdin else None  # noqa: SIM115 - closed below
        try:
            child = subprocess.Popen(
                popen_command(argv),  # a cmd line: LINE as cmd.exe reads it
                cwd=cwd,
                env=env,
                stdin=source if source is not None else subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                **agent_popen_kwargs(),
            )
        finally:
            if source is not None:
                source.close()
        done = threading.Event()
        threading.Thread(target=self._reap, args=(child, done), daemon=True).start()
        self._children[child.pid] = (child, done)
        return child.pid

    def _reap(self, child: subprocess.Popen[bytes], done: threading.Event) -> None:
        child.wait()  # this thread alone waits on the child: no race on its handle
        done.set()

    def stamp(self, pid: int) -> float | None:
        return procs.stamp_of(pid)

    def sleep(self, pid: int, timeout: float) -> int | None:
        child, done = self._children[pid]
        done.wait(max(0.0, min(timeout, POLL_S)))
        return child.returncode if done.is_set() else None

    def cancel_hinted(self) -> bool:
        return True  # no signal brings a cancel here: every wake-up looks

    def reap(self, pid: int) -> int:
        child, done = self._children[pid]
        done.wait()
        return int(child.returncode)

    def stop_tree(self, pid: int, grace: float) -> None:
        procs.kill_tree_of(pid, grace)

    def stop_leftovers(self, pgid: int, grace: float) -> int:
        return 0  # no process groups to find them by (see procs.stop_group)
