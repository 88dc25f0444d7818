"""The shape every agent adapter has (DESIGN §6).

An adapter detects its CLI, builds the argv of a non-interactive run (never a shell
string), says how the prompt travels, and parses output lines into agent events. Parsers
never raise: a line they cannot read is returned as :class:`Raw`.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from app.core.errors import AgentryError

if TYPE_CHECKING:
    from app.core.agent_events import AgentEvent

# The agent events (app.core.agent_events) are imported where lines are parsed: a process
# that only submits a task (`agentry run`) asks an adapter for its facts, never parses.

# Windows' CreateProcess limit is 32,767 characters for the whole command line; stay well
# below it for the prompt so options and paths always fit.
MAX_PROMPT_ARG = 8_000
VERSION_TIMEOUT_S = 5.0


class LaunchError(AgentryError, RuntimeError):
    """The run cannot start (e.g. its agent CLI is not installed); the message says how to fix."""


@dataclass(frozen=True)
class AgentOptions:
    model: str | None = None
    permission_mode: str | None = None
    extra_args: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "permission_mode": self.permission_mode,
                "extra_args": list(self.extra_args)}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> AgentOptions:
        data = data or {}
        return cls(
            model=data.get("model") or None,
            permission_mode=data.get("permission_mode") or None,
            extra_args=tuple(str(a) for a in data.get("extra_args") or ()),
        )


@dataclass(frozen=True)
class HookConfig:
    """Agentry's pre-tool hook for agents that support one (DESIGN §7).

    ``timeout_s`` must be longer than Agentry's own approval expiry: the agents let a call
    through when their hook times out, so Agentry must always answer (deny) first.
    """

    command: list[str]
    timeout_s: int

    def shell_command(self) -> str:
        """The command as one string: agents run their hooks through the shell."""
        if sys.platform == "win32":
            import subprocess

            return subprocess.list2cmdline(self.command)
        return shlex.join(self.command)


@dataclass(frozen=True)
class Invocation:
    """How to start one run: argv, what goes to stdin, extra environment and files."""

    argv: list[str]
    stdin_text: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # name in the run folder -> content
    # name in the run folder -> an existing path it must show (see fsops.link_or_copy)
    links: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Detection:
    agent: str
    label: str
    path: str | None
    version: str | None
    install_hint: str
    problem: str | None = None

    @property
    def found(self) -> bool:
        return self.path is not None and self.problem is None

    def describe(self) -> str:
        if self.found:
            return f"{self.label}: {self.path}" + (f" ({self.version})" if self.version else "")
        why = self.problem or "not found"
        return f"{self.label}: {why} — install with: {self.install_hint}"


class LineParser:
    """Stateful per run; the default shows every line as text.

    ``clock`` is "now" for a limit's reset time written as a wall time ("resets 8pm": the
    next 8pm after the line was printed): the time of reading while a run is live; who
    reads a finished log sets it to when the log was written. ``tz`` is the zone of a reset
    time printed without one (None: this computer's, where the agent printed it).
    """

    def __init__(self, clock: Callable[[], float] = time.time, tz: tzinfo | None = None) -> None:
        self.clock = clock
        self.tz = tz

    def feed(self, line: str) -> list[AgentEvent]:
        from app.core.agent_events import Raw

        return [Raw(line)] if line.strip() else []


class JsonLineParser(LineParser):
    """For CLIs that print one JSON object a line; anything else is shown raw."""

    def feed(self, line: str) -> list[AgentEvent]:
        from app.core.agent_events import Raw

        stripped = line.strip()
        if not stripped.startswith("{"):
            return [Raw(line)] if stripped else []
        try:
            data = json.loads(stripped)
        except ValueError:
            return [Raw(line)]
        if not isinstance(data, dict):
            return [Raw(line)]
        try:
            events = self.event(data)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            return [Raw(line)]
        return events if events is not None else [Raw(line)]

    def event(self, data: dict[str, Any]) -> list[AgentEvent] | None:
        """Events for one parsed object; None means "show the line raw"."""
        raise NotImplementedError


class Adapter:
    name: ClassVar[str]
    label: ClassVar[str]
    executables: ClassVar[tuple[str, ...]]
    install_hint: ClassVar[str]
    structured: ClassVar[bool] = False
    supports_resume: ClassVar[bool] = False
    keeps_unanswered_sessions: ClassVar[bool] = True
    """Whether a session whose first request got no answer (a usage limit at once) can be
    resumed; where it cannot, what follows starts afresh with the task's prompt."""
    needs_prompt: ClassVar[bool] = True
    # Aider keeps a conversation in a file: its "session id" is a per-task file the launcher
    # places under the data folder, the same for the first run and every follow-up.
    session_is_file: ClassVar[bool] = False
    permission_modes: ClassVar[tuple[str, ...]] = ()
    # The ``agentry hook KIND`` this agent's pre-tool hook calls; None: it has no usable hook.
    hook_kind: ClassVar[str | None] = None
    # What its structured output says a run used (the usage view names the agents that do).
    reports_cost: ClassVar[bool] = False
    reports_tokens: ClassVar[bool] = False

    # ------------------------------------------------------------------ detection

    def detect(self, configured: str | None = None) -> Detection:
        path = self.find_executable(configured)
        if path is None:
            problem = f"{configured} does not exist" if configured else None
            return Detection(self.name, self.label, None, None, self.install_hint, problem)
        return Detection(self.name, self.label, path, self.version(path), self.install_hint)

    def find_executable(self, configured: str | None = None) -> str | None:
        if configured:
            return configured if Path(configured).is_file() else None
        for name in self.executables:
            found = shutil.which(name)
            if found:
                return found
        for folder in usual_install_folders():
            for name in self.executables:
                for candidate in executable_names(name):
                    path = folder / candidate
                    if path.is_file() and os.access(path, os.X_OK):
                        return str(path)
        return None

    def version(self, path: str) -> str | None:
        import subprocess  # here: submitting a task (`agentry run`) never starts one

        try:
            done = subprocess.run([path, "--version"], capture_output=True, text=True,
                                  timeout=VERSION_TIMEOUT_S, stdin=subprocess.DEVNULL)  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return None
        text = (done.stdout or done.stderr).strip().splitlines()
        return text[0][:80] if text else None

    # ------------------------------------------------------------------ running

    def build(
        self,
        prompt: str,
        options: AgentOptions,
        *,
        executable: str,
        session_id: str | None = None,
        run_dir: Path | None = None,
        hook: HookConfig | None = None,
    ) -> Invocation:
        raise NotImplementedError

    def parser(self) -> LineParser:
        return LineParser()

    # ------------------------------------------------------------------ approvals hook

    def hook_line(self, hook: HookConfig) -> str:
        """The hook command as the line this agent hands its shell."""
        return hook.shell_command()

    def hook_shell(self, env: dict[str, str]) -> list[str] | None:
        """How this agent runs a hook line (argv before the line), to probe it the same
        way; None where that is not known (the probe is then skipped)."""
        return None

    def preflight(self, cwd: Path) -> None:
        """Refuse (LaunchError) a run whose hook the agent's own configuration would skip."""

    def default_session(self, task_id: int) -> str | None:
        """A session to continue when the agent never reported one (e.g. Aider's history)."""
        return f"task-{task_id}" if self.session_is_file else None


def usual_install_folders() -> list[Path]:
    """Where npm, pipx, Homebrew and friends put CLIs when they are not on PATH."""
    home = Path.home()
    folders = [home / ".local/bin", home / ".npm-global/bin", home / ".bun/bin",
               home / ".claude/local", home / ".volta/bin", home / ".cargo/bin",
               home / ".opencode/bin"]  # fmt: skip
    if sys.platform == "win32":
        appdata = Path(os.environ.get("APPDATA", home / "AppData/Roaming"))
        local = Path(os.environ.get("LOCALAPPDATA", home / "AppData/Local"))
        folders += [appdata / "npm", local / "Programs", home / "scoop/shims"]
    else:
        folders += [Path("/usr/local/bin"), Path("/opt/homebrew/bin"), Path("/usr/bin")]
    return folders


def executable_names(name: str) -> Iterable[str]:
    if sys.platform == "win32":
        return (f"{name}.exe", f"{name}.cmd", f"{name}.bat", name)
    return (name,)


def prompt_in_argv(prompt: str) -> bool:
    return len(prompt) <= MAX_PROMPT_ARG and "\x00" not in prompt


def text_event(text: str) -> list[AgentEvent]:
    from app.core.agent_events import Text

    return [Text(text)] if text else []
