"""Streaming a reply into a QTextDocument: finished blocks are inserted once, only the open tail is replaced.

Each finished chunk goes into its own QTextFrame, inserted before a tail frame whose content alone is replaced
per frame; the tail frame's leftover empty block is reset first. (Inserting chunks with ``insertBlock`` +
``insertHtml`` into one flow, or not resetting the leftover block, merges neighbouring block and list formats:
stray list numbers.) Selection in the finished part survives, and the cost per frame is the tail's.

Spacing matches a reply rendered whole. Qt keeps an empty block between neighbouring frames (and before the
first and after the last): each would show as a blank line, so they are hidden (``QTextBlock.setVisible``,
laid out with no height). HTML inserted into a frame merges its first block into the frame's empty block and
loses that block's margins: each chunk is inserted behind a one-character lead paragraph that takes the
merge, is emptied and hidden. Margins do not collapse across frames, so each frame's top margin makes up the
difference to the gap a whole render has there (the larger of the bottom margin above and the top margin).
"""


from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QTextBlock, QTextBlockFormat, QTextCursor, QTextDocument, QTextFrame, QTextFrameFormat

from desktop_assistant.core.render import StreamRenderer, render_markdown

# Markdown is parsed off the UI thread while a reply streams: markdown-it is pure Python and a hostile reply
# (thousands of nested markers, long lines) takes tens of milliseconds a frame. The GIL is handed over every
# few milliseconds, so the window keeps breathing while the worker parses.
_RENDERER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")
FINISH_ON_WORKER = 20_000  # characters of unfinished tail above which the final render runs on the worker
_LEAD = "<p>&#8203;</p>"  # takes the merge into the frame's first block (then emptied and hidden)


