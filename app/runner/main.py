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
from typing import IO, Any

import psutil

from app.core.platform import agent_popen_kwargs
from app.core.states import ExitReason
from app.runner import procs, protocol
from app.runner.protocol import ExitInfo, RunnerInfo, RunSpec

log = logging.getLogger("agentry.runner")

POLL_S = 0.25
HEARTBEAT_S = 2.0
EXIT_WRITE_ATTEMPTS = 2000  # about three hours at the 5 s cap between attempts


class Runner:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self._stop_signal: int | None = None
        self._agent_done = threading.Event()

    # ------------------------------------------------------------------ entry

    def run(self) -> int:
        if protocol.read_exit(self.run_dir) is not None:
            log.error("%s already has exit.json; refusing to run it twice", self.run_dir)
            return 2
        try:
            spec = protocol.read_spec(self.run_dir)
        except (protocol.ProtocolError, FileNotFoundError) as exc:
            return self._finish(None, ExitReason.SPAWN_ERROR, f"cannot read the run spec: {exc}")
        with open(protocol.output_log(self.run_dir), "ab", buffering=0) as output:
            return self._supervise(spec, output)

    def _supervise(self, spec: RunSpec, output: IO[bytes]) -> int:
        if protocol.cancel_requested(self.run_dir):  # cancelled while it was starting
            message = "[agentry] cancelled by the user before the agent started"
            self._note(output, message)
            return self._finish(None, ExitReason.CANCELLED, message)
        agent, problem = None, self._precheck(spec)
        if problem is None:
            try:
                agent = self._spawn(spec, output)
            except OSError as exc:
                problem = f"could not start {spec.argv[0]!r} in {spec.cwd}: {exc.strerror or exc}"
        if agent is None:
            self._note(output, problem or "could not start the agent")
            return self._finish(None, ExitReason.SPAWN_ERROR, problem or "")
        started = time.time()
        deadline = started + spec.timeout if spec.timeout else None
        self._record(agent, started, deadline)
        # The limit is kept on the monotonic clock: a wall-clock step must not end a run
        # early or let it run on (runner.json keeps the wall-clock deadline to show).
        limit = time.monotonic() + spec.timeout if spec.timeout else None
        reason, message = self._wait(agent, spec, limit)
        self._agent_done.wait()  # the reaper thread alone waits on the agent: no ECHILD race
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

    def _spawn(self, spec: RunSpec, output: IO[bytes]) -> subprocess.Popen[bytes]:
        env = {**os.environ, **spec.env}
        stdin: Any = subprocess.DEVNULL
        if spec.stdin:
            stdin = open(self.run_dir / spec.stdin, "rb")  # noqa: SIM115 - closed below
        try:
            return subprocess.Popen(
                spec.argv,
                cwd=spec.cwd,
                env=env,
                stdin=stdin,
                stdout=output,
                stderr=subprocess.STDOUT,
                **agent_popen_kwargs(),
            )
        finally:
            if stdin is not subprocess.DEVNULL:
                stdin.close()

    def _record(
        self, agent: subprocess.Popen[bytes], started: float, deadline: float | None
    ) -> None:
        me = psutil.Process()
        try:
            agent_ct = procs.start_stamp(psutil.Process(agent.pid))
        except psutil.NoSuchProcess:
            agent_ct = started  # already gone; the waiter reaps it and exit.json follows
        info = RunnerInfo(me.pid, procs.start_stamp(me), agent.pid, agent_ct, started, deadline)
        protocol.write_runner_info(self.run_dir, info)
        threading.Thread(target=self._reap, args=(agent,), daemon=True).start()

    def _reap(self, agent: subprocess.Popen[bytes]) -> None:
        agent.wait()
        self._agent_done.set()

    def _wait(
        self, agent: subprocess.Popen[bytes], spec: RunSpec, deadline: float | None
    ) -> tuple[ExitReason, str]:
        next_beat = 0.0
        while not self._agent_done.wait(POLL_S):
            now = time.monotonic()
            if now >= next_beat:
                self._beat()
                next_beat = now + HEARTBEAT_S
            stop = self._stop_reason(now, spec, deadline)
            if stop is not None:
                self._kill(agent, spec.grace)
                return stop
        return ExitReason.EXIT, ""

    def _stop_reason(
        self, now: float, spec: RunSpec, deadline: float | None
    ) -> tuple[ExitReason, str] | None:
        if protocol.cancel_requested(self.run_dir):
            return ExitReason.CANCELLED, "[agentry] cancelled by the user; stopped the agent"
        if deadline is not None and now >= deadline:
            return (
                ExitReason.TIMEOUT,
                f"[agentry] timed out after {spec.timeout:g} s; stopped the agent",
            )
        if self._stop_signal is not None:
            return (
                ExitReason.INTERRUPTED,
                f"[agentry] the runner received signal {self._stop_signal}; stopped the agent",
            )
        return None

    def _kill(self, agent: subprocess.Popen[bytes], grace: float) -> None:
        try:
            root = psutil.Process(agent.pid)
        except psutil.NoSuchProcess:
            return
        procs.kill_tree(root, grace)

    def _beat(self) -> None:
        path = self.run_dir / protocol.HEARTBEAT
        try:
            path.write_bytes(f"{time.time():.3f}\n".encode())
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
