"""Schedules: a task to start again and again (cron), every so often, or once at a time.

Pure logic, no clock of its own and no database: the supervisor's component
(app.supervisor.schedules) asks :func:`plan_due` what to do with a due schedule and
stores the answer in the same transaction as the task it starts.

Times are instants (Unix seconds); a cron expression is read in the person's local zone
(:func:`local_zone`), so "0 9 * * 1-5" stays 9:00 across a DST change. cronsim follows
cron's own rule for the changes: a time skipped by spring-forward runs at the first valid
time after, a time repeated by fall-back runs once.
"""

from __future__ import annotations

import enum
import os
import time
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from app.core.durations import DurationError, format_duration, parse_duration
from app.core.errors import AgentryError
from app.core.models import TaskSpec

MISSED_AFTER_S = 60.0
"""An occurrence this much past by the time it is looked at was missed (Agentry was
closed, the computer asleep) rather than merely reached: ``--catch-up`` decides then."""


class ScheduleError(AgentryError, ValueError):
    """A schedule that cannot be made as asked; the message says what to change."""


class ScheduleKind(enum.StrEnum):
    CRON = "cron"
    EVERY = "every"
    AT = "at"


class CatchUp(enum.StrEnum):
    """What happens to occurrences missed while Agentry was closed: never N runs."""

    ONCE = "once"  # run once at the next start
    SKIP = "skip"  # go on with the next future time


class Overlap(enum.StrEnum):
    """Whether an occurrence starts a task while the previous one is still queued or running."""

    SKIP = "skip"
    ALLOW = "allow"


@dataclass(frozen=True)
class Schedule:
    id: int
    spec: TaskSpec
    kind: ScheduleKind
    expr: str  # the cron expression, the interval in seconds, or the instant (Unix seconds)
    catch_up: CatchUp
    overlap: Overlap
    paused: bool
    next_run_at: float | None  # None: nothing more to run (a one-shot that ran or was skipped)
    last_run_at: float | None
    last_task_id: int | None
    created_at: float

    @property
    def when(self) -> str:
        return describe(self.kind, self.expr)

    @property
    def what(self) -> str:
        """The command, or the agent and its prompt, as a list shows it."""
        return describe_spec(self.spec)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "when": self.when, "kind": self.kind.value, "expr": self.expr,
            "what": self.what, "agent": self.spec.agent, "argv": list(self.spec.argv),
            "prompt": self.spec.prompt, "cwd": self.spec.cwd, "title": self.spec.title,
            "catch_up": self.catch_up.value, "overlap": self.overlap.value,
            "paused": self.paused, "next_run_at": self.next_run_at,
            "last_run_at": self.last_run_at, "last_task_id": self.last_task_id,
            "created_at": self.created_at,
        }  # fmt: skip


def describe_spec(spec: TaskSpec) -> str:
    if spec.agent == "shell":
        return spec.shell_command or " ".join(spec.argv)
    prompt = " ".join((spec.prompt or "").split())
    return f"{spec.agent}: {prompt}"


def describe(kind: ScheduleKind, expr: str) -> str:
    """How a list shows when a schedule runs: ``cron 0 9 * * 1-5``, ``every 1h``, ``once at …``."""
    if kind is ScheduleKind.CRON:
        return f"cron {expr}"
    if kind is ScheduleKind.EVERY:
        return f"every {format_duration(float(expr))}"
    return f"once at {time.strftime('%Y-%m-%d %H:%M', time.localtime(float(expr)))}"


# ---------------------------------------------------------------- making one


