"""Light, dark or the system's colour scheme, applied without a restart.

Qt 6.8+ can ask the platform for a scheme; where the platform theme cannot (some Linux
desktops, the offscreen platform) a palette of our own gives the same result.

Fusion, the style used wherever we paint our own palette, draws the outlines of radio
buttons, check boxes and text fields as the Window colour made darker, and ships black
monochrome icons (the X of a Close button). On a dark palette both vanish, whatever the
palette says, so :class:`ThemeStyle` wraps Fusion: on a dark palette it draws those outlines
in a colour between Window and WindowText and tints the black icons in ButtonText. On a
light palette it changes nothing.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleOption,
    QStyleOptionComplex,
    QWidget,
)

SCHEMES = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}

Role = QPalette.ColorRole

# Every role is set, in both palettes, so a palette never keeps a role from the one
# applied before it. Light > Midlight > Button > Mid > Dark > Shadow, as Qt expects: the
# 3D roles draw bevels and separator lines (a sunken QFrame line is Dark over Light).
_DARK = {
    Role.Window: "#1f2329",
    Role.WindowText: "#e6e6e6",
    Role.Base: "#16191d",
    Role.AlternateBase: "#1c2025",
    Role.Text: "#e6e6e6",
    Role.Button: "#2a2f36",
    Role.ButtonText: "#e6e6e6",
    Role.BrightText: "#ffffff",
    Role.Light: "#474f59",
    Role.Midlight: "#383e46",
    Role.Mid: "#1d2126",
    Role.Dark: "#111316",
    Role.Shadow: "#050607",
    Role.ToolTipBase: "#2a2f36",
    Role.ToolTipText: "#e6e6e6",
    Role.Highlight: "#2f81f7",
    Role.HighlightedText: "#ffffff",
    Role.Accent: "#2f81f7",
    Role.PlaceholderText: "#8a8f98",
    Role.Link: "#58a6ff",
    Role.LinkVisited: "#a371f7",
}
_LIGHT = {
    Role.Window: "#f6f7f9",
    Role.WindowText: "#1f2328",
    Role.Base: "#ffffff",
    Role.AlternateBase: "#f3f4f6",
    Role.Text: "#1f2328",
    Role.Button: "#eceef1",
    Role.ButtonText: "#1f2328",
    Role.BrightText: "#ffffff",
    Role.Light: "#ffffff",
    Role.Midlight: "#f5f6f8",
    Role.Mid: "#b6bcc4",
    Role.Dark: "#9aa1aa",
    Role.Shadow: "#6e7781",
    Role.ToolTipBase: "#ffffff",
    Role.ToolTipText: "#1f2328",
    Role.Highlight: "#2f81f7",
    Role.HighlightedText: "#ffffff",
    Role.Accent: "#2f81f7",
    Role.PlaceholderText: "#6e7781",
    Role.Link: "#0969da",
    Role.LinkVisited: "#8250df",
}

# How far from Window towards WindowText a dark palette's outlines sit: 4:1 against Base and
# 3.7:1 against Window, above the 3:1 WCAG asks of a control's boundary.
OUTLINE_MIX = 0.45


def apply_theme(app: QApplication, theme: str) -> str:
    """Apply ``theme`` (system, light or dark); returns the scheme now in effect."""
    hints = app.styleHints()
    scheme = SCHEMES.get(theme)
    if scheme is None:
        hints.unsetColorScheme()
        app.setPalette(app.style().standardPalette())
        result = "system"
    else:
        hints.setColorScheme(scheme)
        if hints.colorScheme() != scheme:  # the platform could not: paint it ourselves
            app.setPalette(palette(theme))
        result = theme
    if is_dark(app) and not isinstance(app.style(), ThemeStyle):
        # Only a dark palette needs the wrapper (it costs a Python call per drawing);
        # installing a style resets the palette, so the palette goes back on after it.
        current = app.palette()
        install_style(app)
        app.setPalette(current)
    return result


def palette(theme: str) -> QPalette:
    colors = _DARK if theme == "dark" else _LIGHT
    result = QPalette()
    for role, color in colors.items():
        result.setColor(role, QColor(color))
    disabled = QColor(colors[Role.PlaceholderText])
    for role in (Role.Text, Role.ButtonText, Role.WindowText):
        result.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return result


def is_dark(app: QApplication) -> bool:
    return palette_is_dark(app.palette())


def palette_is_dark(pal: QPalette) -> bool:
    return pal.color(Role.Window).lightness() < 128


# Error text (a form's message, a failed state): the light one is 3:1 on the dark Window.
ERROR_COLORS = {"light": "#d1242f", "dark": "#f85149"}


def error_color(dark: bool) -> str:
    """The colour for error text on the light or the dark palette (4.5:1 or better)."""
    return ERROR_COLORS["dark" if dark else "light"]


WARNING_COLORS = {"light": "#9a6700", "dark": "#d29922"}  # 4.5:1 or better on each


def warning_style() -> str:
    """A style sheet for a caution line, readable on the palette in use."""
    return _text_style(WARNING_COLORS)


def error_style() -> str:
    """A style sheet for an error label, readable on the palette in use."""
    return _text_style(ERROR_COLORS)


def _text_style(colors: dict[str, str]) -> str:
    app = QApplication.instance()
    dark = isinstance(app, QApplication) and is_dark(app)
    return f"color: {colors['dark' if dark else 'light']}"


def outline_color(pal: QPalette, *, enabled: bool = True) -> QColor:
    """The colour of a control's outline on a dark palette: visible on Window and Base,
    fainter on a disabled control."""
    amount = OUTLINE_MIX if enabled else OUTLINE_MIX * 0.6
    return mix(pal.color(Role.Window), pal.color(Role.WindowText), amount)


def mix(a: QColor, b: QColor, amount: float) -> QColor:
    """``a`` moved ``amount`` (0..1) of the way towards ``b``."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * amount,
        a.greenF() + (b.greenF() - a.greenF()) * amount,
        a.blueF() + (b.blueF() - a.blueF()) * amount,
    )


