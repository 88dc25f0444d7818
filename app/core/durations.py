"""Durations as people type and read them: ``90``, ``30m``, ``2h``, ``1h30m``, ``none``."""

from __future__ import annotations

import math
import re

from app.core.errors import AgentryError

NO_LIMIT_WORDS = ("none", "never", "no limit", "0")
MAX_DURATION_S = 30 * 24 * 3600.0
"""The longest limit anyone means (a longer one is a typo); "none" says "no limit"."""
_PATTERN = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?")


class DurationError(AgentryError, ValueError):
    pass


def parse_duration(text: str) -> float:
    """Seconds; 0.0 for "no limit". Raises DurationError with a message for a person."""
    value = text.strip().lower().replace(" ", "")
    if value in (w.replace(" ", "") for w in NO_LIMIT_WORDS):
        return 0.0
    parts = _PATTERN.fullmatch(value)
    if not value or parts is None or not any(parts.groups()):
        raise DurationError(
            f"{text!r} is not a duration; use seconds (90), minutes (30m), hours (2h) or 'none'"
        )
    hours, minutes, seconds = (float(g) if g else 0.0 for g in parts.groups())
    total = hours * 3600 + minutes * 60 + seconds
    problem = duration_problem(total)
    if problem:
        raise DurationError(f"{text!r} {problem}")
    return total


def duration_problem(seconds: float) -> str | None:
    """Why ``seconds`` is not a usable limit (to follow the value's name), or None."""
    if math.isnan(seconds) or seconds < 0:
        return "must be 0 (no limit) or a positive number of seconds"
    if seconds > MAX_DURATION_S:
        return "is longer than 30 days; use 'none' for no limit"
    return None


def format_duration(seconds: float | None, *, none: str = "none") -> str:
    """The short form parse_duration reads back: 4h, 1h30m, 45m, 90s (0 or None: ``none``)."""
    if not seconds:
        return none
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts) or "0s"


def format_elapsed(seconds: float) -> str:
    """A clock-like elapsed time for tables: 0:42, 12:05, 3:04:09."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
