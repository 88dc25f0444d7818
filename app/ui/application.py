"""The desktop app: the supervisor hosted on a qasync loop, its window, and start-up.

Start-up is staged (lock and recovery, then window, then the recovery screen if needed);
a failure to start shows the start-up error screen, never a half-working main window.
What asks for the person lives in :mod:`app.ui.attention`, closing and quitting in
:mod:`app.ui.quitting`; this module builds them and wires them in ``_connect_signals``.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from app.core.errors import AgentryError
from app.core.locations import Locations
from app.core.log import get_logger
from app.core.models import RecoveryReport
from app.core.settings import Settings
from app.supervisor.lock import AlreadyRunning
from app.supervisor.rebuild import DatabaseLost
from app.supervisor.restore import restore_backup
from app.supervisor.supervisor import Supervisor
from app.ui.attention import Attention
from app.ui.bridge import Bridge
from app.ui.dialogs.quit import QuitChoice
from app.ui.icons import app_icon
from app.ui.main_window import MainWindow
from app.ui.notify import TrayIcon
from app.ui.quitting import Quitter
from app.ui.recovery_screen import RecoveryScreen
from app.ui.single_instance import InstanceServer, server_name
from app.ui.startup_error import StartupErrorScreen, relaunch
from app.ui.theme import apply_theme

log = get_logger(__name__)


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
        self.workflows = self.supervisor.workflows
        self.bridge = Bridge(self.supervisor.bus, self)
        self.window: MainWindow | None = None
        self.attention: Attention | None = None
        self.quitter: Quitter | None = None
        self.recovery_screen: RecoveryScreen | None = None
        self.error_screen: StartupErrorScreen | None = None
        self.instance_server = InstanceServer(server_name(locations), self)
        self.finished = asyncio.Event()
        self.exit_code = 0
        self._use_tray = use_tray
        self._max_blocks = max_blocks
        self._tasks: set[asyncio.Task[Any]] = set()
        self._restore_after: Path | None = None  # File → Restore a backup…, once quit
        self.relaunch: Callable[[], bool] = relaunch  # a seam for tests

    # ------------------------------------------------------------------ start-up

    async def start(self) -> bool:
        """True when the window is up and supervising; False after showing why it is not."""
        # The error screen, too, in the chosen theme (read before the data folder is ours,
        # so without load_settings' setting aside of a bad file).
        apply_theme(self.qapp, self.supervisor.theme_before_start())
        try:
            report = await self.supervisor.start()
        except AgentryError as exc:
            self._show_startup_error(str(exc), already_running=isinstance(exc, AlreadyRunning),
                                     lost=isinstance(exc, DatabaseLost))  # fmt: skip
            return False
        self.instance_server.listen()
        apply_theme(self.qapp, self.supervisor.settings.theme)
        window, attention, quitter = self._build()
        self._connect_signals(window, attention, quitter)
        window.show()
        window.open_newest_active()
        attention.ask_what_waits()
        if report.needs_attention:
            self.show_recovery(report)
        self.supervisor.mark_seen()  # shown now: the next start's screen begins from here
        self.started.emit()
        return True

    def _show_startup_error(
        self, message: str, *, already_running: bool = False, lost: bool = False
    ) -> None:
        # The person's to act on (the screen says how), not a bug of ours: a warning.
        log.warning("start-up failed: %s", message)
        self.exit_code = 1
        self.error_screen = StartupErrorScreen(
            message, self.locations, already_running=already_running, lost=lost
        )
        self.error_screen.finished.connect(lambda _r: self.finished.set())
        self.error_screen.show()

    def _build(self) -> tuple[MainWindow, Attention, Quitter]:
        self.window = MainWindow(
            self.supervisor, self.bridge, max_blocks=self._max_blocks, workflows=self.workflows
        )
        self.attention = Attention(
            self.supervisor, self.workflows, self.window, use_tray=self._use_tray, parent=self
        )
        self.quitter = Quitter(
            self.supervisor, self.window, self.attention, spawn=self.spawn, parent=self
        )
        return self.window, self.attention, self.quitter

    def _connect_signals(self, window: MainWindow, attention: Attention, quitter: Quitter) -> None:
        bridge = self.bridge
        # window
        window.closeRequested.connect(quitter.close_window)
        window.quitRequested.connect(quitter.request_quit)
        window.runFinished.connect(attention.notify_finished)
        window.runStarted.connect(attention.notify_started)
        window.runFinished.connect(lambda *_: self.supervisor.mark_seen())
        window.settingsApplied.connect(self._settings_applied)
        window.restoreRequested.connect(self.restore_and_restart)
        # notifications and supervisor notices
        attention.notifier.showTask.connect(self.show_task)
        attention.activateRequested.connect(self.activate)
        bridge.notice.connect(attention.on_notice)
        bridge.runStateChanged.connect(lambda _e: attention.update_tray())
        # tray
        tray = attention.tray
        if tray is not None:
            tray.show_action.triggered.connect(self.activate)
            tray.new_task_action.triggered.connect(self._tray_new_task)
            tray.pause_action.toggled.connect(window.set_paused)
            window.action_set.pause_action.toggled.connect(tray.pause_action.setChecked)
            tray.quit_action.triggered.connect(quitter.request_quit)
            tray.activated.connect(self._tray_activated)
            attention.update_tray()
        # approvals
        bridge.approvalRequested.connect(attention.on_approval_requested)
        bridge.approvalResolved.connect(attention.on_approval_resolved)
        window.approvalsRequested.connect(attention.show_inbox)
        # workflow checkpoints
        window.checkpointReviewRequested.connect(attention.open_checkpoint)
        bridge.checkpointRequested.connect(attention.on_checkpoint_requested)
        bridge.workflowChanged.connect(attention.on_workflow_changed)
        # quitting
        quitter.activateRequested.connect(self.activate)
        quitter.stopped.connect(self._let_go)
        # another launch
        self.instance_server.activated.connect(lambda _argv: self.activate())
        self.instance_server.quitRequested.connect(lambda: self.quit(QuitChoice.KEEP_RUNNING))

    def show_recovery(self, report: RecoveryReport) -> RecoveryScreen:
        assert self.window is not None
        screen = RecoveryScreen(report, self.window.describe, self.window)
        screen.retryRequested.connect(self.window.retry_task)
        screen.resumeRequested.connect(self.window.task_tabs.resume_task)
        screen.dismissRequested.connect(self.supervisor.dismiss)
        screen.showTaskRequested.connect(self.show_task)
        self.recovery_screen = screen
        screen.show()
        screen.raise_()
        return screen

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

    def _settings_applied(self, settings: Settings) -> None:
        apply_theme(self.qapp, settings.theme)
        if self.attention is not None:
            self.attention.set_notifications(settings.notifications)

    # ------------------------------------------------------------------ the end

    def quit(self, choice: QuitChoice) -> None:
        """Quit now, keeping or stopping the agents (see :mod:`app.ui.quitting`)."""
        if self.quitter is None:  # never started: nothing to stop
            self._let_go()
            return
        self.quitter.quit(choice)

    def restore_and_restart(self, backup: Path) -> None:
        """Quit keeping the agents (a restore needs the data folder to itself), put the
        backup back, and open a new window on it."""
        self._restore_after = backup
        self.supervisor.backups.skip_shutdown_backup()  # it could prune the chosen backup
        self.quit(QuitChoice.KEEP_RUNNING)

    def _let_go(self) -> None:
        self.instance_server.close()
        self.bridge.close()
        if self._restore_after is not None:
            self.spawn(self._restore_then_reopen(self._restore_after))
            return
        self.finished.set()

    async def _restore_then_reopen(self, backup: Path) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, restore_backup, self.locations, backup)
        except (AgentryError, OSError) as exc:
            if self.window is not None:
                self.window.hide()
            self._show_startup_error(f"Nothing was restored: {exc}")
            return
        if not self.relaunch():
            log.warning("restored %s but could not open a new window", backup)
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
            exc = task.exception()
            if self.attention is not None and exc is not None:
                self.attention.internal_error(exc)


def run_gui(
    locations: Locations,
    *,
    smoke_test: bool = False,
    screenshot: str | None = None,
    screenshot_delay: float = 3.0,
    screenshot_size: str | None = None,
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
        if started and screenshot_size and controller.window is not None:
            width, height = (int(n) for n in screenshot_size.lower().split("x"))
            # the README's pictures: the whole screen of that size
            controller.window.setGeometry(0, 0, width, height)
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
