"""The detached per-run process (DESIGN §3).

It spawns the agent with stdout and stderr on ``output.log`` (no pipe: nothing of ours can
block or kill the agent by dying), records both processes in ``runner.json``, then waits,
touching ``heartbeat``, honouring ``cancel`` and the deadline, and finally writes
``exit.json`` once. It alone decides how a run ended, so completion, cancel and timeout can
never race each other.

One runner lives beside every running agent, for hours, so what it costs while it waits
is what Agentry costs per agent. Agentry starts it as ``python -I -S`` (no site, no
environment), and while it waits it holds only modules every Python loads at start-up
plus ``select``: no ``json``, ``enum``, ``logging``, ``subprocess``, ``threading`` or
psutil (those only on the paths that need them: stopping a tree, Windows). It sleeps
until something happens (:mod:`app.runner.waiter`): the agent ending, a cancel, a stop,
the deadline, or the heartbeat, which is once a minute (only ``doctor`` shows its age) and
also re-reads ``cancel`` in case a cancel's signal was lost.
"""

from __future__ import annotations

import os
import sys
import time

from app.core import atomicfile
from app.runner import records
from app.runner.waiter import Waiter, waiter_class

TYPE_CHECKING = False  # typing itself is too big to import here; mypy reads this as usual
if TYPE_CHECKING:
    from collections.abc import Mapping

HEARTBEAT_S = records.HEARTBEAT_S
MEMORY_CHECK_S = 1.0  # how often a task's memory limit is measured (only when it has one)
BEAT_ENV = "AGENTRY_RUNNER_BEAT_S"  # a shorter heartbeat (and cancel re-check), for tests
MODULES_ENV = "AGENTRY_RUNNER_MODULES"  # a file to list the modules a waiting runner holds
EXIT_WRITE_ATTEMPTS = 2000  # about three hours at the 5 s cap between attempts
BOLD, RESET = "\x1b[1m", "\x1b[0m"  # the Setup section's frame stands out in the transcript
_APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)

# How a run ends before or instead of its agent's own exit: (returncode, reason, message).
Ending = tuple[int | None, str, str]


