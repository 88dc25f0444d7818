"""User settings as a value: defaults, validation, changes. No I/O.

Loading and saving ``settings.json`` (and keeping a bad file aside) is the store's job:
:mod:`app.store.settings`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from app.core.command_shell import SHELL_KEYS
from app.core.durations import duration_problem
from app.core.errors import AgentryError

THEMES = ("system", "light", "dark")
DEFAULT_COPY_FILES = (".env*",)
"""Files copied from the checkout into a new worktree: git leaves ignored files behind."""


@dataclass(frozen=True)
class ProjectSettings:
    """How Agentry treats one repository's worktrees. Commands are command lines, run by the
    platform's shell in the worktree (:func:`app.core.platform.shell_argv`)."""

    copy_files: tuple[str, ...] = DEFAULT_COPY_FILES  # glob patterns, relative to the top
    setup: str = ""  # run before the agent in a new worktree, e.g. ``npm ci``; "" for none
    check: str = ""  # must pass before ``agentry land`` moves the base, e.g. ``make test``

    def problems(self) -> list[str]:
        found = []
        for pattern in self.copy_files:
            if not isinstance(pattern, str) or not pattern.strip():
                found.append("files to copy must be non-empty glob patterns")
            elif pattern.startswith(("/", "\\")) or ".." in pattern.replace("\\", "/").split("/"):
                found.append(f"the pattern {pattern!r} must stay inside the repository")
        for name in ("setup", "check"):
            value = getattr(self, name)
            if not isinstance(value, str) or "\n" in value or "\r" in value:
                found.append(f"the {name} command must be a single command line")
        return found


@dataclass(frozen=True)
class Settings:
    max_concurrency: int = 4
    default_timeout_s: float = 4 * 3600.0
    """Every task gets this limit unless it says otherwise; 0 means no limit at all."""
    gate_max_memory_percent: float = 90.0
    gate_max_cpu_percent: float = 95.0
    gate_min_free_disk_mb: int = 500
    """Queued tasks wait while the data folder's disk has less free (MiB); 0: never."""
    kill_grace_s: float = 5.0
    notifications: bool = True
    theme: str = "system"
    tray_hint_shown: bool = False  # "Agentry keeps running in the tray" is said only once
    agent_paths: dict[str, str] = field(default_factory=dict)  # agent name -> executable
    approvals: bool = True  # agents that have a pre-tool hook ask before each tool call
    approval_timeout_s: float = 15 * 60.0  # then the call is denied: Agentry fails closed
    # Tools that only read are allowed without asking (rules in Settings can change that).
    approval_auto_allow: list[str] = field(
        default_factory=lambda: [
            *("Read", "Glob", "Grep", "LS", "TodoWrite", "NotebookRead"),  # Claude Code
            *("read_file", "read_many_files", "glob", "grep_search", "list_directory"),  # Gemini
            "write_todos",
        ]
    )
    # repository top folder -> whether coding agents run in a worktree of their own there:
    # the person's last choice in the New task dialog where it differed from the proposal
    worktree_by_project: dict[str, bool] = field(default_factory=dict)
    # Per project (repository top folder), what differs from the defaults: see ProjectSettings
    project_copy_files: dict[str, list[str]] = field(default_factory=dict)
    project_setup: dict[str, str] = field(default_factory=dict)
    project_check: dict[str, str] = field(default_factory=dict)
    command_shell: str = "system"
    """What runs a shell command (:mod:`app.core.command_shell`): "system" is $SHELL or
    /bin/sh on POSIX and cmd.exe on Windows; "sh" or "powershell" choose those."""
    editor_command: str = ""  # "Open in editor": empty picks `code` when installed, else the OS
    prune_merged_after_days: int = 0  # remove worktrees whose work is merged; 0: never
    backups_keep: int = 10  # the newest this many database backups are kept, older ones go
    backups_every_h: float = 24.0  # back up this often and at a clean shutdown; 0: neither
    default_memory_limit_mb: int = 0  # an agent's process tree is stopped above it; 0: none
    # A task stopped by its agent's usage or rate limit waits for the reset and resumes its
    # session (issue #15); each task may say otherwise (TaskSpec.limits).
    limit_auto_resume: bool = True
    limit_max_resumes: int = 5  # per task, since a person last started it; then it stops
    limit_resume_margin_s: float = 120.0  # after the reset time the agent gave
    limit_quiet_hours: str = ""  # e.g. "23:00-07:00": nothing resumes by itself then
    limit_resume_message: str = "The usage limit you hit has reset. Continue where you left off."
    # Durable notifications (issue #16): a failed delivery is tried again after each of these
    # (seconds), then given up; each POST waits this long for an answer.
    notify_retry_delays_s: list[float] = field(default_factory=lambda: [30.0, 120.0, 600.0])
    notify_timeout_s: float = 10.0

    def project(self, top: str) -> ProjectSettings:
        """The settings of the repository whose top folder is ``top``."""
        copy = self.project_copy_files.get(top)
        return ProjectSettings(
            copy_files=DEFAULT_COPY_FILES if copy is None else tuple(copy),
            setup=self.project_setup.get(top, ""),
            check=self.project_check.get(top, ""),
        )

    def with_project(self, top: str, project: ProjectSettings) -> Settings:
        """These settings with ``top``'s replaced (defaults are not stored)."""

        def put(mapping: dict[str, Any], value: Any, default: Any) -> dict[str, Any]:
            changed = {k: v for k, v in mapping.items() if k != top}
            if value != default:
                changed[top] = value
            return changed

        return self.replace(
            project_copy_files=put(
                self.project_copy_files, list(project.copy_files), list(DEFAULT_COPY_FILES)
            ),
            project_setup=put(self.project_setup, project.setup, ""),
            project_check=put(self.project_check, project.check, ""),
        )

    def problems(self) -> list[str]:
        """Human-readable reasons this configuration is not usable; empty when it is."""
        found = []
        if not 1 <= self.max_concurrency <= 256:
            found.append("max_concurrency must be between 1 and 256")
        problem = duration_problem(self.default_timeout_s)
        if problem:
            found.append(f"default_timeout_s {problem}")
        for name in ("gate_max_memory_percent", "gate_max_cpu_percent"):
            if not 1 <= getattr(self, name) <= 100:
                found.append(f"{name} must be between 1 and 100")
        if not 0 <= self.gate_min_free_disk_mb <= 1_000_000:
            found.append("gate_min_free_disk_mb must be between 0 (no check) and 1000000 MiB")
        if not 0 <= self.kill_grace_s <= 600:
            found.append("kill_grace_s must be between 0 and 600 seconds")
        if not 10 <= self.approval_timeout_s <= 24 * 3600:
            found.append("approval_timeout_s must be between 10 seconds and 24 hours")
        for agent, path in self.agent_paths.items():
            if not isinstance(path, str) or not isinstance(agent, str):
                found.append("agent_paths must map agent names to executable paths")
        for project, choice in self.worktree_by_project.items():
            if not isinstance(project, str) or not project or not isinstance(choice, bool):
                found.append("worktree_by_project must map repository folders to true or false")
                break
        found.extend(_project_problems(self))
        if not 0 <= self.prune_merged_after_days <= 3650:
            found.append("prune_merged_after_days must be 0 (never) or a number of days")
        if not 1 <= self.backups_keep <= 1000:
            found.append("backups_keep must be between 1 and 1000 backups")
        if not (self.backups_every_h == 0 or 1 <= self.backups_every_h <= 24 * 365):
            found.append("backups_every_h must be 0 (off) or between 1 and 8760 hours")
        if self.command_shell not in SHELL_KEYS:
            found.append("command_shell must be one of " + ", ".join(sorted(SHELL_KEYS)))
        if self.theme not in THEMES:
            found.append("theme must be one of system, light, dark")
        found.extend(_limit_problems(self))
        found.extend(_notify_problems(self))
        return found

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _project_problems(settings: Settings) -> list[str]:
    mappings: list[tuple[str, dict[str, Any], type]] = [
        ("project_copy_files", settings.project_copy_files, list),
        ("project_setup", settings.project_setup, str),
        ("project_check", settings.project_check, str),
    ]
    for name, mapping, kind in mappings:
        for top, value in mapping.items():
            if not isinstance(top, str) or not top or not isinstance(value, kind):
                return [f"{name} must map repository folders to {kind.__name__} values"]
            if isinstance(value, list) and not all(isinstance(v, str) for v in value):
                return [f"{name} must map repository folders to lists of patterns"]
    found: list[str] = []
    for top in {*settings.project_copy_files, *settings.project_setup, *settings.project_check}:
        found.extend(f"{top}: {p}" for p in settings.project(top).problems())
    return found


