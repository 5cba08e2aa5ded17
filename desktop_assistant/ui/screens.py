"""Window sizes that fit the screen they open on (a small laptop, large system fonts, a high-density screen)."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QScreen


def fitted(width: int, height: int, screen: QScreen | None) -> QSize:
    """``width`` x ``height``, made smaller where ``screen``'s free area (without panels and docks) is: at most
    95% of its width and 90% of its height, leaving room for the title bar."""
    if screen is None:
        return QSize(width, height)
    room = screen.availableGeometry()
    return QSize(min(width, room.width() * 95 // 100), min(height, room.height() * 90 // 100))
