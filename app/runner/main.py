"""The detached per-run process (DESIGN §3).

It spawns the agent with stdout and stderr on ``output.log`` (no pipe: nothing of ours can
block or kill the agent by dying), records both processes in ``runner.json``, then waits,
touching ``heartbeat``, honouring ``cancel`` and the deadline, and finally writes
``exit.json`` once. It alone decides how a run ended, so completion, cancel and timeout can
never race each other.

It imports only the stdlib, psutil and a few small Agentry modules, so it starts fast.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, NamedTuple

import psutil

from app.core.platform import agent_popen_kwargs, popen_command
from app.core.states import ExitReason
from app.runner import procs, protocol
from app.runner.protocol import ExitInfo, RunnerInfo, RunSpec, SetupInfo
from app.store import diskspace
from app.store.fsops import private_opener

log = logging.getLogger("agentry.runner")

POLL_S = 0.25
HEARTBEAT_S = 2.0
EXIT_WRITE_ATTEMPTS = 2000  # about three hours at the 5 s cap between attempts
BOLD, RESET = "\x1b[1m", "\x1b[0m"  # the Setup section's frame stands out in the transcript


class Ending(NamedTuple):
    """How a run ends before its agent ran: what ``exit.json`` will say."""

    returncode: int | None
    reason: ExitReason
    message: str


class Runner:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self._stop_signal: int | None = None

    # ------------------------------------------------------------------ entry

    def run(self) -> int:
        if protocol.read_exit(self.run_dir) is not None:
            log.error("%s already has exit.json; refusing to run it twice", self.run_dir)
            return 2
        try:
            spec = protocol.read_spec(self.run_dir)
        except (protocol.ProtocolError, FileNotFoundError) as exc:
            return self._finish(None, ExitReason.SPAWN_ERROR, f"cannot read the run spec: {exc}")
        # Private (0600) whatever the umask: the agent inherits the user's own umask.
        output_log = protocol.output_log(self.run_dir)
        with open(output_log, "ab", buffering=0, opener=private_opener) as output:
            return self._supervise(spec, output)

    def _supervise(self, spec: RunSpec, output: IO[bytes]) -> int:
        if protocol.cancel_requested(self.run_dir):  # cancelled while it was starting
            message = "[agentry] cancelled by the user before the agent started"
            self._note(output, message)
            return self._finish(None, ExitReason.CANCELLED, message)
        problem = self._precheck(spec)
        if problem is not None:
            self._note(output, problem)
            return self._finish(None, ExitReason.SPAWN_ERROR, problem)
        began = time.time()
        # The limit is kept on the monotonic clock: a wall-clock step must not end a run
        # early or let it run on (runner.json keeps the wall-clock deadline to show). It
        # counts from the setup's start: the setup is part of the run.
        limit = time.monotonic() + spec.timeout if spec.timeout else None
        setup_s = None
        if spec.setup:
            passed = self._setup(spec, spec.setup, output, limit)
            if isinstance(passed, Ending):
                return self._finish(*passed)
            setup_s = passed
        try:
            agent = self._spawn(spec.argv, spec, output, stdin=spec.stdin)
        except OSError as exc:
            problem = f"could not start {spec.argv[0]!r} in {spec.cwd}: {exc.strerror or exc}"
            self._note(output, problem)
            return self._finish(None, ExitReason.SPAWN_ERROR, problem)
        deadline = began + spec.timeout if spec.timeout else None
        try:
            done = self._record(agent, time.time(), deadline, setup_s)
        except OSError as exc:
            # Unrecorded, the agent would run on with nobody able to find or stop it.
            self._kill(agent, spec.grace)
            agent.wait()
            unrecorded = _unrecorded(self.run_dir, protocol.RUNNER, exc)
            problem = f"[agentry] {unrecorded}; the agent was stopped"
            self._note(output, problem)
            return self._finish(None, ExitReason.SPAWN_ERROR, problem)
        reason, message = self._wait(agent, done, spec, limit, "the agent")
        done.wait()  # the reaper thread alone waits on the agent: no ECHILD race
        returncode = agent.returncode
        if message:
            self._note(output, message)
        left = procs.stop_group(agent.pid, spec.grace)
        if left:
            self._note(output, f"[agentry] stopped {left} process(es) the agent left running")
        return self._finish(returncode, reason, message)

    # ------------------------------------------------------------------ steps

    def _precheck(self, spec: RunSpec) -> str | None:
        """Name the missing piece precisely, rather than letting Popen blame the program."""
        if not os.path.isdir(spec.cwd):
            return f"the working folder {spec.cwd} does not exist"
        if spec.stdin and not (self.run_dir / spec.stdin).is_file():
            return f"the prompt file {self.run_dir / spec.stdin} is missing"
        return None

    def _setup(
        self, spec: RunSpec, argv: list[str], output: IO[bytes], limit: float | None
    ) -> float | Ending:
        """Run the worktree's setup command before the agent, its output framed as the
        transcript's Setup section. Returns its duration when it passed; otherwise how
        the run ends (the agent is never started)."""
        command = spec.setup_command or " ".join(argv)
        self._note(output, f"{BOLD}[agentry] ── Setup: {command} ──{RESET}")
        began = time.monotonic()
        try:
            setup = self._spawn(argv, spec, output, stdin=None)
        except OSError as exc:
            problem = f"could not start the setup command `{command}`: {exc.strerror or exc}"
            self._note(output, f"{BOLD}[agentry] ── Setup failed: {problem} ──{RESET}")
            return Ending(None, ExitReason.SETUP_FAILED, problem)
        done = self._watch(setup)
        try:
            self._record_setup(setup)
        except OSError as exc:  # unrecorded, it could not be found and stopped later
            self._kill(setup, spec.grace)
            done.wait()
            problem = f"{_unrecorded(self.run_dir, protocol.SETUP, exc)}; the setup was stopped"
            self._note(output, f"[agentry] {problem}")
            return Ending(None, ExitReason.SPAWN_ERROR, problem)
        reason, message = self._wait(setup, done, spec, limit, "the setup command")
        done.wait()
        if message:
            self._note(output, message)
        left = procs.stop_group(setup.pid, spec.grace)
        if left:
            self._note(output, f"[agentry] stopped {left} process(es) the setup left running")
        took = time.monotonic() - began
        code = setup.returncode
        if reason is ExitReason.EXIT and code == 0:
            self._note(output, f"{BOLD}[agentry] ── Setup passed in {took:.1f} s ──{RESET}")
            return took
        if reason is not ExitReason.EXIT:  # cancelled, timed out, told to stop
            self._note(output, f"{BOLD}[agentry] ── Setup stopped after {took:.1f} s ──{RESET}")
            return Ending(None, reason, message)
        ended = f"exit code {code}" if code >= 0 else f"signal {-code}"
        self._note(output, f"{BOLD}[agentry] ── Setup failed: {ended} after {took:.1f} s ──{RESET}")
        failed = f"the setup command `{command}` failed with {ended} (see the Setup section)"
        return Ending(None, ExitReason.SETUP_FAILED, failed)

    def _spawn(
        self, argv: list[str], spec: RunSpec, output: IO[bytes], *, stdin: str | None
    ) -> subprocess.Popen[bytes]:
        env = {**os.environ, **spec.env}
        source: Any = subprocess.DEVNULL
        if stdin:
            source = open(self.run_dir / stdin, "rb")  # noqa: SIM115 - closed below
        try:
            return subprocess.Popen(
                popen_command(argv),  # a cmd line on Windows: LINE as cmd.exe reads it
                cwd=spec.cwd,
                env=env,
                stdin=source,
                stdout=output,
                stderr=subprocess.STDOUT,
                **agent_popen_kwargs(),
            )
        finally:
            if source is not subprocess.DEVNULL:
                source.close()

    def _record(
        self,
        agent: subprocess.Popen[bytes],
        started: float,
        deadline: float | None,
        setup_s: float | None,
    ) -> threading.Event:
        me = psutil.Process()
        try:
            agent_ct = procs.start_stamp(psutil.Process(agent.pid))
        except psutil.NoSuchProcess:
            agent_ct = started  # already gone; the waiter reaps it and exit.json follows
        info = RunnerInfo(
            me.pid, procs.start_stamp(me), agent.pid, agent_ct, started, deadline, setup_s
        )
        protocol.write_runner_info(self.run_dir, info)
        return self._watch(agent)

    def _record_setup(self, setup: subprocess.Popen[bytes]) -> None:
        """setup.json, so a runner that dies now is known to have started, and its setup
        can be found and stopped."""
        started = time.time()
        try:
            stamp = procs.start_stamp(psutil.Process(setup.pid))
        except psutil.NoSuchProcess:
            stamp = started
        protocol.write_setup_info(self.run_dir, SetupInfo(setup.pid, stamp, started))

    def _watch(self, process: subprocess.Popen[bytes]) -> threading.Event:
        """A thread that alone waits on ``process``; the event is set when it has ended."""
        done = threading.Event()
        threading.Thread(target=self._reap, args=(process, done), daemon=True).start()
        return done

    def _reap(self, process: subprocess.Popen[bytes], done: threading.Event) -> None:
        process.wait()
        done.set()

    def _wait(
        self,
        process: subprocess.Popen[bytes],
        done: threading.Event,
        spec: RunSpec,
        deadline: float | None,
        what: str,
    ) -> tuple[ExitReason, str]:
        next_beat = 0.0
        while not done.wait(POLL_S):
            now = time.monotonic()
            if now >= next_beat:
                self._beat()
                next_beat = now + HEARTBEAT_S
            stop = self._stop_reason(now, spec, deadline, what)
            if stop is not None:
                self._kill(process, spec.grace)
                return stop
        return ExitReason.EXIT, ""

    def _stop_reason(
        self, now: float, spec: RunSpec, deadline: float | None, what: str
    ) -> tuple[ExitReason, str] | None:
        if protocol.cancel_requested(self.run_dir):
            return ExitReason.CANCELLED, f"[agentry] cancelled by the user; stopped {what}"
        if deadline is not None and now >= deadline:
            return (
                ExitReason.TIMEOUT,
                f"[agentry] timed out after {spec.timeout:g} s; stopped {what}",
            )
        if self._stop_signal is not None:
            return (
                ExitReason.INTERRUPTED,
                f"[agentry] the runner received signal {self._stop_signal}; stopped {what}",
            )
        return None

    def _kill(self, process: subprocess.Popen[bytes], grace: float) -> None:
        try:
            root = psutil.Process(process.pid)
        except psutil.NoSuchProcess:
            return
        procs.kill_tree(root, grace)

    def _beat(self) -> None:
        path = self.run_dir / protocol.HEARTBEAT
        try:
            with open(path, "wb", opener=private_opener) as beat:
                beat.write(f"{time.time():.3f}\n".encode())
        except OSError as exc:  # a full disk must not stop the supervision itself
            log.warning("could not touch %s: %s", path, exc)

    def _note(self, output: IO[bytes], message: str) -> None:
        """Append a line of our own, on a line of its own, after whatever the agent wrote."""
        try:
            output.write(f"{self._line_break()}{message}\n".encode())
        except OSError as exc:
            log.warning("could not append to %s: %s", protocol.output_log(self.run_dir), exc)

    def _line_break(self) -> str:
        try:
            with open(protocol.output_log(self.run_dir), "rb") as f:
                f.seek(-1, os.SEEK_END)
                return "" if f.read(1) == b"\n" else "\n"
        except OSError:  # empty file
            return ""

    def _finish(self, returncode: int | None, reason: ExitReason, message: str) -> int:
        info = ExitInfo(returncode, reason, time.time(), message.removeprefix("[agentry] "))
        delay = 0.1
        for attempt in itertools.count(1):
            try:
                protocol.write_exit(self.run_dir, info)
                break
            except OSError as exc:
                # A full disk (or a folder briefly locked) must not lose how the run
                # ended: stay alive, beating, so the run shows as running, and retry.
                if attempt >= EXIT_WRITE_ATTEMPTS:
                    raise
                log.warning("could not write exit.json (attempt %s): %s", attempt, exc)
                self._beat()
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        log.info("run ended: %s (returncode %s)", reason.value, returncode)
        return 0

    def on_signal(self, signum: int, _frame: object) -> None:
        self._stop_signal = signum


def _unrecorded(run_dir: Path, name: str, exc: OSError) -> str:
    """Why runner.json (or setup.json) could not be written: a full or read-only disk is
    said as such."""
    what = "the agent" if name == protocol.RUNNER else "the setup command"
    trouble = diskspace.trouble(run_dir, exc)
    return f"could not record {what} in {run_dir / name}: {trouble or exc}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m app.runner RUN_DIR", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s runner[%(process)d] %(levelname)s %(message)s"
    )
    runner = Runner(Path(args[0]).resolve())
    signal.signal(signal.SIGTERM, runner.on_signal)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a closed terminal must not stop agents
    return runner.run()
