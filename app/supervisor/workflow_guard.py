"""When a workflow transition fails midway: nothing of it is left (its transaction rolled
back), the error and what Retry must replay are noted on the workflow in a second
transaction, and the caller gets a :class:`TransitionFailed` saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from app.core.log import get_logger
from app.store import workflow_repo as wrepo
from app.store.db import Connection, DatabaseError, abandon_transaction, transaction
from app.supervisor.commands import CommandRefused

log = get_logger(__name__)

T = TypeVar("T")


class TransitionFailed(CommandRefused):
    """A transition raised midway and left nothing behind; the workflow shows the error
    and offers Retry transition."""

    def __init__(self, workflow_id: int, error: str) -> None:
        super().__init__(
            f"workflow {workflow_id}: the transition failed and was undone ({error}); "
            f"fix the cause, then retry it (agentry workflow retry {workflow_id})"
        )
        self.workflow_id = workflow_id
        self.error = error


def guarded(conn: Connection, workflow_id: int, intent: dict[str, Any], func: Callable[[], T]) -> T:
    """Run a transition; if it fails (other than a refusal), note the error and raise
    :class:`TransitionFailed`. The failed transaction itself has been rolled back."""
    try:
        return func()
    except CommandRefused:
        raise
    except Exception as exc:
        log.exception("transition of workflow %s failed (%s)", workflow_id, intent.get("kind"))
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        _note_error(conn, workflow_id, error, intent)
        raise TransitionFailed(workflow_id, error) from exc


def _note_error(conn: Connection, workflow_id: int, error: str, intent: dict[str, Any]) -> None:
    abandon_transaction(conn)  # a failed COMMIT leaves its transaction open
    try:
        with transaction(conn):
            wrepo.set_error(conn, workflow_id, error, intent)
    except DatabaseError:
        log.exception("could not note the failed transition on workflow %s", workflow_id)
