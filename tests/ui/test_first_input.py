"""The first key press, mouse press or wheel turn anywhere in the app, noticed once."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from desktop_assistant.ui.first_input import FirstInput


def test_first_mouse_press_is_noticed_once_and_nothing_is_consumed(qtbot: QtBot) -> None:
    window = QWidget()
    layout = QVBoxLayout(window)
    button, line = QPushButton("Press"), QLineEdit()
    layout.addWidget(button)
    layout.addWidget(line)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    app = QApplication.instance()
    assert app is not None
    watch = FirstInput(app)
    seen: list[bool] = []
    watch.happened.connect(lambda: seen.append(True))
    window.resize(300, 200)  # resizes, paints and timers are not input
    qtbot.wait(20)
    assert seen == []
    clicks: list[bool] = []
    button.clicked.connect(lambda: clicks.append(True))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert seen == [True] and clicks == [True]  # the click still reached the button
    qtbot.keyClicks(line, "abc")
    assert seen == [True] and line.text() == "abc"


def test_a_key_press_is_input_too_and_stop_ends_the_watch(qtbot: QtBot) -> None:
    line = QLineEdit()
    qtbot.addWidget(line)
    app = QApplication.instance()
    assert app is not None
    first, second = FirstInput(app), FirstInput(app)
    seen: list[str] = []
    first.happened.connect(lambda: seen.append("first"))
    second.happened.connect(lambda: seen.append("second"))
    second.stop()
    qtbot.keyClick(line, Qt.Key.Key_A)
    assert seen == ["first"]


def test_text_from_an_input_method_counts_as_input(qtbot: QtBot) -> None:
    line = QLineEdit()
    qtbot.addWidget(line)
    app = QApplication.instance()
    assert app is not None
    watch = FirstInput(app)
    seen: list[bool] = []
    watch.happened.connect(lambda: seen.append(True))
    event = QInputMethodEvent()
    event.setCommitString("你好")  # a word composed with an input method: no key press reaches the widget
    QApplication.sendEvent(line, event)
    assert seen == [True] and line.text() == "你好"
