"""Preparing a run folder and starting its detached runner (DESIGN §3, step 1)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import psutil

from app.core.log import get_logger
from app.core.models import Run, RunKind, Task
from app.core.platform import (
    detached_popen_kwargs,
    frozen_cli_executable,
    is_breakaway_refused,
    shell_argv,
)
from app.runner import procs, protocol
from app.runner.protocol import RunSpec
from app.store import fsops
from app.supervisor.adapters import AgentOptions, get_adapter
from app.supervisor.adapters.base import Adapter, HookConfig, LaunchError
from app.supervisor.hook import PROBE_ANSWER

log = get_logger(__name__)

__all__ = [
    "HookProber",
    "LaunchError",
    "hook_command",
    "hook_for",
    "identity_of",
    "launch",
    "prepare",
]


def prepare(
    run_dir: Path,
    task: Task,
    run: Run,
    grace: float,
    agent_paths: dict[str, str] | None = None,
    sessions_dir: Path | None = None,
    approvals: float | None = None,
    prober: HookProber | None = None,
    cwd: str | None = None,
    setup: str = "",
    memory_limit_mb: float | None = None,
) -> list[str]:
    """Write spec.json (and the prompt) atomically; they are immutable from here on.

    Returns the exact argv, which the caller records for the task's details.
    ``approvals`` is the approval expiry in seconds when tool calls need a person's yes
    (agents with a pre-tool hook then get Agentry's hook), None when they do not.
    ``prober`` checks that hook starts; without one, every hook is probed afresh.
    ``cwd`` is where the run works when not in the task's folder (its own worktree).
    ``setup`` is a command line the runner runs there first, through the platform's shell;
    the agent starts only if it passes ("" for none). ``memory_limit_mb``: the runner stops
    the agent's process tree above it (None: no limit).
    """
    if cwd is not None:
        task = dataclasses.replace(task, spec=dataclasses.replace(task.spec, cwd=cwd))
    sessions = sessions_dir or run_dir.parent.parent / "sessions"
    argv, stdin_text, env, files, links = _invocation(
        task, run, agent_paths or {}, run_dir, sessions, approvals, prober or HookProber()
    )
    fsops.make_private_dir(run_dir)
    for name, content in files.items():
        fsops.atomic_write(run_dir / name, content)  # 0600, in 0700 folders
    for name, target in links.items():
        fsops.link_or_copy(Path(target), run_dir / name)
    stdin = None
    if stdin_text is not None:
        fsops.atomic_write(run_dir / protocol.PROMPT, stdin_text)
        stdin = protocol.PROMPT
    spec = RunSpec(
        run_id=run.id,
        task_id=task.id,
        argv=argv,
        cwd=task.spec.cwd,
        env={**task.spec.env, **env},
        stdin=stdin,
        timeout=run.timeout,
        grace=grace,
        adapter=task.agent,
        setup=shell_argv(setup) if setup else None,
        setup_command=setup,
        title=task.title,
        memory_limit_mb=memory_limit_mb,
    )
    protocol.write_spec(run_dir, spec)
    return argv


def hook_command(run_id: int, kind: str = "claude-pretool", timeout: float = 900.0) -> list[str]:
    """How an agent calls Agentry's hook; the frozen app is its own hook command.

    ``-P``: the agent runs the hook in the task's folder, and a project with a package
    named ``app`` of its own would otherwise shadow Agentry's (the hook then fails to
    start, which the agents read as "allow").
    """
    args = ["hook", kind, "--run", str(run_id), "--timeout", str(int(timeout))]
    if getattr(sys, "frozen", False):
        return [frozen_cli_executable(), *args]
    return [sys.executable, "-P", "-m", "app", *args]


def hook_for(run: Run, approval_timeout_s: float, kind: str = "claude-pretool") -> HookConfig:
    # Well above Agentry's own expiry: the agent lets a call through if its hook times out.
    command = hook_command(run.id, kind, approval_timeout_s)
    return HookConfig(command, int(approval_timeout_s) + 300)


PROBE_TIMEOUT_S = 30.0


class HookProber:
    """Runs the hook command as the agent will (its shell, the task's folder) with --probe,
    and remembers the probes that passed for as long as it lives, so each (agent, shell,
    folder, command) is checked once. The supervisor owns one; two supervisors in one
    process never share what they learned.

    The agents let a call through when their hook fails to start, so a hook that cannot
    start (a shadowed package, a shell profile that exits, quoting a shell cannot read)
    would silently approve everything: such a run is not started at all.
    """

    def __init__(self) -> None:
        self._passed: set[tuple[str, ...]] = set()
        # Launches prepare their folders side by side, in threads: two runs of a new
        # folder wait for one probe instead of each running their own.
        self._guard = threading.Lock()
        self._probing: dict[tuple[str, ...], threading.Lock] = {}

    @property
    def passed(self) -> frozenset[tuple[str, ...]]:
        return frozenset(self._passed)

    def check(self, adapter: Adapter, hook: HookConfig, cwd: str, env: dict[str, str]) -> None:
        """Raise LaunchError, saying why, when the hook does not answer its probe."""
        shell = adapter.hook_shell(env)
        if shell is None:
            return
        key = (adapter.name, *shell, cwd, *_without_run_id(hook.command))
        if key in self._passed:
            return
        with self._guard:
            probing = self._probing.setdefault(key, threading.Lock())
        with probing:
            if key in self._passed:  # another launch probed it while we waited
                return
            _probe(adapter, shell, adapter.hook_line(hook) + " --probe", cwd, env)
            self._passed.add(key)


def _probe(adapter: Adapter, shell: list[str], line: str, cwd: str, env: dict[str, str]) -> None:
    try:
        done = subprocess.run(
            [*shell, line],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT_S,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise LaunchError(_probe_failed(adapter, cwd, str(exc))) from None
    if PROBE_ANSWER not in done.stdout.splitlines():
        said = (done.stderr or done.stdout).strip().splitlines()[-3:]
        why = f"exit code {done.returncode}" + (": " + " / ".join(said) if said else "")
        raise LaunchError(_probe_failed(adapter, cwd, why))


def _without_run_id(command: list[str]) -> list[str]:
    return [a for i, a in enumerate(command) if i == 0 or command[i - 1] != "--run"]


def _probe_failed(adapter: Adapter, cwd: str, why: str) -> str:
    return (
        f"Agentry's approval hook does not start for {adapter.label} in {cwd} ({why}), so "
        "its tool calls could not be checked and the run was not started. Run `agentry "
        "doctor`, or turn off approvals in Settings to run it without asking."
    )


def _invocation(
    task: Task,
    run: Run,
    agent_paths: dict[str, str],
    run_dir: Path,
    sessions_dir: Path,
    approvals: float | None,
    prober: HookProber,
) -> tuple[list[str], str | None, dict[str, str], dict[str, str], dict[str, str]]:
    if run.kind is RunKind.CHECK:  # a land's check: the project's command, not the agent
        return shell_argv(run.prompt or ""), None, {}, {}, {}
    if task.agent == "shell":
        prompt = run.prompt if run.kind is RunKind.FOLLOW_UP else task.spec.prompt
        return list(task.spec.argv), prompt, {}, {}, {}
    adapter = get_adapter(task.agent)
    executable = ""
    if adapter.executables:
        found = adapter.find_executable(agent_paths.get(adapter.name))
        if found is None:
            raise LaunchError(
                f"{adapter.label} is not installed (or not found). Install it with: "
                f"{adapter.install_hint} — or set its path in Settings."
            )
        executable = found
    prompt = run.prompt or task.spec.prompt or ""
    options = AgentOptions.from_json(task.spec.options)
    session = run.resume_session
    if adapter.session_is_file:  # one conversation file per task, from the first run on
        fsops.make_private_dir(sessions_dir)
        name = session or adapter.default_session(task.id)
        session = str(sessions_dir / f"{name}.{adapter.name}.chat.history.md")
    hook = hook_for(run, approvals, adapter.hook_kind) if approvals and adapter.hook_kind else None
    if hook is not None:
        adapter.preflight(Path(task.spec.cwd))
    inv = adapter.build(
        prompt, options, executable=executable, session_id=session, run_dir=run_dir, hook=hook
    )
    if hook is not None:
        prober.check(adapter, hook, task.spec.cwd, {**os.environ, **task.spec.env, **inv.env})
    return inv.argv, inv.stdin_text, inv.env, inv.files, inv.links


def launch(run_dir: Path) -> subprocess.Popen[bytes]:
    """Start the runner so that it outlives us; the caller keeps the Popen only to reap it."""
    command = protocol.runner_command(run_dir)
    with open(run_dir / protocol.RUNNER_LOG, "ab", opener=fsops.private_opener) as runner_log:
        try:
            return _popen(command, run_dir, runner_log, breakaway=True)
        except OSError as exc:
            if not is_breakaway_refused(exc):
                raise
            log.info("job object refuses breakaway; starting the runner without it")
            return _popen(command, run_dir, runner_log, breakaway=False)


def _popen(
    command: list[str], run_dir: Path, runner_log: IO[bytes], *, breakaway: bool
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        cwd=run_dir,
        stdin=subprocess.DEVNULL,
        stdout=runner_log,
        stderr=subprocess.STDOUT,
        **detached_popen_kwargs(breakaway=breakaway),
    )


def identity_of(popen: subprocess.Popen[bytes]) -> tuple[int, float | None]:
    try:
        return procs.identity(psutil.Process(popen.pid))
    except psutil.NoSuchProcess:
        return popen.pid, None
