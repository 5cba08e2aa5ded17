"""Find in a conversation (Ctrl+F) and text zoom (Ctrl+plus/minus, remembered)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_assistant.ui.chat.find_bar import FindBar
from desktop_assistant.ui.chat.transcript import PAGE, Transcript
from tests.conftest import until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start
from tests.ui.test_transcript_lazy import _messages, _wait_built

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


def test_find_in_a_long_conversation_builds_only_the_message_it_goes_to(qtbot: QtBot) -> None:
    """Every message holding the words was rendered to search it: 2,000 of them froze the window for minutes and
    took a gigabyte. Now the text is searched, and only the message a step goes to is built."""
    transcript = Transcript()
    qtbot.addWidget(transcript)
    transcript.resize(900, 600)
    transcript.show()
    messages = _messages(3 * PAGE)  # 90 questions, "Question 0" ... "Question 178"
    transcript.set_messages(messages)
    _wait_built(transcript)
    built = len(transcript.views)
    assert built == PAGE
    bar = FindBar(transcript)
    qtbot.addWidget(bar)
    bar.open_bar(messages)
    bar.field.setText("question")
    # from the first found among the messages shown (no jump to the start), counted from the text
    assert bar.count.text() == "61 of 90" and len(transcript.views) == built
    assert len(bar.matches) == PAGE // 2  # the views built are marked
    bar.step(-1)  # up to the question before: only it is built now (and the reply between, in the background)
    assert bar.count.text() == "60 of 90" and len(transcript.views) == built + 1
    _wait_built(transcript)
    assert len(transcript.views) == built + 2  # no gap in the conversation shown
    for _ in range(60):
        bar.step(1)
    assert bar.count.text() == "30 of 90"  # round the end to the oldest and on: each built as it is reached
    assert messages[0].id in transcript.views and len(transcript.views) == built + 2 + 30
    bar.field.setText("no such words")
    assert bar.count.text() == "No matches" and bar.matches == []
