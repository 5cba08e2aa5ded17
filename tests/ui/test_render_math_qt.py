"""Rendered math in Qt's rich-text engine: readable text, centred display math, copy-math anchors."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication

from desktop_assistant.core.render import document_css, math_sources, render_markdown, strip_break_hints

TEXT = "Euler: $e^{i\\pi} + 1 = 0$ costs $5 and $10.\n\n$$\n\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}\n$$\n\nEnd."


def _document(text: str) -> QTextDocument:
    assert QApplication.instance() is not None or QApplication([]) is not None
    document = QTextDocument()
    document.setDefaultStyleSheet(document_css())
    document.setHtml(render_markdown(text))
    return document


def test_math_text_alignment_and_anchors() -> None:
    document = _document(TEXT)
    plain = strip_break_hints(document.toPlainText())
    assert "Euler: e^(iπ) + 1 = 0 costs $5 and $10." in plain
    assert "∑ᵢ₌₁ⁿ i = (n(n+1))/2" in plain
    anchors: list[str] = []
    centred = False
    block = document.begin()
    while block.isValid():
        if "∑" in block.text():
            centred = bool(block.blockFormat().alignment() & Qt.AlignmentFlag.AlignHCenter)
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            href = fragment.charFormat().anchorHref()
            if href and (not anchors or anchors[-1] != href):
                anchors.append(href)
            if "π" in fragment.text():
                assert fragment.charFormat().fontItalic()
            it += 1
        block = block.next()
    assert centred
    assert anchors == ["copy-math:0", "copy-math:1"]
    assert math_sources(TEXT) == ["e^{i\\pi} + 1 = 0", "\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}"]
