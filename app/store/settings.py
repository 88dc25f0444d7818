"""User settings, kept in ``settings.json`` and written atomically.

A settings file that cannot be read is moved aside (never deleted) and defaults are used,
with a warning that names the kept copy.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from app.core.errors import AgentryError
from app.store import fsops

log = logging.getLogger(__name__)


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
        if self.theme not in ("system", "light", "dark"):
            found.append("theme must be one of system, light, dark")
        return found

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


class SettingsError(AgentryError, ValueError):
    pass


def load_settings(path: Path) -> Settings:
    try:
        data = fsops.read_json(path)
    except FileNotFoundError:
        return Settings()
    except fsops.CorruptFileError as exc:
        _keep_aside(path, str(exc))
        return Settings()
    try:
        settings = _from_mapping(data)
    except (TypeError, ValueError) as exc:
        _keep_aside(path, f"{path} has unusable values ({exc})")
        return Settings()
    return settings


def peek_theme(path: Path) -> str:
    """The theme setting, read without any side effect (a bad file is left where it is for
    whoever holds the data folder): for screens shown before that is known."""
    try:
        theme = fsops.read_json(path).get("theme")
    except (OSError, ValueError, AttributeError, fsops.CorruptFileError):
        return Settings().theme
    return theme if theme in ("system", "light", "dark") else Settings().theme


def save_settings(path: Path, settings: Settings) -> None:
    problems = settings.problems()
    if problems:
        raise SettingsError("; ".join(problems))
    fsops.write_json(path, dataclasses.asdict(settings))


def _from_mapping(data: Any) -> Settings:
    if not isinstance(data, dict):
        raise TypeError("the file does not hold a JSON object")
    known = {f.name: f for f in fields(Settings)}
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name not in known:
            log.warning("ignoring unknown setting %r", name)
            continue
        values[name] = _coerce(name, getattr(Settings(), name), value)
    settings = Settings(**values)
    problems = settings.problems()
    if problems:
        raise ValueError("; ".join(problems))
    return settings


def _coerce(name: str, default: Any, value: Any) -> Any:
    """The value in the type of its default; anything else is refused, never guessed."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = isinstance(value, type(default))
    if ok and isinstance(value, float) and not math.isfinite(value):
        ok = False  # NaN passes every comparison: it would switch a limit off unnoticed
    if not ok:
        raise ValueError(f"{name} must be a {type(default).__name__}, not {value!r}")
    return type(default)(value)


def _keep_aside(path: Path, why: str) -> None:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while kept.exists():  # never overwrite an earlier kept copy
        n += 1
        kept = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    try:
        path.rename(kept)
    except OSError as exc:
        log.warning("%s; using defaults (could not move it aside: %s)", why, exc)
        return
    log.warning("%s; using default settings. The old file was kept as %s", why, kept)
