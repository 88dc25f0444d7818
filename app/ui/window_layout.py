"""What the main window remembers of its layout between launches: its size and place,
its dock and toolbar state, the splitter, and which projects of the sidebar are folded.

Kept in the UI-state file (:mod:`app.ui.ui_state`). A place on no screen that is here now
(a monitor unplugged) and a first launch both get the default: the default size, or most
of a screen smaller than it, centred.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QSplitter

from app.core.log import get_logger
from app.ui.sidebar_model import SidebarModel

log = get_logger(__name__)

DEFAULT_SIZE = (1280, 780)


def restore(window: QMainWindow, splitter: QSplitter, sidebar: SidebarModel,
            state: QSettings) -> None:  # fmt: skip
    geometry = state.value("window/geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
    if geometry is None or not _on_some_screen(window.frameGeometry()):
        window.setGeometry(default_geometry())  # within the screen, on a small one too
    window_state = state.value("window/state")
    if window_state is not None:
        window.restoreState(window_state)
    splitter_state = state.value("window/splitter")
    if splitter_state is not None:
        splitter.restoreState(splitter_state)
    collapsed = state.value("sidebar/collapsed")
    if isinstance(collapsed, str):  # QSettings gives a one-item list back as its item
        collapsed = [collapsed]
    for key in collapsed or []:
        sidebar.set_collapsed(str(key), True)


def save(window: QMainWindow, splitter: QSplitter, sidebar: SidebarModel,
         state: QSettings) -> None:  # fmt: skip
    state.setValue("window/geometry", window.saveGeometry())
    state.setValue("window/state", window.saveState())
    state.setValue("window/splitter", splitter.saveState())
    state.setValue("sidebar/collapsed", sorted(sidebar.collapsed))
    state.sync()
    if state.status() is not QSettings.Status.NoError:
        log.warning("could not remember the window's layout in %s", state.fileName())


def _on_some_screen(frame: QRect) -> bool:
    """Enough of the window's title bar on a screen to grab it and drag it back."""
    title_bar = QRect(frame.left(), frame.top(), frame.width(), 30)
    return any(
        screen.availableGeometry().intersected(title_bar).width() >= 100
        for screen in QGuiApplication.screens()
    )


def default_geometry() -> QRect:
    screen = QGuiApplication.primaryScreen()
    available = screen.availableGeometry() if screen is not None else QRect(0, 0, *DEFAULT_SIZE)
    # on a screen smaller than the default, most of it, with room for the frame
    width = min(DEFAULT_SIZE[0], int(available.width() * 0.96))
    height = min(DEFAULT_SIZE[1], int(available.height() * 0.92))
    rect = QRect(0, 0, width, height)
    rect.moveCenter(available.center())
    return rect
