"""Supervisor events as Qt signals: the only way the UI learns anything (DESIGN §1).

Events are published on the asyncio loop, which under qasync is the Qt main thread, so
signals are emitted directly and every slot runs on the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.core.log import get_logger
from app.supervisor.events import (
    AgentsDetected,
    ApprovalRequested,
    ApprovalResolved,
    CheckpointRequested,
    DeliveriesChanged,
    Event,
    EventBus,
    Notice,
    OutputLines,
    RecoveryFinished,
    RunStateChanged,
    SchedulesChanged,
    StoreChanged,
    TaskAdded,
    TaskUpdated,
    WorkflowChanged,
)

log = get_logger(__name__)


class Bridge(QObject):
    taskAdded = Signal(int, int)  # task id, run id
    taskUpdated = Signal(int)  # task id
    runStateChanged = Signal(object)  # RunStateChanged
    outputLines = Signal(int, int, object)  # task id, run id, tuple[str, ...]
    storeChanged = Signal()
    recoveryFinished = Signal(object)  # RecoveryReport
    notice = Signal(str, str, object)  # level, text, task id or None
    approvalRequested = Signal(object)  # Approval
    approvalResolved = Signal(object)  # Approval
    agentsDetected = Signal(object)  # Mapping[str, Detection]: agent name -> what was found
    workflowChanged = Signal(int)  # workflow id
    checkpointRequested = Signal(int, int)  # checkpoint id, workflow id
    schedulesChanged = Signal()
    deliveriesChanged = Signal()

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe = bus.subscribe(self._deliver)

    def close(self) -> None:
        self._unsubscribe()

    def _deliver(self, event: Event) -> None:
        if isinstance(event, OutputLines):
            self.outputLines.emit(event.task_id, event.run_id, event.lines)
        elif isinstance(event, RunStateChanged):
            self.runStateChanged.emit(event)
        elif isinstance(event, TaskAdded):
            self.taskAdded.emit(event.task_id, event.run_id)
        elif isinstance(event, TaskUpdated):
            self.taskUpdated.emit(event.task_id)
        elif isinstance(event, StoreChanged):
            self.storeChanged.emit()
        elif isinstance(event, RecoveryFinished):
            self.recoveryFinished.emit(event.report)
        elif isinstance(event, Notice):
            self.notice.emit(event.level, event.text, event.task_id)
        elif isinstance(event, ApprovalRequested):
            self.approvalRequested.emit(event.approval)
        elif isinstance(event, ApprovalResolved):
            self.approvalResolved.emit(event.approval)
        elif isinstance(event, AgentsDetected):
            self.agentsDetected.emit(event.detections)
        elif isinstance(event, WorkflowChanged):
            self.workflowChanged.emit(event.workflow_id)
        elif isinstance(event, CheckpointRequested):
            self.checkpointRequested.emit(event.checkpoint_id, event.workflow_id)
        elif isinstance(event, SchedulesChanged):
            self.schedulesChanged.emit()
        elif isinstance(event, DeliveriesChanged):
            self.deliveriesChanged.emit()
        else:  # an Event type added to the union before any view shows it
            log.debug("no signal for %r", event)
