"""What a task asks for when its run ends: its restart policy and its choice on its agent's
usage limit (issue #15). Records only, small to import (every `agentry run` reads a task
spec): the decisions over them are :mod:`app.core.restarts` and :mod:`app.core.limits`."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

WAIT_LIMIT = "limit"  # the wait_reason of a run that waits for its agent's limit to reset
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


class RestartMode(enum.StrEnum):
    NEVER = "never"
    ON_FAILURE = "on-failure"  # after a failure (an exit other than 0, a crash of its runner)
    ALWAYS = "always"  # after any ending but a cancel or a timeout


@dataclass(frozen=True)
class RestartPolicy:
    """Up to ``max_restarts`` new runs, the n-th after ``backoff_min_s * 2**(n-1)`` seconds
    (at most ``backoff_max_s``)."""

    mode: RestartMode = RestartMode.NEVER
    max_restarts: int = 3
    backoff_min_s: float = 5.0
    backoff_max_s: float = 300.0

    @property
    def restarts(self) -> bool:
        return self.mode is not RestartMode.NEVER

    def delay(self, restart: int) -> float:
        """Seconds to wait before restart number ``restart`` (1 for the first)."""
        return min(self.backoff_max_s, self.backoff_min_s * 2 ** max(0, restart - 1))

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "max_restarts": self.max_restarts,
            "backoff_min_s": self.backoff_min_s,
            "backoff_max_s": self.backoff_max_s,
        }

    @classmethod
    def from_json(cls, data: object) -> RestartPolicy:
        if not isinstance(data, dict):
            return cls()
        try:
            mode = RestartMode(str(data.get("mode", RestartMode.NEVER.value)))
        except ValueError:
            mode = RestartMode.NEVER  # a mode from a newer Agentry: do not restart
        return cls(
            mode=mode,
            max_restarts=max(0, int(data.get("max_restarts", 3))),
            backoff_min_s=max(0.0, float(data.get("backoff_min_s", 5.0))),
            backoff_max_s=max(0.0, float(data.get("backoff_max_s", 300.0))),
        )

    def describe(self) -> str:
        if not self.restarts:
            return "never restarted"
        return (
            f"restarted {self.mode.value}, up to {self.max_restarts} times, "
            f"after {seconds_text(self.backoff_min_s)} to {seconds_text(self.backoff_max_s)}"
        )


@dataclass(frozen=True)
class LimitPolicy:
    """A task's own choice, where it differs from Settings (None: as Settings say)."""

    auto_resume: bool | None = None
    max_resumes: int | None = None
    quiet_hours: str | None = None  # "23:00-07:00"; "" for none, whatever Settings say

    @property
    def is_default(self) -> bool:
        return self.auto_resume is None and self.max_resumes is None and self.quiet_hours is None

    def to_json(self) -> dict[str, Any]:
        return {"auto_resume": self.auto_resume, "max_resumes": self.max_resumes,
                "quiet_hours": self.quiet_hours}  # fmt: skip

    @classmethod
    def from_json(cls, data: object) -> LimitPolicy:
        if not isinstance(data, dict):
            return cls()
        auto, most, quiet = (
            data.get("auto_resume"),
            data.get("max_resumes"),
            data.get("quiet_hours"),
        )
        return cls(
            auto_resume=auto if isinstance(auto, bool) else None,
            max_resumes=most if isinstance(most, int) and most >= 0 else None,
            quiet_hours=quiet
            if isinstance(quiet, str) and not quiet_hours_problem(quiet)
            else None,
        )


def clock_of(text: str) -> tuple[int, int] | None:
    """ "07:00" -> (7, 0); None when it is not a time of day as HH:MM."""
    found = _CLOCK.match(text)
    if not found or int(found[1]) > 23 or int(found[2]) > 59:
        return None
    return int(found[1]), int(found[2])


def quiet_hours_problem(text: str) -> str | None:
    """Why ``text`` is not quiet hours as HH:MM-HH:MM (e.g. 23:00-07:00), or None ("" is
    none at all)."""
    if not text.strip():
        return None
    start, sep, end = text.partition("-")
    clocks = [clock_of(start), clock_of(end)] if sep else [None]
    if None in clocks or clocks[0] == clocks[1]:
        return f"quiet hours {text!r} are not two different times as HH:MM-HH:MM, e.g. 23:00-07:00"
    return None


def seconds_text(value: float) -> str:
    """ "5 s", "2 min": a wait as a message says it."""
    if value >= 60 and value % 60 == 0:
        return f"{value / 60:g} min"
    return f"{value:g} s"