def parse_when(kind: ScheduleKind, text: str, now: float, zone: tzinfo) -> str:
    """The stored ``expr`` for what a person typed, or ScheduleError saying what is wrong:
    a cron expression cronsim reads, a positive interval, an ISO time in the future
    (a time without a zone is in ``zone``)."""
    kind = ScheduleKind(kind)  # also from a plain "cron" (a combo box's data comes back so)
    text = text.strip()
    if kind is ScheduleKind.CRON:
        from cronsim import CronSim, CronSimError

        try:
            CronSim(text, datetime.fromtimestamp(now, zone))
        except (CronSimError, ValueError) as exc:
            raise ScheduleError(
                f"{text!r} is not a cron expression ({exc}); use five fields, minute hour "
                'day-of-month month day-of-week, e.g. "0 9 * * 1-5" for 9:00 on weekdays'
            ) from None
        return " ".join(text.split())
    if kind is ScheduleKind.EVERY:
        try:
            seconds = parse_duration(text)
        except DurationError as exc:
            raise ScheduleError(str(exc)) from None
        if seconds < 1:
            raise ScheduleError(f"{text!r} is no interval; give how often, e.g. 30m, 1h or 1h30m")
        return _number(seconds)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ScheduleError(
            f"{text!r} is not a date and time; use ISO form, e.g. 2026-12-02T09:00"
        ) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone)
    instant = at.timestamp()
    if instant <= now:
        shown = at.strftime("%Y-%m-%d %H:%M")
        raise ScheduleError(f"{shown} is in the past; give a time still to come")
    return _number(instant)


def _number(value: float) -> str:
    """Exactly, and whole numbers without ".0" (``format(…, "g")`` would round)."""
    return str(int(value)) if value == int(value) else repr(value)


def first_run(kind: ScheduleKind, expr: str, now: float, zone: tzinfo) -> float | None:
    """When a schedule made at ``now`` first runs."""
    if kind is ScheduleKind.EVERY:
        return now + float(expr)
    return next_after(kind, expr, now, zone, anchor=now)


# ---------------------------------------------------------------- when next


def next_after(
    kind: ScheduleKind, expr: str, after: float, zone: tzinfo, *, anchor: float
) -> float | None:
    """The first occurrence strictly after ``after``; None when there is none (a one-shot
    whose time has passed). ``every`` counts whole intervals from ``anchor`` (its previous
    occurrence), so it keeps its rhythm however late it was looked at."""
    if kind is ScheduleKind.AT:
        instant = float(expr)
        return instant if instant > after else None
    if kind is ScheduleKind.EVERY:
        interval = float(expr)
        steps = max(1, int((after - anchor) // interval) + 1)
        nxt = anchor + steps * interval
        return nxt if nxt > after else nxt + interval
    from cronsim import CronSim

    return next(CronSim(expr, datetime.fromtimestamp(after, zone))).timestamp()


@dataclass(frozen=True)
class DuePlan:
    """What to do with a due schedule: start a task or not, and the next time it is due."""

    run: bool
    next_run_at: float | None
    missed: bool  # its time passed while nobody looked (Agentry closed, the computer asleep)


def plan_due(schedule: Schedule, now: float, zone: tzinfo) -> DuePlan | None:
    """None while it is not due (or paused); otherwise run once at most — however many
    occurrences passed — and move on to the first occurrence after ``now``."""
    due = schedule.next_run_at
    if schedule.paused or due is None or due > now:
        return None
    missed = now - due > MISSED_AFTER_S
    run = not missed or schedule.catch_up is CatchUp.ONCE
    nxt = next_after(schedule.kind, schedule.expr, now, zone, anchor=due)
    return DuePlan(run=run, next_run_at=nxt, missed=missed)


# ---------------------------------------------------------------- the local zone


def local_zone() -> tzinfo:
    """The person's zone with its DST rules (a fixed offset would move 9:00 to 8:00 or 10:00
    after a change): ``TZ`` if it names one, else the system's (/etc/localtime), else, where
    no zone database is (Windows without tzdata), Python's view of local time."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    try:
        with open("/etc/localtime", "rb") as f:
            return ZoneInfo.from_file(f, key="localtime")
    except (OSError, ValueError):
        pass
    return _SystemLocal()


class _SystemLocal(tzinfo):
    """Local time as the C library sees it, DST included (the tzinfo example of Python's
    documentation); used only where no zone database exists."""

    def utcoffset(self, dt: datetime | None) -> Any:
        from datetime import timedelta

        if dt is None:
            return timedelta(seconds=-time.timezone)
        stamp = time.mktime((*dt.timetuple()[:8], -1))
        return timedelta(seconds=time.localtime(stamp).tm_gmtoff)

    def dst(self, dt: datetime | None) -> Any:
        from datetime import timedelta

        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return time.tzname[0]
