"""Streaming a reply into a QTextDocument: finished blocks are inserted once, only the open tail is replaced.

Each finished chunk goes into its own QTextFrame, inserted before a tail frame whose content alone is replaced
per frame; the tail frame's leftover empty block is reset first. (Inserting chunks with ``insertBlock`` +
``insertHtml`` into one flow, or not resetting the leftover block, merges neighbouring block and list formats:
stray list numbers.) Selection in the finished part survives, and the cost per frame is the tail's.
"""

from __future__ import annotations

from PySide6.QtGui import QTextBlockFormat, QTextCursor, QTextDocument, QTextFrame, QTextFrameFormat

from desktop_assistant.core.render import StreamRenderer


class StreamingDocument:
    """Feeds a growing reply into ``document``."""

    def __init__(self, document: QTextDocument, *, dark: bool = False) -> None:
        self._document = document
        self._renderer = StreamRenderer(dark=dark)
        document.clear()
        self._tail: QTextFrame = QTextCursor(document).insertFrame(QTextFrameFormat())

    def feed(self, text: str) -> None:
        """Show ``text`` (the whole reply so far, extending the previous call)."""
        new, tail = self._renderer.feed(text)
        cursor = QTextCursor(self._document)
        if new:
            cursor.setPosition(self._tail.firstPosition() - 1)
            cursor.insertFrame(QTextFrameFormat())
            cursor.insertHtml(new)
        cursor.setPosition(self._tail.firstPosition())
        cursor.setPosition(self._tail.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        text_list = cursor.currentList()
        if text_list is not None:
            text_list.remove(cursor.block())
        cursor.setBlockFormat(QTextBlockFormat())
        cursor.insertHtml(tail)
