"""Terminal output to styled text: ANSI SGR colours kept, every other escape removed.

Pure functions so the output pane stays thin and this is tested on its own. A style
carries over from one line to the next, as it does in a terminal.

A :class:`Style` carries the terminal's own colours (:data:`BASIC` for the 16 basic ones);
:func:`themed` turns them into colours readable on the pane's background, light or dark.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass, replace

# 16 basic colours (xterm defaults, slightly softened): what a Style carries
BASIC = (
    "#2e3436", "#cc3333", "#4e9a06", "#c4a000", "#3465a4", "#9b59b6", "#06989a", "#d3d7cf",
    "#767676", "#ef2929", "#8ae234", "#fce94f", "#729fcf", "#ad7fa8", "#34e2e2", "#eeeeec",
)  # fmt: skip

# The same 16 as drawn on a dark background: black and bright black become greys, red,
# blue and magenta lighter. Every one is at least 4.5:1 against the dark theme's Base.
BASIC_DARK = (
    "#7b838e", "#e05a5a", "#4e9a06", "#c4a000", "#5b8bd0", "#b07cc6", "#06989a", "#d3d7cf",
    "#8b949e", "#f76c6c", "#8ae234", "#fce94f", "#729fcf", "#ad7fa8", "#34e2e2", "#eeeeec",
)  # fmt: skip

# ... and on a light background: white and bright white become dark greys (bright white
# the stronger), yellow and the bright colours darker. At least 4.5:1 against white.
BASIC_LIGHT = (
    "#2e3436", "#cc3333", "#3b7d08", "#8a6800", "#3465a4", "#8f4fab", "#057a7c", "#424a53",
    "#6e7781", "#c01c28", "#2b8211", "#946f00", "#2f6fb8", "#9b4f93", "#0f7f8f", "#1f2328",
)  # fmt: skip

# Any foreground on the default background (256 colours and true colour too) is made lighter
# or darker until it reaches this contrast: WCAG's minimum for text (AA), the default of
# VS Code's terminal.integrated.minimumContrastRatio.
MIN_CONTRAST = 4.5

_BASIC_INDEX = {color: i for i, color in enumerate(BASIC)}

# CSI (ESC [ params intermediates final), OSC (ESC ] ... BEL or ESC \), other 2-byte escapes
_ESCAPE = re.compile(
    r"\x1b\[(?P<params>[0-?]*)[ -/]*(?P<final>[@-~])"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]?"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPECIAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")  # anything but text and tabs


@dataclass(frozen=True)
class Style:
    fg: str | None = None
    bg: str | None = None
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    inverse: bool = False

    @property
    def plain(self) -> bool:
        return self == PLAIN


PLAIN = Style()
Segment = tuple[str, Style]


def parse_line(line: str, style: Style = PLAIN) -> tuple[list[Segment], Style]:
    """Split one line into (text, style) segments; returns them and the style after it."""
    line = _last_carriage_return(line)
    segments: list[Segment] = []
    pos = 0
    for match in _ESCAPE.finditer(line):
        _add(segments, line[pos : match.start()], style)
        if match.group("final") == "m":
            style = apply_sgr(style, match.group("params"))
        pos = match.end()
    _add(segments, line[pos:], style)
    return segments, style


def is_plain(line: str) -> bool:
    """True when the line is only text (and tabs): it can be shown as it is."""
    return _SPECIAL.search(line) is None


def strip(line: str) -> str:
    """The text of a line as a person would read it, without any escape sequence."""
    return "".join(text for text, _ in parse_line(line)[0])


def _last_carriage_return(line: str) -> str:
    # A progress bar redraws its line with \r: what stays on screen is the last drawing.
    if "\r" in line:
        parts = [p for p in line.split("\r") if p]
        return parts[-1] if parts else ""
    return line


def _add(segments: list[Segment], text: str, style: Style) -> None:
    if not text:
        return
    text = _CONTROL.sub("", text)
    if not text:
        return
    if segments and segments[-1][1] == style:
        segments[-1] = (segments[-1][0] + text, style)
    else:
        segments.append((text, style))


def apply_sgr(style: Style, params: str) -> Style:
    """The style after one SGR sequence (ESC [ params m)."""
    if params and not params[0].isdigit() and params[0] != ";":
        return style  # private sequences such as ESC [ > 4 m are not colours
    codes = [int(p) if p.isdigit() else 0 for p in params.replace(":", ";").split(";")]
    i = 0
    while i < len(codes):
        style, i = _apply_one(style, codes, i)
    return style


def _apply_one(style: Style, codes: list[int], i: int) -> tuple[Style, int]:
    code = codes[i]
    if code in (38, 48):
        color, used = _extended_color(codes[i + 1 :])
        if color is not None:
            style = replace(style, fg=color) if code == 38 else replace(style, bg=color)
        return style, i + 1 + used
    return _SIMPLE.get(code, _colour_code)(style, code), i + 1


def _colour_code(style: Style, code: int) -> Style:
    if 30 <= code <= 37:
        return replace(style, fg=BASIC[code - 30])
    if 40 <= code <= 47:
        return replace(style, bg=BASIC[code - 40])
    if 90 <= code <= 97:
        return replace(style, fg=BASIC[code - 90 + 8])
    if 100 <= code <= 107:
        return replace(style, bg=BASIC[code - 100 + 8])
    return style


_SIMPLE = {
    0: lambda s, c: PLAIN,
    1: lambda s, c: replace(s, bold=True),
    2: lambda s, c: replace(s, dim=True),
    3: lambda s, c: replace(s, italic=True),
    4: lambda s, c: replace(s, underline=True),
    7: lambda s, c: replace(s, inverse=True),
    22: lambda s, c: replace(s, bold=False, dim=False),
    23: lambda s, c: replace(s, italic=False),
    24: lambda s, c: replace(s, underline=False),
    27: lambda s, c: replace(s, inverse=False),
    39: lambda s, c: replace(s, fg=None),
    49: lambda s, c: replace(s, bg=None),
}


def _extended_color(rest: list[int]) -> tuple[str | None, int]:
    """38;5;N (256 colours) or 38;2;R;G;B (true colour); returns (colour, codes used)."""
    if len(rest) >= 2 and rest[0] == 5:
        return palette_256(rest[1]), 2
    if len(rest) >= 4 and rest[0] == 2:
        r, g, b = (max(0, min(255, v)) for v in rest[1:4])
        return f"#{r:02x}{g:02x}{b:02x}", 4
    return None, len(rest)


def palette_256(n: int) -> str:
    n = max(0, min(255, n))
    if n < 16:
        return BASIC[n]
    if n < 232:
        n -= 16
        levels = (0, 95, 135, 175, 215, 255)
        r, g, b = levels[n // 36], levels[(n // 6) % 6], levels[n % 6]
        return f"#{r:02x}{g:02x}{b:02x}"
    grey = 8 + (n - 232) * 10
    return f"#{grey:02x}{grey:02x}{grey:02x}"


# ---------------------------------------------------------------------- colours for a theme


def basic_colors(dark: bool) -> tuple[str, ...]:
    """The 16 basic colours as they should be drawn on a dark or a light background."""
    return BASIC_DARK if dark else BASIC_LIGHT


def themed(style: Style, background: str) -> Style:
    """``style`` with a foreground readable on ``background``, the default background.

    A basic colour (also 0-15 of the 256) becomes its counterpart from :func:`basic_colors`
    for that background; any foreground ends at least :data:`MIN_CONTRAST` from it. Text with
    a background of its own, or shown inverse, keeps its colours: the program chose the pair.
    """
    if style.fg is None or style.bg is not None or style.inverse:
        return style
    fg = style.fg
    index = _BASIC_INDEX.get(fg.lower())
    if index is not None:
        fg = basic_colors(is_dark_color(background))[index]
    fg = readable(fg, background)
    return style if fg == style.fg else replace(style, fg=fg)


def readable(color: str, background: str, minimum: float = MIN_CONTRAST) -> str:
    """``color``, made lighter (on a dark background) or darker until ``minimum`` contrast."""
    rgb = _rgb(color)
    back = _rgb(background)
    if rgb is None or back is None or contrast_ratio(color, background) >= minimum:
        return color
    lighten = _luminance(back) < _MIDDLE
    hue, lightness, saturation = colorsys.rgb_to_hls(*rgb)
    candidate = color
    for _ in range(100):
        lightness = min(1.0, lightness + 0.01) if lighten else max(0.0, lightness - 0.01)
        candidate = _hex(colorsys.hls_to_rgb(hue, lightness, saturation))
        if contrast_ratio(candidate, background) >= minimum or lightness in (0.0, 1.0):
            break
    return candidate


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours, from 1 (same) to 21 (black on white)."""
    rgb_a, rgb_b = _rgb(a), _rgb(b)
    if rgb_a is None or rgb_b is None:
        raise ValueError(f"not a #rrggbb colour: {a if rgb_a is None else b!r}")
    high, low = sorted((_luminance(rgb_a), _luminance(rgb_b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def is_dark_color(color: str) -> bool:
    """True when light text reads better on ``color`` than dark text does."""
    rgb = _rgb(color)
    return rgb is not None and _luminance(rgb) < _MIDDLE


_MIDDLE = 0.179  # the luminance as far (in contrast) from black as from white
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def _rgb(color: str) -> tuple[float, float, float] | None:
    if not _HEX.fullmatch(color):
        return None
    return int(color[1:3], 16) / 255, int(color[3:5], 16) / 255, int(color[5:7], 16) / 255


def _hex(rgb: tuple[float, float, float]) -> str:
    r, g, b = (round(max(0.0, min(1.0, v)) * 255) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _luminance(rgb: tuple[float, float, float]) -> float:
    def linear(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
