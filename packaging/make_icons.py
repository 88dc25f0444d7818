"""Render the app icon SVG into the PNG, ICO and ICNS files the installers need.

Run with ``.venv/bin/python packaging/make_icons.py`` after editing
``resources/icons/agentry.svg``; the outputs are committed so that packaging never needs Qt's
SVG plugin or a display. The ICO and ICNS containers are written by hand with ``struct``
(both just wrap PNG payloads) so no image library beyond PySide6 is needed.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
SVG = ICONS / "agentry.svg"

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# OSType -> pixel size; every one of these types holds PNG data on macOS 10.7+.
ICNS_TYPES = (
    ("icp4", 16),
    ("icp5", 32),
    ("icp6", 64),
    ("ic07", 128),
    ("ic08", 256),
    ("ic09", 512),
    ("ic10", 1024),
)
LINUX_PNG_SIZE = 256  # agentry.png, referenced by the .desktop file


def render_pngs(svg: Path, sizes: tuple[int, ...]) -> dict[int, bytes]:
    """Render ``svg`` at each size to PNG bytes (ARGB, antialiased) with Qt's own SVG renderer.

    Qt is imported here so the container writers below stay importable (and testable)
    without it; a QGuiApplication is needed for the raster paint engine, offscreen is enough.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QImageWriter, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {svg} is not a valid SVG for QSvgRenderer")
    out: dict[int, bytes] = {}
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        # QImageWriter rather than QImage.save: PySide6's stubs and runtime disagree on
        # save(device, format)'s format type, and the writer also reports why it failed.
        writer = QImageWriter(buffer, QByteArray(b"PNG"))
        if not writer.write(image):
            raise SystemExit(f"make_icons: PNG {size} px: {writer.errorString()}")
        buffer.close()
        out[size] = bytes(data.data())
    del app  # keep the application alive until every image is encoded
    return out


def build_ico(pngs: dict[int, bytes]) -> bytes:
    """A Windows ICO holding PNG-compressed images (Vista+), smallest first.

    Layout: ICONDIR (reserved=0, type=1, count), then one 16-byte ICONDIRENTRY per image
    (width, height with 0 meaning 256, colour count, reserved, planes, bit count, size,
    offset), then the PNG payloads in the same order.
    """
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries = b""
    payload = b""
    for size in sizes:
        data = pngs[size]
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        payload += data
        offset += len(data)
    return header + entries + payload


def build_icns(pngs: dict[int, bytes]) -> bytes:
    """A macOS ICNS: the 'icns' magic and total length, then (OSType, length, PNG) chunks.

    All lengths are big-endian and include their own 8-byte header.
    """
    body = b""
    for ostype, size in ICNS_TYPES:
        data = pngs[size]
        body += ostype.encode("ascii") + struct.pack(">I", 8 + len(data)) + data
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    """Render once at every size, then write all outputs next to the SVG."""
    pngs = render_pngs(SVG, PNG_SIZES)
    for size, data in pngs.items():
        (ICONS / f"agentry-{size}.png").write_bytes(data)
    (ICONS / "agentry.png").write_bytes(pngs[LINUX_PNG_SIZE])
    (ICONS / "agentry.ico").write_bytes(build_ico({s: pngs[s] for s in ICO_SIZES}))
    (ICONS / "agentry.icns").write_bytes(build_icns(pngs))
    print(f"make_icons: wrote {len(pngs)} PNGs, agentry.png, agentry.ico, agentry.icns to {ICONS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
