"""Safe upgrades and backups, on real SQLite files: a copy before every migration, a failed migration leaves the
file untouched (the app opens it read-only), a newer file is refused, backups rotate and restore with a preview."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

import pytest

from desktop_assistant.core.errors import UserFacingError
from desktop_assistant.services import backup
from desktop_assistant.services.migrations import LATEST, MIGRATIONS, MigrationFailedError, NewerDatabaseError
from desktop_assistant.services.store import Store
from desktop_assistant.services.store_backup import StoreBackups
from tests.services.data_helpers import make_old_database, records, seed, version_of


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("version", range(1, LATEST))
async def test_every_earlier_schema_migrates_with_a_backup_left_behind(tmp_path: Path, version: int) -> None:
    path = tmp_path / "conversations.sqlite3"
    make_old_database(path, version)
    before = _digest(path)
    store = Store(path)
    store.open()
    try:
        assert store.started_at_version == version
        assert version_of(path) == LATEST
        assert [m.text for m in await store.messages(1)] == [f"hello from v{version}"]
        assert (await store.ledger())[0].cost_micros == 9
        copy = store.pre_migration_backup
        assert copy is not None and copy.parent == tmp_path / "backups"
        assert copy.name.startswith(f"conversations-before-v{LATEST}-from-v{version}-")
        assert version_of(copy) == version
        assert backup.inspect(copy).conversations == 1
    finally:
        store.close_sync()
    assert before != _digest(path)


def test_no_backup_for_a_fresh_or_current_database(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    for _ in range(2):  # created, then reopened at the latest version
        store = Store(path)
        store.open()
        assert store.pre_migration_backup is None
        store.close_sync()
    assert not (tmp_path / "backups").exists()


def test_a_failing_migration_leaves_the_file_untouched_and_opens_read_only(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    make_old_database(path, 2)
    broken = [*MIGRATIONS, ["CREATE TABLE extra (x)", "THIS IS NOT SQL"]]
    store = Store(path, migrations=broken)
    with pytest.raises(MigrationFailedError) as caught:
        store.open_or_recover()
    assert caught.value.from_version == 2 and caught.value.backup is not None
    assert "Nothing was changed" in str(caught.value) and caught.value.backup in str(caught.value)
    assert version_of(path) == 2  # the earlier good steps were rolled back too: one transaction
    conn = sqlite3.connect(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    assert "extra" not in tables and "usage_daily" not in tables and "imports" not in tables
    assert not list(tmp_path.glob("*.damaged-*"))  # not mistaken for a damaged file

    store.open_read_only()
    try:
        assert store.read_only and store.started_at_version == 2
        assert [c.title for c in store.call_sync(store.list_conversations_sync)] == ["Old chat"]
        assert [m.text for m in store.call_sync(store.messages_sync, 1)] == ["hello from v2"]
        with pytest.raises(UserFacingError, match="read-only"):
            store.call_sync(store._tx, lambda c: c.execute("DELETE FROM messages"))
    finally:
        store.close_sync()
    assert version_of(path) == 2


def test_a_newer_database_is_refused_untouched_and_not_backed_up(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    make_old_database(path, LATEST)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()
    before = _digest(path)
    with pytest.raises(NewerDatabaseError, match="newer version"):
        Store(path).open_or_recover()
    assert _digest(path) == before
    assert not (tmp_path / "backups").exists()


async def test_back_up_now_and_preview(tmp_path: Path) -> None:
    store = Store(tmp_path / "data" / "conversations.sqlite3")
    store.open()
    try:
        await seed(store)
        dest = await StoreBackups(store).back_up_to(tmp_path / "chosen" / "my backup.sqlite3")
        info = backup.inspect(dest)
        assert (info.schema_version, info.conversations, info.messages) == (LATEST, 2, 6)
        assert "2 conversations, 6 messages" in info.summary()
        assert not list((tmp_path / "chosen").glob(".*partial"))
        assert b"sk-" not in dest.read_bytes()  # nothing key-shaped: the key is never in the database
        assert dest.stat().st_mode & 0o777 == 0o600  # a copy in the home folder: readable by its owner only
    finally:
        store.close_sync()


def test_the_app_s_folders_are_private_even_when_made_before(tmp_path: Path) -> None:
    from desktop_assistant.services.paths import AppPaths

    paths = AppPaths.under(tmp_path)
    paths.data.mkdir(parents=True, mode=0o755)  # the single-instance lock made it first, with the umask's modes
    paths.data.chmod(0o755)
    paths.ensure()
    for folder in (paths.data, paths.config, paths.cache):
        assert folder.stat().st_mode & 0o777 == 0o700, folder


async def test_automatic_backups_are_daily_and_keep_the_last_n(tmp_path: Path) -> None:
    store = Store(tmp_path / "conversations.sqlite3")
    store.open()
    try:
        backups = StoreBackups(store)
        assert await backups.auto_backup_if_due(keep=0) is None  # off
        first = await backups.auto_backup_if_due(keep=3)
        assert first is not None and first.exists()
        assert await backups.auto_backup_if_due(keep=3) is None  # not due again the same day
        day = 24 * 3600
        start = time.time()
        assert await backups.auto_backup_if_due(keep=3, now=start + day - 60) is None
        for n in range(1, 5):  # four more days
            assert await backups.auto_backup_if_due(keep=3, now=start + n * day + 60) is not None
        kept = backup.auto_backups(backups.folder)
        assert len(kept) == 3
        assert first not in kept  # the oldest went
    finally:
        store.close_sync()


async def test_restore_shows_what_it_holds_keeps_the_current_one_and_replaces(tmp_path: Path) -> None:
    store = Store(tmp_path / "conversations.sqlite3")
    store.open()
    try:
        await seed(store)
        backups = StoreBackups(store)
        saved = await backups.back_up_to(tmp_path / "saved.sqlite3")
        await store.create_conversation("gpt-4o", title="made after the backup")
        preview = await backups.inspect(saved)
        assert (preview.conversations, preview.messages) == (2, 6)
        result = await backups.restore(saved)
        assert [c.title for c in await store.list_conversations()][-1] == "Trip to Lisbon"
        assert len(await store.list_conversations()) == 2
        assert backup.inspect(result.kept_current_at).conversations == 3  # the replaced database, kept
        await store.create_conversation("gpt-4o", title="still writable")
        assert len(await store.list_conversations()) == 3
    finally:
        store.close_sync()


async def test_restore_keeps_what_was_spent_after_the_backup(tmp_path: Path) -> None:
    from desktop_assistant.core.models import LedgerEntry, Usage

    store = Store(tmp_path / "conversations.sqlite3")
    store.open()
    try:
        old_chat = await store.create_conversation("gpt-4o", title="before")
        await store.record_usage(LedgerEntry("chat", "gpt-4o", Usage(10, 0, 10, 0, False), 1_000,
                                             conversation_id=old_chat.id, created_at=time.time() - 60))
        backups = StoreBackups(store)
        saved = await backups.back_up_to(tmp_path / "saved.sqlite3")
        new_chat = await store.create_conversation("gpt-4o", title="after")
        for cost in (20_000, 30_000):  # spent after the backup: still spent, whatever the restore brings back
            await store.record_usage(LedgerEntry("chat", "gpt-4o", Usage(10, 0, 10, 0, False), cost,
                                                 conversation_id=new_chat.id, created_at=time.time()))
        result = await backups.restore(saved)
        assert result.spending_kept == 2
        rows = await store.read(lambda c: c.execute(
            "SELECT cost_micros, conversation_id FROM usage_ledger ORDER BY created_at").fetchall())
        assert [tuple(r) for r in rows] == [(1_000, old_chat.id), (20_000, None), (30_000, None)]  # its chat is gone
        month = await store.read(lambda c: c.execute("SELECT SUM(cost_micros) FROM usage_daily").fetchone()[0])
        assert month == 51_000  # the daily roll-up the limits and Usage read, too
        again = await backups.restore(saved)  # a second restore of the same backup does not count them twice
        assert again.spending_kept == 2
        total = await store.read(lambda c: c.execute("SELECT SUM(cost_micros) FROM usage_ledger").fetchone()[0])
        assert total == 51_000
    finally:
        store.close_sync()


async def test_restore_an_older_backup_migrates_it(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite3"
    make_old_database(old, 1)
    store = Store(tmp_path / "conversations.sqlite3")
    store.open()
    try:
        result = await StoreBackups(store).restore(old)
        assert result.started_at_version == 1
        assert [m.text for m in await store.messages(1)] == ["hello from v1"]
        assert version_of(old) == 1  # the backup file itself is not changed
        assert (await store.ledger())[0].job is None
    finally:
        store.close_sync()


async def test_restore_refuses_a_newer_or_broken_backup_before_touching_anything(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite3"
    make_old_database(newer, LATEST)
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {LATEST + 3}")
    conn.close()
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    store = Store(tmp_path / "data" / "conversations.sqlite3")
    store.open()
    try:
        await seed(store)
        backups = StoreBackups(store)
        assert (await backups.inspect(newer)).newer_than_app
        with pytest.raises(UserFacingError, match="newer version"):
            await backups.restore(newer)
        with pytest.raises(UserFacingError, match="not a backup"):
            await backups.restore(junk)
        assert len(records(store)) == 2
        assert not backups.folder.exists()  # nothing kept: nothing was replaced
    finally:
        store.close_sync()


async def test_the_newest_backup_with_conversations_is_kept_aside_after_damage(tmp_path: Path) -> None:
    store = Store(tmp_path / "conversations.sqlite3")
    store.open()
    try:
        folder = tmp_path / "backups"
        now = time.time()
        await seed(store)
        full = await store.read(lambda conn: backup.auto_backup(conn, folder, keep=7, now=now))
        await store.read(lambda conn: conn.execute("DELETE FROM conversations"))  # (as a new database would be)
        empty = await store.read(lambda conn: backup.auto_backup(conn, folder, keep=7, now=now))  # the same second
        assert empty.name.endswith("-2.sqlite3") and backup.auto_backups(folder) == [full, empty]  # made last
        kept = backup.keep_newest_aside(folder, now=now)
        assert kept is not None and kept.conversations == 2  # the empty one brings nothing back: skipped
        assert kept.path.name.startswith("conversations-before-damage-") and kept.path not in backup.auto_backups(
            folder)
    finally:
        store.close_sync()


async def test_restore_keeps_the_words_being_written(tmp_path: Path) -> None:
    """Unsent drafts are not in what a restore is about: the words written since the backup stay (of a new chat,
    of the conversations the backup has, Extract's input), and a conversation back from the backup keeps its own."""
    from desktop_assistant.services.drafts import DraftStore, KeptDraft

    store = Store(tmp_path / "conversations.sqlite3")
    store.open()
    try:
        drafts = DraftStore(store)
        both = await store.create_conversation("gpt-4o", title="in the backup")
        gone_since = await store.create_conversation("gpt-4o", title="deleted after the backup")
        await drafts.save(gone_since.id, KeptDraft("its own old draft"))
        await drafts.save(both.id, KeptDraft("old words"))
        await drafts.keep_text("extract_input", "old input")
        backups = StoreBackups(store)
        saved = await backups.back_up_to(tmp_path / "saved.sqlite3")
        await store.delete_conversation(gone_since.id)
        await drafts.prune()
        after = await store.create_conversation("gpt-4o", title="after the backup")
        await drafts.save(both.id, KeptDraft("How do I merge two dicts?"))
        await drafts.save(None, KeptDraft("A brand new chat draft"))
        await drafts.save(after.id, KeptDraft("words of a conversation the backup does not have"))
        await drafts.keep_text("extract_input", "")  # emptied since: stays empty
        await drafts.keep_text("extract_instructions", "only dates")

        result = await backups.restore(saved)
        assert result.drafts_kept == 3  # the new chat, and two conversations the backup has
        assert (await drafts.load(both.id)).text == "How do I merge two dicts?"
        assert (await drafts.load(None)).text == "A brand new chat draft"
        assert (await drafts.load(gone_since.id)).text == "its own old draft"  # back with its conversation
        assert await drafts.texts() == {"extract_instructions": "only dates"}
    finally:
        store.close_sync()
