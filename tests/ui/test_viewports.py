"""A viewport made in Python behaves as the one Qt makes: text lays out, links click, the transcript scrolls."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QScrollArea, QTextBrowser, QTextEdit, QWidget
from pytestqt.qtbot import QtBot

from desktop_assistant.ui.chat.message_view import SafeBrowser
from desktop_assistant.ui.viewports import VIEWPORT_NAME, own_viewport


def test_a_text_browser_with_its_own_viewport_lays_out_and_opens_links(qtbot: QtBot) -> None:
    browser = SafeBrowser()
    qtbot.addWidget(browser)
    browser.setHtml('<p>Read <a href="https://example.com/x">the docs</a> before you start.</p>' + "<p>more</p>" * 8)
    browser.resize(320, 200)
    browser.show()
    qtbot.waitExposed(browser)
    viewport = browser.viewport()
    assert viewport is browser._viewport and viewport.objectName() == VIEWPORT_NAME
    assert viewport.hasMouseTracking()
    assert browser.document().textWidth() == viewport.width() > 0
    assert browser.height() >= int(browser.document().size().height())  # fitted to the laid-out text
    clicked: list[QUrl] = []
    browser.linkClicked.connect(clicked.append)
    cursor = browser.document().find("the docs")
    at = browser.cursorRect(cursor).center() - QPoint(8, 0)
    qtbot.mouseMove(viewport, at)
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=at)
    assert [url.toString() for url in clicked] == ["https://example.com/x"]
    browser.resize(200, 200)  # narrower: the text wraps again to the new width
    qtbot.waitUntil(lambda: browser.document().textWidth() == viewport.width())


def test_a_plain_scroll_area_keeps_the_look_of_qts_viewport(qtbot: QtBot) -> None:
    made, ours = QScrollArea(), QScrollArea()
    for area in (made, ours):
        qtbot.addWidget(area)
    viewport = own_viewport(ours)
    original = made.viewport()
    assert ours.viewport() is viewport
    for attribute in (Qt.WidgetAttribute.WA_AcceptTouchEvents,):
        assert viewport.testAttribute(attribute) == original.testAttribute(attribute)
    assert viewport.autoFillBackground() == original.autoFillBackground()
    assert viewport.backgroundRole() == original.backgroundRole()
    ours.setWidget(QWidget())
    ours.widget().setMinimumHeight(2000)
    ours.resize(200, 300)
    ours.show()
    qtbot.waitExposed(ours)
    ours.verticalScrollBar().setValue(500)
    assert ours.widget().y() == -500  # the content scrolls inside the new viewport


@pytest.mark.parametrize("kind", [QTextBrowser, QTextEdit])
def test_a_text_edit_viewport_matches_qts_own(qtbot: QtBot, kind: type[QTextEdit]) -> None:
    made, ours = kind(), kind()
    for edit in (made, ours):
        qtbot.addWidget(edit)
    viewport = own_viewport(ours)
    original = made.viewport()
    assert viewport.backgroundRole() == original.backgroundRole() == QPalette.ColorRole.Base
    assert viewport.hasMouseTracking() == original.hasMouseTracking()
    assert viewport.cursor().shape() == original.cursor().shape()
    assert viewport.autoFillBackground() == original.autoFillBackground()
    ours.setPlainText("text\n" * 50)
    ours.resize(200, 100)
    ours.show()
    qtbot.waitExposed(ours)
    assert ours.document().size().height() > 100  # laid out against the new paint device without a crash
