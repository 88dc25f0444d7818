"""The run-folder protocol (DESIGN §3): file names and the records written in them.

``spec.json`` is written by the supervisor before launch; ``runner.json`` and ``exit.json``
by the runner, once each, atomically; ``cancel`` is a request (its existence is the fact);
``output.log`` is the agent's own stdout and stderr.

A run whose spec has a ``setup`` command (a new worktree's ``npm ci``) runs it first, in
the run's folder, with its output in ``output.log`` between two ``[agentry] ── Setup``
lines. The runner writes ``setup.json`` (the setup process) once when it starts it, so a
runner that dies during setup is told apart from one that never started and its setup is
stopped. Only a setup that passed lets the agent start: then ``runner.json`` says how long
it took (``setup_s``), which is how the supervisor learns the worktree is set up; one
that fails ends the run with ``exit.json`` reason ``setup_failed``. Cancel and the
deadline count from the setup's start.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.core.platform import frozen_cli_executable
from app.core.states import ExitReason
from app.store import fsops

SPEC = "spec.json"
PROMPT = "prompt.txt"
RUNNER = "runner.json"
EXIT = "exit.json"
CANCEL = "cancel"
HEARTBEAT = "heartbeat"
SETUP = "setup.json"
OUTPUT = "output.log"
RUNNER_LOG = "runner.log"

PROTOCOL_VERSION = 1


class ProtocolError(ValueError):
    """A run-folder file exists but does not hold what the protocol says; names the file."""


@dataclass(frozen=True)
class RunSpec:
    run_id: int
    task_id: int
    argv: list[str]
    cwd: str
    env: dict[str, str] = field(default_factory=dict)
    stdin: str | None = None  # a file name in the run folder, or None for no input
    timeout: float | None = None  # seconds; None: no limit
    grace: float = 5.0
    adapter: str = "shell"
    setup: list[str] | None = None  # run before the agent, in cwd; the agent starts if it passes
    setup_command: str = ""  # the setup as the person wrote it, for the transcript and messages
    title: str = ""  # the task's title: a rebuild from run folders gives it back
    version: int = PROTOCOL_VERSION

    def __post_init__(self) -> None:
        if not isinstance(self.argv, list) or not self.argv:
            raise ValueError("argv must be a non-empty list of strings")
        if not all(isinstance(a, str) for a in self.argv):
            raise ValueError("argv must be a non-empty list of strings")
        if not isinstance(self.cwd, str) or not self.cwd:
            raise ValueError("cwd must be a folder path")
        if not isinstance(self.env, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.env.items()
        ):
            raise ValueError("env must map names to string values")
        if self.stdin is not None and not isinstance(self.stdin, str):
            raise ValueError("stdin must be a file name or null")
        if self.setup is not None and (
            not isinstance(self.setup, list)
            or not self.setup
            or not all(isinstance(a, str) for a in self.setup)
        ):
            raise ValueError("setup must be null or a non-empty list of strings")
        if not isinstance(self.setup_command, str):
            raise ValueError("setup_command must be text")
        if not isinstance(self.title, str):
            raise ValueError("title must be text")
        _check_number("timeout", self.timeout, optional=True)
        _check_number("grace", self.grace)


@dataclass(frozen=True)
class RunnerInfo:
    runner_pid: int
    runner_create_time: float
    agent_pid: int
    agent_create_time: float
    started_at: float
    deadline: float | None
    setup_s: float | None = None  # how long the setup took; None: the run had none

    def __post_init__(self) -> None:
        for name in ("runner_pid", "agent_pid"):
            _check_pid(name, getattr(self, name))
        for name in ("runner_create_time", "agent_create_time", "started_at"):
            _check_number(name, getattr(self, name))
        _check_number("deadline", self.deadline, optional=True)
        _check_number("setup_s", self.setup_s, optional=True)


@dataclass(frozen=True)
class SetupInfo:
    """The setup process, recorded as it starts (runner.json comes after it passed)."""

    pid: int
    create_time: float
    started_at: float

    def __post_init__(self) -> None:
        _check_pid("pid", self.pid)
        _check_number("create_time", self.create_time)
        _check_number("started_at", self.started_at)


def _check_pid(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")


def _check_number(name: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, not {value!r}")


@dataclass(frozen=True)
class ExitInfo:
    returncode: int | None
    reason: ExitReason
    ended_at: float
    message: str = ""


def runner_command(run_dir: Path) -> list[str]:
    """How to start a runner; the frozen app runs it itself (there is no Python beside it)."""
    if getattr(sys, "frozen", False):
        return [frozen_cli_executable(), "--runner", str(run_dir)]
    return [sys.executable, "-m", "app.runner", str(run_dir)]


def write_spec(run_dir: Path, spec: RunSpec) -> None:
    fsops.write_json(run_dir / SPEC, asdict(spec))


def write_runner_info(run_dir: Path, info: RunnerInfo) -> None:
    fsops.write_json(run_dir / RUNNER, asdict(info))


def write_setup_info(run_dir: Path, info: SetupInfo) -> None:
    fsops.write_json(run_dir / SETUP, asdict(info))


def write_exit(run_dir: Path, info: ExitInfo) -> None:
    data = asdict(info)
    data["reason"] = info.reason.value
    fsops.write_json(run_dir / EXIT, data)


def read_spec(run_dir: Path) -> RunSpec:
    data = _read(run_dir / SPEC)
    return _build(run_dir / SPEC, lambda: RunSpec(**_known(RunSpec, data)))


def read_runner_info(run_dir: Path) -> RunnerInfo | None:
    """None while the runner has not written it yet."""
    try:
        data = _read(run_dir / RUNNER)
    except FileNotFoundError:
        return None
    return _build(run_dir / RUNNER, lambda: RunnerInfo(**_known(RunnerInfo, data)))


def read_setup_info(run_dir: Path) -> SetupInfo | None:
    """None when no setup was started (none asked for, or the runner never got to it)."""
    try:
        data = _read(run_dir / SETUP)
    except FileNotFoundError:
        return None
    return _build(run_dir / SETUP, lambda: SetupInfo(**_known(SetupInfo, data)))


def read_exit(run_dir: Path) -> ExitInfo | None:
    """None while the run has not ended."""
    try:
        data = _read(run_dir / EXIT)
    except FileNotFoundError:
        return None

    def build() -> ExitInfo:
        values = _known(ExitInfo, data)
        values["reason"] = ExitReason(values["reason"])
        rc = values.get("returncode")
        if rc is not None and (not isinstance(rc, int) or isinstance(rc, bool)):
            raise TypeError(f"returncode must be an integer or null, not {rc!r}")
        ended = values.get("ended_at")
        if not isinstance(ended, int | float) or isinstance(ended, bool):
            raise TypeError(f"ended_at must be a number, not {ended!r}")
        if not isinstance(values.get("message", ""), str):
            raise TypeError(f"message must be text, not {values['message']!r}")
        return ExitInfo(**values)

    return _build(run_dir / EXIT, build)


def output_log(run_dir: Path) -> Path:
    """The agent's output: its stdout and stderr are this file (DESIGN §3)."""
    return run_dir / OUTPUT


def request_cancel(run_dir: Path) -> None:
    fsops.atomic_write(run_dir / CANCEL, b"")


def cancel_requested(run_dir: Path) -> bool:
    return (run_dir / CANCEL).exists()


def _read(path: Path) -> dict[str, Any]:
    try:
        data = fsops.read_json(path)
    except fsops.CorruptFileError as exc:
        raise ProtocolError(str(exc)) from exc
    if not isinstance(data, dict):
        raise ProtocolError(f"{path} does not hold a JSON object; the file was kept for inspection")
    return data


def _known(cls: Any, data: dict[str, Any]) -> dict[str, Any]:
    names = set(cls.__dataclass_fields__)
    return {k: v for k, v in data.items() if k in names}


def _build(path: Path, make: Any) -> Any:
    try:
        return make()
    except (TypeError, ValueError, KeyError) as exc:
        raise ProtocolError(
            f"{path} is not a valid {path.name} ({exc}); the file was kept for inspection"
        ) from exc
