"""The runner's waiter on Linux and macOS: fork and exec, then sleep in ``select``.

Every signal the runner listens to has a handler and writes its number to a wake-up pipe
(``signal.set_wakeup_fd``), so ``select`` on that pipe, with the deadline or the next
heartbeat as its timeout, sleeps until something happened: SIGCHLD (the agent ended),
SIGUSR1 (a cancel was written), SIGTERM (stop). A signal that lands between a check and
the ``select`` is still in the pipe, so none is missed. ``_signal`` rather than
``signal``: the latter wraps the numbers in ``enum``, a third of a waiting runner.

psutil is imported only on the rare paths that need it: stopping a tree (cancel,
timeout), leftovers of an agent, and start stamps where there is no ``/proc`` (macOS).
"""

from __future__ import annotations

import _signal
import os
import select

from app.runner import procinfo
from app.runner.waiter import Waiter

# Dispositions Python itself changes at start-up (SIGPIPE, SIGXFSZ ignored) or the runner
# does (SIGHUP ignored): an ignored signal survives exec, so the agent gets the defaults
# back, as subprocess's restore_signals does.
_RESTORED = ("SIGPIPE", "SIGXFSZ", "SIGXFZ", "SIGHUP")
CANCEL_SIGNAL = _signal.SIGUSR1


class PosixWaiter(Waiter):
    cancel_signal = CANCEL_SIGNAL

    def __init__(self) -> None:
        self._wake_r = -1
        self._cancel_hint = False
        self._codes: dict[int, int] = {}

    def install(self) -> None:
        self._wake_r, wake_w = os.pipe()  # both close on exec: the agent never sees them
        os.set_blocking(self._wake_r, False)
        os.set_blocking(wake_w, False)
        _signal.set_wakeup_fd(wake_w)
        for signum in (_signal.SIGCHLD, _signal.SIGTERM, CANCEL_SIGNAL):
            _signal.signal(signum, self._on_signal)
        _signal.signal(_signal.SIGHUP, _signal.SIG_IGN)  # a closed terminal must not stop it

    def _on_signal(self, signum: int, _frame: object) -> None:
        if signum == CANCEL_SIGNAL:
            self._cancel_hint = True
        elif signum == _signal.SIGTERM:
            self.stop_signal = signum
        # SIGCHLD: the byte in the wake-up pipe was the point

    # ------------------------------------------------------------------ starting

    def spawn(
        self, argv: list[str], cwd: str, env: dict[str, str], stdin: str | None, output: int
    ) -> int:
        source = os.open(stdin or os.devnull, os.O_RDONLY)
        report_r, report_w = os.pipe()  # close on exec: EOF at once when exec works
        try:
            pid = os.fork()
            if pid == 0:  # the child: never returns
                _exec_child(argv, cwd, env, source, output, report_w)
        finally:
            os.close(source)
            os.close(report_w)
        try:
            report = _read_all(report_r)
        finally:
            os.close(report_r)
        if report:
            os.waitpid(pid, 0)
            code = int(report) if report.isdigit() else 0
            raise OSError(code, os.strerror(code) if code else "it failed before it could start")
        return pid

    def stamp(self, pid: int) -> float | None:
        if procinfo.LINUX:
            return procinfo.since_boot(pid)
        from app.runner import procs  # macOS: no /proc to read it from, psutil does

        return procs.stamp_of(pid)

    # ------------------------------------------------------------------ waiting

    def sleep(self, pid: int, timeout: float) -> int | None:
        code = self._ended(pid)
        if code is not None:
            return code
        if timeout > 0:
            select.select([self._wake_r], [], [], timeout)
        self._drain()
        return self._ended(pid)

    def cancel_hinted(self) -> bool:
        hinted, self._cancel_hint = self._cancel_hint, False
        return hinted

    def reap(self, pid: int) -> int:
        while pid not in self._codes:
            try:
                _, status = os.waitpid(pid, 0)
            except InterruptedError:  # pragma: no cover - PEP 475 retries it already
                continue
            self._codes[pid] = os.waitstatus_to_exitcode(status)
        return self._codes[pid]

    def _ended(self, pid: int) -> int | None:
        if pid not in self._codes:
            reaped, status = os.waitpid(pid, os.WNOHANG)
            if reaped == 0:
                return None
            self._codes[pid] = os.waitstatus_to_exitcode(status)
        return self._codes[pid]

    def _drain(self) -> None:
        try:
            while os.read(self._wake_r, 512):
                pass
        except BlockingIOError:
            pass

    # ------------------------------------------------------------------ stopping

    def stop_tree(self, pid: int, grace: float) -> None:
        from app.runner import procs  # a rare path (cancel, timeout): psutil is worth it here

        procs.kill_tree_of(pid, grace)

    def stop_leftovers(self, pgid: int, grace: float) -> int:
        if not procinfo.group_may_remain(pgid):
            return 0
        from app.runner import procs  # someone is left: psutil finds them

        return procs.stop_group(pgid, grace)


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, 64)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _exec_child(
    argv: list[str], cwd: str, env: dict[str, str], source: int, output: int, report: int
) -> None:
    """In the forked child: a session of its own, the standard streams, the signal
    defaults, then exec; a failure is reported to the runner as its errno."""
    code = b"0"
    try:
        _signal.set_wakeup_fd(-1)
        for name in (*_RESTORED, "SIGCHLD", "SIGTERM", "SIGUSR1"):
            signum = getattr(_signal, name, None)
            if signum is not None:
                _signal.signal(signum, _signal.SIG_DFL)
        os.setsid()
        os.chdir(cwd)
        os.dup2(source, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        code = str(exc.errno or 0).encode()
    except BaseException:  # whatever it was, the child must not return to our code
        pass
    try:
        os.write(report, code)
    finally:
        os._exit(127)
