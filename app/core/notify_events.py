"""Which audit events are notifications (issue #16), and which: the ``--events``
vocabulary. Kept apart from :mod:`app.core.notifications` and as light as a module can be,
because every audit event written passes :func:`event_name` (``agentry run`` included).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EVENTS = ("succeeded", "failed", "needs-you", "limit", "checkpoint", "recovery")
"""The ``--events`` vocabulary, in the order screens list it."""

EVENT_LABELS = {
    "succeeded": "Task succeeded",
    "failed": "Task failed or timed out",
    "needs-you": "Approval waiting for you",
    "limit": "Paused for a usage limit",
    "checkpoint": "Workflow checkpoint waiting",
    "recovery": "Recovery found something",
    "test": "Test notification",
}

# The audit kinds that may notify: any other kind costs add_event no query at all.
NOTIFIABLE_KINDS = frozenset({"run_state", "approval", "limit_paused", "checkpoint", "recovery"})


def event_name(
    kind: str, old_state: str | None, new_state: str | None, detail: Mapping[str, Any] | None
) -> str | None:
    """The notification an audit event is (one of EVENTS), or None when it is none."""
    if kind == "run_state":
        if new_state == "succeeded":
            return "succeeded"
        if new_state in ("failed", "timed_out"):
            return "failed"
        return None
    if kind == "approval":
        return "needs-you" if new_state == "pending" and old_state is None else None
    if kind == "limit_paused":
        return "limit"
    if kind == "checkpoint":
        return "checkpoint" if new_state == "pending" and old_state is None else None
    if kind == "recovery":
        counts = detail or {}
        found = sum(int(counts.get(k) or 0) for k in ("reattached", "finished", "interrupted"))
        return "recovery" if found else None
    return None
