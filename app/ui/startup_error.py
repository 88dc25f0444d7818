"""Start-up failed: the screen that says why, instead of a half-working main window.

It offers the data folder and Quit; when another Agentry holds the data folder, a way to
stop that one (its agents keep running) and open Agentry here instead; when the database
does not know the runs in the folder, to rebuild it from them; and when there are backups
of the database, to restore one and open again (a damaged or lost database is a way
back, not a dead end).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QProcess, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import AgentryError
from app.core.locations import Locations
from app.core.log import get_logger
from app.supervisor.lock import is_locked
from app.supervisor.rebuild import rebuild_data_folder
from app.supervisor.restore import list_backups, restore_backup
from app.ui.dialogs.restore import RestoreDialog
from app.ui.icons import app_icon
from app.ui.single_instance import ask_running_to_quit
from app.ui.widgets import ElidedLabel

log = get_logger(__name__)

STOP_TIMEOUT_S = 15.0


def relaunch() -> bool:
    """Open a new Agentry window process (this one is about to exit)."""
    if getattr(sys, "frozen", False):
        return bool(QProcess.startDetached(sys.executable, []))
    return bool(QProcess.startDetached(sys.executable, ["-m", "app"]))


class StartupErrorScreen(QDialog):
    """Start-up failed: say why and offer the data folder, never a half-working window.

    When another Agentry holds the data folder, it also offers to stop that one (its
    agents keep running) and to open Agentry here instead.
    """

    def __init__(
        self,
        message: str,
        locations: Locations,
        parent: QWidget | None = None,
        *,
        already_running: bool = False,
        lost: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Agentry could not start")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(480)
        self.locations = locations
        self.data_folder = str(locations.data)
        self.already_running = already_running
        # Seams for tests; the defaults do what `agentry quit` does, then start a new window.
        self.stop_other: Callable[[], bool] = self._ask_other_to_stop
        self.other_running: Callable[[], bool] = lambda: is_locked(self.locations.lock)
        self.relaunch: Callable[[], bool] = relaunch

        self.icon = QLabel(self)
        critical = self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxCritical, None, self
        )
        self.icon.setPixmap(critical.pixmap(48, 48))
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        heading = QLabel("<h3>Agentry could not start</h3>", self)
        self.message = QLabel(message, self, wordWrap=True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label = ElidedLabel(self)  # a long path loses its middle, never wraps
        self.folder_label.set_full_text(f"Data folder: {self.data_folder}")
        self.folder_label.setToolTip(self.data_folder)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status = QLabel(self, wordWrap=True)
        self.status.setVisible(self.already_running)
        self.status.setText(
            "You can stop the other Agentry and open it here instead. Its agents keep "
            "running, and this window takes them over."
        )
        self.stop_button = QPushButton("Stop the other Agentry and open here", self)
        self.stop_button.setToolTip(
            "Asks the running Agentry to quit (its agents keep running), then opens Agentry"
        )
        self.stop_button.setVisible(self.already_running)
        self.rebuild_button = QPushButton("Rebuild from run folders", self)
        self.rebuild_button.setToolTip(
            "Writes the runs the database does not know back into it, from their run "
            "folders (the old database is kept aside), then opens Agentry"
        )
        self.rebuild_button.setVisible(lost)
        if lost:
            self.status.setText(
                "Rebuild brings back each task and run from its folder: states, exit codes, "
                "times and prompts. The database as it is now is kept aside."
            )
            self.status.show()
        # Listing a folder of a few files: quick enough for the screen's construction.
        self.backups = [] if already_running else list_backups(locations)
        self.restore_button = QPushButton("Restore a backup…", self)
        self.restore_button.setToolTip(
            "Puts a backup of the database back (the current file is kept aside), then "
            "opens Agentry"
        )
        self.restore_button.setVisible(bool(self.backups))
        self.restore_dialog: RestoreDialog | None = None
        self._restoring: asyncio.Future[None] | None = None
        self.open_button = QPushButton("Open data folder", self)
        self.quit_button = QPushButton("Quit", self)
        self.quit_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.rebuild_button)
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.quit_button)
        texts = QVBoxLayout()
        texts.addWidget(heading)
        texts.addWidget(self.message)
        texts.addWidget(self.folder_label)
        texts.addWidget(self.status)
        texts.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        body.addSpacing(8)
        body.addLayout(texts, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addSpacing(8)
        layout.addLayout(buttons)
        self.open_button.clicked.connect(self.open_data_folder)
        self.quit_button.clicked.connect(self.reject)
        self.stop_button.clicked.connect(self.stop_other_and_open)
        self.rebuild_button.clicked.connect(self.rebuild)
        self.rebuilt: str | None = None  # what the rebuild said, once it is done
        self.restore_button.clicked.connect(self.choose_backup)
        self._poll = QTimer(self)
        self._poll.setInterval(200)
        self._poll.timeout.connect(self._check_stopped)
        self._deadline = 0.0
        width = max(self.minimumWidth(), self.sizeHint().width())
        self.resize(width, self.heightForWidth(width))

    # ------------------------------------------------------------ the database was lost

    def rebuild(self) -> None:
        """Rebuild off the UI thread, then open Agentry (a new window process)."""
        self.rebuild_button.setEnabled(False)
        self.status.setText("Bringing the runs back from their folders…")
        loop = asyncio.get_event_loop()
        future = loop.run_in_executor(None, rebuild_data_folder, self.locations)
        self._rebuilding = future
        future.add_done_callback(self._rebuild_done)

    def _rebuild_done(self, future: asyncio.Future[Any]) -> None:
        exc = future.exception()
        if exc is not None:
            if not isinstance(exc, AgentryError | OSError):
                log.error("rebuilding from the run folders failed", exc_info=exc)
            self.status.setText(f"The rebuild did not finish: {exc}")
            self.rebuild_button.setText("Try again")
            self.rebuild_button.setEnabled(True)
            return
        report, kept = future.result()
        said = report.describe()
        if kept is not None:
            said += f". The old database is kept as {kept}"
        self.rebuilt = said
        self.status.setText(f"Rebuilt: {said}. Opening Agentry…")
        if self.relaunch():
            self.accept()
        else:
            self.status.setText(f"Rebuilt: {said}. Open Agentry again to continue.")

    def open_data_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(self.data_folder))

    # ------------------------------------------------------------ another Agentry is running

    def stop_other_and_open(self) -> None:
        self.stop_button.setEnabled(False)
        if not self.other_running():
            self._open_here()
            return
        if not self.stop_other():
            self._give_up(
                "The other Agentry did not answer. Quit it from its tray icon, or press "
                "Ctrl+C where `agentry serve` runs, then open Agentry again."
            )
            return
        self.status.setText("Asking the other Agentry to stop…")
        self._deadline = time.monotonic() + STOP_TIMEOUT_S
        self._poll.start()

    def _check_stopped(self) -> None:
        if not self.other_running():
            self._poll.stop()
            self._open_here()
        elif time.monotonic() > self._deadline:
            self._poll.stop()
            self._give_up(
                f"The other Agentry is still running after {STOP_TIMEOUT_S:g} s. Quit it "
                "from its tray icon, or press Ctrl+C where `agentry serve` runs, then try again."
            )

    def _open_here(self) -> None:
        self.status.setText("The other Agentry stopped; its agents keep running. Opening Agentry…")
        if self.relaunch():
            self.accept()
        else:
            self._give_up("The other Agentry stopped. Open Agentry again to take over.")

    def _give_up(self, why: str) -> None:
        self.status.setText(why)
        self.stop_button.setText("Try again")
        self.stop_button.setEnabled(True)

    def _ask_other_to_stop(self) -> bool:
        """What `agentry quit` does: ask the window to quit, else SIGTERM a headless one."""
        return ask_running_to_quit(self.locations)

    # ------------------------------------------------------------ restoring a backup

    def choose_backup(self) -> None:
        dialog = RestoreDialog(
            self.backups, self.locations.database, "Agentry then opens again.", self
        )
        dialog.chosen.connect(self.restore_from)
        self.restore_dialog = dialog
        dialog.open()

    def restore_from(self, path: Path) -> None:
        """Restore ``path`` off the UI thread, then open Agentry on it."""
        self.restore_button.setEnabled(False)
        self.status.setText(f"Restoring {path.name}…")
        self.status.setVisible(True)
        self._restoring = asyncio.ensure_future(self._restore(path))

    async def _restore(self, path: Path) -> None:
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(None, restore_backup, self.locations, path)
        except (AgentryError, OSError) as exc:
            self.status.setText(f"Nothing was restored: {exc}")
            self.restore_button.setEnabled(True)
            return
        said = " ".join(outcome.describe())
        self.status.setText(f"{said} Opening Agentry…")
        if self.relaunch():
            self.accept()
        else:
            self.status.setText(f"{said} Open Agentry again to use it.")
