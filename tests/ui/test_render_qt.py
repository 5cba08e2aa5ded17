"""Rendered markdown in Qt's own rich-text widgets: right text, no resource ever requested, fast layout."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextCursor, QTextDocument, QTextListFormat
from PySide6.QtWidgets import QTextBrowser

from desktop_assistant.core.render import (
    StreamRenderer,
    code_blocks,
    document_css,
    render_markdown,
    strip_break_hints,
)
from desktop_assistant.ui.chat.stream_document import StreamingDocument

HOSTILE = """# Hostile sample

![remote](http://evil.example/pixel.png) ![local](file:///etc/passwd) ![qrc](qrc:/icons/app.png)
![data](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk)

<img src="http://evil.example/raw.png"> <img src="file:///etc/hosts"> <IMG SRC=//evil.example/x.gif>

[js](javascript:alert(1)) [file](file:///etc/passwd) [ok](https://example.com) <https://auto.example>
[mail](mailto:someone@example.com) [rel](images/x.png)

<style>p { background-image: url(http://evil.example/bg.png) }</style>
<table background="http://evil.example/t.png"><tr><td>cell</td></tr></table>
<link rel=stylesheet href="http://evil.example/s.css">

| a | ![in table](https://evil.example/t.png) |
|---|---|
| <img src=http://evil.example/c.png> | `<img src=x>` |

```html
<img src="http://evil.example/code.png">
```
"""


ALLOWED_ANCHORS = re.compile(r"(https?://[^/]|mailto:.|copy-code:\d+$)")


class RecordingBrowser(QTextBrowser):
    """A QTextBrowser that records every resource its document asks for and loads none."""

    def __init__(self) -> None:
        super().__init__()
        self.requested: list[str] = []
        self.setOpenLinks(False)

    def loadResource(self, type_: int, url: QUrl | str) -> Any:
        self.requested.append(QUrl(url).toString())
        return None


def _show(qtbot: Any, html: str, dark: bool = False) -> RecordingBrowser:
    browser = RecordingBrowser()
    qtbot.addWidget(browser)
    browser.resize(700, 900)
    browser.document().setDefaultStyleSheet(document_css(dark))
    browser.setHtml(html)
    browser.show()
    qtbot.waitExposed(browser)
    browser.document().size()  # full layout
    browser.grab()  # full paint
    browser.verticalScrollBar().setValue(browser.verticalScrollBar().maximum())
    browser.grab()
    return browser


def _anchors(document: QTextDocument) -> list[str]:
    out: list[str] = []
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isAnchor() and fmt.anchorHref() and (not out or out[-1] != fmt.anchorHref()):
                out.append(fmt.anchorHref())
            it += 1
        block = block.next()
    return out


def test_recorder_sees_requests(qtbot: Any) -> None:
    """The harness works: a raw <img> does make the document ask for its URL."""
    browser = _show(qtbot, '<p><img src="http://example.com/control.png"></p>')
    assert "http://example.com/control.png" in browser.requested


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_rendered_document_requests_no_resource(qtbot: Any, dark: bool) -> None:
    browser = _show(qtbot, render_markdown(HOSTILE, dark=dark), dark=dark)
    assert browser.requested == []
    assert browser.document().allFormats()  # something was laid out


def test_plain_text_shows_everything_as_text(qtbot: Any) -> None:
    browser = _show(qtbot, render_markdown(HOSTILE))
    text = strip_break_hints(browser.document().toPlainText())
    for expected in [
        "Hostile sample",
        "[image: remote]",
        "![local](file:///etc/passwd)",  # not an image for markdown-it (file: is refused): literal text
        '<img src="http://evil.example/raw.png">',
        "<style>p { background-image: url(http://evil.example/bg.png) }</style>",
        '<table background="http://evil.example/t.png"><tr><td>cell</td></tr></table>',
        "[js](javascript:alert(1))",
        "[image: in table]",
        "<img src=x>",
        '<img src="http://evil.example/code.png">',
        "Copy",
    ]:
        assert expected in text, expected
    assert text.count("Copy") == len(code_blocks(HOSTILE)) == 1


def test_only_safe_anchors_reach_the_document(qtbot: Any) -> None:
    browser = _show(qtbot, render_markdown(HOSTILE))
    anchors = _anchors(browser.document())
    assert anchors, "expected some links"
    for href in anchors:
        assert ALLOWED_ANCHORS.match(href), href
    assert "https://example.com" in anchors and "copy-code:0" in anchors
    assert not any(a.startswith(("file:", "javascript:", "qrc:", "data:")) for a in anchors)


def test_structure_survives_in_qt(qtbot: Any) -> None:
    text = "# Title\n\n| a | b |\n|---|--:|\n| 1 | 22 |\n\n1. one\n2. two\n\n```python\nx = 1\n```\n"
    browser = _show(qtbot, render_markdown(text))
    document = browser.document()
    cursor = QTextCursor(document)
    tables = 0
    block = document.begin()
    while block.isValid():
        cursor.setPosition(block.position())
        tables += (
            cursor.currentTable() is not None and cursor.currentTable().firstPosition() == block.position()
        )
        block = block.next()
    assert tables == 1
    plain = document.toPlainText()
    assert "Title" in plain and "22" in plain and "x = 1" in plain
    assert browser.requested == []


def test_one_megabyte_line_lays_out_quickly(qtbot: Any) -> None:
    for source in ["x" * 1_000_000, "```\n" + "y" * 1_000_000 + "\n```"]:
        html = render_markdown(source)
        document = QTextDocument()
        start = time.perf_counter()
        document.setHtml(html)
        document.setTextWidth(700)
        height = document.size().height()
        assert time.perf_counter() - start < 3.0  # ~0.15 s here; an unbroken line takes ~25 s
        assert height > 10_000  # it wrapped
        assert len(strip_break_hints(document.toPlainText()).strip()) >= 1_000_000


def _list_numbers(document: QTextDocument) -> list[str]:
    numbers: list[str] = []
    block = document.begin()
    while block.isValid():
        text_list = block.textList()
        if text_list is not None and text_list.format().style() == QTextListFormat.Style.ListDecimal:
            numbers.append(text_list.itemText(block))
        block = block.next()
    return numbers


def test_streamed_long_list_keeps_numbering_in_qt(qtbot: Any) -> None:
    text = "Intro\n\n" + "".join(f"1. item {i} " + "word " * 60 + "\n" for i in range(1, 31)) + "\nEnd\n"
    renderer = StreamRenderer()
    for end in range(0, len(text) + 64, 64):
        renderer.feed(text[:end])
    assert renderer.html.count("<ol") > 1  # the list was split while streaming
    browser = _show(qtbot, renderer.html)
    assert _list_numbers(browser.document()) == [f"{i}." for i in range(1, 31)]


def _stream_into(document: QTextDocument, text: str, chunk: int) -> None:
    """Stream ``text`` into ``document`` the way the message view does, ``chunk`` characters at a time."""
    streaming = StreamingDocument(document)
    for end in range(0, len(text) + chunk, chunk):
        streaming.feed(text[:end])


@pytest.mark.parametrize("chunk", [61, 211])
def test_append_stable_blocks_and_replace_tail(qtbot: Any, chunk: int) -> None:
    text = (
        HOSTILE + "\n\n" + "".join(f"1. step {i} " + "more " * 80 + "\n" for i in range(1, 25)) + "\nDone.\n"
    )
    browser = RecordingBrowser()
    qtbot.addWidget(browser)
    document = browser.document()
    _stream_into(document, text, chunk)
    whole = QTextDocument()
    whole.setHtml(render_markdown(text))
    assert re.sub(r"\s+", "", document.toPlainText()) == re.sub(r"\s+", "", whole.toPlainText())
    assert _list_numbers(document) == [f"{i}." for i in range(1, 25)]
    document.size()
    browser.grab()
    assert browser.requested == []
