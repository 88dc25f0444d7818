"""Every difference between Windows and POSIX that Agentry cares about, as pure functions.

Each function takes the platform explicitly (``windows: bool``) so its Windows branch is
unit-tested on Linux; callers pass :data:`IS_WINDOWS`.
"""

from __future__ import annotations

import errno
import ntpath
import os
import re
import sys
from collections.abc import Callable
from typing import Any

IS_WINDOWS = sys.platform == "win32"

# Windows process-creation flags (winbase.h); spelled out so this module imports anywhere.
DETACHED_PROCESS = 0x00000008
CREATE_NEW_PROCESS_GROUP = 0x00000200
CREATE_NO_WINDOW = 0x08000000
CREATE_BREAKAWAY_FROM_JOB = 0x01000000

# Transient errors on rename/replace: antivirus, indexers and backup tools hold freshly
# written files open for a while on Windows. ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION,
# ERROR_LOCK_VIOLATION.
TRANSIENT_WINERRORS = frozenset({5, 32, 33})
TRANSIENT_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EBUSY})


def is_transient_fs_error(exc: BaseException, *, windows: bool = IS_WINDOWS) -> bool:
    """True when a failed rename is worth retrying after a short wait."""
    if not isinstance(exc, OSError):
        return False
    if windows and getattr(exc, "winerror", None) in TRANSIENT_WINERRORS:
        return True
    if isinstance(exc, PermissionError):
        return True
    return exc.errno in TRANSIENT_ERRNOS


def os_error_code(exc: OSError) -> str:
    """A short code naming the OS error, e.g. ``WinError 32`` or ``EACCES``."""
    winerror = getattr(exc, "winerror", None)
    if winerror:
        return f"WinError {winerror}"
    if exc.errno is not None:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    return type(exc).__name__


def detached_popen_kwargs(*, windows: bool = IS_WINDOWS, breakaway: bool = True) -> dict[str, Any]:
    """Popen arguments that let a runner outlive the process that starts it.

    On Windows, breaking away from the job object matters: some terminals and launchers
    put us in a kill-on-close job. If the job forbids breakaway, CreateProcess fails with
    access denied and the caller retries with ``breakaway=False``.
    """
    if windows:
        flags = DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP
        if breakaway:
            flags |= CREATE_BREAKAWAY_FROM_JOB
        return {"creationflags": flags, "close_fds": True}
    return {"start_new_session": True, "close_fds": True}


def agent_popen_kwargs(*, windows: bool = IS_WINDOWS) -> dict[str, Any]:
    """Popen arguments that put an agent in its own process group, so its tree can be stopped."""
    if windows:
        return {"creationflags": CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW, "close_fds": True}
    return {"start_new_session": True, "close_fds": True}


def is_breakaway_refused(exc: BaseException, *, windows: bool = IS_WINDOWS) -> bool:
    """CreateProcess refused CREATE_BREAKAWAY_FROM_JOB (the job does not allow it)."""
    return windows and isinstance(exc, OSError) and getattr(exc, "winerror", None) == 5


CLI_TWIN = "agentry-cli.exe"


def frozen_cli_executable(
    executable: str = sys.executable, *, windows: bool = IS_WINDOWS, exists: Any = None
) -> str:
    """The frozen program for roles that need standard streams (runner, hook, demo agent).

    On Windows the app itself is a windowed executable with no stdout, so the installer
    ships a console twin beside it; elsewhere one executable does both.
    """
    if not windows:
        return executable
    twin = os.path.join(os.path.dirname(executable), CLI_TWIN)
    found = os.path.isfile(twin) if exists is None else exists(twin)
    return twin if found else executable


def can_fsync_directory(*, windows: bool = IS_WINDOWS) -> bool:
    """Windows cannot open a directory for fsync; NTFS journals the rename itself."""
    return not windows


# ------------------------------------------------------------ hook command lines
#
# Agents run their hook commands through a shell, each its own: Claude Code and Gemini CLI
# use sh/bash on POSIX, Gemini PowerShell on Windows, Codex `$SHELL -lc` on POSIX and
# `%COMSPEC% /C` on Windows (passing the line as one argument, so cmd.exe sees any quote
# in it escaped as \" and cannot read it). Each line must reach Agentry's hook intact,
# because a hook that fails to start lets the call through.

_PS_BARE = re.compile(r"[A-Za-z0-9_.\-]+")
_CMD_BARE = re.compile(r"[A-Za-z0-9_.\-:\\/~]+")


def powershell_line(argv: list[str]) -> str:
    """``& 'C:\\Program Files\\x.exe' hook …``: single quotes (a ' doubled) for PowerShell."""
    quoted = [a if _PS_BARE.fullmatch(a) else "'" + a.replace("'", "''") + "'" for a in argv]
    return "& " + " ".join(quoted)


def cmd_line_without_quotes(
    argv: list[str], short_path: Callable[[str], str | None] | None = None
) -> str | None:
    """A cmd.exe line with no quotes at all (8.3 short names for paths with spaces), or
    None when some argument cannot be written so."""
    to_short = short_path or windows_short_path
    parts = []
    for arg in argv:
        if not _CMD_BARE.fullmatch(arg):
            short = to_short(arg) if ntpath.isabs(arg) else None
            if short is None or not _CMD_BARE.fullmatch(short):
                return None
            arg = short
        parts.append(arg)
    return " ".join(parts)


def windows_short_path(path: str) -> str | None:
    """The 8.3 short form of an existing path (None where there is none, or off Windows)."""
    if not IS_WINDOWS:
        return None
    import ctypes

    size = ctypes.windll.kernel32.GetShortPathNameW(path, None, 0)  # type: ignore[attr-defined]
    if not size:
        return None
    buffer = ctypes.create_unicode_buffer(size)
    if not ctypes.windll.kernel32.GetShortPathNameW(path, buffer, size):  # type: ignore[attr-defined]
        return None
    return buffer.value


def current_user() -> str:
    """Who is deciding, for the record; "user" where there is no login name (containers)."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return "user"


def shell_argv(command: str, *, windows: bool = IS_WINDOWS) -> list[str]:
    """The argv that runs a person's command line (a project's setup or check command, as
    they would type it in a terminal) through the platform's shell."""
    if windows:
        return [os.environ.get("COMSPEC") or "cmd.exe", "/d", "/s", "/c", command]
    return ["/bin/sh", "-c", command]


CMD_SWITCHES = ["/d", "/s", "/c"]


def popen_command(argv: list[str], *, windows: bool = IS_WINDOWS) -> list[str] | str:
    """What to hand Popen for ``argv``: the argv itself, except a ``cmd /d /s /c LINE`` on
    Windows, which becomes the command line cmd.exe reads. Popen would quote LINE by the C
    runtime's rules (``"`` as ``\\"``), which cmd does not know; with ``/s`` cmd takes the
    text between the first and the last quote as it is, so LINE goes there verbatim."""
    if not (windows and len(argv) == 5 and argv[1:4] == CMD_SWITCHES):
        return argv
    if ntpath.basename(argv[0]).lower() not in ("cmd", "cmd.exe"):
        return argv
    import subprocess

    return f'{subprocess.list2cmdline(argv[:4])} "{argv[4]}"'
