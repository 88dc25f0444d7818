"""How Agentry runs git, and how git's failures read (DESIGN §7a, CONVENTIONS 14).

The process half of the one owner of git calls: the environment that keeps git
non-interactive and its output parseable, the version check, the typed errors, and
turning a failed command into a message for a person. :mod:`app.supervisor.git` holds
the commands themselves; nothing else imports this module but it and its tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from app.core.errors import AgentryError
from app.core.platform import CREATE_NO_WINDOW, IS_WINDOWS

MIN_VERSION = (2, 25)
TIMEOUT_S = 120.0  # a read, or a change to a few refs
CHECKOUT_TIMEOUT_S = 1800.0  # writing or deleting every file of a worktree (and its hooks)
STDERR_LINES = 3  # how much of git's stderr an error message quotes

# Variables a git hook or alias sets for *its* repository; inherited, they would point our
# `git -C <folder>` at another repository or index (`git rev-parse --local-env-vars`).
REPOSITORY_ENV = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_PREFIX", "GIT_IMPLICIT_WORK_TREE",
    "GIT_NAMESPACE", "GIT_SHALLOW_FILE", "GIT_GRAFT_FILE", "GIT_REPLACE_REF_BASE",
    "GIT_NO_REPLACE_OBJECTS", "GIT_INTERNAL_SUPER_PREFIX",
)  # fmt: skip

Completed = subprocess.CompletedProcess[str]


class GitError(AgentryError):
    """A git command failed; the message says what was being done, where, and git's words."""

    def __init__(
        self,
        message: str,
        *,
        argv: list[str] | None = None,
        returncode: int | None = None,
        stderr: str = "",
    ) -> None:
        super().__init__(message)
        self.argv = argv or []
        self.returncode = returncode
        self.stderr = stderr


class GitMissing(GitError):
    """git is not installed where Agentry looks, does not run, or is older than MIN_VERSION."""


class NotARepository(GitError):
    """The folder is not inside a git working tree."""


class UnknownRef(GitError):
    """A name that is not a branch, tag or commit of the repository."""


def install_hint(platform: str = sys.platform) -> str:
    if platform == "win32":
        return "install Git for Windows from https://git-scm.com/download/win"
    if platform == "darwin":
        return "install it with `xcode-select --install` or `brew install git`"
    return "install it with your package manager (e.g. `sudo apt install git`)"


def read_version(path: str) -> tuple[str, tuple[int, ...]]:
    argv = [path, "--version"]
    try:
        done = spawn(argv, read=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitMissing(
            f"git at {path} could not be run ({exc}); {install_hint()}", argv=argv
        ) from None
    match = re.search(r"^git version (\d+)\.(\d+)(?:\.(\d+))?", done.stdout.strip())
    if done.returncode != 0 or match is None:
        said = last_lines(done.stderr or done.stdout) or f"exit code {done.returncode}"
        raise GitMissing(
            f"{path} did not say which git it is ({said}); {install_hint()}",
            argv=argv,
            returncode=done.returncode,
            stderr=done.stderr,
        )
    version = tuple(int(part) for part in match.groups(default="0"))
    return done.stdout.strip(), version


def spawn(argv: list[str], *, read: bool, timeout: float) -> Completed:
    return subprocess.run(
        argv,
        check=False,
        capture_output=True,
        text=True,
        encoding="utf-8",  # git's paths and messages, whatever the locale's code page
        errors="replace",
        stdin=subprocess.DEVNULL,
        env=_environment(read=read),
        timeout=timeout,
        creationflags=CREATE_NO_WINDOW if IS_WINDOWS else 0,  # no console window flashing up
    )


def _environment(*, read: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in REPOSITORY_ENV}
    env.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    if read:
        env["GIT_OPTIONAL_LOCKS"] = "0"
    return env


def raise_unless_ok(done: Completed, doing: str, folder: Path) -> None:
    if done.returncode == 0:
        return
    details = {"argv": done.args, "returncode": done.returncode, "stderr": done.stderr}
    if says(done.stderr, "not a git repository", "must be run in a work tree"):
        raise NotARepository(
            f"{folder} is not inside a git repository; run the task in place "
            "(without --worktree), or `git init` it first",
            **details,
        )
    said = last_lines(done.stderr) or f"exit code {done.returncode}"
    raise GitError(f"git could not {doing} in {folder}: {said}", **details)


def check_ref(repo: Path, ref: str) -> None:
    """Refuse what git would read as an option (or nothing): argv safety for revisions."""
    if not ref or ref.startswith("-"):
        raise UnknownRef(f"{ref!r} is not a branch, tag or commit of {repo}")


def unknown_ref(repo: Path, ref: str, done: Completed) -> UnknownRef:
    return UnknownRef(
        f"{ref} is not a branch, tag or commit of {repo}",
        argv=done.args,
        returncode=done.returncode,
        stderr=done.stderr,
    )


def says(stderr: str, *phrases: str) -> bool:
    return any(phrase in stderr for phrase in phrases)


def last_lines(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines[-STDERR_LINES:])
