"""What ``agentry doctor`` and the Health view show: one record per check, green, amber or
red, each with what to do about it.

The checks are computed once (:mod:`app.supervisor.doctor`) and shown three ways — as text
by ``agentry doctor``, as JSON by ``agentry doctor --json`` and as rows in Help → Health —
so the three can never disagree. The JSON's shape is documented in
:mod:`app.supervisor.doctor` and pinned by a test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "warn", "fail"]
"""Green (nothing to do), amber (worth a look, nothing is stopped), red (something does
not work until the person acts)."""

SEVERITY: dict[Status, int] = {"ok": 0, "warn": 1, "fail": 2}
WORDS: dict[Status, str] = {"ok": "OK", "warn": "Warning", "fail": "Problem"}
"""What each status is called where it is shown beside its colour (never colour alone)."""


def worst(statuses: list[Status]) -> Status:
    return max(statuses, key=SEVERITY.__getitem__, default="ok")


@dataclass(frozen=True)
class HealthCheck:
    key: str  # stable: the JSON key, e.g. "database"
    title: str  # "Database"
    status: Status
    summary: str  # one line: what was found
    action: str = ""  # what to do about it; empty when there is nothing to do
    detail: tuple[str, ...] = ()  # further lines (one per run, per agent, …)
    data: dict[str, Any] = field(default_factory=dict)  # the figures, for --json

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "status": self.status,
            "summary": self.summary,
            "action": self.action,
            "detail": list(self.detail),
            "data": self.data,
        }


@dataclass(frozen=True)
class HealthReport:
    checks: tuple[HealthCheck, ...]
    generated_at: float  # epoch seconds
    agentry_version: str
    data_folder: str

    @property
    def status(self) -> Status:
        return worst([check.status for check in self.checks])

    @property
    def problems(self) -> list[HealthCheck]:
        return [check for check in self.checks if check.status == "fail"]

    def check(self, key: str) -> HealthCheck:
        return next(check for check in self.checks if check.key == key)
