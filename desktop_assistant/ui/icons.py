"""The app's own SVG icons (never theme icons, which many Linux desktops lack), tinted for the scheme."""

from __future__ import annotations

from functools import cache
from importlib import resources

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256)


def _svg(name: str) -> str:
    return (resources.files("desktop_assistant") / "resources" / "icons" / f"{name}.svg").read_text("utf-8")


@cache
def icon(name: str, color: str) -> QIcon:
    """The icon ``name`` drawn in ``color`` (crisp at every scale: rendered per size from the SVG)."""
    renderer = QSvgRenderer(QByteArray(_svg(name).replace("currentColor", color).encode()))
    result = QIcon()
    for size in SIZES[:5]:
        result.addPixmap(_render(renderer, size))
    return result


@cache
def app_icon() -> QIcon:
    """The application icon in every size a desktop asks for."""
    renderer = QSvgRenderer(QByteArray(_svg("app").encode()))
    result = QIcon()
    for size in SIZES:
        result.addPixmap(_render(renderer, size))
    return result


def _render(renderer: QSvgRenderer, size: int) -> QPixmap:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return QPixmap.fromImage(image)
