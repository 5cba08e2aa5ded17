"""Storage faults: a full disk, a damaged database, a second instance."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_assistant.controllers import instance
from desktop_assistant.controllers.instance import InstanceGuard
from desktop_assistant.core.errors import ErrorKind
from desktop_assistant.services.paths import AppPaths
from tests.conftest import next_emission, until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start

fake_openai = fixture.fake_openai


async def test_disk_full_keeps_the_draft_and_says_so(tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        # the database may not grow by a single page: exactly what a full disk looks like to SQLite
        await parts.store.read(lambda c: c.execute(
            f"PRAGMA max_page_count = {c.execute('PRAGMA page_count').fetchone()[0]}"))
        composer = parts.window.composer
        qtbot.keyClicks(composer.edit, "Words I do not want to lose " * 200)
        qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
        await until(lambda: composer.refusal.isVisibleTo(composer))
        assert "disk is full" in composer.refusal.text()
        assert composer.text.startswith("Words I do not want to lose")
        assert not [n for n in parts.notices.history if n.kind is ErrorKind.INTERNAL]
        assert not [r for r in fake_openai.requests if r.path.endswith("/chat/completions")]


async def test_damaged_database_is_moved_aside_not_overwritten(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    database = AppPaths.under(tmp_path).database
    database.parent.mkdir(parents=True)
    garbage = b"this is not a database " * 500
    database.write_bytes(garbage)
    fake_openai.enqueue(Reply(text="fresh start"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        kept = [p for p in database.parent.iterdir() if ".damaged-" in p.name]
        assert len(kept) == 1 and kept[0].read_bytes() == garbage
        warning = next(n for n in parts.notices.history if "could not be read" in n.text)
        assert str(kept[0]) in warning.text
        assert parts.window.banner.isVisibleTo(parts.window)
        await parts.chat.send("hello")
        await until(lambda: len(parts.chat.path) == 2 and parts.chat.path[-1].text == "fresh start")
    conn = sqlite3.connect(database)
    assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 2
    conn.close()


async def test_a_damaged_database_offers_the_newest_automatic_backup_back(tmp_path: Path,
                                                                          fake_openai: FakeOpenAI) -> None:
    from desktop_assistant.services import backup

    paths = AppPaths.under(tmp_path)
    fake_openai.enqueue(Reply(text="one"), Reply(text="two"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        for question in ("First chat", "Second chat"):
            parts.window.new_chat()
            await parts.chat.send(question)
            await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        folder = backup.backup_dir(paths.data)
        await parts.store.read(lambda conn: backup.auto_backup(conn, folder, keep=7))  # the daily one
    with open(paths.database, "r+b") as damaged:  # months later, a bad sector
        damaged.seek(0)
        damaged.write(b"\0" * 4096)
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        banner = parts.window.banner
        await until(lambda: banner.isVisibleTo(parts.window) and banner.action.text() == "Restore it")
        assert "could not be read" in banner.label.text() and "holds 2 conversations" in banner.label.text()
        assert await parts.store.list_conversations() == []
        aside = list(folder.glob("conversations-before-damage-*.sqlite3"))
        assert len(aside) == 1  # kept out of rotation: the new database's daily backups cannot push it out
        backup.rotate(folder, 0)
        assert aside[0].exists()
        restored = next_emission(parts.data.restored.connect)
        banner.action.click()
        await restored
        titles = sorted(c.title for c in await parts.store.list_conversations())
        assert titles == ["First chat", "Second chat"]


async def test_second_instance_raises_the_first(tmp_path: Path) -> None:
    first = InstanceGuard(tmp_path)
    assert first.claim()
    first.listen()
    second = InstanceGuard(tmp_path)
    assert not second.claim()
    await next_emission(first.raiseRequested.connect)
    first.release()
    third = InstanceGuard(tmp_path)
    assert third.claim()  # after the first quits (or crashed and left its socket) a new start takes over
    third.release()
    assert InstanceGuard(tmp_path / "other").name != first.name


HOLDER = """
import sys, time
from pathlib import Path
from PySide6.QtCore import QCoreApplication
from desktop_assistant.controllers.instance import InstanceGuard
app = QCoreApplication([])
guard = InstanceGuard(Path(sys.argv[1]))
print("claimed" if guard.claim() else "refused", flush=True)
time.sleep(120)  # holds the lock and never listens: a first instance still starting, or hung
"""


@pytest.mark.skipif(sys.platform == "win32", reason="killed with SIGKILL")
def test_a_lock_held_by_another_process_refuses_until_that_process_dies(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instance, "ANSWER_WAIT_S", 0.3)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "claimed"
        started = time.monotonic()
        assert not InstanceGuard(tmp_path).claim()  # the first is there, even if it does not answer yet
        assert time.monotonic() - started >= 0.3  # it was given time to start listening
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    after = InstanceGuard(tmp_path)
    assert after.claim()  # a killed instance leaves nothing behind that blocks the next start
    after.release()


def test_a_second_start_waits_for_a_first_one_that_is_still_starting(tmp_path: Path, qtbot: QtBot) -> None:
    first = InstanceGuard(tmp_path)
    assert first.claim()
    second = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    try:
        time.sleep(0.5)  # the first is still painting its window: not listening yet
        with qtbot.waitSignal(first.raiseRequested, timeout=5000):
            first.listen()
        assert second.stdout is not None and second.stdout.readline().strip() == "refused"
    finally:
        second.kill()
        second.wait(10)
        first.release()
