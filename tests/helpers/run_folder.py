"""A run folder written by hand and the runner processes started on it (app.runner.main)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from app.runner import protocol
from app.runner.protocol import ExitInfo, RunnerInfo, RunSpec
from helpers.agentry import kill_group
from helpers.wait import wait_until

RUNNER_TIMEOUT_S = 30


class RunFolder:
    """One run folder plus the runner processes started on it (all stopped at teardown)."""

    def __init__(self, path: Path, cwd: Path) -> None:
        self.path = path
        self.cwd = cwd
        self.runners: list[subprocess.Popen[bytes]] = []

    def write_spec(self, argv: list[str], **changes: Any) -> RunSpec:
        values: dict[str, Any] = {"run_id": 1, "task_id": 1, "argv": argv, "cwd": str(self.cwd)}
        values.update(changes)
        spec = RunSpec(**values)
        protocol.write_spec(self.path, spec)
        return spec

    def start(self, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start a runner as Agentry does (protocol.runner_command), with ``env`` added."""
        with open(self.path.parent / "runner-stderr.log", "ab") as log:
            runner = subprocess.Popen(
                protocol.runner_command(self.path),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                env={**os.environ, **(env or {})},
            )
        self.runners.append(runner)
        return runner

    def run(self) -> int:
        """Run the runner to its end and return its own exit status."""
        return self.start().wait(timeout=RUNNER_TIMEOUT_S)

    def runner_info(self) -> RunnerInfo:
        return wait_until(lambda: protocol.read_runner_info(self.path), message="runner.json")

    def exit_info(self) -> ExitInfo:
        info = protocol.read_exit(self.path)
        assert info is not None, f"no exit.json in {self.path}"
        return info

    def output(self) -> str:
        try:
            return (self.path / protocol.OUTPUT).read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def stop_all(self) -> None:
        info = protocol.read_runner_info(self.path)
        for runner in self.runners:
            kill_group(runner.pid)
            runner.wait()
        if info is not None:
            kill_group(info.agent_pid)


def make_folder(root: Path) -> RunFolder:
    path = root / "runs" / "000001-abcdef"
    path.mkdir(parents=True)
    cwd = root / "work"
    cwd.mkdir()
    return RunFolder(path, cwd)
