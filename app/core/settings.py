"""User settings as a value: defaults, validation, changes. No I/O.

Loading and saving ``settings.json`` (and keeping a bad file aside) is the store's job:
:mod:`app.store.settings`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from app.core.errors import AgentryError

THEMES = ("system", "light", "dark")


@dataclass(frozen=True)
class Settings:
    max_concurrency: int = 4
    default_timeout_s: float = 4 * 3600.0
    """Every task gets this limit unless it says otherwise; 0 means no limit at all."""
    gate_max_memory_percent: float = 90.0
    gate_max_cpu_percent: float = 95.0
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

    def problems(self) -> list[str]:
        """Human-readable reasons this configuration is not usable; empty when it is."""
        found = []
        if not 1 <= self.max_concurrency <= 256:
            found.append("max_concurrency must be between 1 and 256")
        if self.default_timeout_s < 0:
            found.append("default_timeout_s must be 0 (no limit) or a positive number of seconds")
        for name in ("gate_max_memory_percent", "gate_max_cpu_percent"):
            if not 1 <= getattr(self, name) <= 100:
                found.append(f"{name} must be between 1 and 100")
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
        if self.theme not in THEMES:
            found.append("theme must be one of system, light, dark")
        return found

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


class SettingsError(AgentryError, ValueError):
    pass
