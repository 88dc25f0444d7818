"""The in-window banner that stands in for tray notifications."""

from __future__ import annotations

from typing import Any

from app.ui.notify import Banner


def test_the_banner_shows_its_severity_with_a_colour_bar_and_an_icon(qtbot: Any) -> None:
    banner = Banner()
    qtbot.addWidget(banner)
    shown: list[int] = []
    banner.showTask.connect(shown.append)
    banner.show_message("Task failed", "fix the tests", "error", 7)
    assert banner.isVisible() and banner.level == "error"
    assert "border-left: 4px solid #d1242f" in banner.styleSheet()
    assert not banner.icon.pixmap().isNull()
    banner.show_message("Task succeeded", "docs", "info", None)
    assert "#2f81f7" in banner.styleSheet() and not banner.show_button.isVisibleTo(banner)
    banner.show_message("Needs you", "approve", "warning", 9)
    banner.show_button.click()
    assert shown == [9] and not banner.isVisible()
