"""The desktop app: the supervisor hosted on a qasync loop, its window, tray and lifecycle.

Start-up is staged (lock and recovery, then window, then the recovery screen if needed)
and so is shutdown (stop agents if asked, stop the supervisor, let go of the folder);
both are idempotent. A failure to start shows the start-up error screen, never a
half-working main window.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from app.core.approvals import Approval
from app.core.errors import AgentryError
from app.core.models import RecoveryReport
from app.core.platform import current_user
from app.core.states import RunState
from app.store.locations import Locations
from app.store.settings import Settings, peek_theme
from app.store.workflow_repo import Checkpoint
from app.supervisor.commands import CommandRefused
from app.supervisor.events import RunStateChanged
from app.supervisor.lock import AlreadyRunning
from app.supervisor.supervisor import Supervisor
from app.supervisor.workflows import WorkflowEngine
from app.ui.approvals_view import ApprovalDialog, ApprovalsInbox
from app.ui.bridge import Bridge
from app.ui.dialogs.quit import QuitChoice, QuitDialog
from app.ui.icons import app_icon
from app.ui.main_window import MainWindow
from app.ui.notify import Notifier, TrayIcon, tray_available
from app.ui.recovery_screen import RecoveryScreen
from app.ui.single_instance import InstanceServer, server_name
from app.ui.startup_error import StartupErrorScreen
from app.ui.theme import apply_theme
from app.ui.workflows_view import CheckpointDialog

log = logging.getLogger(__name__)


class AgentryApp(QObject):
    started = Signal()
    activated = Signal()  # another launch asked us to come forward

    def __init__(
        self,
        qapp: QApplication,
        locations: Locations,
        *,
        use_tray: bool = True,
        max_blocks: int | None = None,
    ) -> None:
        super().__init__()
        self.qapp = qapp
        self.locations = locations
        self.supervisor = Supervisor(locations, mode="gui")
        self.workflows = WorkflowEngine(self.supervisor)
        self.workflows.attach()
        self.bridge = Bridge(self.supervisor.bus, self)
        self.window: MainWindow | None = None
        self.tray: TrayIcon | None = None
        self.notifier: Notifier | None = None
        self.recovery_screen: RecoveryScreen | None = None
        self.error_screen: StartupErrorScreen | None = None
        self.quit_dialog: QuitDialog | None = None
        self.approval_dialogs: dict[str, ApprovalDialog] = {}
        self.checkpoint_dialogs: dict[int, CheckpointDialog] = {}
        self.inbox: ApprovalsInbox | None = None
        self.instance_server = InstanceServer(server_name(locations), self)
        self.finished = asyncio.Event()
        self.exit_code = 0
        self._use_tray = use_tray
        self._max_blocks = max_blocks
        self._tasks: set[asyncio.Task[Any]] = set()
        self._quitting = False

    # ------------------------------------------------------------------ start-up

    async def start(self) -> bool:
        """True when the window is up and supervising; False after showing why it is not."""
        # The error screen, too, in the chosen theme (read before the data folder is ours,
        # so without load_settings' setting aside of a bad file).
        apply_theme(self.qapp, peek_theme(self.locations.settings))
        try:
            report = await self.supervisor.start()
        except AgentryError as exc:
            self._show_startup_error(str(exc), already_running=isinstance(exc, AlreadyRunning))
            return False
        self.instance_server.listen()
        apply_theme(self.qapp, self.supervisor.settings.theme)
        self._build_window()
        self._connect_signals()
        assert self.window is not None
        self.window.show()
        self.window.open_newest_active()
        for approval in self.supervisor.pending_approvals():  # asked while we were away
            self._on_approval_requested(approval)
        self._announce_waiting_checkpoints()
        self._approvals_changed()
        if report.needs_attention:
            self.show_recovery(report)
        self.started.emit()
        return True

    def _show_startup_error(self, message: str, *, already_running: bool = False) -> None:
        log.error("start-up failed: %s", message)
        self.exit_code = 1
        self.error_screen = StartupErrorScreen(
            message, str(self.locations.data), already_running=already_running
        )
        self.error_screen.finished.connect(lambda _r: self.finished.set())
        self.error_screen.show()

    def _build_window(self) -> None:
        self.window = MainWindow(
            self.supervisor, self.bridge, max_blocks=self._max_blocks, workflows=self.workflows
        )
        if self._use_tray and tray_available():
            self.tray = TrayIcon(self)
            self.tray.show()
        self.notifier = Notifier(self.window.banner, self.tray, self)
        self.notifier.enabled = self.supervisor.settings.notifications

    def _connect_signals(self) -> None:
        assert self.window is not None and self.notifier is not None
        window = self.window
        # window
        window.closeRequested.connect(self.close_window)
        window.quitRequested.connect(self.request_quit)
        window.runFinished.connect(self._notify_finished)
        window.settingsApplied.connect(self._settings_applied)
        # notifications and supervisor notices
        self.notifier.showTask.connect(self.show_task)
        self.bridge.notice.connect(self._on_notice)
        self.bridge.runStateChanged.connect(lambda _e: self._update_tray())
        # tray
        if self.tray is not None:
            self.tray.show_action.triggered.connect(self.activate)
            self.tray.new_task_action.triggered.connect(self._tray_new_task)
            self.tray.pause_action.toggled.connect(window.set_paused)
            window.action_set.pause_action.toggled.connect(self.tray.pause_action.setChecked)
            self.tray.quit_action.triggered.connect(self.request_quit)
            self.tray.activated.connect(self._tray_activated)
            self._update_tray()
        # approvals
        self.bridge.approvalRequested.connect(self._on_approval_requested)
        self.bridge.approvalResolved.connect(self._on_approval_resolved)
        window.approvalsRequested.connect(self.show_inbox)
        # workflow checkpoints
        window.checkpointReviewRequested.connect(self.open_checkpoint)
        self.bridge.checkpointRequested.connect(self._on_checkpoint_requested)
        self.bridge.workflowChanged.connect(self._on_workflow_changed)
        # another launch
        self.instance_server.activated.connect(lambda _argv: self.activate())
        self.instance_server.quitRequested.connect(lambda: self.quit(QuitChoice.KEEP_RUNNING))

    # ------------------------------------------------------------------ recovery

    def show_recovery(self, report: RecoveryReport) -> RecoveryScreen:
        assert self.window is not None
        screen = RecoveryScreen(report, self.window.describe, self.window)
        screen.retryRequested.connect(self.window.retry_task)
        screen.resumeRequested.connect(self.window.resume_task)
        screen.dismissRequested.connect(self.supervisor.dismiss)
        screen.showTaskRequested.connect(self.show_task)
        self.recovery_screen = screen
        screen.show()
        screen.raise_()
        return screen

    # ------------------------------------------------------------------ approvals

    def _on_approval_requested(self, approval: Approval) -> None:
        if approval.id in self.approval_dialogs or self.window is None:
            return
        task = self.window.model.task(approval.task_id)
        title = task.title if task else f"task {approval.task_id}"
        dialog = ApprovalDialog(approval, title, self.window)
        dialog.decided.connect(self.decide)
        dialog.finished.connect(lambda _r, a=approval.id: self.approval_dialogs.pop(a, None))
        self.approval_dialogs[approval.id] = dialog
        dialog.show()
        dialog.raise_()
        if self.notifier is not None:
            self.notifier.notify(
                "Approval needed",
                f"#{approval.task_id} {approval.tool}: {approval.main_argument[:120]}",
                level="warning",
                task_id=approval.task_id,
                force=True,
            )
        self._approvals_changed()

    def _on_approval_resolved(self, approval: Approval) -> None:
        dialog = self.approval_dialogs.get(approval.id)
        if dialog is not None and dialog.isVisible():
            dialog.resolved_elsewhere(approval)
        self._approvals_changed()

    def decide(self, approval_id: str, allow: bool, reason: object, remember: object) -> bool:
        try:
            self.supervisor.decide(
                approval_id,
                allow=allow,
                reason=reason if isinstance(reason, str) else None,
                remember=remember if isinstance(remember, str) else None,
            )
        except CommandRefused as exc:
            if self.notifier is not None:
                self.notifier.notify(
                    "Could not record the decision", str(exc), level="error", force=True
                )
            return False
        return True

    # ------------------------------------------------------------------ checkpoints

    def _on_checkpoint_requested(self, checkpoint_id: int, workflow_id: int) -> None:
        checkpoint = self._pending_checkpoint(checkpoint_id)
        if checkpoint is not None and self.notifier is not None:
            self.notifier.notify(
                "Checkpoint waiting",
                f"{checkpoint.workflow_name} · {checkpoint.step_name}: review its result",
                level="warning",
                force=True,
                action=functools.partial(self.open_checkpoint, checkpoint.id),
            )
        self._on_workflow_changed(workflow_id)

    def _on_workflow_changed(self, _workflow_id: int) -> None:
        self._approvals_changed()
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
        if not waiting or self.notifier is None:
            return
        action: Callable[[], object]
        if len(waiting) == 1:
            only = waiting[0]
            text = f"{only.workflow_name} · {only.step_name}: review its result"
            action = functools.partial(self.open_checkpoint, only.id)
        else:
            text = f"{len(waiting)} workflow steps wait for your review"
            action = self.show_inbox
        self.notifier.notify("Checkpoint waiting", text, level="warning", force=True, action=action)

    def _pending_checkpoint(self, checkpoint_id: int) -> Checkpoint | None:
        return next(
            (c for c in self.workflows.pending_checkpoints() if c.id == checkpoint_id), None
        )

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
        self.activate()
        dialog.show()
        dialog.raise_()
        return dialog

    def resolve_checkpoint(
        self, checkpoint_id: int, action: str, edited: object, notes: object, rerun: bool
    ) -> bool:
        try:
            self.workflows.resolve(
                checkpoint_id,
                action,
                edited_text=edited if isinstance(edited, str) else None,
                notes=notes if isinstance(notes, str) else None,
                rerun=rerun,
                who=current_user(),
            )
        except CommandRefused as exc:
            if self.notifier is not None:
                self.notifier.notify(
                    "Could not resolve the checkpoint", str(exc), level="error", force=True
                )
            return False
        finally:
            if self.window is not None:
                self.window.workflow_tabs.refresh()
            self._approvals_changed()
        return True

    def show_inbox(self) -> ApprovalsInbox:
        if self.inbox is None:
            self.inbox = ApprovalsInbox(self.window, task_title=self._task_title)
            self.inbox.openRequested.connect(self._open_approval)
            self.inbox.checkpointRequested.connect(self.open_checkpoint)
            self.inbox.decided.connect(self.decide)  # the same path as the dialog's answer
        self._approvals_changed()
        self.inbox.show()
        self.inbox.raise_()
        return self.inbox

    def _task_title(self, task_id: int) -> str | None:
        task = self.window.model.task(task_id) if self.window is not None else None
        return task.title if task is not None else None

    def _open_approval(self, approval_id: str) -> None:
        dialog = self.approval_dialogs.get(approval_id)
        if dialog is not None:
            dialog.show()
            dialog.raise_()
            return
        pending = {a.id: a for a in self.supervisor.pending_approvals()}
        if approval_id in pending:
            self._on_approval_requested(pending[approval_id])

    def _approvals_changed(self) -> None:
        if not self.supervisor.running:
            return
        pending = self.supervisor.pending_approvals()
        checkpoints = self.workflows.pending_checkpoints()
        if self.window is not None:
            self.window.set_waiting_approvals(len(pending) + len(checkpoints))
        if self.inbox is not None:
            self.inbox.show_approvals(pending, self.supervisor.recent_approvals(), checkpoints)

    # ------------------------------------------------------------------ showing things

    def activate(self) -> None:
        if self.window is None:
            return
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
        self.activated.emit()

    def show_task(self, task_id: object) -> None:
        self.activate()
        if self.window is not None and isinstance(task_id, int):
            self.window.open_task(task_id)

    def _tray_activated(self, reason: TrayIcon.ActivationReason) -> None:
        if reason == TrayIcon.ActivationReason.Trigger:
            self.activate()

    def _tray_new_task(self) -> None:
        self.activate()
        if self.window is not None:
            self.window.show_new_task()

    def _notify_finished(self, event: RunStateChanged) -> None:
        if self.notifier is None or self.window is None:
            return
        task = self.window.model.task(event.task_id)
        title = task.title if task else f"Task {event.task_id}"
        if event.new is RunState.SUCCEEDED:
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
        self._update_tray()

    def _on_notice(self, level: str, text: str, task_id: object) -> None:
        if self.notifier is not None and level in ("warning", "error"):
            self.notifier.notify(
                "Agentry",
                text,
                level=level,
                task_id=task_id if isinstance(task_id, int) else None,
                force=level == "error",
            )

    def _update_tray(self) -> None:
        if self.tray is not None and self.window is not None:
            self.tray.set_counts(*self.window.counts())

    def _settings_applied(self, settings: Settings) -> None:
        apply_theme(self.qapp, settings.theme)
        if self.notifier is not None:
            self.notifier.enabled = settings.notifications

    # ------------------------------------------------------------------ closing and quitting

    def close_window(self) -> None:
        """The window's close button: hide to the tray if there is one, else quit."""
        if self.window is None:
            return
        if self.tray is None or not self.tray.isVisible():
            self.request_quit()
            return
        self.window.hide()
        settings = self.supervisor.settings
        if not settings.tray_hint_shown and self.notifier is not None:
            self.notifier.notify(
                "Agentry is still running",
                "Your agents keep working. Find Agentry in the tray; Quit is in its menu.",
                force=True,
            )
            self.supervisor.apply_settings(settings.replace(tray_hint_shown=True))

    def request_quit(self) -> None:
        """Quit; with agents running, ask whether to keep them running (the default)."""
        if self._quitting or self.window is None:
            if self.window is None:
                self.finished.set()
            return
        running, _queued, _attention = self.window.counts()
        if running == 0:
            self.quit(QuitChoice.KEEP_RUNNING)
            return
        if self.quit_dialog is not None and self.quit_dialog.isVisible():
            self.quit_dialog.raise_()
            return
        self.activate()
        self.quit_dialog = QuitDialog(running, self.window)
        self.quit_dialog.chosen.connect(self.quit)
        self.quit_dialog.open()

    def quit(self, choice: QuitChoice) -> None:
        if choice is QuitChoice.CANCEL or self._quitting:
            return
        self._quitting = True
        self.spawn(self._shutdown(stop_agents=choice is QuitChoice.STOP_AGENTS))

    async def _shutdown(self, *, stop_agents: bool) -> None:
        try:
            if stop_agents:
                if self.window is not None:
                    self.window.statusBar().showMessage("Stopping agents…")
                await self.supervisor.stop_agents()
            await self.supervisor.stop()
        finally:
            self.instance_server.close()
            self.bridge.close()
            if self.tray is not None:
                self.tray.hide()
            if self.window is not None:
                self.window.hide()
            self.finished.set()

    # ------------------------------------------------------------------ tasks

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a coroutine on the loop, keeping a reference and surfacing its failure."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())
            if self.notifier is not None:
                self.notifier.notify(
                    "Agentry", f"Internal error: {task.exception()}", level="error", force=True
                )


