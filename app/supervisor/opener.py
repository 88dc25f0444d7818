"""Opening a folder in the person's editor or terminal (the Changes tab's "Open in …"),
or in the file manager ("Open working folder", "Reveal run folder").

Which program is a pure choice (:func:`editor_argv`, :func:`terminal_argv`), made from the
settings, the environment and what is on PATH, all passed in so every platform's branch
is tested anywhere; :func:`launch` starts it detached, so it outlives Agentry and never
shares its console or its process group.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping

from app.core.errors import AgentryError
from app.core.platform import CREATE_NEW_PROCESS_GROUP, CREATE_NO_WINDOW, IS_WINDOWS

Which = Callable[[str], str | None]

CREATE_NEW_CONSOLE = 0x00000010  # winbase.h: the terminal gets a console window of its own
DEFAULT_EDITOR = "code"  # Visual Studio Code's launcher, when the person set no editor
LINUX_TERMINALS = ("x-terminal-emulator", "gnome-terminal", "konsole", "xterm")


class CannotOpen(AgentryError):
    """No program to open the folder with, or it could not be started."""


def editor_argv(command: str, folder: str, *, which: Which = shutil.which,
                windows: bool = IS_WINDOWS) -> list[str] | None:  # fmt: skip
    """The editor's command line (Settings' editor command, the folder appended), or
    ``code`` when none is set and it is on PATH; None: let the OS open the folder."""
    if not command.strip():
        found = which(DEFAULT_EDITOR)
        return [found, folder] if found else None
    try:
        words = _split(command, windows=windows)
    except ValueError as exc:
        raise CannotOpen(f"the editor command {command!r} cannot be read ({exc}); "
                         "correct it in Settings") from None  # fmt: skip
    program = which(words[0])
    if program is None:
        raise CannotOpen(
            f"the editor command {command!r} names {words[0]}, which was not found; "
            "correct it in Settings, or leave it empty to use the system's choice"
        )
    return [program, *words[1:], folder]


def terminal_argv(folder: str, *, platform: str = sys.platform, which: Which = shutil.which,
                  env: Mapping[str, str] = os.environ) -> list[str] | None:  # fmt: skip
    """A new terminal window in ``folder`` (also its working directory when launched);
    None when this machine has none Agentry knows."""
    if platform == "darwin":
        return ["open", "-a", "Terminal", folder]
    if platform == "win32":
        wt = which("wt")
        if wt:
            return [wt, "-d", folder]
        return [env.get("COMSPEC") or "cmd.exe", "/K"]
    chosen = env.get("TERMINAL", "").strip()
    if chosen:
        words = shlex.split(chosen)
        program = which(words[0]) if words else None
        if program:
            return [program, *words[1:]]
    for name in LINUX_TERMINALS:
        program = which(name)
        if program is None:
            continue
        if name == "gnome-terminal":  # its server ignores the caller's working directory
            return [program, f"--working-directory={folder}"]
        if name == "konsole":
            return [program, "--workdir", folder]
        return [program]
    return None


NO_TERMINAL = (
    "No terminal program was found: set the TERMINAL environment variable to one "
    f"(or install one of {', '.join(LINUX_TERMINALS)}), then try again"
)


def launch(argv: list[str], cwd: str, *, console: bool = False,
           windows: bool = IS_WINDOWS) -> None:  # fmt: skip
    """Start ``argv`` in ``cwd`` on its own; returns once it has started (blocking: run it
    off the event loop). ``console``: it is a terminal and needs a window of its own."""
    flags = (CREATE_NEW_CONSOLE if console else CREATE_NO_WINDOW) | CREATE_NEW_PROCESS_GROUP
    try:
        subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=not windows,
            creationflags=flags if windows else 0,
        )
    except OSError as exc:
        raise CannotOpen(f"{argv[0]} could not be started in {cwd}: {exc}") from None


XDG_OPEN_EXITS = {  # xdg-open(1): what each of its exit codes means
    1: "it was called wrongly",
    2: "it did not find the folder",
    3: "no program to open folders is installed",
    4: "the program it chose failed",
}
OPENED_WITHIN_S = 5.0  # a file manager still starting after this long has done its part


def folder_argv(folder: str, *, platform: str = sys.platform,
                which: Which = shutil.which) -> list[str] | None:  # fmt: skip
    """The command that shows ``folder`` in the file manager; None where there is none
    (Windows opens folders with ``os.startfile`` instead)."""
    if platform == "darwin":
        return ["open", folder]
    if platform == "win32":
        return None
    for name, *args in (("xdg-open",), ("gio", "open")):
        program = which(name)
        if program is not None:
            return [program, *args, folder]
    return None


def open_folder(folder: str, *, platform: str = sys.platform, which: Which = shutil.which,
                wait_s: float = OPENED_WITHIN_S) -> None:  # fmt: skip
    """Show ``folder`` in the file manager, or raise :class:`CannotOpen` saying why not:
    the folder is gone, no opener exists, or the opener reported a failure (it is waited
    for a few seconds, because xdg-open says what went wrong only by how it exits).
    Blocking: run it off the event loop."""
    if not os.path.isdir(folder):
        raise CannotOpen(f"{folder} does not exist any more, so it cannot be opened")
    if platform == "win32":
        try:
            os.startfile(folder)  # type: ignore[attr-defined]  # Windows only
        except OSError as exc:
            raise CannotOpen(f"Windows could not open {folder}: {exc}") from None
        return
    argv = folder_argv(folder, platform=platform, which=which)
    if argv is None:
        raise CannotOpen(
            f"No program to open folders was found (xdg-open, gio); install xdg-utils, "
            f"or open {folder} yourself"
        )
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            raise CannotOpen(f"{argv[0]} could not be started: {exc}") from None
        try:
            code = proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            return  # still busy opening it: it started, which is all that can be known
        if code == 0:
            return
        errors.seek(0)
        said = errors.read().decode(errors="replace").strip().splitlines()
    why = XDG_OPEN_EXITS.get(code, f"it exited with code {code}")
    detail = f" ({said[-1].strip()})" if said else ""
    raise CannotOpen(f"{os.path.basename(argv[0])} could not open {folder}: {why}{detail}")


def _split(command: str, *, windows: bool) -> list[str]:
    """A command line as words: POSIX quoting, or Windows' (double quotes, backslashes kept)."""
    if not windows:
        words = shlex.split(command)
    else:
        words = [w[1:-1] if len(w) > 1 and w[0] == w[-1] == '"' else w
                 for w in shlex.split(command, posix=False)]  # fmt: skip
    if not words:
        raise ValueError("it is empty")
    return words
