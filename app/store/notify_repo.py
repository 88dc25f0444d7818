"""All SQL for notification targets and their deliveries' state and attempts (issue
#16); enqueueing is :mod:`app.store.outbox_repo`'s."""

from __future__ import annotations

import json
import sqlite3
import time

from app.core.notifications import (
    Attempt,
    Delivery,
    DeliveryState,
    NotifyError,
    Target,
    TargetKind,
)
from app.store import outbox_repo


class UnknownTarget(NotifyError, LookupError):
    def __init__(self, ref: object) -> None:
        super().__init__(f"no notification target {ref}; `agentry notify list` shows them")


class UnknownDelivery(NotifyError, LookupError):
    def __init__(self, ref: object) -> None:
        super().__init__(f"no delivery {ref}; `agentry notify log` shows them")


# ---------------------------------------------------------------- targets


def _target(row: sqlite3.Row) -> Target:
    return Target(
        id=row["id"],
        kind=TargetKind(row["kind"]),
        url=row["url"],
        events=tuple(json.loads(row["events_json"])),
        created_at=row["created_at"],
        paused=bool(row["paused"]),
        secret_key=row["secret_key"],
    )


def add_target(
    conn: sqlite3.Connection,
    kind: TargetKind,
    url: str,
    events: tuple[str, ...],
    *,
    secret_key: str | None = None,
    now: float | None = None,
) -> Target:
    from app.store.repo import add_event

    cur = conn.execute(
        "INSERT INTO notify_targets (kind, url, events_json, secret_key, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (
            kind.value,
            url,
            json.dumps(list(events)),
            secret_key,
            time.time() if now is None else now,
        ),
    )
    target_id = int(cur.lastrowid or 0)
    add_event(conn, "notify_target_added", detail={"target": target_id, "kind": kind.value,
                                                    "events": list(events)})  # fmt: skip
    return get_target(conn, target_id)


def get_target(conn: sqlite3.Connection, target_id: int) -> Target:
    row = conn.execute("SELECT * FROM notify_targets WHERE id = ?", (target_id,)).fetchone()
    if row is None:
        raise UnknownTarget(target_id)
    return _target(row)


def list_targets(conn: sqlite3.Connection) -> list[Target]:
    return [_target(row) for row in conn.execute("SELECT * FROM notify_targets ORDER BY id")]


def set_paused(conn: sqlite3.Connection, target_id: int, paused: bool) -> Target:
    """Pause a target (no new deliveries are queued for it: events while paused are not
    kept for later; those already queued still go) or resume it."""
    from app.store.repo import add_event

    target = get_target(conn, target_id)
    if target.paused != paused:
        conn.execute("UPDATE notify_targets SET paused = ? WHERE id = ?", (int(paused), target_id))
        add_event(conn, "notify_target_paused" if paused else "notify_target_resumed",
                  detail={"target": target_id})  # fmt: skip
    return get_target(conn, target_id)


def remove_target(conn: sqlite3.Connection, target_id: int) -> Target:
    """The target and its deliveries (their log goes with it; the audit trail keeps that
    the target was removed)."""
    from app.store.repo import add_event

    target = get_target(conn, target_id)
    conn.execute("DELETE FROM notify_targets WHERE id = ?", (target_id,))
    add_event(conn, "notify_target_removed", detail={"target": target_id,
                                                      "kind": target.kind.value})  # fmt: skip
    return target


def enqueue_test(conn: sqlite3.Connection, target_id: int, *, next_at: float) -> Delivery:
    """A test notification for one target, in the outbox like any other (so the log shows
    it); ``next_at`` later than now keeps the supervisor from sending it while the caller
    does."""
    get_target(conn, target_id)
    now = time.time()
    payload = json.dumps({"event": "test", "at": now})
    delivery_id = outbox_repo.insert(conn, target_id, None, "test", payload, now, next_at=next_at)
    return get_delivery(conn, delivery_id)


# ---------------------------------------------------------------- delivering

_DELIVERY_SELECT = (
    "SELECT d.*, t.url AS t_url, t.kind AS t_kind FROM deliveries d "
    "JOIN notify_targets t ON t.id = d.target_id"
)


