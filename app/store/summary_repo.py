"""The SQL of ``agentry list``: every task's summary from one query, without a Task.

:meth:`Task.summary` is the documented shape of ``agentry list --json``; building a Task
for each of 10,000 tasks (two records, enums, the spec parsed from its JSON in Python) was
most of what listing them cost. Here SQLite reads the three facts a summary needs from
the spec (folder, command, model) and the rows become the summaries' dicts directly; the
store tests hold them equal to ``Task.summary()`` of the same tasks.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from app.core.models import TaskOrigin, queued_wait
from app.core.states import ExitReason
from app.store.repo import _LOCK_HELD_BY, LIMIT_UNTIL

_REASONS = frozenset(r.value for r in ExitReason)

# In the order of Task.summary() and its "waiting_for"; the task's lock_key and origin (a
# JSON object, or NULL for the tasks the person started) come last.
_COLUMNS = (
    "t.id, t.title, t.agent, r.state, r.exit_code, t.created_at, r.started_at, r.ended_at, "
    "coalesce(r.attempt, 0), r.id, r.reason, r.message, json_extract(t.spec_json, '$.cwd'), "
    # The run's own argv (what it ran) where it recorded one, else the spec's.
    "CASE WHEN r.argv_json IS NOT NULL AND r.argv_json NOT IN ('', '[]') THEN r.argv_json "
    "ELSE coalesce(json_extract(t.spec_json, '$.argv'), '[]') END, "
    "coalesce(nullif(json_extract(t.spec_json, '$.options.model'), ''), r.model), "
    "(SELECT sum(c.cost_usd) FROM runs c WHERE c.task_id = t.id), "
    "(SELECT s.session_id FROM runs s WHERE s.task_id = t.id AND s.session_id IS NOT NULL "
    "ORDER BY s.id DESC LIMIT 1), "
    "t.archived_at IS NOT NULL, "
    "CASE WHEN r.state = 'queued' THEN r.not_before END, "
    "CASE WHEN r.state = 'queued' AND r.not_before IS NOT NULL THEN r.wait_reason END, "
    f"CASE WHEN r.state = 'queued' THEN ({LIMIT_UNTIL}) END, "
    f"CASE WHEN r.state = 'queued' AND t.lock_key IS NOT NULL THEN ({_LOCK_HELD_BY}) END, "
    "t.lock_key, json_extract(t.spec_json, '$.origin')"
)


def task_summaries(
    conn: sqlite3.Connection, limit: int | None = None, *, archived: bool | None = None
) -> list[dict[str, Any]]:
    """``Task.summary()`` of the tasks :func:`app.store.repo.list_tasks` lists (newest
    first, ``archived`` as there), each with ``waiting_for``: what a queued task that holds
    its folder waits for, ``{"task": id, "folder": path}``, else None."""
    where = {
        None: "",
        True: "WHERE t.archived_at IS NOT NULL ",
        False: "WHERE t.archived_at IS NULL ",
    }
    sql = (
        f"SELECT {_COLUMNS} FROM tasks t LEFT JOIN runs r ON r.id = t.latest_run_id "
        f"{where[archived]}ORDER BY t.id DESC"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    cursor = conn.execute(sql)
    cursor.row_factory = None  # plain tuples: no sqlite3.Row per task
    rows = cursor.fetchall()
    # Every command line in one parse: a JSON array of the arrays.
    argvs = json.loads("[" + ",".join(row[13] for row in rows) + "]")
    return [
        {
            "id": task_id,
            "title": title,
            "agent": agent,
            "state": state,
            "exit_code": exit_code,
            "created_at": created_at,
            "started_at": started_at,
            "ended_at": ended_at,
            "attempt": attempt,
            "run_id": run_id,
            "reason": reason if reason in _REASONS else None,  # one a newer version wrote
            "message": message,
            "cwd": cwd,
            "argv": argv,
            "model": model,
            "cost_usd": cost,
            "session_id": session,
            "archived": bool(archived_),
            **dict(zip(("not_before", "wait_reason"),
                       queued_wait(not_before, wait_reason, limit_until), strict=True)),
            "origin": None if origin is None else _origin(origin),
            "waiting_for": None if waiting is None else {"task": waiting, "folder": lock_key},
        }
        for (task_id, title, agent, state, exit_code, created_at, started_at, ended_at, attempt,
             run_id, reason, message, cwd, _, model, cost, session, archived_, not_before,
             wait_reason, limit_until, waiting, lock_key, origin),
        argv in zip(rows, argvs, strict=True)
    ]  # fmt: skip


def _origin(value: object) -> dict[str, str] | None:
    """A spec's origin as ``Task.summary()`` gives it (None for one that is not valid)."""
    try:
        origin = TaskOrigin.from_json(json.loads(value) if isinstance(value, str) else value)
    except ValueError:  # a string where an object should be: not JSON text
        return None
    return None if origin is None else origin.to_json()
