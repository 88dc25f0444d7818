"""Light, dark or the system's colour scheme, applied without a restart.

Qt 6.8+ can ask the platform for a scheme; where the platform theme cannot (some Linux
desktops, the offscreen platform) a palette of our own gives the same result.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

SCHEMES = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}

_DARK = {
    QPalette.ColorRole.Window: "#1f2329",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#16191d",
    QPalette.ColorRole.AlternateBase: "#1c2025",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#2a2f36",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.ToolTipBase: "#2a2f36",
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.Highlight: "#2f81f7",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.PlaceholderText: "#8a8f98",
    QPalette.ColorRole.Link: "#58a6ff",
}
_LIGHT = {
    QPalette.ColorRole.Window: "#f6f7f9",
    QPalette.ColorRole.WindowText: "#1f2328",
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#f3f4f6",
    QPalette.ColorRole.Text: "#1f2328",
    QPalette.ColorRole.Button: "#eceef1",
    QPalette.ColorRole.ButtonText: "#1f2328",
    QPalette.ColorRole.ToolTipBase: "#ffffff",
    QPalette.ColorRole.ToolTipText: "#1f2328",
    QPalette.ColorRole.Highlight: "#2f81f7",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.PlaceholderText: "#6e7781",
    QPalette.ColorRole.Link: "#0969da",
}


def apply_theme(app: QApplication, theme: str) -> str:
    """Apply ``theme`` (system, light or dark); returns the scheme now in effect."""
    hints = app.styleHints()
    scheme = SCHEMES.get(theme)
    if scheme is None:
        hints.unsetColorScheme()
        app.setPalette(app.style().standardPalette())
        return "system"
    hints.setColorScheme(scheme)
    if hints.colorScheme() != scheme:  # the platform could not: paint it ourselves
        app.setPalette(palette(theme))
    return theme


def palette(theme: str) -> QPalette:
    colors = _DARK if theme == "dark" else _LIGHT
    result = QPalette()
    for role, color in colors.items():
        result.setColor(role, QColor(color))
    disabled = QColor(colors[QPalette.ColorRole.PlaceholderText])
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):  # fmt: skip
        result.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return result


def is_dark(app: QApplication) -> bool:
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128
