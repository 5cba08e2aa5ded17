"""A streamed reply is spaced exactly like the same reply rendered whole: no blank line where frames meet."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtGui import QTextBlock, QTextDocument

from desktop_assistant.core.render import document_css, render_markdown
from desktop_assistant.ui.chat.stream_document import StreamingDocument
from tests.conftest import until

REPLY = (
    "## Plan\n\nFirst a paragraph of text that says what comes.\n\nA second paragraph.\n\n"
    "- one point\n- another point\n\nBetween the lists.\n\n1. first step\n2. second step\n\n"
    "```python\nx = 1\nprint(x)\n```\n\n> a quote\n\nThe end.\n"
)
WIDTH = 500


def _document() -> QTextDocument:
    document = QTextDocument()
    document.setDefaultStyleSheet(document_css(False))
    document.setDocumentMargin(2)
    document.setTextWidth(WIDTH)  # laid out while it streams, as in the message view
    return document


def _visible_lines(document: QTextDocument) -> list[tuple[str, float]]:
    """(text, top) of every visible block that has text, as laid out (incrementally, while streaming)."""
    layout = document.documentLayout()
    out: list[tuple[str, float]] = []
    block: QTextBlock = document.begin()
    while block.isValid():
        if block.isVisible() and block.text().strip():
            out.append((block.text().strip(), layout.blockBoundingRect(block).top()))
        block = block.next()
    return out


def _blank_visible_blocks(document: QTextDocument) -> int:
    count = 0
    block = document.begin()
    while block.isValid():
        if block.isVisible() and block.length() == 1 and block.textList() is None:
            count += 1
        block = block.next()
    return count


@pytest.mark.parametrize("chunk", [5, 23, 97])
def test_streamed_reply_is_spaced_like_a_whole_render(qtbot: Any, chunk: int) -> None:
    whole = _document()
    whole.setHtml(render_markdown(REPLY))
    streamed = _document()
    streaming = StreamingDocument(streamed)
    for end in range(0, len(REPLY), chunk):
        streaming.feed(REPLY[:end])
    assert streaming.finish(REPLY)

    assert _visible_lines(streamed) == _visible_lines(whole)
    assert streamed.size().height() == whole.size().height()
    assert _blank_visible_blocks(streamed) == 0  # no separator shows as a blank line (e.g. before a list)


def test_spacing_holds_while_streaming(qtbot: Any) -> None:
    """Mid-stream, the part shown is spaced like the same text rendered whole (no gap grows between frames)."""
    part = REPLY[: REPLY.index("Between")]
    streamed = _document()
    streaming = StreamingDocument(streamed)
    for end in [*range(0, len(part), 7), len(part)]:
        streaming.feed(part[:end])
    whole = _document()
    whole.setHtml(render_markdown(part))
    assert _visible_lines(streamed) == _visible_lines(whole)
    assert _blank_visible_blocks(streamed) == 0


async def test_a_render_finished_but_not_yet_applied_is_kept_when_more_text_arrives() -> None:
    # the worker is done with a frame but the UI has not collected it yet (its 4 ms timer has not fired) when
    # the next frame arrives: the finished blocks of the first must still reach the document
    document = _document()
    stream = StreamingDocument(document, threaded=True)
    first = "A [link](https://example.com) in the first paragraph.\n\nSecond.\n\nThird.\n\nFourth, still open"
    stream.feed(first)
    assert stream._future is not None
    assert stream._future.result()[1].startswith("<p>A <a href")  # done on the worker; nothing collected it
    stream.feed(first + " and growing.\n\nFifth")
    await until(lambda: not stream.busy)
    assert stream.finish(first + " and growing.\n\nFifth and last.")
    await until(lambda: not stream.busy)
    assert "https://example.com" in document.toHtml()
    shown = [text for text, _top in _visible_lines(document)]
    assert shown == ["A link in the first paragraph.", "Second.", "Third.", "Fourth, still open and growing.",
                     "Fifth and last."]
