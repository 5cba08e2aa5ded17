"""Capture a screen region: a frozen picture of the screen(s), a rectangle dragged over it, Esc to cancel."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QWidget


def grab_screens() -> QPixmap | None:
    """One picture of every screen as laid out on the desktop; None where capture is not possible (Wayland)."""
    screens = QGuiApplication.screens()
    if not screens:
        return None
    area = QRect()
    for screen in screens:
        area = area.united(screen.geometry())
    canvas = QPixmap(area.size())
    canvas.fill(Qt.GlobalColor.black)
    painter = QPainter(canvas)
    grabbed = False
    for screen in screens:
        shot = screen.grabWindow(0)
        if not shot.isNull():
            grabbed = True
            painter.drawPixmap(screen.geometry().topLeft() - area.topLeft(), shot)
    painter.end()
    return canvas if grabbed else None


HINT = "Drag over the part of the screen to attach · Esc cancels"


class CaptureOverlay(QWidget):
    """Shows ``screenshot`` full-size; the rectangle the person drags becomes the capture.

    Signals:
        captured(QImage): the chosen region.
        cancelled(): Esc, or a click without a region.
    """

    captured = Signal(object)
    cancelled = Signal()

    def __init__(self, screenshot: QPixmap, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("capture_overlay")
        self.setAccessibleName(HINT)
        self.screenshot = screenshot
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.resize(screenshot.size())
        self._start: QPoint | None = None
        self._end: QPoint | None = None

    @property
    def selection(self) -> QRect:
        """The rectangle chosen so far (in screenshot pixels)."""
        if self._start is None or self._end is None:
            return QRect()
        left, top = min(self._start.x(), self._end.x()), min(self._start.y(), self._end.y())
        width, height = abs(self._end.x() - self._start.x()), abs(self._end.y() - self._start.y())
        return QRect(left, top, width, height).intersected(self.screenshot.rect())

    def paintEvent(self, event: QPaintEvent) -> None:
        """The frozen screen, dimmed outside the selection."""
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self.screenshot)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 110))
        chosen = self.selection
        if not chosen.isEmpty():
            painter.drawPixmap(chosen, self.screenshot, chosen)
            painter.setPen(QColor("#2f6fdf"))
            painter.drawRect(chosen.adjusted(0, 0, -1, -1))
        else:  # what to do, on the frozen screen itself (nothing else is in sight)
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.3)
            painter.setFont(font)
            box = painter.fontMetrics().boundingRect(HINT).adjusted(-16, -10, 16, 10)
            box.moveCenter(QPoint(self.width() // 2, 48 + box.height() // 2))
            painter.fillRect(box, QColor(0, 0, 0, 190))
            painter.setPen(QColor("#ffffff"))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, HINT)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Start a rectangle."""
        self._start = self._end = event.position().toPoint()
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Grow it."""
        if self._start is not None:
            self._end = event.position().toPoint()
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Finish: a real rectangle is captured; a bare click cancels."""
        self._end = event.position().toPoint()
        chosen = self.selection
        self.close()
        if chosen.width() < 4 or chosen.height() < 4:
            self.cancelled.emit()
        else:
            self.captured.emit(self.screenshot.copy(chosen).toImage())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc cancels."""
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            self.cancelled.emit()
        else:
            super().keyPressEvent(event)
