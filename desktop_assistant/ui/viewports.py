"""Scroll areas whose viewport is made in Python, so that asking for it costs nothing at start-up.

The first time Qt hands Python a ``QWidget*`` that has no Python wrapper yet (``viewport()`` of a scroll area
whose viewport Qt made), PySide looks for the object's most derived type through every ``QWidget`` subclass,
creating each of them with its enums: about 70 classes, ~15 ms, once per process. A viewport made here is
wrapped from the start, so the window's first paint does not pay for that search.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QAbstractScrollArea, QTextBrowser, QTextEdit, QWidget

VIEWPORT_NAME = "qt_scrollarea_viewport"
"""The object name Qt gives the viewports it makes (style sheets may select it)."""


def own_viewport(area: QAbstractScrollArea) -> QWidget:
    """Replace ``area``'s viewport with one made here, set up as Qt sets up its own, and return it.

    Call it first thing in the constructor: what is configured afterwards (cursor, read-only state) then applies
    to this viewport. A text edit's document is told to lay out for the new viewport, whose predecessor Qt
    deletes. Unlike Qt's, a text edit's viewport made here takes no drops (the app's are read-only, so a drop
    goes on to the window, as before).
    """
    viewport = QWidget()
    viewport.setObjectName(VIEWPORT_NAME)
    viewport.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
    viewport.setAutoFillBackground(True)
    if isinstance(area, QTextEdit):
        viewport.setBackgroundRole(QPalette.ColorRole.Base)
        viewport.setMouseTracking(True)  # links under the pointer change the cursor
        browser = isinstance(area, QTextBrowser)
        viewport.setCursor(Qt.CursorShape.ArrowCursor if browser else Qt.CursorShape.IBeamCursor)
    area.setViewport(viewport)
    if isinstance(area, QTextEdit):
        # the layout still points at the deleted viewport as its paint device (a crash at the first layout)
        area.document().documentLayout().setPaintDevice(viewport)
    return viewport
