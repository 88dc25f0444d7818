"""Driving Agentry for tests: the CLI and `serve` as real processes, the supervisor in-process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psutil

from app.core.locations import Locations
from app.core.models import Run, TaskSpec
from app.core.settings import Settings
from app.runner import procs, protocol
from app.store import repo
from app.store.db import open_database
from app.store.locations import locations_from_env
from app.store.settings import load_settings
from app.supervisor import commands
from app.supervisor.supervisor import Supervisor
from helpers.wait import wait_until

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]


def py(code: str) -> list[str]:
    """argv running a snippet with this Python (the agent in most tests)."""
    return [sys.executable, "-c", code]


def counting_agent(lines: int, delay: float) -> list[str]:
    return py(
        "import sys, time\n"
        f"for i in range(1, {lines + 1}):\n"
        "    print(i, flush=True)\n"
        f"    time.sleep({delay})\n"
    )


@dataclass
class Home:
    path: Path
    _procs: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def locations(self) -> Locations:
        return locations_from_env({"AGENTRY_HOME": str(self.path)})

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "AGENTRY_HOME": str(self.path)}

    def write_settings(self, **values: Any) -> None:
        current = (
            load_settings(self.locations.settings)
            if self.locations.settings.exists()
            else Settings()
        )
        data = {**current.__dict__, **values}
        self.path.mkdir(parents=True, exist_ok=True)
        self.locations.settings.write_text(json.dumps(data))

    # ------------------------------------------------------------ database

    @contextlib.contextmanager
    def db(self) -> Iterator[Any]:
        conn = open_database(self.locations.database)
        try:
            yield conn
        finally:
            conn.close()

    def submit(self, argv: list[str], cwd: Path, **spec: Any) -> int:
        with self.db() as conn:
            task_id, _ = commands.submit(
                conn,
                TaskSpec(argv=tuple(argv), cwd=str(cwd), **spec),
                load_settings(self.locations.settings),
            )
        return task_id

    def task(self, task_id: int) -> Any:
        with self.db() as conn:
            return repo.get_task(conn, task_id)

    def run(self, task_id: int) -> Run:
        run = self.task(task_id).latest_run
        assert run is not None
        return run

    def runs(self, task_id: int) -> list[Run]:
        with self.db() as conn:
            return repo.runs_for_task(conn, task_id)

    def run_dir(self, task_id: int) -> Path:
        return self.locations.run_dir(self.run(task_id).dir)

    def output(self, task_id: int) -> str:
        return (self.run_dir(task_id) / protocol.OUTPUT).read_text()

    def runner_info(self, task_id: int) -> protocol.RunnerInfo:
        return wait_until(
            lambda: protocol.read_runner_info(self.run_dir(task_id)),
            message=f"runner.json of task {task_id}",
        )

    def wait_state(self, task_id: int, *states: str, timeout: float = 20.0) -> Run:
        return wait_until(
            lambda: (r := self.run(task_id)).state.value in states and r,
            timeout=timeout,
            message=lambda: f"task {task_id} in {states} (now {self.run(task_id).state})",
        )

    # ------------------------------------------------------------ processes

    def cli(
        self,
        *args: str,
        timeout: float = 60,
        check: bool = False,
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.cli_argv(*args),
            env={**(env or self.env), "AGENTRY_HOME": str(self.path)},
            cwd=ROOT,
            text=True,
            capture_output=True,
            timeout=timeout,
            input=input,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"agentry {args} failed: {result.stderr}")
        return result

    def pending_approvals(self, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
        return json.loads(self.cli("approvals", "--json", env=env, check=True).stdout)

    def start_and_wait_for_approval(
        self, agent: str, work_dir: Path, env: dict[str, str], *, model: str | None = None
    ) -> dict[str, Any]:
        """Start an agent task told to make a file; its first pending tool call."""
        model_args = ["--model", model] if model else []
        self.cli("run", "--agent", agent, *model_args, "--cwd", str(work_dir), "make the file",
                 env=env, check=True)  # fmt: skip
        return wait_until(lambda: p[0] if (p := self.pending_approvals(env)) else None, timeout=60,
                          message=f"the {agent} tool call to wait for approval")  # fmt: skip

    def cli_argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "app", *args]

    def serve(self, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """`agentry serve --headless`, returned once it supervises (recovery done)."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--headless"],
            env={**(env or self.env), "AGENTRY_HOME": str(self.path)},
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._procs.append(proc)
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"serve exited: {''.join(lines)} {proc.stderr.read()}")  # type: ignore[union-attr]
            lines.append(line)
            if line.startswith("Supervising"):
                proc.startup_output = "".join(lines)  # type: ignore[attr-defined]
                return proc
        raise AssertionError("serve did not start")

    def cleanup(self) -> None:
        """Stop whatever a test left behind: supervisors, runners and their agents."""
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()
        for run_dir in self.locations.runs.glob("*") if self.locations.runs.exists() else []:
            with contextlib.suppress(Exception):
                info = protocol.read_runner_info(run_dir)
                if info:
                    for pid, created in (
                        (info.agent_pid, info.agent_create_time),
                        (info.runner_pid, info.runner_create_time),
                    ):
                        if pid != os.getpid() and procs.is_alive(pid, created):
                            kill_group(pid)


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(pid).kill()


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def tick(sup: Supervisor, times: int = 5) -> None:
    """Drive ``times`` rounds of a started supervisor by hand, then check that none of them
    handed a run to the launcher. Checks that something does *not* happen use this instead
    of sleeping: when tick() returns, the supervisor has decided."""
    for _ in range(times):
        sup.tick()
        launching = sup.launching
        assert not launching, f"the supervisor started runs {sorted(launching)}"


def run_async(coro: Any, timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))
