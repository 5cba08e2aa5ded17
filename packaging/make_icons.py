"""Render the app icon (desktop_assistant/resources/icons/app.svg) for the installers.

    python packaging/make_icons.py OUT_DIR

writes, from the installed package's SVG (so the icon always matches the app):

- ``OUT_DIR/hicolor/{size}x{size}/apps/desktop-assistant.png`` for the freedesktop icon theme (Linux .deb), and
  ``OUT_DIR/hicolor/scalable/apps/desktop-assistant.svg``;
- ``OUT_DIR/desktop-assistant.ico``: a Windows icon with 16-256 px images (32-bit bitmaps with alpha, and a
  PNG for 256 px, as Windows' own icons are; used for the .exe and the installer);
- ``OUT_DIR/desktop-assistant.iconset/``: the PNGs macOS ``iconutil -c icns`` turns into the .app's .icns.

It uses PySide6's own SVG renderer, offscreen, so it needs no display and no other image tools.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

APP_ID = "desktop-assistant"
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 256)
# iconutil's names: icon_{n}x{n}.png and icon_{n}x{n}@2x.png for n in 16, 32, 128, 256, 512
ICONSET = tuple((n, scale) for n in (16, 32, 128, 256, 512) for scale in (1, 2))


def app_svg() -> bytes:
    return (resources.files("desktop_assistant") / "resources" / "icons" / "app.svg").read_bytes()


def render(svg: bytes, size: int) -> QImage:
    """The SVG drawn into a transparent ``size``×``size`` ARGB32 image."""
    from PySide6.QtCore import QByteArray, QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise ValueError("app.svg could not be parsed")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError(f"could not encode a {image.width()}px PNG")
    buffer.close()
    return bytes(data.data())


def dib_bytes(image: QImage) -> bytes:
    """An ICO bitmap entry: BITMAPINFOHEADER, BGRA rows bottom-up, then the 1-bit AND mask (all zero: alpha rules)."""
    size = image.width()
    pixels = b"".join(
        struct.pack("<I", image.pixel(x, y) & 0xFFFFFFFF) for y in reversed(range(size)) for x in range(size)
    )
    mask_row = ((size + 31) // 32) * 4
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, len(pixels) + mask_row * size, 0, 0, 0, 0)
    return header + pixels + b"\0" * (mask_row * size)


def ico(images: dict[int, bytes]) -> bytes:
    """An ICO file (ICONDIR, ICONDIRENTRY[], data) holding one entry per size (DIB or PNG bytes)."""
    sizes = sorted(images)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        blob = images[size]
        dim = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    return header + entries + blobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the icons into")
    parser.add_argument("--svg", type=Path, help="the SVG to render (default: the installed package's app.svg)")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    svg = args.svg.read_bytes() if args.svg else app_svg()
    out: Path = args.out
    cache: dict[int, QImage] = {}

    def image(size: int) -> QImage:
        if size not in cache:
            cache[size] = render(svg, size)
        return cache[size]

    def png(size: int) -> bytes:
        return png_bytes(image(size))

    for size in HICOLOR_SIZES:
        target = out / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png(size))
    scalable = out / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    scalable.write_bytes(svg)

    entries = {size: png(size) if size >= 256 else dib_bytes(image(size)) for size in ICO_SIZES}
    (out / f"{APP_ID}.ico").write_bytes(ico(entries))

    iconset = out / f"{APP_ID}.iconset"
    iconset.mkdir(parents=True, exist_ok=True)
    for n, scale in ICONSET:
        suffix = "@2x" if scale == 2 else ""
        (iconset / f"icon_{n}x{n}{suffix}.png").write_bytes(png(n * scale))
    print(f"icons written to {out}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
