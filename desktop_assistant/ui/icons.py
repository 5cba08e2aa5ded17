"""The app's own SVG icons (never theme icons, which many Linux desktops lack), tinted for the scheme."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QAbstractButton, QWidget

from desktop_assistant import RESOURCES
from desktop_assistant.ui import theme

SIZES = (16, 24, 32, 48, 64, 128, 256)


def _svg(name: str) -> str:
    return (RESOURCES / "icons" / f"{name}.svg").read_text("utf-8")


BUTTON = 16
"""The size buttons draw their icons at (Fusion's, for push and tool buttons alike)."""


def button_sizes(ratio: float) -> tuple[int, ...]:
    """Pixel sizes for a button icon on a screen of pixel ratio ``ratio``, and on a 2x screen (where a window
    may move): rendering these instead of five sizes per icon took ~4 ms off the first paint."""
    return tuple(sorted({max(BUTTON, round(BUTTON * ratio)), 2 * BUTTON}))


@cache
def icon(name: str, color: str) -> QIcon:
    """The icon ``name`` drawn in ``color``, crisp at the screen's pixel ratio (rendered per size from the SVG;
    another size is scaled from the nearest)."""
    renderer = QSvgRenderer(QByteArray(_svg(name).replace("currentColor", color).encode()))
    screen = QGuiApplication.primaryScreen()
    result = QIcon()
    for size in button_sizes(screen.devicePixelRatio() if screen is not None else 1.0):
        result.addPixmap(_render(renderer, size))
    return result


def set_icon(button: QAbstractButton, name: str, role: str = "muted") -> None:
    """Give ``button`` the icon ``name`` in the scheme's ``role`` colour (``"text"``, ``"muted"``, or a fixed
    colour such as ``"#ffffff"``); :func:`retint` draws it again in that role when the scheme changes."""
    button.da_icon = (name, role)  # type: ignore[attr-defined]  # the wrapper lives as long as the button
    button.setIcon(icon(name, _color(role)))


def retint(root: QWidget) -> None:
    """Draw the icons given with :func:`set_icon` in ``root`` and its children again, in the scheme's colours."""
    buttons = root.findChildren(QAbstractButton)
    if isinstance(root, QAbstractButton):
        buttons.append(root)
    for button in buttons:
        spec = getattr(button, "da_icon", None)
        if spec is not None:
            button.setIcon(icon(spec[0], _color(spec[1])))


def _color(role: str) -> str:
    if role.startswith("#"):
        return role
    return str(getattr(theme.colors(), role))


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
