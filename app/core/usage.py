"""What the agents' runs cost over a period: per local day, per agent and per project.

The figures are those the adapters parse from each run's own output (migration 2's
``cost_usd``, ``input_tokens``, ``output_tokens``), summed by the store in one query per
period. A cost stays None where no run of a group reported one: Codex and Gemini print
tokens only, and "$0.00" would claim they were free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

PERIODS = (7, 30, 90)
"""The periods a person chooses between, in days ending today."""
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Usage:
    """Summed figures of some runs (only runs that reported a cost or tokens count)."""

    cost_usd: float | None = None  # None: none of these runs reported a cost
    input_tokens: int = 0
    output_tokens: int = 0
    runs: int = 0

    def __add__(self, other: Usage) -> Usage:
        costs = [c for c in (self.cost_usd, other.cost_usd) if c is not None]
        return Usage(
            cost_usd=sum(costs) if costs else None,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            runs=self.runs + other.runs,
        )

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_json(self) -> dict[str, Any]:
        return {
            "cost_usd": self.cost_usd,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "runs": self.runs,
        }


@dataclass(frozen=True)
class UsageRow:
    """The runs of one local day, one agent and one project."""

    day: date
    agent: str
    project: str  # the project folder, as the task list groups tasks (or a working folder)
    usage: Usage


def _summed(pairs: Iterable[tuple[Any, Usage]]) -> dict[Any, Usage]:
    sums: dict[Any, Usage] = {}
    for key, usage in pairs:
        sums[key] = sums.get(key, Usage()) + usage
    return sums


def _by_cost(sums: dict[str, Usage]) -> list[tuple[str, Usage]]:
    """Dearest first; those without a cost by their tokens, then by name."""
    return sorted(sums.items(), key=lambda kv: (-(kv[1].cost_usd or 0), -kv[1].tokens, kv[0]))


@dataclass(frozen=True)
class UsageReport:
    """The usage of the days ``since`` … ``until`` (both included, local days)."""

    since: date
    until: date
    rows: tuple[UsageRow, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.rows

    def days(self) -> list[tuple[date, Usage]]:
        """Every day of the period in order, those without runs too (a chart's bars)."""
        sums = _summed((row.day, row.usage) for row in self.rows)
        count = (self.until - self.since).days + 1
        every = (self.since + timedelta(days=n) for n in range(count))
        return [(day, sums.get(day, Usage())) for day in every]

    def by_agent(self) -> list[tuple[str, Usage]]:
        return _by_cost(_summed((row.agent, row.usage) for row in self.rows))

    def by_project(self) -> list[tuple[str, Usage]]:
        return _by_cost(_summed((row.project, row.usage) for row in self.rows))

    def total(self) -> Usage:
        return sum((row.usage for row in self.rows), Usage())

    def regrouped(self, project_of: Callable[[str], str]) -> UsageReport:
        """The same rows with each folder replaced by its project, rows that now share a
        day, agent and project merged (two folders of one repository are one project)."""
        sums = _summed(((r.day, r.agent, project_of(r.project)), r.usage) for r in self.rows)
        rows = tuple(UsageRow(d, a, p, u) for (d, a, p), u in sorted(sums.items()))
        return UsageReport(self.since, self.until, rows)

    def to_json(self) -> dict[str, Any]:
        """The stable shape of ``agentry usage --json``."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "days": [{"day": d.isoformat(), **u.to_json()} for d, u in self.days()],
            "agents": [{"agent": a, **u.to_json()} for a, u in self.by_agent()],
            "projects": [{"project": p, **u.to_json()} for p, u in self.by_project()],
            "total": self.total().to_json(),
        }


def format_tokens(count: int) -> str:
    """ "950", "12.3k", "4.1M": a token count at a glance."""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f}k"
    return f"{count / 1_000_000:.1f}M"
