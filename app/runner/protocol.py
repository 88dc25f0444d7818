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

import contextlib
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.core.platform import frozen_cli_executable
from app.core.states import ExitReason
from app.runner.records import (
    CANCEL,
    EXIT,
    HEARTBEAT,
    OUTPUT,
    RUNNER,
    SETUP,
    SPEC,
    cancel_signal_in,
    check_number,
    check_pid,
    check_spec,
)
from app.runner.records import HEARTBEAT_S as HEARTBEAT_S
from app.runner.records import PROMPT as PROMPT
from app.runner.records import RUNNER_LOG as RUNNER_LOG
from app.store import fsops

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
    memory_limit_mb: float | None = None  # the agent's process tree is stopped above it
    version: int = PROTOCOL_VERSION

    def __post_init__(self) -> None:
        check_spec(self.__dict__)  # the runner checks a spec it reads by the same rules


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
            check_pid(name, getattr(self, name))
        for name in ("runner_create_time", "agent_create_time", "started_at"):
            check_number(name, getattr(self, name))
        check_number("deadline", self.deadline, optional=True)
        check_number("setup_s", self.setup_s, optional=True)


@dataclass(frozen=True)
class SetupInfo:
    """The setup process, recorded as it starts (runner.json comes after it passed)."""

    pid: int
    create_time: float
    started_at: float

    def __post_init__(self) -> None:
        check_pid("pid", self.pid)
        check_number("create_time", self.create_time)
        check_number("started_at", self.started_at)


@dataclass(frozen=True)
class ExitInfo:
    returncode: int | None
    reason: ExitReason
    ended_at: float
    message: str = ""


def runner_command(run_dir: Path) -> list[str]:
    """How to start a runner: its script under ``python -I -S`` (isolated, no site: a
    runner waits for hours beside its agent and holds nothing it does not use), told
    where psutil is for the rare paths that need it. The frozen app runs it itself
    (there is no Python beside it), ``--runner`` being the first thing it looks at.
    The run folder comes last: cleanup and recovery read it from there."""
    if getattr(sys, "frozen", False):
        return [frozen_cli_executable(), "--runner", str(run_dir)]
    import psutil  # the supervisor has it loaded already; this only asks where it is

    script = Path(__file__).with_name("__main__.py")
    lib = Path(psutil.__file__).parent.parent
    return [sys.executable, "-I", "-S", str(script), "--lib", str(lib), "--runner", str(run_dir)]


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


def request_cancel(run_dir: Path, runner: tuple[int | None, float | None] = (None, None)) -> None:
    """Ask the run's runner to stop its agent: the ``cancel`` file is the durable record
    (the runner looks at it when it starts, once it has recorded what it started, and
    with every heartbeat), and a signal to the live runner makes it act at once.
    ``runner``: its identity as the launcher recorded it, when the caller has the row."""
    fsops.atomic_write(run_dir / CANCEL, b"")
    signal_runner(run_dir, runner)


def signal_runner(run_dir: Path, runner: tuple[int | None, float | None] = (None, None)) -> bool:
    """Wake the run's live runner to read its ``cancel`` file; True if one was signalled.

    It is found by identity, never guessed: the pid and start stamp in ``runner.json``,
    else those the caller knows (``runner``), else the parent of the setup process in
    ``setup.json`` if that parent is the runner of this folder. It is signalled only if
    its heartbeat names the signal it takes for a cancel: a runner of an earlier Agentry
    (which SIGUSR1 would kill) or one not yet beating is told by the file alone, which a
    runner reads at its first beat, after writing it (so neither side can miss the other).
    Windows runners name no signal; they poll the file."""
    try:
        heartbeat = (run_dir / HEARTBEAT).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    signum = cancel_signal_in(heartbeat)
    if signum is None:
        return False
    from app.runner import procs

    found = None
    with contextlib.suppress(ProtocolError, OSError):
        info = read_runner_info(run_dir)
        if info is not None:
            found = procs.find_process(info.runner_pid, info.runner_create_time)
    if found is None:
        found = procs.find_process(*runner)
    if found is None:
        with contextlib.suppress(ProtocolError, OSError):
            setup = read_setup_info(run_dir)
            if setup is not None:
                found = procs.runner_parent(setup.pid, setup.create_time, run_dir)
    return found is not None and procs.send(found, signum)


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
