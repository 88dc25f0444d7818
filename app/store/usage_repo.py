"""The SQL of the usage view and ``agentry usage``: runs' costs and tokens summed per local
day, agent and working folder, in one query.

A run counts on the day it ended (the day it was made, if it never ran), in the local time
of this computer: SQLite's ``'localtime'`` asks the C library, which knows the zone's
daylight-saving changes, so a day is 23 or 25 hours long where it should be. The period is
found through migration 10's ``runs_by_end`` index on that same expression: 100,000 runs
in the database cost what the runs of the period cost. Runs that reported neither a cost
nor tokens (plain commands, agents that print none) are left out.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import date

from app.core.usage import Usage, UsageReport, UsageRow

_QUERY = (
    "SELECT date(coalesce(r.ended_at, r.created_at), 'unixepoch', 'localtime') AS day, "
    "t.agent, coalesce(json_extract(t.spec_json, '$.cwd'), '') AS folder, "
    "sum(r.cost_usd), coalesce(sum(r.input_tokens), 0), coalesce(sum(r.output_tokens), 0), "
    "count(*) "
    "FROM runs r JOIN tasks t ON t.id = r.task_id "
    "WHERE coalesce(r.ended_at, r.created_at) >= ? AND coalesce(r.ended_at, r.created_at) < ? "
    "AND (r.cost_usd IS NOT NULL OR r.input_tokens IS NOT NULL OR r.output_tokens IS NOT NULL) "
    "GROUP BY day, t.agent, folder"
)


def local_midnight(day: date) -> float:
    """When ``day`` begins on this computer's clock, as a Unix time (DST-aware: mktime is
    told to work out whether daylight saving is in force)."""
    return time.mktime((day.year, day.month, day.day, 0, 0, 0, 0, 0, -1))


def usage_report(conn: sqlite3.Connection, since: date, until: date) -> UsageReport:
    """The usage of the local days ``since`` … ``until``, both included, per working
    folder (the supervisor turns folders into projects)."""
    end = local_midnight(date.fromordinal(until.toordinal() + 1))
    cursor = conn.execute(_QUERY, (local_midnight(since), end))
    cursor.row_factory = None
    rows = tuple(
        UsageRow(date.fromisoformat(day), agent, folder, Usage(cost, tokens_in, tokens_out, runs))
        for day, agent, folder, cost, tokens_in, tokens_out, runs in cursor.fetchall()
    )
    return UsageReport(since, until, rows)
