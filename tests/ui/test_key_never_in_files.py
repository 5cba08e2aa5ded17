"""Onboarding stores the key in the keyring: no file the app writes ever contains it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_assistant.services.secrets import KeySource
from tests.conftest import next_emission, until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start

fake_openai = fixture.fake_openai
SECRET = "sk-never-in-a-file-0123456789"


@pytest.mark.skipif(not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and os.environ.get("CI") != "true",
                    reason="needs a Secret Service (scripts/test.sh starts one; CI must have it)")
@pytest.mark.keyring
async def test_onboarding_key_goes_to_keyring_only(tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:
    fake_openai.api_key = SECRET
    fake_openai.enqueue(Reply(text="Hello from the test server"))
    async with built_app(tmp_path, "https://api.openai.com/v1", key=None) as parts:
        await start(parts)
        window = parts.window
        assert window.stack.currentWidget() is window.onboarding
        form = window.onboarding.form
        form.base_url.setText(fake_openai.base_url)
        qtbot.keyClicks(form.api_key, SECRET)
        qtbot.mouseClick(form.test_button, Qt.MouseButton.LeftButton)
        ok, message = await next_emission(parts.endpoint.connectionTested.connect)
        assert ok, message
        qtbot.mouseClick(window.onboarding.start_button, Qt.MouseButton.LeftButton)
        await until(lambda: window.stack.currentWidget() is window.chat_page)
        assert parts.endpoint.key_source is KeySource.KEYRING
        await parts.chat.send("Hi")
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        assert parts.chat.path[-1].text == "Hello from the test server"
        assert fake_openai.requests[-1].headers["authorization"] == f"Bearer {SECRET}"
        await parts.lifecycle.shutdown()
        await parts.endpoint._secrets.delete_key(fake_openai.base_url)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "settings.json" for p in written)
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), f"the key leaked into {path}"


def test_the_welcome_puts_the_local_server_address_on_a_line_of_its_own(qtbot: QtBot) -> None:
    from PySide6.QtGui import QTextDocument
    from PySide6.QtWidgets import QLabel

    from desktop_assistant.ui.settings.onboarding import Onboarding

    page = Onboarding()
    qtbot.addWidget(page)
    intro = next(label for label in page.findChildren(QLabel) if "localhost:11434" in label.text())
    document = QTextDocument()
    document.setDefaultFont(intro.font())
    document.setHtml(intro.text()) if intro.textFormat() == Qt.TextFormat.RichText else document.setPlainText(
        intro.text())
    plain = document.toPlainText()
    start, end = plain.index("http://localhost"), plain.index("/v1") + 2
    for width in range(240, 640, 8):  # however wide the window, the address is never cut at its slashes
        document.setTextWidth(width)
        document.size()  # (laid out now, not when painted)
        block = document.findBlock(start)
        layout = block.layout()
        assert layout is not None
        line = layout.lineForTextPosition(start - block.position())
        assert line.isValid() and line.textStart() == start - block.position(), width
        assert layout.lineForTextPosition(end - block.position()).lineNumber() == line.lineNumber(), width
