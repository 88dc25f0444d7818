"""When a schedule is next due (app.core.schedules), in fixed zones: DST-correct, never
twice, never skipped, and at most one run for however many missed occurrences."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.core.models import TaskSpec
from app.core.schedules import (
    MISSED_AFTER_S,
    CatchUp,
    Overlap,
    Schedule,
    ScheduleError,
    ScheduleKind,
    first_run,
    next_after,
    parse_when,
    plan_due,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
CRON = ScheduleKind.CRON


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()


def occurrences(expr: str, start: float, end: float, zone: ZoneInfo) -> list[datetime]:
    """Every occurrence after ``start`` up to ``end``, walking as the scheduler does: each
    next one computed from the previous one."""
    found: list[datetime] = []
    t = start
    while True:
        nxt = next_after(CRON, expr, t, zone, anchor=t)
        assert nxt is not None and nxt > t
        if nxt > end:
            return found
        found.append(datetime.fromtimestamp(nxt, zone))
        t = nxt


def local(d: datetime) -> str:
    return d.strftime("%m-%d %H:%M%z")


def test_a_daily_time_skipped_by_spring_forward_runs_once_just_after_it() -> None:
    # 2026-03-29 02:00 CET -> 03:00 CEST in Berlin: 02:30 does not exist that night.
    runs = occurrences("30 2 * * *", at(BERLIN, 2026, 3, 28, 12), at(BERLIN, 2026, 3, 30, 12),
                       BERLIN)  # fmt: skip
    assert [local(d) for d in runs] == ["03-29 03:00+0200", "03-30 02:30+0200"]


def test_a_daily_time_repeated_by_fall_back_runs_once() -> None:
    # 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice; it must run only once.
    runs = occurrences("30 2 * * *", at(BERLIN, 2026, 10, 24, 12), at(BERLIN, 2026, 10, 26, 12),
                       BERLIN)  # fmt: skip
    assert [local(d) for d in runs] == ["10-25 02:30+0200", "10-26 02:30+0100"]


def test_nine_on_weekdays_stays_nine_local_across_both_changes() -> None:
    for start, end in [((2026, 3, 23), (2026, 4, 4)), ((2026, 10, 19), (2026, 10, 31))]:
        runs = occurrences("0 9 * * 1-5", at(BERLIN, *start), at(BERLIN, *end), BERLIN)
        assert len(runs) == 10
        assert {d.strftime("%H:%M") for d in runs} == {"09:00"}
        assert all(d.weekday() < 5 for d in runs)
        assert len({d.date() for d in runs}) == 10  # one a day: none twice, none skipped


def test_hourly_follows_real_hours_through_both_changes() -> None:
    spring = occurrences("0 * * * *", at(BERLIN, 2026, 3, 29, 0, 30), at(BERLIN, 2026, 3, 29, 4),
                         BERLIN)  # fmt: skip
    assert [local(d) for d in spring] == ["03-29 01:00+0100", "03-29 03:00+0200",
                                          "03-29 04:00+0200"]  # fmt: skip
    fall = occurrences("0 * * * *", at(BERLIN, 2026, 10, 25, 0, 30), at(BERLIN, 2026, 10, 25, 4),
                       BERLIN)  # fmt: skip
    gaps = {b.timestamp() - a.timestamp() for a, b in itertools.pairwise(fall)}
    assert len(fall) == 5 and gaps == {3600.0}  # 01, 02 CEST, 02 CET, 03, 04: every real hour


def test_the_other_hemisphere_of_zones_too() -> None:
    # New York springs forward 2026-03-08 at 02:00; 02:15 does not exist there that day.
    runs = occurrences("15 2 * * *", at(NEW_YORK, 2026, 3, 7, 12), at(NEW_YORK, 2026, 3, 9, 12),
                       NEW_YORK)  # fmt: skip
    assert [local(d) for d in runs] == ["03-08 03:00-0400", "03-09 02:15-0400"]


def test_every_keeps_its_rhythm_and_ignores_dst() -> None:
    every = ScheduleKind.EVERY
    anchor = at(BERLIN, 2026, 10, 25, 1, 0)
    assert next_after(every, "3600", anchor, BERLIN, anchor=anchor) == anchor + 3600
    # Looked at late (2.5 intervals on): the next is on the rhythm, not "now + 1h".
    assert next_after(every, "3600", anchor + 9000, BERLIN, anchor=anchor) == anchor + 10800


def test_a_one_shot_has_no_next_time_once_past() -> None:
    instant = at(BERLIN, 2026, 12, 2, 9)
    assert next_after(ScheduleKind.AT, str(int(instant)), instant - 1, BERLIN, anchor=0) == instant
    assert next_after(ScheduleKind.AT, str(int(instant)), instant, BERLIN, anchor=0) is None


def _schedule(kind: ScheduleKind, expr: str, due: float, catch_up: CatchUp) -> Schedule:
    return Schedule(id=1, spec=TaskSpec(argv=("true",), cwd="/"), kind=kind, expr=expr,
                    catch_up=catch_up, overlap=Overlap.SKIP, paused=False, next_run_at=due,
                    last_run_at=None, last_task_id=None, created_at=0.0)  # fmt: skip


def test_many_missed_occurrences_run_once_with_catch_up_once() -> None:
    due = at(BERLIN, 2026, 12, 1, 9)
    week_later = due + 7 * 86400 + 3600
    plan = plan_due(_schedule(CRON, "0 9 * * *", due, CatchUp.ONCE), week_later, BERLIN)
    assert plan is not None and plan.run and plan.missed
    assert plan.next_run_at == at(BERLIN, 2026, 12, 9, 9)  # the first time after now


def test_missed_occurrences_do_not_run_with_catch_up_skip() -> None:
    due = at(BERLIN, 2026, 12, 1, 9)
    plan = plan_due(_schedule(CRON, "0 9 * * *", due, CatchUp.SKIP), due + 86400, BERLIN)
    assert plan is not None and not plan.run and plan.missed
    assert plan.next_run_at == at(BERLIN, 2026, 12, 3, 9)


def test_an_occurrence_reached_on_time_runs_even_with_catch_up_skip() -> None:
    due = at(BERLIN, 2026, 12, 1, 9)
    plan = plan_due(_schedule(CRON, "0 9 * * *", due, CatchUp.SKIP), due + 0.5, BERLIN)
    assert plan is not None and plan.run and not plan.missed
    assert plan_due(_schedule(CRON, "0 9 * * *", due, CatchUp.SKIP),
                    due + MISSED_AFTER_S + 1, BERLIN).run is False  # type: ignore[union-attr]  # fmt: skip
    assert plan_due(_schedule(CRON, "0 9 * * *", due, CatchUp.SKIP), due - 1, BERLIN) is None


def test_parse_when_reads_and_refuses_with_reasons() -> None:
    now = at(BERLIN, 2026, 12, 1, 12)
    assert parse_when(CRON, " 0  9 * * 1-5 ", now, BERLIN) == "0 9 * * 1-5"
    assert parse_when(ScheduleKind.EVERY, "1h30m", now, BERLIN) == "5400"
    stamp = parse_when(ScheduleKind.AT, "2026-12-02T09:00", now, BERLIN)
    assert float(stamp) == at(BERLIN, 2026, 12, 2, 9)
    assert first_run(ScheduleKind.AT, stamp, now, BERLIN) == float(stamp)
    assert first_run(ScheduleKind.EVERY, "5400", now, BERLIN) == now + 5400
    with pytest.raises(ScheduleError, match=r"not a cron expression.*five fields"):
        parse_when(CRON, "0 25 * * *", now, BERLIN)
    with pytest.raises(ScheduleError, match="in the past"):
        parse_when(ScheduleKind.AT, "2026-11-30T09:00", now, BERLIN)
    with pytest.raises(ScheduleError, match="ISO form"):
        parse_when(ScheduleKind.AT, "tomorrow", now, BERLIN)
    with pytest.raises(ScheduleError, match="not a duration"):
        parse_when(ScheduleKind.EVERY, "soon", now, BERLIN)
    with pytest.raises(ScheduleError, match="no interval; give how often"):
        parse_when(ScheduleKind.EVERY, "0", now, BERLIN)


def test_at_with_an_explicit_zone_uses_it() -> None:
    now = at(BERLIN, 2026, 12, 1, 12)
    stamp = parse_when(ScheduleKind.AT, "2026-12-02T09:00-05:00", now, BERLIN)
    assert float(stamp) == datetime(2026, 12, 2, 14, tzinfo=ZoneInfo("UTC")).timestamp()
