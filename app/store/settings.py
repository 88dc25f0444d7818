"""Loading and saving the user's settings (:class:`app.core.settings.Settings`), kept in
``settings.json`` and written atomically.

A settings file that cannot be read is moved aside (never deleted) and defaults are used,
with a warning that names the kept copy.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import fields
from pathlib import Path
from typing import Any

from app.core.log import get_logger
from app.core.settings import THEMES, Settings, SettingsError
from app.store import fsops

log = get_logger(__name__)


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


def settings_problem(path: Path) -> tuple[Settings, str | None]:
    """The settings in ``path`` and why they cannot be used (None when they can), read
    without any side effect: a bad file stays where it is for the doctor to name."""
    try:
        data = fsops.read_json(path)
    except FileNotFoundError:
        return Settings(), None
    except (OSError, fsops.CorruptFileError) as exc:
        return Settings(), str(exc)
    try:
        return _from_mapping(data), None
    except (TypeError, ValueError) as exc:
        return Settings(), f"{path} has unusable values ({exc})"


def peek_theme(path: Path) -> str:
    """The theme setting, read without any side effect (a bad file is left where it is for
    whoever holds the data folder): for screens shown before that is known."""
    try:
        theme = fsops.read_json(path).get("theme")
    except (OSError, ValueError, AttributeError, fsops.CorruptFileError):
        return Settings().theme
    return theme if theme in THEMES else Settings().theme


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
    kept = fsops.aside_name(path, "corrupt")
    try:
        path.rename(kept)
    except OSError as exc:
        log.warning("%s; using defaults (could not move it aside: %s)", why, exc)
        return
    log.warning("%s; using default settings. The old file was kept as %s", why, kept)
