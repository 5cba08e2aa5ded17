"""The app's own icons: drawn from SVG at the sizes the screen needs, tinted, the app icon in every size."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from desktop_assistant.ui import icons


def test_button_icons_are_drawn_for_this_screen_and_a_sharper_one() -> None:
    assert icons.button_sizes(1.0) == (16, 32)
    assert icons.button_sizes(1.5) == (24, 32)
    assert icons.button_sizes(2.0) == (32,)
    assert icons.button_sizes(3.0) == (32, 48)


def test_an_icon_is_tinted_and_has_a_pixmap_at_button_size(qapp: QApplication) -> None:
    icon = icons.icon("send", "#ff0000")
    assert QSize(16, 16) in icon.availableSizes()
    image = icon.pixmap(QSize(16, 16)).toImage()
    inked = [image.pixelColor(x, y) for x in range(16) for y in range(16) if image.pixelColor(x, y).alpha() > 200]
    assert inked and all(color.red() > 200 and color.green() < 60 for color in inked)
    assert QColor(inked[0]).blue() < 60


def test_the_app_icon_comes_in_every_size_a_desktop_asks_for(qapp: QApplication) -> None:
    sizes = {size.width() for size in icons.app_icon().availableSizes()}
    assert sizes == set(icons.SIZES)
