"""Closing the window and quitting Agentry.

The close button hides the window to the tray (once saying where Agentry went). Quitting
asks only when agents are running, and keeping them running is the default; then it
goes in stages — stop the agents if asked, stop the supervisor, let go — and it is
idempotent: a second request while one is under way changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.supervisor.supervisor import Supervisor
from app.ui.attention import Attention
from app.ui.dialogs.quit import QuitChoice, QuitDialog
from app.ui.main_window import MainWindow

Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]


class Quitter(QObject):
    activateRequested = Signal()  # the question needs the window in front
    stopped = Signal()  # the supervisor stopped (or failed to): let go of everything

    def __init__(
        self,
        supervisor: Supervisor,
        window: MainWindow,
        attention: Attention,
        *,
        spawn: Spawn,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.supervisor = supervisor
        self.window = window
        self.attention = attention
        self._spawn = spawn
        self.quit_dialog: QuitDialog | None = None
        self._quitting = False

    def close_window(self) -> None:
        """The window's close button: hide to the tray if there is one, else quit."""
        tray = self.attention.tray
        if tray is None or not tray.isVisible():
            self.request_quit()
            return
        self.window.hide()
        settings = self.supervisor.settings
        if not settings.tray_hint_shown:
            self.attention.notifier.notify(
                "Agentry is still running",
                "Your agents keep working. Find Agentry in the tray; Quit is in its menu.",
                force=True,
            )
            self.supervisor.apply_settings(settings.replace(tray_hint_shown=True))

    def request_quit(self) -> None:
        """Quit; with agents running, ask whether to keep them running (the default)."""
        if self._quitting:
            return
        running, _queued, _attention = self.window.counts()
        if running == 0:
            self.quit(QuitChoice.KEEP_RUNNING)
            return
        if self.quit_dialog is not None and self.quit_dialog.isVisible():
            self.quit_dialog.raise_()
            return
        self.activateRequested.emit()
        self.quit_dialog = QuitDialog(running, self.window)
        self.quit_dialog.chosen.connect(self.quit)
        self.quit_dialog.open()

    def quit(self, choice: QuitChoice) -> None:
        if choice is QuitChoice.CANCEL or self._quitting:
            return
        self._quitting = True
        self._spawn(self._shutdown(stop_agents=choice is QuitChoice.STOP_AGENTS))

    async def _shutdown(self, *, stop_agents: bool) -> None:
        try:
            if stop_agents:
                self.window.statusBar().showMessage("Stopping agents…")
                await self.supervisor.stop_agents()
            self.supervisor.mark_seen()  # the next start shows only what ends after this
            await self.supervisor.stop()
        finally:
            if self.attention.tray is not None:
                self.attention.tray.hide()
            self.window.hide()
            self.stopped.emit()
