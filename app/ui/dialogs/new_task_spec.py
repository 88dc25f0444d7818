"""The spec the New task dialog builds from its fields: every field checked, every
problem named with the field it belongs to, so the dialog can show them all at once.

A shell command is a command line for the person's shell (:mod:`app.core.command_shell`),
never split into words here.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Mapping
from pathlib import Path

from app import demo_agent
from app.core.command_shell import shell_task
from app.core.durations import DurationError, parse_duration
from app.core.models import TaskSpec
from app.core.policies import LimitPolicy, RestartMode, RestartPolicy
from app.core.restarts import BackoffError, parse_backoff
from app.core.sizes import SizeError, parse_size


class InvalidInput(ValueError):
    """What the person typed cannot be used. ``problems`` maps each field to fix ("cwd",
    "timeout", "command", "prompt"; "" for none in particular) to a message naming it."""

    def __init__(self, problems: Mapping[str, str] | str) -> None:
        self.problems = {"": problems} if isinstance(problems, str) else dict(problems)
        super().__init__("\n".join(self.problems.values()))


def build_spec(
    *,
    agent: str,
    command: str,
    prompt: str,
    cwd: str,
    timeout: str,
    title: str,
    model: str = "",
    permission_mode: str = "",
    worktree: bool = False,
    base: str = "",
    shell: str = "system",
    restart: str = "never",
    max_restarts: int = 3,
    backoff: str = "",
    memory_limit: str = "",
    on_limit: str = "settings",
) -> TaskSpec:
    """A TaskSpec from the New task form, or InvalidInput naming every field to fix.
    ``shell`` is the "Shell for shell commands" setting."""
    problems: dict[str, str] = {}
    folder = Path(cwd.strip()).expanduser() if cwd.strip() else None
    if folder is None or not folder.is_dir():
        problems["cwd"] = (
            f"Working folder: {cwd.strip() or '(empty)'} is not a folder. "
            "Choose an existing folder."
        )
    seconds = None
    if timeout.strip():
        try:
            seconds = parse_duration(timeout)
        except DurationError as exc:
            problems["timeout"] = f"Timeout: {exc}"
    policy = RestartPolicy()
    if restart != RestartMode.NEVER.value:
        try:
            low, high = parse_backoff(backoff) if backoff.strip() else (5.0, 300.0)
        except BackoffError as exc:
            problems["restart"] = f"Restart: {exc}"
        else:
            policy = RestartPolicy(RestartMode(restart), max(1, max_restarts), low, high)
    memory_mb = None
    if memory_limit.strip():
        try:
            memory_mb = parse_size(memory_limit) / 1024**2
        except SizeError as exc:
            problems["memory"] = f"Memory limit: {exc}"
    if agent == "shell" and not command.strip():
        problems["command"] = "Command: type the command to run, e.g. make test"
    if agent not in ("shell", "demo") and not prompt.strip():
        problems["prompt"] = "Prompt: say what the agent should do"
    if problems or folder is None:
        raise InvalidInput(problems)
    where = str(folder.resolve())
    if agent == "shell":
        spec = shell_task(command.strip(), where, shell=shell, title=title)
    elif agent == "demo":
        spec = TaskSpec(argv=tuple(demo_agent.command()), cwd=where, agent=agent,
                        title=title.strip() or "Demo task")  # fmt: skip
    else:
        chosen = (("model", model.strip()), ("permission_mode", permission_mode))
        spec = TaskSpec(argv=(), cwd=where, agent=agent,
                        title=title.strip() or _first_line(prompt),
                        options={k: v for k, v in chosen if v})  # fmt: skip
    return dataclasses.replace(
        spec,
        prompt=prompt if prompt.strip() else None,
        timeout=seconds,
        worktree=worktree,
        base=(base.strip() or None) if worktree else None,
        restart=policy,
        memory_limit_mb=memory_mb,
        limits=LimitPolicy(auto_resume={"resume": True, "stop": False}.get(on_limit)),
    )


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0]
    return line if len(line) <= 80 else line[:79] + "…"


def typed_command(spec: TaskSpec) -> str:
    """What the Command field shows for a shell task: the line as typed, or for an argv
    given as words (``agentry run -- …``) the line a POSIX shell reads back as that argv."""
    return spec.shell_command or shlex.join(spec.argv)
