"""Opening a folder in the file manager from the window, and saying so in the window when
that fails (a folder that is gone, no opener, an opener that reported failure), instead
of leaving the person with nothing but a line on a terminal they cannot see."""

from __future__ import annotations

import asyncio
import functools

from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.log import get_logger
from app.supervisor.opener import CannotOpen, open_folder

log = get_logger(__name__)


def open_folder_from(parent: QWidget, folder: str, what: str) -> asyncio.Future[None]:
    """Open ``folder`` off the event loop (xdg-open is waited for to learn how it went);
    ``what`` names it in the message if it cannot be opened ("working folder")."""
    future = asyncio.get_event_loop().run_in_executor(None, open_folder, folder)
    future.add_done_callback(functools.partial(_opened, parent, what))
    return future


def _opened(parent: QWidget, what: str, future: asyncio.Future[None]) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if exc is None:
        return
    if not isinstance(exc, CannotOpen):
        log.warning("opening the %s failed", what, exc_info=exc)
    box = QMessageBox(
        QMessageBox.Icon.Warning, f"Could not open the {what}", str(exc),
        QMessageBox.StandardButton.Ok, parent,
    )  # fmt: skip
    box.setObjectName("cannotOpenFolder")
    box.open()
