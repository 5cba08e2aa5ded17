"""Painting list rows that draw their own text over the style's usual row (hover, selection, focus)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem


class OwnTextDelegate(QStyledItemDelegate):
    """A delegate whose subclasses draw a row's text themselves, over the row the style draws.

    The row is drawn by :class:`QStyledItemDelegate` itself, with the text left out of its options, so
    ``QStyle`` is never used from Python: creating that class costs ~7 ms, and the sidebar's rows are painted
    before the first paint of the transcript.
    """

    _without_text = False

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        """The usual options, minus the text while :meth:`draw_row_without_text` draws the row."""
        super().initStyleOption(option, index)
        if self._without_text:
            option.text = ""

    def draw_row_without_text(self, painter: QPainter, option: QStyleOptionViewItem,
                              index: QModelIndex | QPersistentModelIndex) -> tuple[QStyleOptionViewItem, str]:
        """Draw ``index``'s row as the style would, minus its text; returns the row's options and that text."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        self._without_text = True
        try:
            super().paint(painter, option, index)
        finally:
            self._without_text = False
        return opt, opt.text
