"""Notifications: the system tray where there is one, an in-window banner where there is not.

The banner floats over the bottom-right corner of the window, above the status bar, like
a toast: it is in no layout, so showing or hiding it never moves what the person was about
to click.

Every notification is also kept in :attr:`Notifier.history`, which is what tests observe
(offscreen, a tray message leaves no trace) and what a future "recent notifications"
view would show.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QStatusBar,
    QStyle,
    QSystemTrayIcon,
    QToolButton,
    QWidget,
)

from app.ui.icons import app_icon, badged_icon

BANNER_MS = 10_000
TRAY_MS = 8_000


@dataclass(frozen=True)
class Notification:
    title: str
    text: str
    level: str
    task_id: int | None
    at: float
    via: str  # "tray" or "banner"


class Banner(QFrame):
    """A dismissible toast over the bottom-right corner of its parent window."""

    MARGIN = 12  # from the window's edges
    MAX_WIDTH = 460

    showTask = Signal(object)  # task id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notificationBanner")
        self.level = "info"
        self.icon = QLabel(self)
        self.label = QLabel(self, textFormat=Qt.TextFormat.RichText, wordWrap=True)
        self.show_button = QPushButton("Show", self)
        close = QToolButton(self)
        close.setText("✕")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.icon)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.show_button)
        layout.addWidget(close)
        self._task_id: int | None = None
        self._action: Callable[[], object] | None = None
        self._timer = QTimer(self, singleShot=True, interval=BANNER_MS)
        self._timer.timeout.connect(self.hide)
        close.clicked.connect(self.hide)
        self.show_button.clicked.connect(self._show_task)
        self.hide()

    def show_message(
        self,
        title: str,
        text: str,
        level: str,
        task_id: int | None,
        action: Callable[[], object] | None = None,
    ) -> None:
        colors = {"error": "#d1242f", "warning": "#d4762c"}
        color = colors.get(level, "#2f81f7")
        # The whole frame is drawn by the style sheet (a styled panel would hide the bar).
        self.setStyleSheet(
            f"#notificationBanner {{ border: 1px solid palette(mid); border-left: 4px solid"
            f" {color}; border-radius: 4px; background: palette(base); }}"
        )
        icons = {"error": QStyle.StandardPixmap.SP_MessageBoxCritical,
                 "warning": QStyle.StandardPixmap.SP_MessageBoxWarning}  # fmt: skip
        kind = icons.get(level, QStyle.StandardPixmap.SP_MessageBoxInformation)
        icon = self.style().standardIcon(kind)
        self.icon.setPixmap(icon.pixmap(20, 20))
        self.level = level
        self.label.setText(f"<b>{title}</b> — {text}")
        self._task_id = task_id
        self._action = action
        self.show_button.setVisible(task_id is not None or action is not None)
        self.show()
        self.place()
        self.raise_()
        self._timer.start()

    def place(self) -> None:
        """Over the parent's bottom-right corner, clear of its status bar; as wide as the
        text needs up to MAX_WIDTH (narrower windows: their width less the margins)."""
        parent = self.parentWidget()
        if parent is None or not self.isVisible():
            return
        bottom = parent.height() - self.MARGIN
        status = parent.findChild(QStatusBar)
        if status is not None and status.isVisible():
            bottom = status.geometry().top() - self.MARGIN
        width = min(self.MAX_WIDTH, parent.width() - 2 * self.MARGIN)
        height = self.heightForWidth(width) if self.hasHeightForWidth() else 0
        height = max(height, self.sizeHint().height())
        self.setGeometry(parent.width() - self.MARGIN - width, bottom - height, width, height)

    def _show_task(self) -> None:
        if self._action is not None:
            self._action()
        elif self._task_id is not None:
            self.showTask.emit(self._task_id)
        self.hide()


class TrayIcon(QSystemTrayIcon):
    """Tooltip with counts; menu Show, New task, Pause queue, Quit."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(app_icon(), parent)
        self.menu = QMenu()
        self.show_action = QAction("Show Agentry", self.menu)
        self.new_task_action = QAction("New task…", self.menu)
        self.pause_action = QAction("Pause queue", self.menu, checkable=True)
        self.quit_action = QAction("Quit", self.menu)
        for action in (self.show_action, self.new_task_action, self.pause_action):
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.setContextMenu(self.menu)
        self.setToolTip("Agentry")
        self.needs_you = 0

    def set_counts(self, running: int, queued: int, attention: int, needs_you: int = 0) -> None:
        """The tooltip's counts; what waits for the person's answer also badges the icon,
        so it can be seen without hovering."""
        parts = [f"{running} running", f"{queued} queued"]
        if needs_you:
            parts.insert(0, f"{needs_you} waiting for you")
        if attention:
            parts.append(f"{attention} need attention")
        self.setToolTip("Agentry — " + ", ".join(parts))
        if needs_you != self.needs_you:
            self.needs_you = needs_you
            self.setIcon(badged_icon(app_icon(), needs_you))


class Notifier(QObject):
    """Sends each notification the best way this desktop offers."""

    showTask = Signal(object)  # task id: the person clicked a notification

    def __init__(self, banner: Banner, tray: TrayIcon | None, parent: QObject | None = None):
        super().__init__(parent)
        self.banner = banner
        self.tray = tray
        self.enabled = True
        self.history: list[Notification] = []
        self._tray_task: int | None = None
        self._tray_action: Callable[[], object] | None = None
        banner.showTask.connect(self.showTask)
        if tray is not None:
            tray.messageClicked.connect(self._tray_clicked)

    @property
    def uses_tray(self) -> bool:
        return self.tray is not None and self.tray.isVisible()

    def notify(
        self,
        title: str,
        text: str,
        *,
        level: str = "info",
        task_id: int | None = None,
        force: bool = False,
        action: Callable[[], object] | None = None,
    ) -> None:
        """Tell the person; ``force`` ignores the notifications setting (errors of our own).
        A click shows ``task_id``'s task, or does ``action`` (e.g. opens a checkpoint)."""
        if not (self.enabled or force):
            return
        via = "tray" if self.uses_tray else "banner"
        self.history.append(Notification(title, text, level, task_id, time.time(), via))
        if via == "tray":
            assert self.tray is not None
            self._tray_task = task_id
            self._tray_action = action
            icon = {
                "error": QSystemTrayIcon.MessageIcon.Critical,
                "warning": QSystemTrayIcon.MessageIcon.Warning,
            }.get(level, QSystemTrayIcon.MessageIcon.Information)
            self.tray.showMessage(title, text, icon, TRAY_MS)
        else:
            self.banner.show_message(title, text, level, task_id, action)

    def _tray_clicked(self) -> None:
        if self._tray_action is not None:
            self._tray_action()
        elif self._tray_task is not None:
            self.showTask.emit(self._tray_task)


def tray_available() -> bool:
    return QSystemTrayIcon.isSystemTrayAvailable()
