"""Find in a conversation (Ctrl+F) and text zoom (Ctrl+plus/minus, remembered)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.conftest import until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start

fake_openai = fixture.fake_openai


async def test_find_highlights_every_match_and_steps(tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="A **needle** here, and a Needle there."), Reply(text="No match in this one."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        for question in ("where is the needle?", "anything else?"):
            await parts.chat.send(question)
            await until(lambda: not parts.chat.streaming and parts.chat.path[-1].text != "")
        window = parts.window
        window.activateWindow()
        await until(window.isActiveWindow)
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        bar = window.find_bar
        assert bar.isVisible() and bar.field.hasFocus()
        qtbot.keyClicks(bar.field, "needle")
        assert len(bar.matches) == 3 and bar.count.text() == "1 of 3"  # the question and twice in the reply
        first_reply = parts.chat.path[1]
        assert len(window.transcript.views[first_reply.id].body.extraSelections()) == 2
        qtbot.keyClick(bar.field, Qt.Key.Key_Return)
        assert bar.count.text() == "2 of 3"
        qtbot.keyClick(bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
        qtbot.keyClick(bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
        assert bar.count.text() == "3 of 3"  # wraps around
        qtbot.keyClicks(bar.field, "zzz")
        assert bar.count.text() == "No matches"
        qtbot.keyClick(bar.field, Qt.Key.Key_Escape)
        assert not bar.isVisible()
        assert window.transcript.views[first_reply.id].body.extraSelections() == []
        await until(window.composer.edit.hasFocus)  # back where the person writes, not on the workspace tabs


async def test_zoom_is_applied_and_remembered(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        base = parts.window.transcript.font().pointSizeF()
        parts.window.zoom(10)
        parts.window.zoom(10)
        assert parts.endpoint.settings.text_zoom == 120
        assert abs(parts.window.transcript.font().pointSizeF() - base * 1.2) < 0.01
        await parts.lifecycle.shutdown()
    async with built_app(tmp_path, fake_openai.base_url) as again:
        assert abs(again.window.composer.edit.font().pointSizeF() - base * 1.2) < 0.01
        again.window.zoom(0)
        assert again.endpoint.settings.text_zoom == 100
