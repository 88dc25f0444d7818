"""The seam between the runner's logic and the operating system: how it starts a process,
sleeps until something needs it, and stops a process tree.

POSIX (:mod:`app.runner.posix`) sleeps in ``select`` on a signal wake-up pipe: the agent
ending (SIGCHLD), a cancel (SIGUSR1), being told to stop (SIGTERM) and the deadline (the
timeout) each wake it, and nothing else does. Windows (:mod:`app.runner.windows`) keeps
its own ways: ``subprocess`` with its creation flags, a thread that waits on the agent,
and a poll of the ``cancel`` file, since it has no signals to send one.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod  # abc is loaded with every Python: it costs nothing


class Waiter(ABC):
    """How one runner starts processes and waits on them; one instance per runner."""

    stop_signal: int | None = None
    """A signal that told the runner itself to stop (SIGTERM at logout), once received."""

    cancel_signal: int | None = None
    """The signal that tells of a cancel, named in the heartbeat; None: the file is polled."""

    @abstractmethod
    def install(self) -> None:
        """Take the signals the runner listens to (before anything is started)."""

    @abstractmethod
    def spawn(
        self, argv: list[str], cwd: str, env: dict[str, str], stdin: str | None, output: int
    ) -> int:
        """Start ``argv`` in ``cwd`` leading its own process group, stdout and stderr on
        the ``output`` fd, stdin from the file ``stdin`` (or nothing); its pid. OSError
        (with the errno of the failed exec) when it cannot be started."""

    @abstractmethod
    def stamp(self, pid: int) -> float | None:
        """The process's start stamp as :func:`app.runner.procs.start_stamp` gives it, or
        None if it is already gone."""

    @abstractmethod
    def sleep(self, pid: int, timeout: float) -> int | None:
        """Sleep until ``pid`` ends, a signal arrives or ``timeout`` seconds pass. The
        returncode (negative: killed by that signal) once it ended, else None."""

    @abstractmethod
    def cancel_hinted(self) -> bool:
        """Whether the ``cancel`` file is worth a look now (a cancel signal came, or this
        platform polls); the hint is cleared."""

    @abstractmethod
    def reap(self, pid: int) -> int:
        """Wait for ``pid`` to end and return its returncode."""

    @abstractmethod
    def stop_tree(self, pid: int, grace: float) -> None:
        """Ask ``pid`` and its descendants to stop, then kill what is left after ``grace``."""

    @abstractmethod
    def stop_leftovers(self, pgid: int, grace: float) -> int:
        """Stop what is left of a process group after its leader ended; how many there were."""


def waiter_class(platform: str = sys.platform) -> type[Waiter]:
    """The waiter for ``platform``; only its module is imported."""
    if platform == "win32":
        from app.runner.windows import WindowsWaiter

        return WindowsWaiter
    from app.runner.posix import PosixWaiter

    return PosixWaiter
