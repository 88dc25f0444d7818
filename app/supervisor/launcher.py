"""Preparing a run folder and starting its detached runner (DESIGN §3, step 1)."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import IO

import psutil

from app.core.models import Run, Task
from app.core.platform import detached_popen_kwargs, is_breakaway_refused
from app.runner import protocol
from app.runner.protocol import RunSpec
from app.store import fsops

log = logging.getLogger(__name__)


def prepare(run_dir: Path, task: Task, run: Run, grace: float) -> None:
    """Write spec.json (and prompt.txt) atomically; they are immutable from here on."""
    run_dir.mkdir(parents=True, exist_ok=True)
    stdin = None
    if task.spec.prompt is not None:
        fsops.atomic_write(run_dir / protocol.PROMPT, task.spec.prompt)
        stdin = protocol.PROMPT
    spec = RunSpec(
        run_id=run.id,
        task_id=task.id,
        argv=list(task.spec.argv),
        cwd=task.spec.cwd,
        env=dict(task.spec.env),
        stdin=stdin,
        timeout=run.timeout,
        grace=grace,
        adapter=task.agent,
    )
    protocol.write_spec(run_dir, spec)


def launch(run_dir: Path) -> subprocess.Popen[bytes]:
    """Start the runner so that it outlives us; the caller keeps the Popen only to reap it."""
    command = protocol.runner_command(run_dir)
    with open(run_dir / protocol.RUNNER_LOG, "ab") as runner_log:
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
        return popen.pid, psutil.Process(popen.pid).create_time()
    except psutil.NoSuchProcess:
        return popen.pid, None
