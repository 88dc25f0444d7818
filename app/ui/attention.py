"""What asks for the person: the tray icon, notifications (the tray's, or the window's
banner), approval dialogs, checkpoint dialogs and the approvals inbox.

Notifications say what happened and offer the one thing to do about it; a decision made
in a dialog or in the inbox goes the same way to the supervisor or the workflow engine.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from app.core.approvals import Approval, RuleScope
from app.core.models import RunKind, Task
from app.core.platform import current_user
from app.core.states import RunState
from app.core.workflow_models import Checkpoint
from app.core.workflow_states import Resolution
from app.supervisor.commands import CommandRefused
from app.supervisor.events import RunStateChanged
from app.supervisor.supervisor import Supervisor
from app.supervisor.workflows import WorkflowEngine
from app.ui.approvals_view import ApprovalDialog, ApprovalsInbox
from app.ui.labels import clock
from app.ui.main_window import MainWindow
from app.ui.notify import Notifier, TrayIcon, tray_available
from app.ui.workflows_view import CheckpointDialog


class Attention(QObject):
    activateRequested = Signal()  # bring the window to the front: something needs the person

    def __init__(
        self,
        supervisor: Supervisor,
        workflows: WorkflowEngine,
        window: MainWindow,
        *,
        use_tray: bool,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.supervisor = supervisor
        self.workflows = workflows
        self.window = window
        self.tray: TrayIcon | None = None
        if use_tray and tray_available():
            self.tray = TrayIcon(self)
            self.tray.show()
        self.notifier = Notifier(window.banner, self.tray, self)
        self.set_notifications(supervisor.settings.notifications)
        self.approval_dialogs: dict[str, ApprovalDialog] = {}
        self._front: str | None = None  # the approval whose dialog is on screen
        self.checkpoint_dialogs: dict[int, CheckpointDialog] = {}
        self.inbox: ApprovalsInbox | None = None

    def ask_what_waits(self) -> None:
        """At start-up: what was asked while Agentry was away is asked now."""
        for approval in self.supervisor.approvals.waiting():
            self.on_approval_requested(approval)
        self._announce_waiting_checkpoints()
        self.approvals_changed()

    # ------------------------------------------------------------------ approvals

    def on_approval_requested(self, approval: Approval) -> None:
        if approval.id in self.approval_dialogs:
            return
        task = self.window.model.task(approval.task_id)
        title = task.title if task else f"task {approval.task_id}"
        dialog = ApprovalDialog(approval, title, self.window)
        dialog.decided.connect(self.decide)
        dialog.stepRequested.connect(self._step)
        dialog.finished.connect(lambda _r, a=approval.id: self._approval_dialog_closed(a))
        self.approval_dialogs[approval.id] = dialog  # in the order the calls came
        self._show_approval(self._front if self._front is not None else approval.id)
        self.notifier.notify(
            "Approval needed",
            f"#{approval.task_id} {approval.tool}: {approval.main_argument[:120]}",
            level="warning",
            task_id=approval.task_id,
            force=True,
        )
        self.approvals_changed()

    def _show_approval(self, approval_id: str) -> None:
        """One approval dialog on screen at a time, saying "2 of 3": calls that come while
        one is open wait behind it, counted, instead of piling up on top of each other."""
        target = self.approval_dialogs[approval_id]
        shown = self.approval_dialogs.get(self._front) if self._front is not None else None
        if shown is not None and shown is not target and shown.isVisible():
            target.move(shown.pos())  # the next call takes the place of the last
            shown.hide()
        self._front = approval_id
        self._number_approvals()
        target.show()
        target.raise_()
        target.activateWindow()

    def _number_approvals(self) -> None:
        total = len(self.approval_dialogs)
        for index, dialog in enumerate(self.approval_dialogs.values()):
            dialog.set_position(index, total)

    def _step(self, step: int) -> None:
        ids = list(self.approval_dialogs)
        if self._front in ids:
            index = ids.index(self._front) + step
            if 0 <= index < len(ids):
                self._show_approval(ids[index])

    def _approval_dialog_closed(self, approval_id: str) -> None:
        """Answered (or answered elsewhere): the call after it, or else before it, is next."""
        ids = list(self.approval_dialogs)
        if approval_id not in ids:
            return
        index = ids.index(approval_id)
        del self.approval_dialogs[approval_id]
        if self._front != approval_id:
            self._number_approvals()
            return
        self._front = None
        rest = list(self.approval_dialogs)
        if rest:
            self._show_approval(rest[min(index, len(rest) - 1)])

    def on_approval_resolved(self, approval: Approval) -> None:
        dialog = self.approval_dialogs.get(approval.id)
        if dialog is not None:
            if dialog.isVisible():
                dialog.resolved_elsewhere(approval)
            else:  # waiting behind another: nothing left to ask
                dialog.reject()
        self.approvals_changed()

    def decide(self, approval_id: str, allow: bool, reason: object, remember: object) -> bool:
        try:
            self.supervisor.approvals.decide(
                approval_id,
                allow=allow,
                reason=reason if isinstance(reason, str) else None,
                remember=remember if isinstance(remember, RuleScope) else None,
            )
        except CommandRefused as exc:
            self._error("Could not record the decision", str(exc))
            return False
        return True

    def show_inbox(self) -> ApprovalsInbox:
        if self.inbox is None:
            self.inbox = ApprovalsInbox(self.window, task_title=self._task_title)
            self.inbox.openRequested.connect(self._open_approval)
            self.inbox.checkpointRequested.connect(self.open_checkpoint)
            self.inbox.decided.connect(self.decide)  # the same path as the dialog's answer
        self.approvals_changed()
        self.inbox.show()
        self.inbox.raise_()
        return self.inbox

    def _task_title(self, task_id: int) -> str | None:
        task = self.window.model.task(task_id)
        return task.title if task is not None else None

    def _open_approval(self, approval_id: str) -> None:
        if approval_id in self.approval_dialogs:
            self._show_approval(approval_id)
            return
        pending = {a.id: a for a in self.supervisor.approvals.waiting()}
        if approval_id in pending:
            self.on_approval_requested(pending[approval_id])

    def approvals_changed(self) -> None:
        """The window's badge and the inbox show what waits for a person now."""
        if not self.supervisor.running:
            return
        pending = self.supervisor.approvals.waiting()
        checkpoints = self.workflows.pending_checkpoints()
        self.window.set_waiting_approvals(len(pending) + len(checkpoints))
        waiting = {a.task_id for a in pending} | {c.task_id for c in checkpoints if c.task_id}
        self.window.set_needs_you(frozenset(waiting))
        self.update_tray()
        if self.inbox is not None:
            self.inbox.show_approvals(pending, self.supervisor.approvals.recent(), checkpoints)

    # ------------------------------------------------------------------ checkpoints

    def on_checkpoint_requested(self, checkpoint_id: int, workflow_id: int) -> None:
        checkpoint = self._pending_checkpoint(checkpoint_id)
        if checkpoint is not None:
            self.notifier.notify(
                "Checkpoint waiting",
                f"{checkpoint.workflow_name} · {checkpoint.step_name}: review its result",
                level="warning",
                force=True,
                action=functools.partial(self.show_checkpoint, checkpoint),
            )
        self.on_workflow_changed(workflow_id)

    def on_workflow_changed(self, _workflow_id: int) -> None:
        self.approvals_changed()
        self._mark_resolved_elsewhere()

    def _mark_resolved_elsewhere(self) -> None:
        if not self.checkpoint_dialogs:
            return
        pending = {c.id for c in self.workflows.pending_checkpoints()}
        for checkpoint_id, dialog in self.checkpoint_dialogs.items():
            if checkpoint_id not in pending and dialog.approve_button.isEnabled():
                dialog.resolved_elsewhere(self.workflows.checkpoint(checkpoint_id))

    def _announce_waiting_checkpoints(self) -> None:
        """Checkpoints reached while Agentry was away are announced like new ones."""
        waiting = self.workflows.pending_checkpoints()
        if not waiting:
            return
        action: Callable[[], object]
        if len(waiting) == 1:
            only = waiting[0]
            text = f"{only.workflow_name} · {only.step_name}: review its result"
            action = functools.partial(self.show_checkpoint, only)
        else:
            text = f"{len(waiting)} workflow steps wait for your review"
            action = self.show_inbox
        self.notifier.notify("Checkpoint waiting", text, level="warning", force=True, action=action)

    def _pending_checkpoint(self, checkpoint_id: int) -> Checkpoint | None:
        return next(
            (c for c in self.workflows.pending_checkpoints() if c.id == checkpoint_id), None
        )

    def show_checkpoint(self, checkpoint: Checkpoint) -> CheckpointDialog | None:
        """A notification's "Show": the workflow in the window behind its review dialog."""
        self.window.reveal_workflow(checkpoint.workflow_id)
        return self.open_checkpoint(checkpoint.id)

    def open_checkpoint(self, checkpoint_id: int) -> CheckpointDialog | None:
        dialog = self.checkpoint_dialogs.get(checkpoint_id)
        if dialog is None:
            checkpoint = self._pending_checkpoint(checkpoint_id)
            if checkpoint is None:
                return None
            dialog = CheckpointDialog(checkpoint, self.window)
            dialog.resolver = self.resolve_checkpoint
            dialog.finished.connect(
                lambda _r, c=checkpoint_id: self.checkpoint_dialogs.pop(c, None)
            )
            self.checkpoint_dialogs[checkpoint_id] = dialog
        self.activateRequested.emit()
        dialog.show()
        dialog.raise_()
        return dialog

    def resolve_checkpoint(
        self,
        checkpoint_id: int,
        action: Resolution,
        edited: str | None,
        notes: str | None,
        rerun: bool,
    ) -> bool:
        try:
            self.workflows.resolve(
                checkpoint_id,
                action,
                edited_text=edited,
                notes=notes,
                rerun=rerun,
                who=current_user(),
            )
        except CommandRefused as exc:
            self._error("Could not resolve the checkpoint", str(exc))
            return False
        finally:
            self.window.workflow_tabs.refresh()
            self.approvals_changed()
        return True

    # ------------------------------------------------------------------ notifications

    def notify_started(self, event: RunStateChanged) -> None:
        """Work that waited for an agent's usage limit has resumed: worth saying."""
        task = self.window.model.task(event.task_id)
        run = task.latest_run if task else None
        if task is None or run is None or run.id != event.run_id:
            return
        if run.kind is RunKind.AFTER_LIMIT:
            text = f"#{task.id} {task.title}: the {task.agent} limit has reset"
            self.notifier.notify("Task resumed", text, task_id=task.id)

    def notify_finished(self, event: RunStateChanged) -> None:
        task = self.window.model.task(event.task_id)
        title = task.title if task else f"Task {event.task_id}"
        if task is not None and task.waits_until is not None and event.new.is_terminal:
            self._notify_wait(task, event)  # its next run is queued already, with a wait
        elif event.new is RunState.SUCCEEDED:
            self.notifier.notify(
                "Task succeeded", f"#{event.task_id} {title}", task_id=event.task_id
            )
        elif event.new in (RunState.FAILED, RunState.TIMED_OUT):
            what = (
                "timed out"
                if event.new is RunState.TIMED_OUT
                else (
                    f"failed (exit code {event.exit_code})"
                    if event.exit_code is not None
                    else "failed"
                )
            )
            self.notifier.notify(
                f"Task {what}", f"#{event.task_id} {title}", level="error", task_id=event.task_id
            )
        elif event.new is RunState.INTERRUPTED:
            self.notifier.notify(
                "Task needs you",
                f"#{event.task_id} {title} was interrupted",
                level="warning",
                task_id=event.task_id,
            )
        self.update_tray()

    def _notify_wait(self, task: Task, event: RunStateChanged) -> None:
        """The run ended and what follows waits: a pause for the agent's limit (said as a
        pause, not a failure) or a restart after its backoff."""
        until = clock(task.waits_until or 0)
        if task.wait_reason == "limit":
            title = "Task paused"
            text = f"#{task.id} {task.title}: {task.agent} limit; resumes at {until}"
        else:
            code = f" (exit code {event.exit_code})" if event.exit_code is not None else ""
            title, text = f"Task failed{code}", f"#{task.id} {task.title}: restarts at {until}"
        self.notifier.notify(title, text, level="warning", task_id=task.id)

    def on_notice(self, level: str, text: str, task_id: object) -> None:
        if level in ("warning", "error"):
            self.notifier.notify(
                "Agentry",
                text,
                level=level,
                task_id=task_id if isinstance(task_id, int) else None,
                force=level == "error",
            )

    def internal_error(self, exc: BaseException) -> None:
        self._error("Agentry", f"Internal error: {exc}")

    def _error(self, title: str, text: str) -> None:
        self.notifier.notify(title, text, level="error", force=True)

    def update_tray(self) -> None:
        if self.tray is not None:
            self.tray.set_counts(*self.window.counts(), needs_you=self.window.waiting_count)

    def set_notifications(self, enabled: bool) -> None:
        """The Settings choice; approvals, checkpoints and errors show even when it is off."""
        self.notifier.enabled = enabled