def _limit_problems(settings: Settings) -> list[str]:
    from app.core.policies import quiet_hours_problem

    found = []
    if not 0 <= settings.default_memory_limit_mb <= 16 * 1024 * 1024:
        found.append("default_memory_limit_mb must be 0 (no limit) or a number of MiB")
    if not 0 <= settings.limit_max_resumes <= 1000:
        found.append("limit_max_resumes must be between 0 (never resume) and 1000")
    if not 0 <= settings.limit_resume_margin_s <= 24 * 3600:
        found.append("limit_resume_margin_s must be between 0 and 86400 seconds")
    problem = quiet_hours_problem(settings.limit_quiet_hours)
    if problem:
        found.append(f"limit_quiet_hours: {problem}")
    if not settings.limit_resume_message.strip():
        found.append("limit_resume_message must say something to the agent")
    return found


def _notify_problems(settings: Settings) -> list[str]:
    found = []
    problem = delays_problem(settings.notify_retry_delays_s)
    if problem:
        found.append(f"notify_retry_delays_s {problem}")
    if not 0.1 <= settings.notify_timeout_s <= 300:
        found.append("notify_timeout_s must be between 0.1 and 300 seconds")
    return found


def delays_problem(delays: object) -> str | None:
    """Why a notification retry schedule (``notify_retry_delays_s``) is unusable, or None.
    Here, not in app.core.notifications: every `agentry run` reads its settings."""
    if not isinstance(delays, tuple | list) or not 0 <= len(delays) <= 10:
        return "must be a list of at most 10 delays in seconds, e.g. [30, 120, 600]"
    for delay in delays:
        if isinstance(delay, bool) or not isinstance(delay, int | float):
            return f"has {delay!r}, not a number of seconds"
        if not 0 < delay <= 24 * 3600:
            return f"has {delay!r}; each delay must be more than 0 and at most 86400 seconds"
    return None


class SettingsError(AgentryError, ValueError):
    pass
