"""The words being written survive closing the app and a crash: kept in the database a moment after typing stops
and at close, put back in the box at the next start; a sent draft is gone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop_assistant.services.paths import AppPaths
from tests.conftest import next_emission, until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start

fake_openai = fixture.fake_openai


def kept(root: Path) -> list[str]:
    """The draft in the database file, read as another process would (after a crash)."""
    conn = sqlite3.connect(f"file:{AppPaths.under(root).database}?mode=ro", uri=True)
    try:
        return [str(row[0]) for row in conn.execute("SELECT text FROM draft")]
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
