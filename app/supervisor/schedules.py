"""Starting scheduled tasks (app.core.schedules) when they come due.

One timer, set for the earliest ``next_run_at`` (at most a minute ahead, so a changed
wall clock or a computer waking from sleep is noticed soon), not a look at every schedule
every tick. At start, whatever came due while Agentry was closed is handled, once.

Each occurrence commits in one transaction: the new task, the schedule's next time and
an ``events`` row. A crash before the commit leaves the occurrence due (the next start
runs it); after it, the occurrence is done: never lost, never doubled. The commands that
change schedules (``agentry schedule …``, the Schedules view) are the functions at the
top, usable from any process; a supervisor looks for the earliest time again when another
process commits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import tzinfo
from typing import TYPE_CHECKING

from app.core.log import get_logger
from app.core.models import TaskSpec
from app.core.schedules import (
    CatchUp,
    DuePlan,
    Overlap,
    Schedule,
    ScheduleKind,
    first_run,
    local_zone,
    next_after,
    parse_when,
    plan_due,
)
from app.core.settings import Settings
from app.core.states import RunState
from app.store import repo, schedule_repo
from app.store.db import Connection, transaction
from app.supervisor import commands
from app.supervisor.events import (
    Event,
    Notice,
    RunStateChanged,
    SchedulesChanged,
    StoreChanged,
    TaskAdded,
)
from app.supervisor.host import ExtensionHost

if TYPE_CHECKING:
    from app.core.models import Run

log = get_logger(__name__)

MAX_SLEEP_S = 60.0
"""The timer never waits longer: asyncio's clock does not count a computer's sleep, and
the wall clock may be set; a minute late is the most either costs."""

Clock = Callable[[], float]


# ---------------------------------------------------------------- commands (any process)


def add(
    conn: Connection,
    spec: TaskSpec,
    kind: ScheduleKind,
    when: str,
    settings: Settings,
    *,
    catch_up: CatchUp = CatchUp.ONCE,
    overlap: Overlap = Overlap.SKIP,
    now: float | None = None,
    zone: tzinfo | None = None,
) -> Schedule:
    """A new schedule. ScheduleError for a bad time; CommandRefused for a task a submit
    would refuse (said now, not when it comes due at night)."""
    now = time.time() if now is None else now
    zone = local_zone() if zone is None else zone
    expr = parse_when(kind, when, now, zone)
    commands.check(spec, settings)
    with transaction(conn):
        schedule_id = schedule_repo.add_schedule(
            conn, spec, kind, expr, catch_up=catch_up, overlap=overlap,
            next_run_at=first_run(kind, expr, now, zone), now=now,
        )  # fmt: skip
        return schedule_repo.get_schedule(conn, schedule_id)


def pause(conn: Connection, schedule_id: int) -> Schedule:
    with transaction(conn):
        schedule = schedule_repo.get_schedule(conn, schedule_id)
        return schedule_repo.set_paused(conn, schedule_id, True, next_run_at=schedule.next_run_at)


def resume(
    conn: Connection, schedule_id: int, *, now: float | None = None, zone: tzinfo | None = None
) -> Schedule:
    """Resume from the next time to come: what fell due while paused does not run."""
    now = time.time() if now is None else now
    zone = local_zone() if zone is None else zone
    with transaction(conn):
        s = schedule_repo.get_schedule(conn, schedule_id)
        due = s.next_run_at
        nxt = due if due is not None and due > now else _next(s, now, zone)
        return schedule_repo.set_paused(conn, schedule_id, False, next_run_at=nxt)


def _next(s: Schedule, now: float, zone: tzinfo) -> float | None:
    anchor = s.next_run_at or s.last_run_at or s.created_at
    return next_after(s.kind, s.expr, now, zone, anchor=anchor)


def remove(conn: Connection, schedule_id: int) -> Schedule:
    with transaction(conn):
        return schedule_repo.remove_schedule(conn, schedule_id)


def resolve_id(ref: str | int) -> int:
    """A schedule id as typed (``3`` or ``#3``); UnknownSchedule for anything else."""
    text = str(ref).strip().lstrip("#")
    if not text.isdigit():
        raise schedule_repo.UnknownSchedule(repr(str(ref)))
    return int(text)


# ---------------------------------------------------------------- the supervisor's part


class Scheduler:
    """The supervisor's extension that starts scheduled tasks; ``clock`` and ``zone`` are
    injectable, so tests move time instead of waiting for it."""

    def __init__(
        self,
        host: ExtensionHost,
        *,
        wake: Callable[[], None],
        clock: Clock = time.time,
        zone: tzinfo | None = None,
    ) -> None:
        self._host = host
        self._wake = wake  # a task was queued: the supervisor schedules it now
        self.clock = clock
        self.zone = zone
        self._timer: asyncio.TimerHandle | None = None
        self._unsubscribe: Callable[[], None] | None = None

    # ------------------------------------------------------------------ commands

    def add(
        self, spec: TaskSpec, kind: ScheduleKind, when: str, *,
        catch_up: CatchUp = CatchUp.ONCE, overlap: Overlap = Overlap.SKIP,
    ) -> Schedule:  # fmt: skip
        schedule = add(self._host.conn, spec, kind, when, self._host.settings,
                       catch_up=catch_up, overlap=overlap, now=self.clock(),
                       zone=self._zone())  # fmt: skip
        self._changed()
        return schedule

    def pause(self, schedule_id: int) -> Schedule:
        schedule = pause(self._host.conn, schedule_id)
        self._changed()
        return schedule

    def resume(self, schedule_id: int) -> Schedule:
        schedule = resume(self._host.conn, schedule_id, now=self.clock(), zone=self._zone())
        self._changed()
        return schedule

    def remove(self, schedule_id: int) -> Schedule:
        schedule = remove(self._host.conn, schedule_id)
        self._changed()
        return schedule

    def schedules(self) -> list[Schedule]:
        """Every schedule, oldest first (for the Schedules view)."""
        return schedule_repo.list_schedules(self._host.conn)

    # ------------------------------------------------------------------ hooks

    def on_started(self) -> None:
        self._unsubscribe = self._host.bus.subscribe(self._on_event)
        self._fire()  # what came due while Agentry was closed

    def on_run_ended(self, run: Run) -> None:
        pass

    def on_tick(self) -> None:
        pass

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: Event) -> None:
        if isinstance(event, StoreChanged):  # another process may have added or paused one
            self._arm()

    def _changed(self) -> None:
        self._host.bus.publish(SchedulesChanged())
        self._arm()

    def _zone(self) -> tzinfo:
        if self.zone is None:
            self.zone = local_zone()
        return self.zone

    # ------------------------------------------------------------------ running them

    def run_due(self) -> list[int]:
        """Handle every schedule due by now, each once; returns the task ids started."""
        now = self.clock()
        started = []
        for schedule in schedule_repo.due_schedules(self._host.conn, now):
            task_id = self._occurrence(schedule.id, now)
            if task_id is not None:
                started.append(task_id)
        self._arm()
        return started

    def _occurrence(self, schedule_id: int, now: float) -> int | None:
        conn = self._host.conn
        queued: tuple[int, int] | None = None
        with transaction(conn):  # the task, the next time and the event: all or nothing
            try:
                schedule = schedule_repo.get_schedule(conn, schedule_id)
            except schedule_repo.UnknownSchedule:
                return None  # removed meanwhile
            plan = plan_due(schedule, now, self._zone())
            if plan is None:
                return None
            note, detail = self._decide(conn, schedule, plan)
            if note == "schedule_ran":
                try:
                    queued = commands.enqueue(conn, schedule.spec, self._host.settings)
                except commands.CommandRefused as exc:  # checked before anything is written
                    note, detail = "schedule_failed", {"problem": str(exc)}
            schedule_repo.record_due(
                conn, schedule, next_run_at=plan.next_run_at,
                ran_at=now if queued else None, task_id=queued[0] if queued else None,
                note=note, detail={"due": schedule.next_run_at, **detail},
            )  # fmt: skip
        self._announce(schedule, note, detail, queued)
        return queued[0] if queued else None

    def _decide(
        self, conn: Connection, schedule: Schedule, plan: DuePlan
    ) -> tuple[str, dict[str, object]]:
        if not plan.run:
            return "schedule_skipped", {"why": "missed while Agentry was not running "
                                               "(--catch-up skip)"}  # fmt: skip
        busy = _still_going(conn, schedule.last_task_id)
        if busy is not None and schedule.overlap is Overlap.SKIP:
            return "schedule_skipped", {
                "why": f"its previous task {schedule.last_task_id} is still {busy.value} "
                "(--overlap skip)"
            }
        return "schedule_ran", {"missed": plan.missed}

    def _announce(
        self, schedule: Schedule, note: str, detail: dict[str, object],
        queued: tuple[int, int] | None,
    ) -> None:  # fmt: skip
        bus = self._host.bus
        if queued is not None:
            task_id, run_id = queued
            log.info("schedule %s (%s) started task %s", schedule.id, schedule.when, task_id)
            bus.publish(TaskAdded(task_id, run_id))
            bus.publish(RunStateChanged(task_id, run_id, None, RunState.QUEUED))
            self._wake()
        elif note == "schedule_failed":
            text = f"Schedule {schedule.id} ({schedule.when}) could not start its task: " \
                   f"{detail['problem']}; fix or remove the schedule"  # fmt: skip
            log.warning("%s", text)
            bus.publish(Notice("warning", text))
        else:
            log.info("schedule %s (%s) skipped a run: %s", schedule.id, schedule.when,
                     detail["why"])  # fmt: skip
            # said where the app says passing news (its status bar), never as a desktop
            # notification: an hourly schedule behind a long task would say it every hour
            bus.publish(Notice("info", f"Schedule {schedule.id} ({schedule.when}) skipped a "
                                       f"run: {detail['why']}"))  # fmt: skip
        bus.publish(SchedulesChanged())

    def _arm(self) -> None:
        """Set the one timer for the earliest due schedule (none when nothing is due)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        earliest = schedule_repo.earliest_due(self._host.conn)
        if earliest is None:
            return
        delay = min(max(0.0, earliest - self.clock()), MAX_SLEEP_S)
        self._timer = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        try:
            self.run_due()
        except Exception as exc:  # a bug or a full disk must reach a person, and retry
            log.exception("running due schedules failed")
            self._host.bus.publish(Notice("error", f"Schedules: {exc}"))
            self._timer = asyncio.get_running_loop().call_later(MAX_SLEEP_S, self._fire)


def _still_going(conn: Connection, task_id: int | None) -> RunState | None:
    """The state of the task's latest run while it is queued or active; None once it ended."""
    if task_id is None:
        return None
    try:
        run = repo.get_task(conn, task_id).latest_run
    except repo.UnknownTask:
        return None
    if run is None or run.state.is_terminal:
        return None
    return run.state
