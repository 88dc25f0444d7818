"""What the supervisor tells the world. Subscribers (the CLI, the GUI bridge) render it.

Delivery is synchronous on the event loop, in publish order; a subscriber that raises is
logged and never stops delivery to the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from app.core.approvals import Approval
from app.core.log import get_logger
from app.core.models import RecoveryReport
from app.core.states import ExitReason, RunState
from app.supervisor.adapters.base import Detection

log = get_logger(__name__)


@dataclass(frozen=True)
class TaskAdded:
    task_id: int
    run_id: int


@dataclass(frozen=True)
class RunStateChanged:
    task_id: int
    run_id: int
    old: RunState | None
    new: RunState
    exit_code: int | None = None
    reason: ExitReason | None = None
    message: str | None = None


@dataclass(frozen=True)
class TaskUpdated:
    """Something shown about the task changed (e.g. its cost or agent session is now known)."""

    task_id: int


@dataclass(frozen=True)
class OutputLines:
    task_id: int
    run_id: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class StoreChanged:
    """Another process (CLI, hook) committed to the database; views should refresh."""


@dataclass(frozen=True)
class RecoveryFinished:
    report: RecoveryReport


@dataclass(frozen=True)
class ApprovalRequested:
    """An agent waits for a person to allow or deny a tool call."""

    approval: Approval


@dataclass(frozen=True)
class ApprovalResolved:
    approval: Approval


NoticeLevel = Literal["info", "warning", "error"]


@dataclass(frozen=True)
class AgentsDetected:
    """The supervisor looked again for the agent CLIs (e.g. after their paths changed)."""

    detections: Mapping[str, Detection]  # agent name -> what was found


@dataclass(frozen=True)
class Notice:
    """Something a person should read."""

    level: NoticeLevel
    text: str
    task_id: int | None = None


@dataclass(frozen=True)
class WorkflowChanged:
    """A workflow's state, step, checkpoint or error changed; views should refresh it."""

    workflow_id: int


@dataclass(frozen=True)
class CheckpointRequested:
    """A step's result waits for a person to approve, edit or reject it."""

    checkpoint_id: int
    workflow_id: int


@dataclass(frozen=True)
class SchedulesChanged:
    """A schedule was added, changed, removed or started a task; views should refresh."""


@dataclass(frozen=True)
class DeliveriesChanged:
    """A notification target or delivery changed (an attempt was made); views refresh."""


Event = (
    TaskAdded
    | TaskUpdated
    | RunStateChanged
    | OutputLines
    | StoreChanged
    | RecoveryFinished
    | ApprovalRequested
    | ApprovalResolved
    | AgentsDetected
    | Notice
    | WorkflowChanged
    | CheckpointRequested
    | SchedulesChanged
    | DeliveriesChanged
)
Subscriber = Callable[[Event], None]


@dataclass
class EventBus:
    _subscribers: list[Subscriber] = field(default_factory=list)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it again."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                log.exception("event subscriber %r failed on %r", subscriber, event)
