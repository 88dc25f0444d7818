"""ANSI colours made readable on the theme's background, and the parsing they come from."""

from __future__ import annotations

import colorsys

import pytest

from app.core import ansi
from app.core.ansi import (
    BASIC,
    MIN_CONTRAST,
    PLAIN,
    Style,
    basic_colors,
    contrast_ratio,
    is_dark_color,
    parse_line,
    readable,
    themed,
)

# The Base colour of app/ui/theme.py's palettes: what the output pane draws text on.
DARK_BASE = "#16191d"
LIGHT_BASE = "#ffffff"
BACKGROUNDS = [pytest.param(DARK_BASE, id="dark"), pytest.param(LIGHT_BASE, id="light")]
FOREGROUND_CODES = [*range(30, 38), *range(90, 98)]


def _fg(line: str, background: str) -> str:
    segments, _ = parse_line(line)
    (_, style), *_ = segments
    shown = themed(style, background).fg
    assert shown is not None
    return shown


def _hue(color: str) -> float:
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hls(r, g, b)[0] * 360


@pytest.mark.parametrize("background", BACKGROUNDS)
@pytest.mark.parametrize("code", FOREGROUND_CODES)
def test_every_basic_foreground_is_readable_on_each_theme_background(
    code: int, background: str
) -> None:
    shown = _fg(f"\x1b[{code}mtext", background)
    assert contrast_ratio(shown, background) >= MIN_CONTRAST, (code, shown)


@pytest.mark.parametrize("background", BACKGROUNDS)
def test_the_themed_basic_palettes_reach_the_minimum_contrast_on_their_own(
    background: str,
) -> None:
    for i, color in enumerate(basic_colors(is_dark_color(background))):
        assert contrast_ratio(color, background) >= MIN_CONTRAST, (i, color)


def test_black_and_bright_black_become_visible_greys_on_dark() -> None:
    black, bright_black = _fg("\x1b[30mx", DARK_BASE), _fg("\x1b[90mx", DARK_BASE)
    assert contrast_ratio(BASIC[0], DARK_BASE) < 1.5  # the terminal's own black: invisible
    assert contrast_ratio(black, DARK_BASE) >= 4.5
    assert contrast_ratio(bright_black, DARK_BASE) > contrast_ratio(black, DARK_BASE)


def test_white_and_bright_white_become_dark_greys_on_light() -> None:
    white, bright_white = _fg("\x1b[37mx", LIGHT_BASE), _fg("\x1b[97mx", LIGHT_BASE)
    assert contrast_ratio(BASIC[15], LIGHT_BASE) < 1.5
    assert contrast_ratio(white, LIGHT_BASE) >= 4.5
    assert contrast_ratio(bright_white, LIGHT_BASE) > contrast_ratio(white, LIGHT_BASE)


def test_yellow_is_darkened_on_light_and_stays_yellow() -> None:
    for code, original in ((33, BASIC[3]), (93, BASIC[11])):
        shown = _fg(f"\x1b[{code}mwarn", LIGHT_BASE)
        assert contrast_ratio(original, LIGHT_BASE) < 3
        assert contrast_ratio(shown, LIGHT_BASE) >= 4.5
        assert 35 <= _hue(shown) <= 60, shown  # still a yellow (olive), not a brown or green


def test_colours_already_readable_on_dark_are_kept() -> None:
    for i in (2, 3, 6, 7, 10, 11, 12, 13, 14, 15):
        assert basic_colors(True)[i] == BASIC[i]


@pytest.mark.parametrize(
    ("line", "background"),
    [
        pytest.param("\x1b[38;5;16mblack", DARK_BASE, id="256-black-on-dark"),
        pytest.param("\x1b[38;5;232mnear black", DARK_BASE, id="256-grey-on-dark"),
        pytest.param("\x1b[38;5;231mwhite", LIGHT_BASE, id="256-white-on-light"),
        pytest.param("\x1b[38;2;255;255;0myellow", LIGHT_BASE, id="truecolour-yellow-on-light"),
        pytest.param("\x1b[38;5;1mbasic red", DARK_BASE, id="256-basic-red-on-dark"),
    ],
)
def test_other_foregrounds_are_moved_to_the_minimum_contrast(line: str, background: str) -> None:
    assert contrast_ratio(_fg(line, background), background) >= MIN_CONTRAST


def test_a_readable_true_colour_is_left_as_it_is() -> None:
    assert _fg("\x1b[38;2;10;20;30mx", LIGHT_BASE) == "#0a141e"
    assert readable("#ff8800", DARK_BASE) == "#ff8800"


def test_readable_keeps_the_hue() -> None:
    shown = readable("#ffff00", LIGHT_BASE)
    assert contrast_ratio(shown, LIGHT_BASE) >= MIN_CONTRAST
    assert abs(_hue(shown) - 60) < 2


def test_text_with_its_own_background_or_inverse_keeps_the_programs_colours() -> None:
    on_blue = Style(fg=BASIC[7], bg=BASIC[4])
    assert themed(on_blue, LIGHT_BASE) == on_blue
    inverse = Style(fg=BASIC[0], inverse=True)
    assert themed(inverse, DARK_BASE) == inverse


def test_only_the_foreground_changes() -> None:
    style = Style(fg=BASIC[0], bold=True, underline=True, dim=True)
    assert themed(style, DARK_BASE) == Style(
        fg=basic_colors(True)[0], bold=True, underline=True, dim=True
    )
    assert themed(PLAIN, DARK_BASE) is PLAIN


def test_a_style_still_carries_the_terminals_own_colours() -> None:
    # parse_line, apply_sgr and palette_256 are unchanged: other modules rely on them
    segments, after = parse_line("\x1b[1;31mERROR\x1b[0m ok \x1b[33mwarn")
    assert segments[0] == ("ERROR", Style(fg=BASIC[1], bold=True))
    assert segments[1] == (" ok ", PLAIN)
    assert after == Style(fg=BASIC[3])
    assert ansi.palette_256(9) == BASIC[9]
    assert ansi.strip(line="\x1b[32mgreen\x1b[0m") == "green"


def test_contrast_ratio_follows_wcag() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    with pytest.raises(ValueError):
        contrast_ratio("red", "#ffffff")


def test_dark_and_light_backgrounds_are_told_apart() -> None:
    assert is_dark_color(DARK_BASE) and is_dark_color("#1f2329")
    assert not is_dark_color(LIGHT_BASE) and not is_dark_color("#f6f7f9")