class StreamingDocument(QObject):
    """Feeds a growing reply into ``document``.

    Each :meth:`feed` is one edit block, so the document is laid out (and its size signalled) once per frame
    instead of after each of the removal and the insertions. With ``threaded`` the HTML is made on a worker
    thread and applied when ready (a timer on the UI thread collects it: the worker never touches a Qt
    object, so a view deleted meanwhile is no hazard); feeds that arrive meanwhile are merged into the next.
    """

    def __init__(self, document: QTextDocument, *, dark: bool = False, threaded: bool = False) -> None:
        super().__init__()
        self._document = document
        self._renderer = StreamRenderer(dark=dark)
        self.dark = dark
        self._threaded = threaded
        self._future: Future[tuple[int, str, str]] | None = None
        self._pending: str | None = None
        self._final: str | None = None
        self._finished = False
        self._seq = 0
        self._applied = 0
        document.clear()
        self._tail: QTextFrame = QTextCursor(document).insertFrame(QTextFrameFormat())
        self._hide_separators(self._tail, relayout=True)
        self._collect = QTimer(self)
        self._collect.setInterval(4)
        self._collect.timeout.connect(self._collect_result)

    def feed(self, text: str) -> None:
        """Show ``text`` (the whole reply so far, extending the previous call)."""
        if self._finished:
            return
        if not self._threaded:
            new, tail = self._renderer.feed(text)
            self._show(new, tail)
            return
        if self._future is not None:
            self._pending = text
            if self._future.done():  # rendered but not collected yet: apply it first (its finished blocks are
                self._collect_result()  # never rendered again), which then feeds the pending text
            return
        self._seq += 1
        self._future = _RENDERER.submit(_feed, self._renderer, self._seq, text)
        self._collect.start()

    def _collect_result(self) -> None:
        future = self._future
        if future is None or not future.done():
            return
        self._collect.stop()
        self._future = None
        self._on_rendered(future.result())

    def _on_rendered(self, result: tuple[int, str, str]) -> None:
        seq, new, tail = result
        if seq <= self._applied:
            return  # already applied by finish()
        self._applied = seq
        self._show(new, tail)
        if self._final is not None:
            self._submit_final()
        elif self._pending is not None and not self._finished:
            text, self._pending = self._pending, None
            self.feed(text)

    def _settle(self) -> None:
        """Wait for a render in flight and apply it now (before the UI thread uses the renderer itself)."""
        self._collect.stop()
        self._pending = None  # before applying: applying must not start another render
        if self._future is not None:
            future, self._future = self._future, None
            self._on_rendered(future.result())

    def can_finish(self, text: str) -> bool:
        """Whether :meth:`finish` can show ``text`` by finishing what was streamed (it extends the stable part).

        The stable part only ever grows (the worker swaps in a longer string), so this needs no waiting.
        """
        return self._renderer.can_continue(text)

    def finish(self, text: str) -> bool:
        """Show the complete reply ``text``: the blocks not yet finished are rendered final (open code fences
        highlighted); what was already inserted stays as it is. The object is spent afterwards.

        Threaded, a long unfinished tail is finished on the worker too (after the render in flight), so the
        end of a huge reply never stalls the window; a short one is finished at once. Returns False (and
        shows nothing more) when ``text`` does not continue what was streamed: render it whole instead.
        """
        self._finished = True
        if self._threaded and len(text) - self._renderer.stable_length > FINISH_ON_WORKER:
            self._pending = None
            self._final = text
            if self._future is None:
                self._submit_final()
            return True
        self._settle()
        if not self._renderer.can_continue(text):
            self.abandon()
            return False
        new, tail = self._renderer.finish_parts(text)
        self._show(new, tail)
        return True

    def _submit_final(self) -> None:
        text, self._final = self._final, None
        if text is None:
            return
        self._seq += 1
        self._future = _RENDERER.submit(_finish, self._renderer, self._seq, text)
        self._collect.start()

    def abandon(self) -> None:
        """The document is about to show something else: apply nothing more to it."""
        self._collect.stop()
        self._future = None
        self._final = self._pending = None
        self._finished = True

    @property
    def busy(self) -> bool:
        """A render is in flight or queued (the document is not final yet)."""
        return self._future is not None or self._final is not None or self._pending is not None

    def _show(self, new: str, tail: str) -> None:
        cursor = QTextCursor(self._document)
        cursor.beginEditBlock()
        try:
            if new:
                cursor.setPosition(self._tail.firstPosition() - 1)
                frame = cursor.insertFrame(QTextFrameFormat())
                self._fill(cursor, frame, new)
                self._hide_separators(frame)
            cursor.setPosition(self._tail.firstPosition())
            cursor.setPosition(self._tail.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
            text_list = cursor.currentList()
            if text_list is not None:
                text_list.remove(cursor.block())
            cursor.setBlockFormat(QTextBlockFormat())
            self._fill(cursor, self._tail, tail)
        finally:
            cursor.endEditBlock()

    def _fill(self, cursor: QTextCursor, frame: QTextFrame, html: str) -> None:
        """Insert ``html`` into the empty ``frame`` (the cursor is in it) keeping its first block's format."""
        cursor.insertHtml(_LEAD + html)
        lead = frame.firstCursorPosition()
        if lead.block().text() == "\u200b":
            lead.deleteChar()
        first = lead.block()
        if first.length() == 1:  # empty: hide it (it is never shown as content)
            self._hide(first)
            first = first.next()
        if not first.isValid() or first.position() > frame.lastPosition():
            return
        above = frame.firstCursorPosition().block().previous().previous()  # the last block of the frame above
        top = first.blockFormat().topMargin()
        if above.isValid():
            gap = max(above.blockFormat().bottomMargin(), top) - top
        else:  # the first content of the document: no margin above it, as in a whole render
            gap = 0.0
            if top:
                block_format = first.blockFormat()
                block_format.setTopMargin(0)
                QTextCursor(first).setBlockFormat(block_format)
        frame_format = frame.frameFormat()
        if frame_format.topMargin() != gap:
            frame_format.setTopMargin(gap)
            frame.setFrameFormat(frame_format)

    def _hide(self, block: QTextBlock, relayout: bool = False) -> None:
        """Hide ``block``. Within an edit block the block lies in the edited range, which is laid out anyway when
        the edit ends: ``relayout`` (an immediate layout of the range, costly per frame) only outside one.
        """
        if block.isValid() and block.isVisible():
            block.setVisible(False)
            if relayout:
                self._document.markContentsDirty(block.position(), block.length())

    def _hide_separators(self, frame: QTextFrame, relayout: bool = False) -> None:
        """Hide the empty blocks Qt keeps in the root frame just before and just after ``frame``."""
        root = self._document.rootFrame()
        for block in (frame.firstCursorPosition().block().previous(), frame.lastCursorPosition().block().next()):
            if block.isValid() and block.length() == 1 and QTextCursor(block).currentFrame() == root:
                self._hide(block, relayout)


class BackgroundRender(QObject):
    """Renders a whole reply (:func:`render_markdown`) on the render worker and calls ``done(html)`` on the UI
    thread. Used to highlight code whose pygments lexer was not loaded yet: loading one compiles its regular
    expressions (30-100 ms), which on the UI thread froze the window. Deleting the parent drops the result.
    """

    def __init__(self, text: str, dark: bool, done: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._done = done
        self._future: Future[str] | None = _RENDERER.submit(_render_whole, text, dark)
        self._collect = QTimer(self)
        self._collect.setInterval(4)
        self._collect.timeout.connect(self._collect_result)
        self._collect.start()

    @property
    def busy(self) -> bool:
        """The HTML is not handed over yet."""
        return self._future is not None

    def _collect_result(self) -> None:
        future = self._future
        if future is None or not future.done():
            return
        self._collect.stop()
        self._future = None
        try:
            self._done(future.result())
        finally:
            self.deleteLater()


# The worker gets the pure-Python renderer, never the QObject: the last reference to a Qt object must not be
# dropped on a worker thread (Qt objects die on the thread that owns them).
def _feed(renderer: StreamRenderer, seq: int, text: str) -> tuple[int, str, str]:
    new, tail = renderer.feed(text)
    return seq, new, tail


def _finish(renderer: StreamRenderer, seq: int, text: str) -> tuple[int, str, str]:
    if not renderer.can_continue(text):  # cannot happen for a reply that only grew; render it whole then
        renderer.reset()
        return seq, "", renderer.finish(text)
    new, tail = renderer.finish_parts(text)
    return seq, new, tail


def _render_whole(text: str, dark: bool) -> str:
    return render_markdown(text, dark=dark)
