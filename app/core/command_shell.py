"""The argv that runs a command line typed as a shell command, through the person's shell.

A line such as ``make test 2>&1 | tee log && ls *.sh`` means something only to a shell:
split into words it would print its pipes and globs literally and succeed. So a shell
command runs as ``$SHELL -lc LINE`` (the person's own shell with their login profile, so
the PATH of their terminal) or ``/bin/sh -c LINE`` where there is none, and on Windows as
``cmd /d /s /c LINE`` or PowerShell, as Settings say. The task records that argv, so what
ran is what Details and ``agentry show`` print. A prompt for an agent never goes here.

The platform and environment are parameters, so every branch is tested on any machine.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.core.models import SHELL_COMMAND_OPTION, TaskSpec
from app.core.platform import IS_WINDOWS


@dataclass(frozen=True)
class ShellChoice:
    """One value of the "Shell for shell commands" setting, as the Settings dialog shows it."""

    key: str
    label: str
    explanation: str


POSIX_CHOICES = (
    ShellChoice("system", "Your login shell ($SHELL)", "$SHELL -lc COMMAND, else /bin/sh -c"),
    ShellChoice("sh", "/bin/sh", "/bin/sh -c COMMAND: no login profile"),
)
WINDOWS_CHOICES = (
    ShellChoice("system", "Command Prompt (cmd.exe)", "cmd /d /s /c COMMAND"),
    ShellChoice("powershell", "Windows PowerShell", "powershell -NoLogo -NoProfile -Command"),
)
SHELL_KEYS = frozenset(c.key for c in (*POSIX_CHOICES, *WINDOWS_CHOICES))
"""Every value the setting may hold (a settings file may come from the other platform)."""


def shell_choices(*, windows: bool = IS_WINDOWS) -> tuple[ShellChoice, ...]:
    """The choices that mean something on this platform, the default first."""
    return WINDOWS_CHOICES if windows else POSIX_CHOICES


def command_argv(
    command: str,
    shell: str = "system",
    *,
    windows: bool = IS_WINDOWS,
    env: Mapping[str, str] | None = None,
    usable: Callable[[str], bool] | None = None,
) -> list[str]:
    """The argv that runs ``command`` through the shell the ``shell`` setting names.

    A choice of the other platform (a settings file carried across) means "system".
    """
    environ = os.environ if env is None else env
    if windows:
        if shell == "powershell":
            return ["powershell.exe", "-NoLogo", "-NoProfile", "-Command", command]
        return [environ.get("COMSPEC") or "cmd.exe", "/d", "/s", "/c", command]
    login = environ.get("SHELL", "")
    if shell != "sh" and login and (usable or _usable_shell)(login):
        return [login, "-lc", command]
    return ["/bin/sh", "-c", command]


NO_LOGIN_COMMAND = frozenset({"csh", "tcsh"})
"""Shells that refuse ``-l`` with other options: a command cannot run in a login one."""


def _usable_shell(path: str) -> bool:
    """An absolute path to an executable file that takes ``-lc``: a stale or relative
    $SHELL, or a C shell, is passed over for /bin/sh."""
    if os.path.basename(path) in NO_LOGIN_COMMAND:
        return False
    return os.path.isabs(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def shell_task(
    command: str,
    cwd: str,
    *,
    shell: str = "system",
    title: str = "",
    windows: bool = IS_WINDOWS,
    env: Mapping[str, str] | None = None,
    **fields: Any,
) -> TaskSpec:
    """The spec of a task that runs ``command`` through the shell: its argv as it will run,
    the line as typed kept beside it (to show it back, e.g. to edit and run again), and the
    line as its title when none is given. ``fields`` are the TaskSpec's other fields."""
    options = {**fields.pop("options", {}), SHELL_COMMAND_OPTION: command}
    argv = command_argv(command, shell, windows=windows, env=env)
    return TaskSpec(argv=tuple(argv), cwd=cwd, title=title.strip() or _one_line(command),
                    agent="shell", options=options, **fields)  # fmt: skip


def _one_line(command: str) -> str:
    line = " ".join(command.split())
    return line if len(line) <= 80 else line[:79] + "…"
