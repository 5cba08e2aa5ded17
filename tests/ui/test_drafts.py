"""The words being written survive closing the app and a crash: kept in the database a moment after typing stops
and at close, put back in the box at the next start, with the images and files attached to them; a sent draft
is gone."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_assistant.services.paths import AppPaths
from tests.conftest import next_emission, until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start
from tests.ui.test_vision import png_file

fake_openai = fixture.fake_openai


def kept(root: Path) -> list[str]:
    """The draft in the database file, read as another process would (after a crash)."""
    return [text for text, _attached in kept_rows(root)]


def kept_rows(root: Path) -> list[tuple[str, dict[str, list[object]]]]:
    """The draft's words and attachments in the database file."""
    conn = sqlite3.connect(f"file:{AppPaths.under(root).database}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT text, attachments FROM drafts ORDER BY conversation_id").fetchall()
        return [(str(text), json.loads(attached)) for text, attached in rows]
    finally:
        conn.close()


async def test_a_draft_is_kept_as_typed_and_back_at_the_next_start(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                    qtbot: QtBot) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        qtbot.keyClicks(parts.window.composer.edit, "Dear model, I have been wondering")
        await until(lambda: kept(tmp_path) == ["Dear model, I have been wondering"])  # on disk before any close
        qtbot.keyClicks(parts.window.composer.edit, " about tides")  # and closed at once: the close keeps it
    assert kept(tmp_path) == ["Dear model, I have been wondering about tides"]
    async with built_app(tmp_path, fake_openai.base_url) as again:
        assert again.window.composer.text == "Dear model, I have been wondering about tides"  # before the paint
        await start(again)
        await until(lambda: again.estimates.last is not None and again.estimates.last.draft_tokens > 0)  # counted


