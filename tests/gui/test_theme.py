"""The light and dark palettes, and the Fusion wrapper that keeps controls visible on dark."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QLineEdit,
    QRadioButton,
    QStyle,
    QStyleFactory,
    QStyleOptionButton,
    QWidget,
)

from app.core import ansi
from app.ui import theme
from app.ui.theme import ThemeStyle, palette

Role = QPalette.ColorRole
THREE_D = (Role.Light, Role.Midlight, Role.Mid, Role.Dark, Role.Shadow)
SP = QStyle.StandardPixmap


def _name(pal: QPalette, role: QPalette.ColorRole) -> str:
    return pal.color(role).name()


def _render(widget: QWidget, style: QStyle, theme_name: str, qtbot: Any) -> QImage:
    qtbot.addWidget(widget)
    widget.setStyle(style)
    widget.setPalette(palette(theme_name))
    widget.resize(widget.sizeHint().expandedTo(widget.size()))
    return widget.grab().toImage()


def _peak_contrast(image: QImage, rect: QRect, *backgrounds: str) -> float:
    """The highest contrast any pixel of ``rect`` has against every one of ``backgrounds``."""
    best = 1.0
    rect = rect.intersected(image.rect())
    for y in range(rect.top(), rect.bottom() + 1):
        for x in range(rect.left(), rect.right() + 1):
            pixel = image.pixelColor(x, y).name()
            best = max(best, min(ansi.contrast_ratio(pixel, b) for b in backgrounds))
    return best


def _indicator(widget: QRadioButton | QCheckBox) -> QRect:
    option = QStyleOptionButton()
    widget.initStyleOption(option)
    element = (
        QStyle.SubElement.SE_RadioButtonIndicator
        if isinstance(widget, QRadioButton)
        else QStyle.SubElement.SE_CheckBoxIndicator
    )
    return widget.style().subElementRect(element, option, widget)


def _mean_lightness(image: QImage) -> float:
    values = [
        image.pixelColor(x, y).lightness()
        for y in range(image.height())
        for x in range(image.width())
        if image.pixelColor(x, y).alpha() >= 128
    ]
    assert values, "the icon has no visible pixels"
    return sum(values) / len(values)


@pytest.fixture
def style() -> Iterator[ThemeStyle]:
    yield ThemeStyle()  # widgets only borrow a style set on them: kept alive here


@pytest.fixture
def fusion() -> Iterator[QStyle]:
    plain = QStyleFactory.create("fusion")
    assert plain is not None
    yield plain


@pytest.fixture
def restore_app(qapp: QApplication) -> Iterator[QApplication]:
    """apply_theme changes the application: put its palette and scheme back afterwards."""
    saved = QPalette(qapp.palette())
    yield qapp
    qapp.styleHints().unsetColorScheme()
    qapp.setPalette(saved)


# ---------------------------------------------------------------------- palettes


def test_the_dark_palette_sets_its_own_3d_roles(qapp: QApplication) -> None:
    dark, light = palette("dark"), palette("light")
    fusion_light = QStyleFactory.create("fusion").standardPalette()
    for role in THREE_D:
        assert _name(dark, role) != _name(light, role), role
        assert _name(dark, role) != _name(fusion_light, role), role
    # a sunken separator (Dark over Light) stays subtle on the dark window: no white line
    assert dark.color(Role.Light).lightness() < 100


@pytest.mark.parametrize("name", ["light", "dark"])
def test_the_3d_roles_run_from_light_to_shadow(qapp: QApplication, name: str) -> None:
    pal = palette(name)
    order = [Role.Light, Role.Midlight, Role.Button, Role.Mid, Role.Dark, Role.Shadow]
    lightness = [pal.color(role).lightness() for role in order]
    assert lightness == sorted(lightness, reverse=True), lightness


@pytest.mark.parametrize("name", ["light", "dark"])
def test_a_palette_keeps_nothing_of_the_one_applied_before(
    restore_app: QApplication, name: str
) -> None:
    restore_app.setPalette(palette("light"))
    after_light = palette(name)
    restore_app.setPalette(palette("dark"))
    after_dark = palette(name)
    for role in Role:
        if role in (Role.NoRole, Role.NColorRoles):
            continue
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Disabled):
            assert after_light.color(group, role) == after_dark.color(group, role), (group, role)


@pytest.mark.parametrize("name", ["light", "dark"])
def test_text_and_error_colours_are_readable(qapp: QApplication, name: str) -> None:
    pal = palette(name)
    window, base = _name(pal, Role.Window), _name(pal, Role.Base)
    for role in (Role.WindowText, Role.Text, Role.ButtonText):
        assert ansi.contrast_ratio(_name(pal, role), window) >= 7
    assert ansi.contrast_ratio(theme.error_color(name == "dark"), window) >= 4.5
    assert ansi.contrast_ratio(theme.error_color(name == "dark"), base) >= 4.5


@pytest.mark.parametrize("name", ["light", "dark"])
@pytest.mark.parametrize("code", [*range(30, 38), *range(90, 98)])
def test_every_ansi_foreground_reads_on_the_themes_base(
    qapp: QApplication, name: str, code: int
) -> None:
    base = _name(palette(name), Role.Base)
    segments, _ = ansi.parse_line(f"\x1b[{code}mx")
    shown = ansi.themed(segments[0][1], base).fg
    assert shown is not None
    assert ansi.contrast_ratio(shown, base) >= ansi.MIN_CONTRAST


# ---------------------------------------------------------------------- outlines on dark


@pytest.mark.parametrize("make", [QRadioButton, QCheckBox], ids=["radio", "checkbox"])
def test_an_unchecked_indicator_has_a_visible_outline_on_dark(
    qtbot: Any, style: ThemeStyle, fusion: QStyle, make: type[QRadioButton | QCheckBox]
) -> None:
    pal = palette("dark")
    backgrounds = (_name(pal, Role.Base), _name(pal, Role.Window))
    plain = make()
    before = _peak_contrast(_render(plain, fusion, "dark", qtbot), _indicator(plain), *backgrounds)
    ours = make()
    after = _peak_contrast(_render(ours, style, "dark", qtbot), _indicator(ours), *backgrounds)
    assert before < 1.5  # Fusion alone: Window.darker() on a dark window, all but invisible
    assert after >= 3, after


def test_a_line_edit_border_is_visible_on_dark(qtbot: Any, style: ThemeStyle) -> None:
    edit = QLineEdit()
    edit.resize(160, 30)
    image = _render(edit, style, "dark", qtbot)
    pal = palette("dark")
    left_edge = QRect(0, 0, 2, image.height())
    assert _peak_contrast(image, left_edge, _name(pal, Role.Base), _name(pal, Role.Window)) >= 3


@pytest.mark.parametrize("make", [QRadioButton, QCheckBox], ids=["radio", "checkbox"])
def test_a_checked_indicator_is_filled_with_the_highlight_on_dark(
    qtbot: Any, style: ThemeStyle, make: type[QRadioButton | QCheckBox]
) -> None:
    widget = make()
    widget.setChecked(True)
    image = _render(widget, style, "dark", qtbot)
    rect = _indicator(widget)
    highlight = palette("dark").color(Role.Highlight)
    pixels = [image.pixelColor(x, y) for y in range(rect.top(), rect.bottom() + 1)
              for x in range(rect.left(), rect.right() + 1)]  # fmt: skip
    accent = [p for p in pixels if abs(p.hue() - highlight.hue()) < 10 and p.saturation() > 150]
    assert len(accent) >= len(pixels) * 0.3, len(accent) / len(pixels)


@pytest.mark.parametrize("make", [QRadioButton, QCheckBox, QLineEdit])
def test_nothing_changes_on_the_light_palette(
    qtbot: Any, style: ThemeStyle, fusion: QStyle, make: type[QWidget]
) -> None:
    for checked in (False, True):
        plain, ours = make(), make()
        for widget in (plain, ours):
            widget.resize(120, 30)
            if isinstance(widget, QRadioButton | QCheckBox):
                widget.setChecked(checked)
        assert _render(plain, fusion, "light", qtbot) == _render(ours, style, "light", qtbot)


# ---------------------------------------------------------------------- icons on dark


def test_the_close_buttons_black_x_is_drawn_light_on_dark(qtbot: Any, style: ThemeStyle) -> None:
    dark, light = QWidget(), QWidget()
    for widget, name in ((dark, "dark"), (light, "light")):
        qtbot.addWidget(widget)
        widget.setPalette(palette(name))
    plain = QStyleFactory.create("fusion").standardIcon(SP.SP_DialogCloseButton)
    on_dark = style.standardIcon(SP.SP_DialogCloseButton, None, dark)
    on_light = style.standardIcon(SP.SP_DialogCloseButton, None, light)
    assert _mean_lightness(plain.pixmap(32, 32).toImage()) < 60  # Fusion's own: black
    assert _mean_lightness(on_dark.pixmap(32, 32).toImage()) > 180
    assert on_light.pixmap(32, 32).toImage() == plain.pixmap(32, 32).toImage()


def test_coloured_icons_are_left_alone_on_dark(qtbot: Any, style: ThemeStyle) -> None:
    dark = QWidget()
    qtbot.addWidget(dark)
    dark.setPalette(palette("dark"))
    for icon in (SP.SP_DialogSaveButton, SP.SP_DialogCancelButton, SP.SP_MessageBoxWarning):
        plain = QStyleFactory.create("fusion").standardIcon(icon).pixmap(32, 32).toImage()
        ours = style.standardIcon(icon, None, dark).pixmap(32, 32).toImage()
        assert ours == plain, icon


def test_tint_keeps_the_shape(qapp: QApplication) -> None:
    icon = QStyleFactory.create("fusion").standardIcon(SP.SP_DialogCloseButton)
    tinted = theme.tint(icon, QColor("#e6e6e6"))
    before, after = icon.pixmap(32, 32).toImage(), tinted.pixmap(32, 32).toImage()
    for y in range(32):
        for x in range(32):
            assert before.pixelColor(x, y).alpha() == after.pixelColor(x, y).alpha()


# ---------------------------------------------------------------------- applying a theme


def test_apply_theme_wraps_fusion_once_and_paints_the_palette(restore_app: QApplication) -> None:
    assert theme.apply_theme(restore_app, "dark") == "dark"
    installed = restore_app.style()
    assert isinstance(installed, ThemeStyle)
    assert theme.is_dark(restore_app)
    assert restore_app.palette().color(Role.Mid) == palette("dark").color(Role.Mid)
    assert theme.apply_theme(restore_app, "light") == "light"
    assert restore_app.style() is installed
    assert not theme.is_dark(restore_app)
    assert restore_app.palette().color(Role.Light) == palette("light").color(Role.Light)


def test_a_disabled_controls_outline_is_fainter_but_still_there(qapp: QApplication) -> None:
    pal = palette("dark")
    base = _name(pal, Role.Base)
    enabled = ansi.contrast_ratio(theme.outline_color(pal).name(), base)
    disabled = ansi.contrast_ratio(theme.outline_color(pal, enabled=False).name(), base)
    assert enabled >= 3 and 1.5 < disabled < enabled


def test_state_badges_read_on_both_palettes() -> None:
    from app.ui.icons import STATE_COLORS, STATE_COLORS_DARK

    for state, color in STATE_COLORS.items():
        assert ansi.contrast_ratio(color, "#ffffff") >= 4.5, state
    for state, color in STATE_COLORS_DARK.items():
        assert ansi.contrast_ratio(color, "#16191d") >= 4.0, state
