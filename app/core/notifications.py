"""Durable notifications (issue #16) as values: which audit events notify, what each kind
of target receives, how a delivery is signed, and what an HTTP answer means for a retry.
No I/O: the outbox is the store's (:mod:`app.store.outbox_repo`), sending is the
supervisor's (:mod:`app.supervisor.deliveries`).

The contract is *at least once*: a delivery is sent, then its attempt is committed; a crash
between the two sends it again after the restart, with the same ``Idempotency-Key``, so a
receiver that remembers keys sees each event once.
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.errors import AgentryError
from app.core.notify_events import EVENT_LABELS, EVENTS, NOTIFIABLE_KINDS, event_name

__all__ = ["EVENTS", "EVENT_LABELS", "NOTIFIABLE_KINDS", "event_name"]

DEFAULT_RETRY_DELAYS_S = (30.0, 120.0, 600.0)
DEFAULT_TIMEOUT_S = 10.0
MAX_RETRY_AFTER_S = 3600.0  # a server's Retry-After beyond this is not waited for in full


class NotifyError(AgentryError, ValueError):
    """A target or event list that cannot be used, said so the person can fix it."""


class TargetKind(enum.StrEnum):
    WEBHOOK = "webhook"
    NTFY = "ntfy"
    SLACK = "slack"
    DISCORD = "discord"


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up: permanent refusal, or out of retries


@dataclass(frozen=True)
class Target:
    id: int
    kind: TargetKind
    url: str
    events: tuple[str, ...]
    created_at: float
    paused: bool = False
    secret_key: str | None = None  # names its secret in the secrets file; None: unsigned
    secret_set: bool = False  # the secrets file holds that secret (filled in by readers)

    def to_json(self) -> dict[str, Any]:
        """Never the secret: only whether one is set."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "url": self.url,
            "events": list(self.events),
            "created_at": self.created_at,
            "paused": self.paused,
            "secret": "set" if self.secret_set else "none",
        }


@dataclass(frozen=True)
class Attempt:
    at: float
    status: int | None
    error: str | None
    duration_ms: int

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "status": self.status, "error": self.error,
                "duration_ms": self.duration_ms}  # fmt: skip


@dataclass(frozen=True)
class Delivery:
    id: int
    target_id: int
    event_id: int | None
    event: str
    payload: dict[str, Any]
    idempotency_key: str
    state: DeliveryState
    attempts: int
    next_at: float | None
    last_status: int | None
    last_error: str | None
    created_at: float
    delivered_at: float | None
    target_url: str = ""
    target_kind: TargetKind = TargetKind.WEBHOOK
    history: tuple[Attempt, ...] = ()

    @property
    def task_id(self) -> int | None:
        task = self.payload.get("task")
        return task.get("id") if isinstance(task, dict) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target_id": self.target_id,
            "target": self.target_url,
            "event_id": self.event_id,
            "event": self.event,
            "task_id": self.task_id,
            "state": self.state.value,
            "attempts": self.attempts,
            "next_at": self.next_at,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "created_at": self.created_at,
            "delivered_at": self.delivered_at,
            "idempotency_key": self.idempotency_key,
            "history": [a.to_json() for a in self.history],
        }


# ---------------------------------------------------------------- targets