async def test_a_sent_draft_is_gone_and_an_edit_keeps_the_draft_that_waits(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                          qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="An answer."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        composer = parts.window.composer
        qtbot.keyClicks(composer.edit, "A question")
        await until(lambda: kept(tmp_path) == ["A question"])
        composer.send_button.click()
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        await until(lambda: kept(tmp_path) == [])  # sent: no longer a draft
        qtbot.keyClicks(composer.edit, "Half a thought")
        parts.window.transcript.views[parts.chat.path[0].id].edit_button.click()
        assert composer.text == "A question"  # closed while editing the earlier question
    assert kept(tmp_path) == ["Half a thought"]
    async with built_app(tmp_path, fake_openai.base_url) as again:
        assert again.window.composer.text == "Half a thought"


async def test_the_draft_in_the_box_is_kept_after_a_backup_is_restored(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                       qtbot: QtBot) -> None:
    backup = tmp_path / "backup.sqlite3"
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        composer = parts.window.composer
        qtbot.keyClicks(composer.edit, "old draft")
        await until(lambda: kept(tmp_path) == ["old draft"])
        assert parts.data.back_up_now(backup)
        await until(lambda: not parts.data.busy and backup.exists())
        composer.set_text("")
        qtbot.keyClicks(composer.edit, "precious new draft")
        await until(lambda: kept(tmp_path) == ["precious new draft"])
        assert parts.data.restore(backup)  # the backup holds the old draft
        await next_emission(parts.data.restored.connect)
        await until(lambda: not parts.data.busy)
        assert composer.text == "precious new draft"
    async with built_app(tmp_path, fake_openai.base_url) as again:
        assert again.window.composer.text == "precious new draft"


async def test_the_images_and_files_of_a_draft_come_back_at_the_next_start(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                           qtbot: QtBot) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Tide tables for the week\n", encoding="utf-8")
    picture = png_file(tmp_path, "chart.png", 400, 300)
    async with built_app(tmp_path / "app", fake_openai.base_url) as parts:
        await start(parts)
        await parts.attachments.add_files([picture, notes])
        assert len(parts.attachments.items) == 1 and len(parts.attachments.files) == 1
        # nothing typed: a draft of a screenshot alone is a draft too, kept a moment after it was attached
        await until(lambda: [len(a["images"]) for _text, a in kept_rows(tmp_path / "app")] == [1])
        qtbot.keyClicks(parts.window.composer.edit, "What do these show?")
        sha = parts.attachments.items[0].sha256
    async with built_app(tmp_path / "app", fake_openai.base_url) as again:
        assert again.window.composer.text == "What do these show?"
        await start(again)  # the attachments come back after the first paint
        assert [a.sha256 for a in again.attachments.items] == [sha]
        assert again.attachments.items[0].name == "chart.png"
        assert [f.name for f in again.attachments.files] == ["notes.txt"]
        assert again.attachments.files[0].text.startswith("Tide tables")
        bar = again.window.composer.attachments
        assert len(bar.chips) == 1 and len(bar.file_chips) == 1 and bar.isVisibleTo(again.window)
        assert not again.attachments.thumbnails[sha].isNull()  # the chip shows the picture, not a blank
        # the estimate counts them, as it did before the close
        await until(lambda: again.estimates.last is not None and sha in again.estimates.last.images
                    and bool(again.estimates.last.files))
        fake_openai.enqueue(Reply(text="A chart of tides."))
        again.window.composer.send_button.click()
        await until(lambda: len(again.chat.path) == 2 and not again.chat.streaming)
        sent = again.chat.path[0].parts
        assert any(p.get("type") == "image_url" for p in sent) and any(p.get("file") == "notes.txt" for p in sent)
        await until(lambda: kept_rows(tmp_path / "app") == [])  # sent with the question: no longer a draft


async def test_an_image_of_a_draft_no_longer_on_disk_is_left_out_and_said(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                         qtbot: QtBot) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.attachments.add_files([png_file(tmp_path, "gone.png", 200, 100)])
        qtbot.keyClicks(parts.window.composer.edit, "Look at this")
        stored = parts.attachments.images.path_for(parts.attachments.items[0].sha256,
                                                   parts.attachments.items[0].mime)
    stored.unlink()  # removed by hand, or by a clean-up tool
    async with built_app(tmp_path, fake_openai.base_url) as again:
        await start(again)
        assert again.window.composer.text == "Look at this"  # the words are kept
        assert again.attachments.items == []
        refusal = again.window.composer.refusal
        assert refusal.isVisibleTo(again.window) and "could not be found" in refusal.text()
        await until(lambda: [a["images"] for _text, a in kept_rows(tmp_path)] == [[]])  # and kept as it now is


async def test_extract_s_instructions_and_input_come_back_at_the_next_start(tmp_path: Path,
                                                                            fake_openai: FakeOpenAI) -> None:
    from tests.ui.extract_fixture import extract_parts

    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        ws = extract_parts(parts).workspace
        ws.instructions.setPlainText("Dates as YYYY-MM-DD")
        ws.input.edit.setPlainText("Ana must send the report by March 14.\nBob calls the bank on Friday.")
        # closed at once: the close keeps them
    async with built_app(tmp_path, fake_openai.base_url) as again:
        await start(again)
        x = extract_parts(again)
        assert x.workspace.instructions.toPlainText() == "Dates as YYYY-MM-DD"
        assert x.extraction.instructions == "Dates as YYYY-MM-DD"  # and they are what is sent
        assert x.workspace.input.text.startswith("Ana must send the report")
        x.workspace.input.edit.setPlainText("")  # emptied: nothing is kept
        x.workspace.instructions.setPlainText("")
        await again.texts.flush()  # type: ignore[union-attr]
    async with built_app(tmp_path, fake_openai.base_url) as third:
        await start(third)
        ws = extract_parts(third).workspace
        assert ws.input.text == "" and ws.instructions.toPlainText() == ""


async def test_an_edit_of_an_earlier_question_comes_back_with_its_conversation_and_at_the_next_start(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="An answer."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window, composer = parts.window, parts.window.composer
        await parts.chat.send("A question")
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        question = parts.chat.path[0]
        qtbot.keyClicks(composer.edit, "Half a thought")
        window.transcript.views[question.id].edit_button.click()
        composer.set_text("A better question")
        window.new_chat()  # the edit stays with its conversation, as the draft that waits does
        await until(lambda: composer.text == "" and composer.send_button.text() == "Send")
        assert "was not sent" not in window.banner.label.text()
        await parts.chat.open_conversation(question.conversation_id)
        await until(lambda: composer.text == "A better question" and composer.send_button.text() == "Resend")
        assert "Editing an earlier message" in composer.edit_hint.text()
        assert window.transcript.views[question.id].property("editing")  # outlined again
        qtbot.keyClick(window, Qt.Key.Key_Escape)
        assert composer.text == "Half a thought"  # the draft waited
        window.transcript.views[question.id].edit_button.click()
        composer.set_text("The best question")
    # closed while editing: the edit is on disk with the draft that waits
    assert kept_rows(tmp_path) == [("Half a thought", {"images": [], "files": [], "edit": {
        "message_id": question.id, "text": "The best question"}})]
    async with built_app(tmp_path, fake_openai.base_url) as again:
        assert again.window.composer.text == "Half a thought"  # the first paint shows the draft
        await start(again)
        composer = again.window.composer
        await until(lambda: composer.text == "The best question" and composer.send_button.text() == "Resend")
        qtbot.keyClick(again.window, Qt.Key.Key_Escape)
        assert composer.text == "Half a thought"
        await until(lambda: kept_rows(tmp_path) == [("Half a thought", {"images": [], "files": []})])  # let go


async def test_each_conversation_keeps_its_own_draft(tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="About tides."))
    picture = png_file(tmp_path, "chart.png", 400, 300)
    async with built_app(tmp_path / "app", fake_openai.base_url) as parts:
        await start(parts)
        window, composer = parts.window, parts.window.composer
        await parts.chat.send("Tell me about tides")
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        tides = parts.chat.conversation
        assert tides is not None
        qtbot.keyClicks(composer.edit, "and the moon?")
        await parts.attachments.add_files([picture])
        window.new_chat()  # a new chat starts with an empty box: the words and the image stay with "tides"
        await until(lambda: composer.text == "" and not parts.attachments.items)
        qtbot.keyClicks(composer.edit, "a new subject")
        await until(lambda: ("a new subject", {"images": [], "files": []}) in kept_rows(tmp_path / "app"))
        await parts.chat.open_conversation(tides.id)
        await until(lambda: composer.text == "and the moon?" and len(parts.attachments.items) == 1)
        window.new_chat()
        await until(lambda: composer.text == "a new subject" and not parts.attachments.items)
        await parts.chat.open_conversation(tides.id)
        await until(lambda: composer.text == "and the moon?")
    async with built_app(tmp_path / "app", fake_openai.base_url) as again:  # the conversation shown at close
        assert again.chat.conversation is not None and again.chat.conversation.id == tides.id
        assert again.window.composer.text == "and the moon?"
        await start(again)
        assert len(again.attachments.items) == 1
        again.window.new_chat()
        await until(lambda: again.window.composer.text == "a new subject")


async def test_a_new_chat_left_at_close_comes_back_with_its_draft(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                  qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="An answer."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send("A first conversation")
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        parts.window.new_chat()
        qtbot.keyClicks(parts.window.composer.edit, "Words for a new subject")
        await until(lambda: "Words for a new subject" in kept(tmp_path))  # (a crash now keeps them too)
    async with built_app(tmp_path, fake_openai.base_url) as again:  # the new chat, not the last conversation
        assert again.chat.conversation is None
        assert again.window.composer.text == "Words for a new subject"  # in the first paint already
        await start(again)
        assert again.window.transcript.empty.isVisibleTo(again.window.transcript)
