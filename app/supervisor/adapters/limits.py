"""Reading usage and rate limits out of the agents' own words (AGENT-CLIS.md, "Usage and
rate limits").

Small pure functions the adapters' line parsers share: when a limit resets, from the
forms the CLIs print ("resets 8pm (America/New_York)", "try again at Jul 5th, 2026 8:19
PM", "try again in 5 days 22 hours 11 minutes"), and which kind of limit an HTTP status
means. ``now`` is always a parameter: a reset written as a wall time ("8pm") is the next
such moment after the line was printed, and tests pin that moment instead of reading the
clock. A time without a zone is in ``tz`` (None: this computer's zone, which is the one
the agent printed it in).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.core.agent_events import Limit, LimitKind

MAX_MESSAGE = 300
PACIFIC = "America/Los_Angeles"  # where Google's per-day quotas reset, at midnight

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

# A moment as the CLIs write it: an optional date ("Jul 15", "Jul 5th, 2026", "Jan 3,
# 2027,"), an optional "at", a clock time ("8pm", "8:30 PM", "4 a.m.", "20:00") and an
# optional IANA zone in parentheses.
_WHEN = (
    r"(?:(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+"
    r"(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?:(?P<year>\d{4}),?\s+)?(?:at\s+)?)?"
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?"
    r"(?:\s*(?P<ampm>[ap])\.?\s?m\b\.?)?"
    r"(?:\s*\((?P<zone>[A-Za-z_+\-/0-9]+)\))?"
)
RESETS = re.compile(r"\bresets?\s+(?:at\s+)?" + _WHEN, re.IGNORECASE)
TRY_AGAIN_AT = re.compile(r"\btry again at\s+" + _WHEN, re.IGNORECASE)
TRY_AGAIN_IN = re.compile(r"\btry again in\s+(?P<span>(?:\d+\s*[a-z]+[\s,]*(?:and\s+)?)+)",
                          re.IGNORECASE)  # fmt: skip
_SPAN_PART = re.compile(r"(\d+)\s*([a-z]+)", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "day": 86400, "days": 86400,
                 "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
                 "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
                 "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1}  # fmt: skip


def one_line(text: str) -> str:
    """The agent's words as one line: the first non-empty one, not endless."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:MAX_MESSAGE]
    return ""


def zone(name: str | None) -> tzinfo | None:
    """An IANA zone by name; None when it is unknown here (say so rather than guess)."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_zone(now: float) -> tzinfo | None:
    return datetime.fromtimestamp(now).astimezone().tzinfo


def reset_time(text: str, now: float, tz: tzinfo | None = None) -> float | None:
    """When a limit resets, as epoch seconds, from any form the CLIs use; None if unsaid."""
    for pattern in (RESETS, TRY_AGAIN_AT):
        found = pattern.search(text)
        if found is not None:
            return moment(found, now, tz)
    found = TRY_AGAIN_IN.search(text)
    if found is not None:
        seconds = span_seconds(found["span"])
        return now + seconds if seconds else None
    return None


def span_seconds(span: str) -> int | None:
    """``5 days 22 hours 11 minutes`` → seconds; None if a unit is not a time unit."""
    total = 0
    for count, unit in _SPAN_PART.findall(span):
        if unit.lower() == "and":
            continue
        factor = _UNIT_SECONDS.get(unit.lower())
        if factor is None:
            return None
        total += int(count) * factor
    return total or None


def moment(found: re.Match[str], now: float, tz: tzinfo | None) -> float | None:
    """The next moment at or after ``now`` that a matched ``_WHEN`` names."""
    named = found["zone"]
    where = zone(named) if named else (tz or local_zone(now))
    if where is None:
        return None
    clock = _clock(found["hour"], found["minute"], found["ampm"])
    if clock is None:
        return None
    today = datetime.fromtimestamp(now, where)
    try:
        if found["mon"]:
            month = MONTHS.index(found["mon"].lower()[:3]) + 1
            year = int(found["year"]) if found["year"] else today.year
            when = _at(date(year, month, int(found["day"])), clock, where)
            if when < now and not found["year"]:  # "Jan 3" read in December: next year
                when = _at(date(year + 1, month, int(found["day"])), clock, where)
            return when
        when = _at(today.date(), clock, where)
        return when if when >= now else _at(today.date() + timedelta(days=1), clock, where)
    except ValueError:  # "Feb 30"
        return None


def _clock(hour_text: str, minute_text: str | None, ampm: str | None) -> time | None:
    hour, minute = int(hour_text), int(minute_text or 0)
    if ampm is None:
        if minute_text is None:  # a bare number ("resets 8") is not a time
            return None
    elif not 1 <= hour <= 12:
        return None
    else:
        hour = hour % 12 + (12 if ampm.lower() == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _at(day: date, clock: time, where: tzinfo) -> float:
    return datetime.combine(day, clock, tzinfo=where).timestamp()


def next_midnight(zone_name: str, now: float) -> float | None:
    """The next midnight in a zone after ``now`` (Google's daily quotas reset then)."""
    where = zone(zone_name)
    if where is None:
        return None
    today = datetime.fromtimestamp(now, where).date()
    return _at(today + timedelta(days=1), time(0), where)


def status_kind(status: int | None) -> LimitKind | None:
    """What an HTTP status means as a limit; None when it is no limit."""
    if status == 429:
        return "rate"
    if status in (503, 529):
        return "overloaded"
    return None


def limit(kind: LimitKind, text: str, now: float, tz: tzinfo | None = None) -> Limit:
    """A :class:`Limit` in the agent's words, with the reset time they give (if any)."""
    return Limit(kind, one_line(text), reset_time(text, now, tz))


def parse_timestamp(value: object) -> float | None:
    """An ISO-8601 line timestamp ("2026-12-05T01:07:40.973Z") as epoch seconds."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None