def check_url(url: str, what: str = "URL") -> str:
    """``url`` if it is an http(s) URL with a host; NotifyError naming it otherwise."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
        raise NotifyError(
            f"{what} {url!r} is not an http:// or https:// address; give the full address "
            "the service shows, e.g. https://ntfy.sh/my-topic"
        )
    return url.strip()


def parse_events(text: str | None) -> tuple[str, ...]:
    """``--events`` as typed (comma-separated; "all" or nothing means every event)."""
    if text is None or not text.strip() or text.strip() == "all":
        return EVENTS
    wanted = [word.strip() for word in text.split(",") if word.strip()]
    unknown = [word for word in wanted if word not in EVENTS]
    if unknown:
        raise NotifyError(f"unknown event {unknown[0]!r}; choose from {', '.join(EVENTS)} (or all)")
    return tuple(e for e in EVENTS if e in wanted)


def summary_line(event: str, payload: Mapping[str, Any]) -> tuple[str, str]:
    """(title, message): what a person reads on a phone or in a chat."""
    task = payload.get("task") or {}
    name = f"Task {task.get('id')}: {task.get('title')}" if task else "Agentry"
    message = str(payload.get("message") or "")
    if event == "succeeded":
        return f"{name} succeeded", message or "Finished without error."
    if event == "failed":
        code = payload.get("exit_code")
        state = str(payload.get("state") or "failed").replace("_", " ")
        return f"{name} {state}", message or (f"Exit code {code}." if code is not None else "")
    if event == "needs-you":
        tool = payload.get("tool") or "a tool"
        return f"{name} needs you", f"The agent asks to use {tool}. Approve or deny in Agentry."
    if event == "limit":
        return f"{name} paused for a usage limit", message or "It resumes after the reset."
    if event == "checkpoint":
        step = payload.get("step") or "a step"
        return f"{name} waits at a checkpoint", f"Workflow step {step} is ready for review."
    if event == "recovery":
        counts = payload.get("counts") or {}
        parts = [f"{v} {k}" for k, v in counts.items() if v and k != "queued"]
        return "Agentry recovered tasks", "Found at start: " + ", ".join(parts) + "."
    if event == "test":
        return "Agentry test notification", "Notifications from Agentry reach you here."
    return f"Agentry: {event}", message


# ---------------------------------------------------------------- requests


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str]


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the raw body, as GitHub's webhooks sign."""
    import hashlib
    import hmac

    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def build_request(
    kind: TargetKind,
    url: str,
    delivery: Delivery,
    *,
    secret: str | None,
    version: str,
) -> Request:
    """What to POST for ``delivery`` to a target of ``kind``."""
    title, message = summary_line(delivery.event, delivery.payload)
    headers = {
        "User-Agent": f"Agentry/{version}",
        "Idempotency-Key": delivery.idempotency_key,
        "X-Agentry-Event": delivery.event,
    }
    if kind is TargetKind.NTFY:
        body = message.encode()
        headers["Content-Type"] = "text/plain; charset=utf-8"
        headers["Title"] = title.encode("ascii", "replace").decode()  # HTTP headers are latin-1
        headers["Priority"] = "high" if delivery.event in ("failed", "needs-you") else "default"
        headers["Tags"] = {"succeeded": "white_check_mark", "failed": "x",
                           "needs-you": "raising_hand", "limit": "hourglass",
                           "checkpoint": "eyes", "recovery": "recycle"}.get(
            delivery.event, "bell")  # fmt: skip
    else:
        if kind is TargetKind.SLACK:
            data: dict[str, Any] = {"text": f"*{title}*\n{message}"}
        elif kind is TargetKind.DISCORD:
            data = {"content": f"**{title}**\n{message}"}
        else:
            data = {
                "event": delivery.event,
                "delivery_id": delivery.id,
                "event_id": delivery.event_id,
                "title": title,
                "message": message,
                **delivery.payload,
            }
        body = json.dumps(data, sort_keys=True, allow_nan=False).encode()
        headers["Content-Type"] = "application/json"
    if secret:
        headers["X-Agentry-Signature"] = signature(secret, body)
    return Request(url, body, headers)


# ---------------------------------------------------------------- answers and retries


@dataclass(frozen=True)
class Outcome:
    """What one POST came to: an HTTP status, or an error without one (a timeout, a refused
    connection); ``retry_after`` from the server's header, in seconds."""

    status: int | None
    error: str | None = None
    retry_after: float | None = None
    duration_ms: int = 0

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def permanent(self) -> bool:
        """A refusal that retrying cannot change: a 4xx other than 408 and 429 (and any
        other non-2xx below 500, such as a redirect we do not follow)."""
        s = self.status
        return s is not None and s < 500 and not 200 <= s < 300 and s not in (408, 429)


def next_attempt_at(
    outcome: Outcome, attempts: int, delays: Sequence[float], now: float
) -> float | None:
    """When to try again after ``attempts`` attempts ending in ``outcome``; None: give up
    (delivered, permanently refused, or out of retries)."""
    if outcome.delivered or outcome.permanent or attempts > len(delays):
        return None
    delay = delays[attempts - 1]
    if outcome.retry_after is not None:
        delay = min(max(outcome.retry_after, 0.0), MAX_RETRY_AFTER_S)
    return now + delay


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # not "²", which isdigit() also accepts
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))
