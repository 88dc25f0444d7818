"""The one place the UI loads icons and state colours from.

Everything under ``resources/`` is found through :func:`resources_dir`, so the same code works
from a source checkout and from a PyInstaller bundle. Icons are cached because views ask for
them on every repaint, and lookups never raise for unknown states: a model's ``data()`` must
not crash the UI because a newer runner wrote a state this build does not know.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPen, QPixmap

from app.core.log import get_logger

log = get_logger(__name__)

NEEDS_YOU = "needs_you"
"""Not a run state but what a task shows while a tool call or checkpoint of it waits for a
person: it outranks "running" in the list, the tab and the tray."""

# Colours by RunState value (and NEEDS_YOU); readable on both light and dark backgrounds.
STATE_COLORS: dict[str, str] = {  # each 4.5:1 or better as text on the light palette
    "queued": "#656d76",
    "starting": "#9a6700",
    "running": "#0969da",
    "succeeded": "#1a7f37",
    "failed": "#d1242f",
    "timed_out": "#bc4c00",
    "cancelled": "#6e7781",
    "interrupted": "#8250df",
    NEEDS_YOU: "#bf3989",
}
NEUTRAL_COLOR = "#8a8f98"  # for states this build does not know
# The same, lighter, for badges and text on the dark palette (each 4:1 or better there;
# the light ones above fall to 2.8:1 for failed and 3:1 for cancelled on dark rows).
STATE_COLORS_DARK: dict[str, str] = {
    "queued": "#9198a1",
    "starting": "#c7a317",
    "running": "#4493f8",
    "succeeded": "#3fb950",
    "failed": "#f85149",
    "timed_out": "#e0823d",
    "cancelled": "#848d97",
    "interrupted": "#ab7df8",
    NEEDS_YOU: "#db61a2",
}

APP_ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
_NEUTRAL_SIZES = (16, 32, 64)


def resources_dir() -> Path:
    """The ``resources`` folder: inside the PyInstaller bundle when frozen, else the repo's.

    Raises FileNotFoundError naming the path looked at, because a missing folder means a
    broken checkout or package, which should be obvious rather than show blank icons.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        path = Path(bundle) / "resources"
    else:
        path = Path(__file__).resolve().parents[2] / "resources"
    if not path.is_dir():
        raise FileNotFoundError(
            f"Agentry resources folder not found at {path} "
            "(broken checkout or package: it must ship resources/)"
        )
    return path


def icons_dir() -> Path:
    """The folder holding agentry.svg, its PNG renders and ``states/``."""
    return resources_dir() / "icons"


@cache
def app_icon() -> QIcon:
    """The application icon, with the pre-rendered PNGs first and the SVG as a fallback.

    The PNGs (made by packaging/make_icons.py) are the sizes window managers and taskbars ask
    for, so Qt picks an exact render instead of scaling; the SVG covers a partial install.
    A missing icon is logged, not raised: the app must still start and show its runs.
    """
    icon = QIcon()
    try:
        folder = icons_dir()
    except FileNotFoundError:
        log.warning("app icon unavailable", exc_info=True)
        return icon
    for size in APP_ICON_SIZES:
        png = folder / f"agentry-{size}.png"
        if png.is_file():
            icon.addFile(str(png), QSize(size, size))
    svg = folder / "agentry.svg"
    if svg.is_file():
        icon.addFile(str(svg))
    if icon.isNull():
        log.warning("no app icon files found in %s", folder)
    return icon


def state_icon(state: str) -> QIcon:
    """The icon for a run state value (``RunState`` members work too); neutral if unknown."""
    return _state_icon(str(state))


@cache
def _state_icon(state: str) -> QIcon:
    # Only known names touch the filesystem, so an odd state string can never name a path.
    if state not in STATE_COLORS:
        return neutral_icon()
    try:
        svg = icons_dir() / "states" / f"{state}.svg"
    except FileNotFoundError:
        log.warning("state icons unavailable", exc_info=True)
        return neutral_icon()
    if not svg.is_file():
        log.warning("missing state icon %s", svg)
        return neutral_icon()
    return QIcon(str(svg))


@cache
def neutral_icon() -> QIcon:
    """A plain grey ring, drawn in code so it exists even when resources are missing."""
    icon = QIcon()
    for size in _NEUTRAL_SIZES:
        icon.addPixmap(_ring_pixmap(size, QColor(NEUTRAL_COLOR)))
    return icon


def _ring_pixmap(size: int, color: QColor) -> QPixmap:
    """A transparent square pixmap with an antialiased ring, like the 16 px state glyphs."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    width = size * 1.5 / 16
    pen = QPen(color, width)
    painter.setPen(pen)
    margin = size * 1.75 / 16
    painter.drawEllipse(pixmap.rect().toRectF().adjusted(margin, margin, -margin, -margin))
    painter.end()
    return pixmap


def badged_icon(icon: QIcon, count: int, size: int = 64) -> QIcon:
    """``icon`` with a NEEDS_YOU-coloured disc in its corner holding ``count`` (9+ above
    nine): how the tray says how many things wait for a person."""
    if count <= 0:
        return icon
    pixmap = icon.pixmap(size, size)
    if pixmap.isNull():
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    disc = pixmap.rect().toRectF()
    disc.setLeft(disc.width() * 0.42)
    disc.setBottom(disc.height() * 0.58)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(STATE_COLORS[NEEDS_YOU]))
    painter.drawEllipse(disc)
    font = painter.font()
    font.setBold(True)
    font.setPixelSize(int(disc.height() * 0.62))
    painter.setFont(font)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(disc, Qt.AlignmentFlag.AlignCenter, str(count) if count < 10 else "9+")
    painter.end()
    return QIcon(pixmap)


def state_color(state: str, dark: bool | None = None) -> QColor:
    """The colour for a run state value, for text, badges and charts; neutral if unknown.

    ``dark`` picks the palette's variant; by default the application's palette decides.
    """
    if dark is None:
        app = QGuiApplication.instance()
        dark = (
            app is not None
            and QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128
        )
    colors = STATE_COLORS_DARK if dark else STATE_COLORS
    return QColor(colors.get(str(state), NEUTRAL_COLOR))
