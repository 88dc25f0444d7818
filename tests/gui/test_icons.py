"""The icon module and the committed icon files (SVGs, PNG renders, ICO, ICNS)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import struct
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QIcon, QImage
from PySide6.QtSvg import QSvgRenderer

from app.core.states import RunState
from app.ui import icons

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ICO_SIZES = [16, 24, 32, 48, 64, 128, 256]
ICNS_TYPES = {
    b"icp4": 16,
    b"icp5": 32,
    b"icp6": 64,
    b"ic07": 128,
    b"ic08": 256,
    b"ic09": 512,
    b"ic10": 1024,
}
STATES = [state.value for state in RunState]


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (always the first chunk)."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _has_visible_pixel(image: QImage) -> bool:
    return any(
        image.pixelColor(x, y).alpha() > 0
        for y in range(image.height())
        for x in range(image.width())
    )


@pytest.fixture
def icons_dir() -> Path:
    return icons.resources_dir() / "icons"


def test_state_colors_cover_every_run_state() -> None:
    assert set(icons.STATE_COLORS) == {*STATES, icons.NEEDS_YOU}
    assert len(set(icons.STATE_COLORS.values())) == len(STATES) + 1, "colours must be distinct"
    for state in STATES:
        assert icons.state_color(state) == QColor(icons.STATE_COLORS[state])
        assert icons.state_color(RunState(state)) == QColor(icons.STATE_COLORS[state])


def test_unknown_state_color_is_neutral() -> None:
    color = icons.state_color("no-such-state")
    assert color.isValid()
    assert color == QColor(icons.NEUTRAL_COLOR)


def test_resources_dir_is_the_repo_folder_when_not_frozen() -> None:
    path = icons.resources_dir()
    assert path.is_dir()
    assert path == Path(icons.__file__).resolve().parents[2] / "resources"


def test_resources_dir_uses_the_bundle_when_frozen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "resources").mkdir()
    monkeypatch.setattr("sys._MEIPASS", str(tmp_path), raising=False)
    assert icons.resources_dir() == tmp_path / "resources"


def test_resources_dir_missing_raises_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys._MEIPASS", str(tmp_path / "empty"), raising=False)
    with pytest.raises(FileNotFoundError, match="resources"):
        icons.resources_dir()


def test_app_icon_offers_every_size(qapp: object) -> None:
    icon = icons.app_icon()
    assert not icon.isNull()
    sizes = {size.width() for size in icon.availableSizes() if size.width() == size.height()}
    assert set(ICO_SIZES) <= sizes
    pixmap = icon.pixmap(QSize(32, 32))
    assert pixmap.size() == QSize(32, 32)
    assert _has_visible_pixel(pixmap.toImage())
    assert icons.app_icon() is icon, "cached"


@pytest.mark.parametrize("state", STATES)
def test_state_icon_renders(qapp: object, state: str) -> None:
    icon = icons.state_icon(state)
    assert not icon.isNull()
    image = icon.pixmap(QSize(16, 16)).toImage()
    assert not image.isNull()
    assert _has_visible_pixel(image), f"{state} icon is fully transparent at 16 px"
    assert icons.state_icon(RunState(state)) is icon, "cached, and RunState members work"


@pytest.mark.parametrize("state", [*STATES, icons.NEEDS_YOU])
def test_state_svg_is_valid_for_qt(qapp: object, icons_dir: Path, state: str) -> None:
    renderer = QSvgRenderer(str(icons_dir / "states" / f"{state}.svg"))
    assert renderer.isValid()
    assert renderer.viewBoxF().width() == 16
    assert renderer.viewBoxF().height() == 16


def test_needs_you_has_its_own_icon(qapp: object) -> None:
    icon = icons.state_icon(icons.NEEDS_YOU)
    assert icon is not icons.neutral_icon()
    assert _has_visible_pixel(icon.pixmap(QSize(16, 16)).toImage())


def test_a_badged_icon_carries_a_needs_you_disc_only_when_something_waits(qapp: object) -> None:
    plain = icons.app_icon()
    assert icons.badged_icon(plain, 0) is plain
    corner = icons.badged_icon(plain, 3).pixmap(QSize(64, 64)).toImage().pixelColor(52, 8)
    assert corner.name() == icons.STATE_COLORS[icons.NEEDS_YOU]
    assert not icons.badged_icon(plain, 12).isNull()


def test_app_svg_is_valid_for_qt(qapp: object, icons_dir: Path) -> None:
    assert QSvgRenderer(str(icons_dir / "agentry.svg")).isValid()


@pytest.mark.parametrize("state", ["", "no-such-state", "../agentry", "RUNNING"])
def test_unknown_state_gives_a_usable_neutral_icon(qapp: object, state: str) -> None:
    icon = icons.state_icon(state)
    assert isinstance(icon, QIcon)
    assert not icon.isNull()
    image = icon.pixmap(QSize(16, 16)).toImage()
    assert _has_visible_pixel(image)
    assert icon is icons.neutral_icon()


def test_png_renders_have_their_sizes(icons_dir: Path) -> None:
    for size in [16, 24, 32, 48, 64, 128, 256, 512, 1024]:
        assert _png_size((icons_dir / f"agentry-{size}.png").read_bytes()) == (size, size)
    assert _png_size((icons_dir / "agentry.png").read_bytes()) == (256, 256)


def test_ico_holds_seven_png_entries(icons_dir: Path) -> None:
    data = (icons_dir / "agentry.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data, 0)
    assert (reserved, kind, count) == (0, 1, len(ICO_SIZES))
    seen = []
    for index in range(count):
        width, height, _colors, _reserved, planes, bits, length, offset = struct.unpack_from(
            "<BBBBHHII", data, 6 + 16 * index
        )
        size = width or 256
        assert height == width
        assert (planes, bits) == (1, 32)
        payload = data[offset : offset + length]
        assert len(payload) == length
        assert payload[:8] == PNG_SIGNATURE
        assert _png_size(payload) == (size, size)
        seen.append(size)
    assert seen == ICO_SIZES


def test_icns_lengths_and_types(icons_dir: Path) -> None:
    data = (icons_dir / "agentry.icns").read_bytes()
    assert data[:4] == b"icns"
    (total,) = struct.unpack_from(">I", data, 4)
    assert total == len(data)
    found: dict[bytes, int] = {}
    pos = 8
    while pos < len(data):
        ostype = data[pos : pos + 4]
        (length,) = struct.unpack_from(">I", data, pos + 4)
        assert length > 8
        payload = data[pos + 8 : pos + length]
        assert payload[:8] == PNG_SIGNATURE
        found[ostype] = _png_size(payload)[0]
        pos += length
    assert pos == len(data)
    assert found == ICNS_TYPES
