"""When a task stopped by its agent's limit resumes (app.core.limits): the reset time and
its margin, a growing wait when no reset is given, auto-resume off, the cap, quiet hours
on the wall clock of fixed zones (DST nights included)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from app.core.limits import (
    BACKOFF_MAX_S,
    BACKOFF_MIN_S,
    LimitError,
    LimitHit,
    Pause,
    Stay,
    decide,
    parse_quiet_hours,
)
from app.core.policies import LimitPolicy

BERLIN = ZoneInfo("Europe/Berlin")
T0 = 1_800_000_000.0


def _decide(hit: LimitHit, so_far: int = 0, **overrides: object) -> Pause | Stay:
    options: dict[str, object] = {"auto_resume": True, "max_resumes": 5, "margin_s": 120.0,
                                  "quiet": None} | overrides  # fmt: skip
    return decide(hit, T0, so_far, **options)  # type: ignore[arg-type]


def test_a_reset_time_is_waited_for_with_a_margin() -> None:
    hit = LimitHit("usage", T0 + 3600, "You've hit your session limit · resets 8pm")
    assert _decide(hit) == Pause(until=T0 + 3600, resume_at=T0 + 3600 + 120, resume=1)


def test_without_a_reset_time_the_wait_grows_with_each_resume() -> None:
    hit = LimitHit("rate", None, "API Error: 429")
    waits = [_decide(hit, so_far).until - T0 for so_far in range(8)]
    assert waits[0] == BACKOFF_MIN_S and waits[1] == 2 * BACKOFF_MIN_S
    assert waits == sorted(waits) and waits[-1] == BACKOFF_MAX_S
    stale = LimitHit("usage", T0 - 10, "resets 8pm")  # a reset already past: as if none given
    assert _decide(stale).until == T0 + BACKOFF_MIN_S


def test_auto_resume_off_or_the_cap_reached_stays_stopped_and_says_why() -> None:
    hit = LimitHit("usage", T0 + 60, "limit")
    off = _decide(hit, auto_resume=False)
    assert isinstance(off, Stay) and "auto-resume is off" in off.message
    assert off.until == T0 + 60  # the agent's other tasks still wait for the reset
    capped = _decide(hit, so_far=2, max_resumes=2)
    assert isinstance(capped, Stay) and capped.message.endswith("stopped after 2 resumes")
    assert isinstance(_decide(hit, so_far=1, max_resumes=2), Pause)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-06-01 22:30", "2026-06-01 22:30"),  # before them: as it was
        ("2026-06-01 23:30", "2026-06-02 07:00"),  # in them, before midnight
        ("2026-06-02 03:00", "2026-06-02 07:00"),  # in them, after midnight
        ("2026-06-02 07:00", "2026-06-02 07:00"),  # at their end: out of them
        ("2026-03-29 01:30", "2026-03-29 07:00"),  # the night clocks spring forward
        ("2026-10-25 02:30", "2026-10-25 07:00"),  # the night they fall back
    ],
)
def test_nothing_resumes_in_quiet_hours_which_end_on_the_wall_clock(
    local: str, expected: str
) -> None:
    quiet = parse_quiet_hours("23:00-07:00")
    assert quiet is not None
    at = dt.datetime.fromisoformat(local).replace(tzinfo=BERLIN).timestamp()
    moved = dt.datetime.fromtimestamp(quiet.after(at, BERLIN), BERLIN)
    assert moved.strftime("%Y-%m-%d %H:%M") == expected


def test_quiet_hours_in_the_day_and_a_resume_moved_out_of_them() -> None:
    noon = parse_quiet_hours("12:00-14:00")
    assert noon is not None and str(noon) == "12:00-14:00"
    at = dt.datetime(2026, 6, 1, 13, 0, tzinfo=BERLIN).timestamp()
    assert dt.datetime.fromtimestamp(noon.after(at, BERLIN), BERLIN).hour == 14
    hit = LimitHit("usage", at - 120, "resets")  # resumes at 13:00 with the margin
    pause = decide(hit, at - 3600, 0, auto_resume=True, max_resumes=5, margin_s=120,
                   quiet=noon, zone=BERLIN)  # fmt: skip
    assert isinstance(pause, Pause)
    assert dt.datetime.fromtimestamp(pause.resume_at, BERLIN).strftime("%H:%M") == "14:00"


@pytest.mark.parametrize("text", ["23:00", "25:00-07:00", "7-8", "07:00-07:00", "soon"])
def test_quiet_hours_that_cannot_be_read_say_how_to_write_them(text: str) -> None:
    with pytest.raises(LimitError, match="HH:MM-HH:MM"):
        parse_quiet_hours(text)
    assert parse_quiet_hours("  ") is None


def test_a_tasks_own_choice_is_kept_in_its_spec() -> None:
    assert LimitPolicy.from_json({"auto_resume": False, "max_resumes": 2}) == LimitPolicy(False, 2)
    assert LimitPolicy.from_json({"auto_resume": "yes", "max_resumes": -1}) == LimitPolicy()
    assert LimitPolicy().is_default and not LimitPolicy(max_resumes=0).is_default
