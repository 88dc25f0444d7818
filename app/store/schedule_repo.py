"""All SQL for schedules (app.core.schedules).

Changes must be made inside :func:`app.store.db.transaction` with their ``events`` row;
:func:`record_due` is made to share the transaction that creates the scheduled task, so a
crash can neither lose an occurrence nor start it twice.
"""

from __future__ import annotations

import json
import sqlite3
import time

from app.core.errors import AgentryError
from app.core.models import TaskSpec
from app.core.schedules import CatchUp, Overlap, Schedule, ScheduleKind
from app.store.repo import add_event


class UnknownSchedule(AgentryError, LookupError):
    def __init__(self, ref: object) -> None:
        super().__init__(
            f"no schedule {ref!s}; `agentry schedule list` shows the schedules there are"
        )


def _schedule(row: sqlite3.Row) -> Schedule:
    return Schedule(
        id=row["id"],
        spec=TaskSpec.from_json(json.loads(row["spec_json"])),
        kind=ScheduleKind(row["kind"]),
        expr=row["expr"],
        catch_up=CatchUp(row["catch_up"]),
        overlap=Overlap(row["overlap"]),
        paused=bool(row["paused"]),
        next_run_at=row["next_run_at"],
        last_run_at=row["last_run_at"],
        last_task_id=row["last_task_id"],
        created_at=row["created_at"],
    )


def add_schedule(
    conn: sqlite3.Connection,
    spec: TaskSpec,
    kind: ScheduleKind,
    expr: str,
    *,
    catch_up: CatchUp,
    overlap: Overlap,
    next_run_at: float | None,
    now: float | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO schedules (spec_json, kind, expr, catch_up, overlap, next_run_at, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (json.dumps(spec.to_json(), allow_nan=False), kind.value, expr, catch_up.value,
         overlap.value, next_run_at, time.time() if now is None else now),
    )  # fmt: skip
    schedule_id = int(cur.lastrowid or 0)
    add_event(conn, "schedule_added", detail={"schedule": schedule_id, "kind": kind.value,
                                              "expr": expr})  # fmt: skip
    return schedule_id


def get_schedule(conn: sqlite3.Connection, schedule_id: int) -> Schedule:
    row = conn.execute("SELECT * FROM schedules WHERE id = ?", (schedule_id,)).fetchone()
    if row is None:
        raise UnknownSchedule(schedule_id)
    return _schedule(row)


def list_schedules(conn: sqlite3.Connection) -> list[Schedule]:
    return [_schedule(r) for r in conn.execute("SELECT * FROM schedules ORDER BY id")]


def due_schedules(conn: sqlite3.Connection, now: float) -> list[Schedule]:
    rows = conn.execute(
        "SELECT * FROM schedules WHERE paused = 0 AND next_run_at IS NOT NULL "
        "AND next_run_at <= ? ORDER BY next_run_at, id",
        (now,),
    )
    return [_schedule(r) for r in rows]


def earliest_due(conn: sqlite3.Connection) -> float | None:
    """When the next unpaused schedule is due (None: none is)."""
    row = conn.execute(
        "SELECT min(next_run_at) FROM schedules WHERE paused = 0 AND next_run_at IS NOT NULL"
    ).fetchone()
    return None if row[0] is None else float(row[0])


def record_due(
    conn: sqlite3.Connection,
    schedule: Schedule,
    *,
    next_run_at: float | None,
    ran_at: float | None,
    task_id: int | None,
    note: str,
    detail: dict[str, object],
) -> bool:
    """Move a due schedule on, in the caller's transaction; False when another process
    moved it first (its ``next_run_at`` is no longer the one read), so nothing is doubled."""
    cur = conn.execute(
        "UPDATE schedules SET next_run_at = ?, last_run_at = coalesce(?, last_run_at), "
        "last_task_id = coalesce(?, last_task_id) WHERE id = ? AND next_run_at IS ?",
        (next_run_at, ran_at, task_id, schedule.id, schedule.next_run_at),
    )
    if cur.rowcount != 1:
        return False
    add_event(conn, note, task_id=task_id, detail={"schedule": schedule.id, **detail})
    return True


def set_paused(
    conn: sqlite3.Connection, schedule_id: int, paused: bool, *, next_run_at: float | None
) -> Schedule:
    """Pause (or resume, from ``next_run_at``: the occurrences while paused do not run)."""
    get_schedule(conn, schedule_id)
    conn.execute(
        "UPDATE schedules SET paused = ?, next_run_at = ? WHERE id = ?",
        (int(paused), next_run_at, schedule_id),
    )
    add_event(conn, "schedule_paused" if paused else "schedule_resumed",
              detail={"schedule": schedule_id})  # fmt: skip
    return get_schedule(conn, schedule_id)


def remove_schedule(conn: sqlite3.Connection, schedule_id: int) -> Schedule:
    schedule = get_schedule(conn, schedule_id)
    conn.execute("DELETE FROM schedules WHERE id = ?", (schedule_id,))
    add_event(conn, "schedule_removed", detail={"schedule": schedule_id,
                                                "when": schedule.when})  # fmt: skip
    return schedule
