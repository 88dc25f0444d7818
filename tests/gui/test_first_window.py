"""The first window on a small screen fits on it (no remembered size yet)."""

from __future__ import annotations

from helpers.agentry import Home
from helpers.gui import AppDriver
from PySide6.QtGui import QGuiApplication


def test_the_first_window_fits_a_screen_smaller_than_its_default(
    driver: AppDriver, home: Home
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    screen = QGuiApplication.primaryScreen().availableGeometry()
    assert screen.width() < 1280 or screen.height() < 780, "the test screen is small"
    assert screen.contains(window.frameGeometry()), (window.frameGeometry(), screen)
