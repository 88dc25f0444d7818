"""The outbox of notifications (issue #16): :func:`enqueue_for_event` puts a delivery in
it for each target that wants an audit event.

It runs inside the transaction of the change it tells of (it is called by
:func:`app.store.repo.add_event`), so a delivery exists exactly when its change committed: a
crash can neither lose one nor send one for a change that rolled back. It must stay cheap,
to import and to call: an audit kind that never notifies costs no query, one that may costs
one small query while no target wants it. Targets, reading deliveries and recording
attempts are :mod:`app.store.notify_repo`'s.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from typing import Any

from app.core.notify_events import NOTIFIABLE_KINDS, event_name

# ---------------------------------------------------------------- enqueueing


def enqueue_for_event(
    conn: sqlite3.Connection,
    event_id: int,
    kind: str,
    *,
    task_id: int | None = None,
    run_id: int | None = None,
    old_state: str | None = None,
    new_state: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """A delivery for each target that wants this event; returns how many. In the caller's
    transaction."""
    if kind not in NOTIFIABLE_KINDS:
        return 0
    name = event_name(kind, old_state, new_state, detail)
    if name is None:
        return 0
    wanted = [
        target_id
        for target_id, events in conn.execute(
            "SELECT id, events_json FROM notify_targets WHERE paused = 0"
        )
        if name in json.loads(events)
    ]
    if not wanted:
        return 0
    now = time.time()
    payload = json.dumps(
        _payload(conn, name, now, task_id, run_id, new_state, detail), allow_nan=False
    )
    for target_id in wanted:
        insert(conn, target_id, event_id, name, payload, now, next_at=now)
    return len(wanted)


def insert(
    conn: sqlite3.Connection,
    target_id: int,
    event_id: int | None,
    name: str,
    payload: str,
    now: float,
    *,
    next_at: float,
) -> int:
    # Chosen once, here: every attempt of this delivery, before or after a crash, sends it.
    key = f"agentry-{event_id or 'test'}-{target_id}-{os.urandom(6).hex()}"
    cur = conn.execute(
        "INSERT INTO deliveries (target_id, event_id, event_kind, payload_json, "
        "idempotency_key, state, next_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
        (target_id, event_id, name, payload, key, next_at, now),
    )
    return int(cur.lastrowid or 0)


def _payload(
    conn: sqlite3.Connection,
    name: str,
    now: float,
    task_id: int | None,
    run_id: int | None,
    new_state: str | None,
    detail: dict[str, Any] | None,
) -> dict[str, Any]:
    detail = detail or {}
    payload: dict[str, Any] = {"event": name, "at": now}
    if task_id is not None:
        row = conn.execute("SELECT title, agent FROM tasks WHERE id = ?", (task_id,)).fetchone()
        if row is not None:
            payload["task"] = {"id": task_id, "title": row[0], "agent": row[1]}
    if run_id is not None:
        row = conn.execute(
            "SELECT state, exit_code, reason, message, attempt, created_at, started_at, "
            "ended_at FROM runs WHERE id = ?",
            (run_id,),
        ).fetchone()
        if row is not None:
            payload["run"] = {"id": run_id, "state": row[0], "exit_code": row[1],
                              "reason": row[2], "attempt": row[4], "created_at": row[5],
                              "started_at": row[6], "ended_at": row[7]}  # fmt: skip
            payload.update(state=row[0], exit_code=row[1], message=row[3])
    if name == "needs-you":
        payload.update(approval=detail.get("approval"), tool=detail.get("tool"))
    elif name == "checkpoint":
        payload.update(
            workflow_id=detail.get("workflow_id"),
            checkpoint_id=detail.get("checkpoint_id"),
            step=detail.get("step"),
        )
    elif name == "limit":
        payload.update(limit={k: v for k, v in detail.items() if isinstance(v, str | int | float)})
        payload.setdefault("message", detail.get("message"))
    elif name == "recovery":
        payload["counts"] = dict(detail)
    if new_state is not None:
        payload.setdefault("state", new_state)
    return payload