# ---------------------------------------------------------------------- the style


def install_style(app: QApplication) -> None:
    """Wrap the application's Fusion style in :class:`ThemeStyle`, once.

    Other styles (Windows, macOS) follow the platform's scheme themselves and are left alone.
    """
    current = app.style()
    if isinstance(current, ThemeStyle) or current.name().lower() != "fusion":
        return
    app.setStyle(ThemeStyle("fusion"))


Element = QStyle.PrimitiveElement

# Fusion draws these outlines as Window.darker(factor): the factor for each element.
_INDICATORS = (Element.PE_IndicatorCheckBox, Element.PE_IndicatorRadioButton)
_OUTLINE_FACTORS = {
    Element.PE_FrameLineEdit: 140,
    Element.PE_Frame: 140,
    Element.PE_IndicatorCheckBox: 140,
    Element.PE_IndicatorRadioButton: 150,
}


class ThemeStyle(QProxyStyle):
    """Fusion, with outlines and monochrome icons that stay visible on a dark palette."""

    def __init__(self, key: str = "fusion") -> None:
        super().__init__(key)
        self._icons: dict[tuple[int, int], QIcon] = {}
        self._monochrome: dict[int, bool] = {}

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        factor = _OUTLINE_FACTORS.get(element)
        if factor is not None and palette_is_dark(option.palette):
            checked = element in _INDICATORS and _checked_and_enabled(option)
            option = _with_outline(option, factor, accent=checked)
        super().drawPrimitive(element, option, painter, widget)

    def drawComplexControl(
        self,
        control: QStyle.ComplexControl,
        option: QStyleOptionComplex,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        if control == QStyle.ComplexControl.CC_SpinBox and palette_is_dark(option.palette):
            option = _with_outline(option, 140)
        super().drawComplexControl(control, option, painter, widget)

    def standardIcon(
        self,
        standard_icon: QStyle.StandardPixmap,
        option: QStyleOption | None = None,
        widget: QWidget | None = None,
    ) -> QIcon:
        icon = super().standardIcon(standard_icon, option, widget)
        pal = _palette_of(option, widget)
        if icon.isNull() or not palette_is_dark(pal) or not self._is_monochrome(standard_icon):
            return icon
        color = pal.color(Role.ButtonText)
        key = (int(standard_icon.value), color.rgba())
        tinted = self._icons.get(key)
        if tinted is None:
            tinted = self._icons[key] = tint(icon, color)
        return tinted

    def _is_monochrome(self, standard_icon: QStyle.StandardPixmap) -> bool:
        key = int(standard_icon.value)
        known = self._monochrome.get(key)
        if known is None:
            icon = super().standardIcon(standard_icon)
            known = self._monochrome[key] = is_dark_monochrome(icon)
        return known


_Option = TypeVar("_Option", bound=QStyleOption)


def _with_outline(option: _Option, factor: int, *, accent: bool = False) -> _Option:
    """A copy of ``option`` whose Window colour makes Fusion draw a visible outline.

    With ``accent`` (a checked box or radio button) the indicator is filled with the
    Highlight colour and its mark drawn in HighlightedText, as dark themes usually show it:
    Fusion's own grey mark on a dark field is hard to see.
    """
    copy = type(option)(option)  # the same subclass: Fusion casts to it
    pal = QPalette(option.palette)
    outline = outline_color(pal, enabled=bool(option.state & QStyle.StateFlag.State_Enabled))
    if accent:
        outline = pal.color(Role.Highlight)
        pal.setColor(Role.Base, outline)
        pal.setColor(Role.Text, pal.color(Role.HighlightedText))
    pal.setColor(Role.Window, outline.lighter(factor))
    copy.palette = pal
    return copy


def _checked_and_enabled(option: QStyleOption) -> bool:
    state = option.state
    return bool(state & QStyle.StateFlag.State_On) and bool(state & QStyle.StateFlag.State_Enabled)


def _palette_of(option: QStyleOption | None, widget: QWidget | None) -> QPalette:
    if option is not None:
        return option.palette
    if widget is not None:
        return widget.palette()
    return QApplication.palette()


def is_dark_monochrome(icon: QIcon, size: int = 32) -> bool:
    """True for a black or dark grey glyph (an X, an arrow): unreadable on a dark palette."""
    image = icon.pixmap(size, size).toImage()
    shown = dark = 0
    for y in range(image.height()):
        for x in range(image.width()):
            color = image.pixelColor(x, y)
            if color.alpha() < 128:
                continue
            shown += 1
            if color.lightness() < 100 and color.hslSaturation() < 40:
                dark += 1
    return shown > 0 and dark / shown >= 0.9


def tint(icon: QIcon, color: QColor) -> QIcon:
    """``icon`` drawn in ``color``, keeping its shape (its alpha)."""
    result = QIcon()
    for size in icon.availableSizes() or [QSize(16, 16), QSize(32, 32)]:
        pixmap = icon.pixmap(size)
        painted = QPixmap(pixmap.size())
        painted.setDevicePixelRatio(pixmap.devicePixelRatio())
        painted.fill(Qt.GlobalColor.transparent)
        painter = QPainter(painted)
        painter.drawPixmap(0, 0, pixmap)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
        painter.fillRect(painted.rect(), color)
        painter.end()
        result.addPixmap(painted)
    return result
