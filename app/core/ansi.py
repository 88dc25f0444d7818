"""Terminal output to styled text: ANSI SGR colours kept, every other escape removed.

Pure functions so the output pane stays thin and this is tested on its own. A style
carries over from one line to the next, as it does in a terminal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# 16 basic colours (xterm defaults, slightly softened so they read on light and dark)
BASIC = (
    "#2e3436", "#cc3333", "#4e9a06", "#c4a000", "#3465a4", "#9b59b6", "#06989a", "#d3d7cf",
    "#767676", "#ef2929", "#8ae234", "#fce94f", "#729fcf", "#ad7fa8", "#34e2e2", "#eeeeec",
)  # fmt: skip

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