class Runner:
    def __init__(self, run_dir: str, waiter: Waiter, beat_s: float = HEARTBEAT_S) -> None:
        self.run_dir = run_dir
        self.waiter = waiter
        self.beat_s = beat_s
        self.memory_limit: int | None = None  # bytes the agent's process tree may use
        self._listed_modules = False

    # ------------------------------------------------------------------ entry

    def run(self) -> int:
        if os.path.exists(self._path(records.EXIT)):
            log("ERROR", f"{self.run_dir} already has exit.json; refusing to run it twice")
            return 2
        try:
            spec = records.read_spec(self.run_dir)
        except (records.RecordError, OSError) as exc:
            return self._finish(None, records.SPAWN_ERROR, f"cannot read the run spec: {exc}")
        # Private (0600) whatever the umask: the agent inherits the user's own umask.
        output = atomicfile.private_opener(self._path(records.OUTPUT), _APPEND)
        try:
            return self._supervise(spec, output)
        finally:
            os.close(output)

    def _supervise(self, spec: dict[str, object], output: int) -> int:
        if self._cancelled():  # cancelled while it was starting
            message = "[agentry] cancelled by the user before the agent started"
            self._note(output, message)
            return self._finish(None, records.CANCELLED, message)
        problem = self._precheck(spec)
        if problem is not None:
            self._note(output, problem)
            return self._finish(None, records.SPAWN_ERROR, problem)
        timeout = _number(spec["timeout"])
        began = time.time()
        # The limit is kept on the monotonic clock: a wall-clock step must not end a run
        # early or let it run on (runner.json keeps the wall-clock deadline to show). It
        # counts from the setup's start: the setup is part of the run.
        limit = time.monotonic() + timeout if timeout else None
        setup_s = None
        setup = spec["setup"]
        if isinstance(setup, list):
            passed = self._setup(spec, setup, output, limit)
            if isinstance(passed, tuple):
                return self._finish(*passed)
            setup_s = passed
        argv = _strings(spec["argv"])
        try:
            agent = self._spawn(argv, spec, output, stdin=spec["stdin"])
        except OSError as exc:
            problem = f"could not start {argv[0]!r} in {spec['cwd']}: {exc.strerror or exc}"
            self._note(output, problem)
            return self._finish(None, records.SPAWN_ERROR, problem)
        grace = _number(spec["grace"]) or 0.0
        try:
            self._record(agent, time.time(), began + timeout if timeout else None, setup_s)
        except OSError as exc:
            # Unrecorded, the agent would run on with nobody able to find or stop it.
            self.waiter.stop_tree(agent, grace)
            self.waiter.reap(agent)
            problem = f"[agentry] {self._unrecorded(records.RUNNER, exc)}; the agent was stopped"
            self._note(output, problem)
            return self._finish(None, records.SPAWN_ERROR, problem)
        memory = _number(spec["memory_limit_mb"])
        self.memory_limit = int(memory * 1024 * 1024) if memory else None
        reason, message = self._wait(agent, grace, limit, timeout, "the agent")
        self.memory_limit = None
        returncode = self.waiter.reap(agent)
        if message:
            self._note(output, message)
        left = self.waiter.stop_leftovers(agent, grace)
        if left:
            self._note(output, f"[agentry] stopped {left} process(es) the agent left running")
        return self._finish(returncode, reason, message)

    # ------------------------------------------------------------------ steps

    def _precheck(self, spec: dict[str, object]) -> str | None:
        """Name the missing piece precisely, rather than letting the exec blame the program."""
        if not os.path.isdir(str(spec["cwd"])):
            return f"the working folder {spec['cwd']} does not exist"
        stdin = spec["stdin"]
        if isinstance(stdin, str) and stdin and not os.path.isfile(self._path(stdin)):
            return f"the prompt file {self._path(stdin)} is missing"
        return None

    def _setup(
        self, spec: dict[str, object], argv: list[str], output: int, limit: float | None
    ) -> float | Ending:
        """Run the worktree's setup command before the agent, its output framed as the
        transcript's Setup section. Returns its duration when it passed; otherwise how
        the run ends (the agent is never started)."""
        command = str(spec["setup_command"]) or " ".join(argv)
        self._note(output, f"{BOLD}[agentry] ── Setup: {command} ──{RESET}")
        began = time.monotonic()
        grace = _number(spec["grace"]) or 0.0
        try:
            setup = self._spawn(argv, spec, output, stdin=None)
        except OSError as exc:
            problem = f"could not start the setup command `{command}`: {exc.strerror or exc}"
            self._note(output, f"{BOLD}[agentry] ── Setup failed: {problem} ──{RESET}")
            return None, records.SETUP_FAILED, problem
        try:
            self._record_setup(setup)
        except OSError as exc:  # unrecorded, it could not be found and stopped later
            self.waiter.stop_tree(setup, grace)
            self.waiter.reap(setup)
            problem = f"{self._unrecorded(records.SETUP, exc)}; the setup was stopped"
            self._note(output, f"[agentry] {problem}")
            return None, records.SPAWN_ERROR, problem
        timeout = _number(spec["timeout"])
        reason, message = self._wait(setup, grace, limit, timeout, "the setup command")
        code = self.waiter.reap(setup)
        if message:
            self._note(output, message)
        left = self.waiter.stop_leftovers(setup, grace)
        if left:
            self._note(output, f"[agentry] stopped {left} process(es) the setup left running")
        took = time.monotonic() - began
        if reason == records.EXIT_REASON and code == 0:
            self._note(output, f"{BOLD}[agentry] ── Setup passed in {took:.1f} s ──{RESET}")
            return took
        if reason != records.EXIT_REASON:  # cancelled, timed out, told to stop
            self._note(output, f"{BOLD}[agentry] ── Setup stopped after {took:.1f} s ──{RESET}")
            return None, reason, message
        ended = f"exit code {code}" if code >= 0 else f"signal {-code}"
        self._note(output, f"{BOLD}[agentry] ── Setup failed: {ended} after {took:.1f} s ──{RESET}")
        failed = f"the setup command `{command}` failed with {ended} (see the Setup section)"
        return None, records.SETUP_FAILED, failed

    def _spawn(
        self, argv: list[str], spec: dict[str, object], output: int, *, stdin: object
    ) -> int:
        env = {**os.environ, **_text_map(spec["env"])}
        source = self._path(stdin) if isinstance(stdin, str) and stdin else None
        return self.waiter.spawn(argv, str(spec["cwd"]), env, source, output)

    def _record(
        self, agent: int, started: float, deadline: float | None, setup_s: float | None
    ) -> None:
        me = os.getpid()
        agent_ct = self.waiter.stamp(agent)
        info: dict[str, object] = {
            "runner_pid": me,
            "runner_create_time": self.waiter.stamp(me) or started,
            "agent_pid": agent,
            # already gone: the wait reaps it and exit.json follows
            "agent_create_time": started if agent_ct is None else agent_ct,
            "started_at": started,
            "deadline": deadline,
            "setup_s": setup_s,
        }
        records.write_record(self.run_dir, records.RUNNER, info)

    def _record_setup(self, setup: int) -> None:
        """setup.json, so a runner that dies now is known to have started, and its setup
        can be found and stopped."""
        started = time.time()
        stamp = self.waiter.stamp(setup)
        info: dict[str, object] = {
            "pid": setup,
            "create_time": started if stamp is None else stamp,
            "started_at": started,
        }
        records.write_record(self.run_dir, records.SETUP, info)

    def _wait(
        self, pid: int, grace: float, limit: float | None, timeout: float | None, what: str
    ) -> tuple[str, str]:
        """Sleep until ``pid`` ends, or stop it for a cancel, the deadline or a signal."""
        check = True  # a cancel written before its pid was recorded had no one to signal
        next_beat = 0.0
        next_measure = 0.0
        while True:
            now = time.monotonic()
            if now >= next_beat:
                self._beat()
                next_beat = now + self.beat_s
                check = True  # a cancel whose signal was lost still counts
            stop = self._stop_reason(check, now, limit, timeout, what)
            if stop is None and self.memory_limit is not None and now >= next_measure:
                stop = self._over_memory(pid, what)
                next_measure = now + MEMORY_CHECK_S
            if stop is not None:
                self.waiter.stop_tree(pid, grace)
                return stop
            self._list_modules()
            wake = next_beat if limit is None else min(next_beat, limit)
            if self.memory_limit is not None:
                wake = min(wake, next_measure)
            if self.waiter.sleep(pid, wake - now) is not None:
                return records.EXIT_REASON, ""
            check = self.waiter.cancel_hinted()

    def _stop_reason(
        self, check: bool, now: float, limit: float | None, timeout: float | None, what: str
    ) -> tuple[str, str] | None:
        if check and self._cancelled():
            return records.CANCELLED, f"[agentry] cancelled by the user; stopped {what}"
        if limit is not None and now >= limit:
            return records.TIMEOUT, f"[agentry] timed out after {timeout:g} s; stopped {what}"
        if self.waiter.stop_signal is not None:
            return (
                records.INTERRUPTED,
                f"[agentry] the runner received signal {self.waiter.stop_signal}; stopped {what}",
            )
        return None

    def _over_memory(self, pid: int, what: str) -> tuple[str, str] | None:
        """The memory limit's verdict on the process tree, measured now. psutil is loaded
        only by a runner whose task has a limit: it is what measures a tree."""
        from app.runner import procs

        used = procs.tree_memory(pid)
        if used is None or self.memory_limit is None or used <= self.memory_limit:
            return None
        from app.core.sizes import format_size

        limit = format_size(self.memory_limit)
        return records.MEMORY_LIMIT, (
            f"[agentry] used {format_size(used)}, over its {limit} limit; stopped {what}"
        )

    def _cancelled(self) -> bool:
        return os.path.exists(self._path(records.CANCEL))

    def _beat(self) -> None:
        path = self._path(records.HEARTBEAT)
        text = records.heartbeat_text(time.time(), self.waiter.cancel_signal)
        try:
            fd = atomicfile.private_opener(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            try:
                os.write(fd, text.encode())
            finally:
                os.close(fd)
        except OSError as exc:  # a full disk must not stop the supervision itself
            log("WARNING", f"could not touch {path}: {exc}")

    def _note(self, output: int, message: str) -> None:
        """Append a line of our own, on a line of its own, after whatever the agent wrote."""
        try:
            os.write(output, f"{self._line_break()}{message}\n".encode())
        except OSError as exc:
            log("WARNING", f"could not append to {self._path(records.OUTPUT)}: {exc}")

    def _line_break(self) -> str:
        try:
            fd = os.open(self._path(records.OUTPUT), os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError:
            return ""
        try:
            os.lseek(fd, -1, os.SEEK_END)
            return "" if os.read(fd, 1) == b"\n" else "\n"
        except OSError:  # empty file
            return ""
        finally:
            os.close(fd)

    def _finish(self, returncode: int | None, reason: str, message: str) -> int:
        info: dict[str, object] = {
            "returncode": returncode,
            "reason": reason,
            "ended_at": time.time(),
            "message": message.removeprefix("[agentry] "),
        }
        delay = 0.1
        attempt = 0
        while True:
            attempt += 1
            try:
                records.write_record(self.run_dir, records.EXIT, info)
                break
            except OSError as exc:
                # A full disk (or a folder briefly locked) must not lose how the run
                # ended: stay alive, beating, so the run shows as running, and retry.
                if attempt >= EXIT_WRITE_ATTEMPTS:
                    raise
                log("WARNING", f"could not write exit.json (attempt {attempt}): {exc}")
                self._beat()
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        log("INFO", f"run ended: {reason} (returncode {returncode})")
        return 0

    def _unrecorded(self, name: str, exc: OSError) -> str:
        """Why runner.json (or setup.json) could not be written: a full or read-only disk
        is said as such."""
        from pathlib import Path  # a rare path: the disk is in trouble

        from app.store import diskspace

        what = "the agent" if name == records.RUNNER else "the setup command"
        trouble = diskspace.trouble(Path(self.run_dir), exc)
        return f"could not record {what} in {self._path(name)}: {trouble or exc}"

    def _list_modules(self) -> None:
        """For tests: name the modules this runner holds while it waits (MODULES_ENV)."""
        target = os.environ.get(MODULES_ENV)
        if target and not self._listed_modules:
            self._listed_modules = True
            atomicfile.replace(target, "\n".join(sorted(sys.modules)).encode())

    def _path(self, name: str) -> str:
        return os.path.join(self.run_dir, name)


def log(level: str, message: str) -> None:
    """One line on stderr (``runner.log``), as the logging module would write it."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
    millis = int(now % 1 * 1000)
    sys.stderr.write(f"{stamp},{millis:03d} runner[{os.getpid()}] {level} {message}\n")
    sys.stderr.flush()


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _strings(value: object) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _text_map(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def beat_interval(environ: Mapping[str, str] = os.environ) -> float:
    """The heartbeat (and cancel re-check) interval: a minute, unless a test asks for less."""
    try:
        chosen = float(environ.get(BEAT_ENV, HEARTBEAT_S))
    except ValueError:
        return HEARTBEAT_S
    return chosen if chosen > 0 else HEARTBEAT_S


def main(argv: list[str] | None = None) -> int:
    """``[--lib DIR]... [--runner] RUN_DIR``: ``--lib`` adds a folder to look for psutil
    in (a runner started with ``-S`` has no site-packages; protocol.runner_command)."""
    args = sys.argv[1:] if argv is None else list(argv)
    while args[:1] == ["--lib"] and len(args) >= 2:
        sys.path.append(args[1])  # last: nothing of the standard library is shadowed
        args = args[2:]
    if args[:1] == ["--runner"]:
        args = args[1:]
    if len(args) != 1:
        sys.stderr.write("usage: python -m app.runner [--lib DIR] [--runner] RUN_DIR\n")
        return 2
    waiter = waiter_class()()
    waiter.install()
    runner = Runner(os.path.realpath(args[0]), waiter, beat_interval())
    return runner.run()