def run_gui(
    locations: Locations,
    *,
    smoke_test: bool = False,
    screenshot: str | None = None,
    screenshot_delay: float = 3.0,
) -> int:
    """``agentry`` with no command: the desktop app. Returns the process exit status."""
    import qasync

    from app.ui.single_instance import hand_over

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    qapp.setApplicationName("Agentry")
    qapp.setOrganizationName("Agentry")
    qapp.setWindowIcon(app_icon())
    qapp.setQuitOnLastWindowClosed(False)
    qapp.setDesktopFileName("agentry")  # so Wayland docks match the window to agentry.desktop
    if hand_over(server_name(locations), sys.argv[1:]):
        print("Agentry is already running; its window was brought to the front.")
        return 0

    async def main() -> int:
        controller = AgentryApp(qapp, locations)
        started = await controller.start()
        if started:
            # Start-up objects live as long as the process: keep them out of every future
            # collection. Once, here, where the process's one app started (not in
            # AgentryApp, of which tests make many in one process).
            gc.freeze()
        if started and (smoke_test or screenshot):
            QTimer.singleShot(
                int(screenshot_delay * 1000), lambda: _finish_check(controller, screenshot)
            )
        await controller.finished.wait()
        return controller.exit_code

    return int(qasync.run(main()))


def _finish_check(controller: AgentryApp, screenshot: str | None) -> None:
    """--smoke-test / --screenshot: prove the window is up, then quit keeping agents."""
    window = controller.window
    shown = window is not None and window.isVisible() and controller.supervisor.running
    if screenshot:
        screen = controller.qapp.primaryScreen()
        area = window.frameGeometry() if window is not None else screen.geometry()
        pixmap = screen.grabWindow(0, area.x(), area.y(), area.width(), area.height())
        if not pixmap.save(screenshot):
            log.error("could not save the screenshot to %s", screenshot)
            shown = False
    print(
        "smoke test: window shown, supervisor running" if shown else "smoke test FAILED", flush=True
    )
    controller.exit_code = 0 if shown else 1
    controller.quit(QuitChoice.KEEP_RUNNING)
