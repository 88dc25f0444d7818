"""Driving the real app on a qasync loop inside pytest-qt (import after QT_QPA_PLATFORM is set)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from typing import Any

import qasync
from PySide6.QtWidgets import QApplication

from app.ui.application import AgentryApp
from app.ui.dialogs.quit import QuitChoice
from helpers.agentry import Home


class AppDriver:
    """Starts AgentryApp instances on one qasync loop and drives coroutines to completion."""

    def __init__(self, qapp: QApplication, qtbot: Any, home: Home) -> None:
        self.qapp = qapp
        self.qtbot = qtbot
        self.home = home
        self.loop: qasync.QEventLoop | None = None
        self.apps: list[AgentryApp] = []

    def _ensure_loop(self) -> None:
        if self.loop is None:
            self.loop = qasync.QEventLoop(self.qapp, already_running=True)
            # An executor we can shut down: pytest-qt owns the Qt loop, so this loop is never
            # closed the way qasync.run closes it (which stops qasync's own thread executor).
            self.executor = concurrent.futures.ThreadPoolExecutor(4, "agentry-test")
            self.loop.set_default_executor(self.executor)
            asyncio.set_event_loop(self.loop)

    def run(self, coro: Coroutine[Any, Any, Any], timeout_ms: int = 20_000) -> Any:
        self._ensure_loop()
        future = asyncio.ensure_future(coro)
        self.qtbot.waitUntil(future.done, timeout=timeout_ms)
        return future.result()

    def start(self, **kwargs: Any) -> AgentryApp:
        """A started app (window shown), as `agentry` would open it."""
        self._ensure_loop()
        app = AgentryApp(self.qapp, self.home.locations, use_tray=False, **kwargs)
        self.apps.append(app)
        ok = self.run(app.start())
        assert ok, "the app did not start"
        return app

    def start_expecting_failure(self) -> AgentryApp:
        self._ensure_loop()
        app = AgentryApp(self.qapp, self.home.locations, use_tray=False)
        self.apps.append(app)
        assert self.run(app.start()) is False
        return app

    def quit(self, app: AgentryApp, choice: QuitChoice = QuitChoice.KEEP_RUNNING) -> None:
        app.quit(choice)
        self.qtbot.waitUntil(app.finished.is_set, timeout=30_000)

    def wait(self, predicate: Callable[[], object], timeout_ms: int = 20_000) -> None:
        self.qtbot.waitUntil(lambda: bool(predicate()), timeout=timeout_ms)

    def close(self) -> None:
        for app in self.apps:
            if app.supervisor.running and not app.finished.is_set():
                self.quit(app)
            quit_dialog = app.quitter.quit_dialog if app.quitter is not None else None
            for widget in (app.window, app.recovery_screen, app.error_screen, quit_dialog):
                if widget is not None:
                    widget.hide()
                    widget.deleteLater()
        if self.loop is not None:
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.qtbot.waitUntil(lambda: all(t.done() for t in pending), timeout=5_000)
            self.executor.shutdown(wait=True)
            asyncio.events._set_running_loop(None)
            asyncio.set_event_loop(None)
            self.loop = None
