"""Daily spend as bars, painted with QPainter (no web view, no chart library)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop_assistant.core.pricing import format_usd
from desktop_assistant.ui import theme


class SpendChart(QWidget):
    """Bars of daily spend, the highest day labelled; a tooltip per bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("spend_chart")
        self.setAccessibleName("Daily spend, last 30 days")
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMouseTracking(True)
        self.days: list[tuple[dt.date, int]] = []

    def set_days(self, days: list[tuple[dt.date, int]]) -> None:
        """Show ``days`` (date, micro-dollars), oldest first."""
        self.days = list(days)
        total = sum(c for _d, c in self.days)
        self.setAccessibleDescription(f"{format_usd(total)} over {len(self.days)} days")
        self.update()

    def _bar_rect(self, index: int, peak: int) -> QRectF:
        margin_bottom, margin_top = 22.0, 18.0
        width = self.width() / max(len(self.days), 1)
        cost = self.days[index][1]
        height = (self.height() - margin_bottom - margin_top) * (cost / peak if peak else 0)
        return QRectF(index * width + 2, self.height() - margin_bottom - height, max(width - 4, 1), height)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw the bars, the peak's amount and the first and last dates."""
        colors = theme.colors()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self.days:
            painter.end()
            return
        peak = max(c for _d, c in self.days)
        painter.setPen(Qt.PenStyle.NoPen)
        for i in range(len(self.days)):
            painter.setBrush(QColor(colors.accent if self.days[i][1] else colors.border))
            rect = self._bar_rect(i, peak)
            painter.drawRoundedRect(rect if rect.height() >= 2 else rect.adjusted(0, -2, 0, 0), 2, 2)
        painter.setPen(QColor(colors.muted))
        text_rect = QRectF(0, self.height() - 18, self.width(), 18)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft, self.days[0][0].strftime("%b %d"))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignRight, self.days[-1][0].strftime("%b %d"))
        peak_label = f"highest day {format_usd(peak)}" if peak else "no spend in this period"
        painter.drawText(QRectF(0, 0, self.width(), 16), Qt.AlignmentFlag.AlignRight, peak_label)
        painter.end()

    def day_at(self, x: float) -> tuple[dt.date, int] | None:
        """The day under horizontal position ``x``."""
        if not self.days:
            return None
        index = int(x / (self.width() / len(self.days)))
        return self.days[index] if 0 <= index < len(self.days) else None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Name the day and its spend under the pointer."""
        day = self.day_at(event.position().x())
        self.setToolTip(f"{day[0]:%a %d %b}: {format_usd(day[1])}" if day else "")