def _delivery(row: sqlite3.Row, history: tuple[Attempt, ...] = ()) -> Delivery:
    return Delivery(
        id=row["id"],
        target_id=row["target_id"],
        event_id=row["event_id"],
        event=row["event_kind"],
        payload=json.loads(row["payload_json"]),
        idempotency_key=row["idempotency_key"],
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        next_at=row["next_at"],
        last_status=row["last_status"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
        target_url=row["t_url"],
        target_kind=TargetKind(row["t_kind"]),
        history=history,
    )


def get_delivery(conn: sqlite3.Connection, delivery_id: int, *, history: bool = False) -> Delivery:
    row = conn.execute(f"{_DELIVERY_SELECT} WHERE d.id = ?", (delivery_id,)).fetchone()
    if row is None:
        raise UnknownDelivery(delivery_id)
    return _delivery(row, attempts_of(conn, delivery_id) if history else ())


def due(
    conn: sqlite3.Connection, now: float, limit: int, exclude: frozenset[int] = frozenset()
) -> list[Delivery]:
    """Pending deliveries whose time has come, oldest first, not those in ``exclude``."""
    rows = conn.execute(
        f"{_DELIVERY_SELECT} WHERE d.state = 'pending' AND d.next_at <= ? "
        "ORDER BY d.next_at, d.id LIMIT ?",
        (now, limit + len(exclude)),
    ).fetchall()
    return [_delivery(row) for row in rows if row["id"] not in exclude][:limit]


def any_due(conn: sqlite3.Connection, now: float) -> bool:
    """One indexed look, every supervisor tick: is a delivery due (written by anyone)?"""
    row = conn.execute(
        "SELECT 1 FROM deliveries WHERE state = 'pending' AND next_at <= ? LIMIT 1", (now,)
    ).fetchone()
    return row is not None


def record_attempt(
    conn: sqlite3.Connection,
    delivery_id: int,
    *,
    at: float,
    status: int | None,
    error: str | None,
    duration_ms: int,
    next_at: float | None,
    delivered: bool,
) -> Delivery | None:
    """One attempt and where the delivery stands after it: delivered, due again at
    ``next_at``, or given up (None and not delivered). None when the delivery is gone (its
    target was removed meanwhile)."""
    if conn.execute("SELECT 1 FROM deliveries WHERE id = ?", (delivery_id,)).fetchone() is None:
        return None
    conn.execute(
        "INSERT INTO delivery_attempts (delivery_id, at, status, error, duration_ms) "
        "VALUES (?, ?, ?, ?, ?)",
        (delivery_id, at, status, error, duration_ms),
    )
    if delivered:
        state = DeliveryState.DELIVERED
    elif next_at is None:
        state = DeliveryState.FAILED
    else:
        state = DeliveryState.PENDING
    conn.execute(
        "UPDATE deliveries SET state = ?, attempts = attempts + 1, next_at = ?, "
        "last_status = ?, last_error = ?, delivered_at = ? WHERE id = ?",
        (state.value, next_at if state is DeliveryState.PENDING else None, status, error,
         at if delivered else None, delivery_id),
    )  # fmt: skip
    return get_delivery(conn, delivery_id)


def retry_now(conn: sqlite3.Connection, delivery_id: int, now: float | None = None) -> Delivery:
    """Due again at once (a failed one gets one more attempt; a delivered one is left)."""
    delivery = get_delivery(conn, delivery_id)
    if delivery.state is DeliveryState.DELIVERED:
        raise NotifyError(f"delivery {delivery_id} was already delivered; nothing to retry")
    conn.execute(
        "UPDATE deliveries SET state = 'pending', next_at = ? WHERE id = ?",
        (time.time() if now is None else now, delivery_id),
    )
    return get_delivery(conn, delivery_id)


def attempts_of(conn: sqlite3.Connection, delivery_id: int) -> tuple[Attempt, ...]:
    rows = conn.execute(
        "SELECT at, status, error, duration_ms FROM delivery_attempts WHERE delivery_id = ? "
        "ORDER BY id",
        (delivery_id,),
    )
    return tuple(Attempt(at=r[0], status=r[1], error=r[2], duration_ms=r[3]) for r in rows)


def deliveries(
    conn: sqlite3.Connection, *, target_id: int | None = None, limit: int = 100
) -> list[Delivery]:
    """The newest deliveries first, each with its attempts."""
    where, args = ("WHERE d.target_id = ?", (target_id,)) if target_id is not None else ("", ())
    rows = conn.execute(
        f"{_DELIVERY_SELECT} {where} ORDER BY d.id DESC LIMIT ?", (*args, limit)
    ).fetchall()
    return [_delivery(row, attempts_of(conn, row["id"])) for row in rows]


def count_pending(conn: sqlite3.Connection) -> int:
    return int(
        conn.execute("SELECT count(*) FROM deliveries WHERE state = 'pending'").fetchone()[0]
    )


def pending_times(conn: sqlite3.Connection) -> list[float]:
    """When each delivery not yet sent was made, oldest first (for the health check)."""
    rows = conn.execute(
        "SELECT created_at FROM deliveries WHERE state = 'pending' ORDER BY created_at"
    )
    return [float(row[0]) for row in rows]


def failed_since(conn: sqlite3.Connection, since: float) -> int:
    """How many deliveries made since ``since`` were given up."""
    row = conn.execute(
        "SELECT count(*) FROM deliveries WHERE state = 'failed' AND created_at >= ?", (since,)
    ).fetchone()
    return int(row[0])
