"""Usage and rate limits: when a task that stopped on its agent's limit resumes, and
whether it does (issue #15). Pure decisions; the supervisor records them as rows (a
queued run's ``not_before``, the agent's limit) in the transaction that takes the ending
in, so a pause survives Agentry being closed or killed.

Times are epoch seconds; quiet hours are the person's local wall-clock times.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.core.errors import AgentryError
from app.core.policies import clock_of, quiet_hours_problem

LIMIT_KINDS = ("usage", "rate", "overloaded")
"""A plan's quota (session, weekly, daily), a rate limit (429), an overloaded service."""
BACKOFF_MIN_S = 60.0
"""With no reset time given, the first try again is after this, doubling each time..."""
BACKOFF_MAX_S = 3600.0
"""... up to this."""


class LimitError(AgentryError, ValueError):
    pass


@dataclass(frozen=True)
class QuietHours:
    """Local wall-clock hours during which nothing resumes by itself, e.g. 23:00-07:00."""

    start: dt.time
    end: dt.time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def holds(self, at: dt.datetime) -> bool:
        clock = at.time()
        if self.start <= self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end  # across midnight

    def after(self, at: float, zone: dt.tzinfo | None = None) -> float:
        """``at``, or the end of the quiet hours it falls in (in ``zone``, else local)."""
        local = dt.datetime.fromtimestamp(at, zone) if zone else dt.datetime.fromtimestamp(at)
        if not self.holds(local):
            return at
        day = local.date() if local.time() < self.end else local.date() + dt.timedelta(days=1)
        # On the wall clock: a DST change in the night still ends them at the hour said.
        end = dt.datetime.combine(day, self.end)
        return (end.replace(tzinfo=zone) if zone else end).timestamp()


def parse_quiet_hours(text: str) -> QuietHours | None:
    """``"23:00-07:00"`` -> QuietHours; ``""`` -> None; LimitError for anything else."""
    problem = quiet_hours_problem(text)
    if problem is not None:
        raise LimitError(problem)
    if not text.strip():
        return None
    start, _, end = text.partition("-")
    (h1, m1), (h2, m2) = clock_of(start), clock_of(end)  # type: ignore[misc]
    return QuietHours(dt.time(h1, m1), dt.time(h2, m2))


@dataclass(frozen=True)
class LimitHit:
    """What the agent said when it stopped on a limit (from its adapter's parser)."""

    kind: str  # one of LIMIT_KINDS
    resets_at: float | None  # when the agent says it resets; None: it did not say
    message: str  # the agent's own words, one line


@dataclass(frozen=True)
class AgentLimit:
    """An agent's limit in force: its queued tasks wait until ``until``."""

    agent: str
    until: float
    kind: str
    message: str
    since: float
    run_id: int | None = None


@dataclass(frozen=True)
class Pause:
    until: float  # the agent's limit holds until then (its other tasks wait too)
    resume_at: float  # this task's run starts then (until, a margin, out of quiet hours)
    resume: int  # 1 for the first resume since a person last started the task


@dataclass(frozen=True)
class Stay:
    """No resume: the task ends as it stopped, with this said."""

    until: float
    message: str


def decide(
    hit: LimitHit,
    ended_at: float,
    resumes_so_far: int,
    *,
    auto_resume: bool,
    max_resumes: int,
    margin_s: float,
    quiet: QuietHours | None,
    zone: dt.tzinfo | None = None,
) -> Pause | Stay:
    """What follows a run that stopped on ``hit``."""
    tries = resumes_so_far + 1
    if hit.resets_at is not None and hit.resets_at > ended_at:
        until = hit.resets_at
    else:  # no reset time (or one already past): try again after a growing wait
        until = ended_at + min(BACKOFF_MAX_S, BACKOFF_MIN_S * 2 ** (tries - 1))
    if not auto_resume:
        words = f"{describe(hit)}; auto-resume is off: resume it when the limit resets"
        return Stay(until, words)
    if resumes_so_far >= max_resumes:
        times = "resume" if max_resumes == 1 else "resumes"
        return Stay(until, f"{describe(hit)}; stopped after {max_resumes} {times}")
    resume_at = until + (margin_s if hit.resets_at is not None else 0.0)
    if quiet is not None:
        resume_at = quiet.after(resume_at, zone)
    return Pause(until, resume_at, tries)


def describe(hit: LimitHit) -> str:
    """What happened, to follow the agent's name: "hit its usage limit"."""
    return {
        "usage": "hit its usage limit",
        "rate": "was rate-limited",
        "overloaded": "found the service overloaded",
    }.get(hit.kind, "hit a limit")
