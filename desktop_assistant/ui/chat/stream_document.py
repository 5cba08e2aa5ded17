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
    """Feeds a growing reply into ``document``.

    Each :meth:`feed` is one edit block, so the document is laid out (and its size signalled) once per frame
    instead of after each of the removal and the insertions.
    """

    def __init__(self, document: QTextDocument, *, dark: bool = False) -> None:
        self._document = document
        self._renderer = StreamRenderer(dark=dark)
        self.dark = dark
        document.clear()
        self._tail: QTextFrame = QTextCursor(document).insertFrame(QTextFrameFormat())

    def feed(self, text: str) -> None:
        """Show ``text`` (the whole reply so far, extending the previous call)."""
        new, tail = self._renderer.feed(text)
        self._show(new, tail)

    def can_finish(self, text: str) -> bool:
        """Whether :meth:`finish` can show ``text`` by finishing what was streamed (it extends the stable part)."""
        return self._renderer.can_continue(text)

    def finish(self, text: str) -> None:
        """Show the complete reply ``text``: the blocks not yet finished are rendered final (open code fences
        highlighted); what was already inserted stays as it is. The object is spent afterwards.
        """
        new, tail = self._renderer.finish_parts(text)
        self._show(new, tail)

    def _show(self, new: str, tail: str) -> None:
        cursor = QTextCursor(self._document)
        cursor.beginEditBlock()
        try:
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
        finally:
            cursor.endEditBlock()
