"""The kept drafts in the database, one for each conversation: words with images and files, replaced whole, read
back as written."""

from __future__ import annotations

from pathlib import Path

from desktop_assistant.services.drafts import DraftStore, KeptDraft
from desktop_assistant.services.migrations import MIGRATIONS
from desktop_assistant.services.store import Store

IMAGE = {"sha256": "ab" * 32, "mime": "image/png", "width": 400, "height": 300, "name": "chart.png",
         "detail": "auto", "note": ""}
FILE = {"key": "cd" * 32, "name": "notes.txt", "text": "Tide tables ✓", "kind": "text", "original_chars": 13,
        "pages": 0}


async def test_a_draft_is_read_back_as_kept_and_an_empty_one_removes_it(store: Store) -> None:
    drafts = DraftStore(store)
    assert drafts.load_sync() == KeptDraft()
    assert await drafts.save(None, KeptDraft("What do these show?", (IMAGE,), (FILE,)))
    assert drafts.load_sync() == KeptDraft("What do these show?", (IMAGE,), (FILE,))
    assert await drafts.save(None, KeptDraft("", (IMAGE,)))  # a screenshot alone is a draft
    assert drafts.load_sync() == KeptDraft("", (IMAGE,))
    assert await drafts.save(None, KeptDraft())
    assert await store.read(lambda conn: conn.execute("SELECT COUNT(*) FROM drafts").fetchone()[0]) == 0


async def test_each_conversation_has_its_own_draft_and_a_deleted_one_s_goes(store: Store) -> None:
    drafts = DraftStore(store)
    first = await store.create_conversation("gpt-4o-mini", title="Tides")
    second = await store.create_conversation("gpt-4o-mini", title="Bread")
    assert await drafts.save(first.id, KeptDraft("about tides"))
    assert await drafts.save(second.id, KeptDraft("about bread"))
    assert await drafts.save(None, KeptDraft("a new chat's words"))
    assert (drafts.load_sync(first.id), await drafts.load(second.id), await drafts.load(None)) == (
        KeptDraft("about tides"), KeptDraft("about bread"), KeptDraft("a new chat's words"))
    await store.write(lambda conn: conn.execute("DELETE FROM conversations WHERE id = ?", (second.id,)))
    await drafts.prune()
    assert await drafts.load(second.id) == KeptDraft() and await drafts.load(first.id) == KeptDraft("about tides")
    assert await drafts.load(None) == KeptDraft("a new chat's words")


async def test_an_edit_in_progress_is_kept_with_the_draft(store: Store) -> None:
    drafts = DraftStore(store)
    conversation = await store.create_conversation("gpt-4o-mini")
    edit = KeptDraft("my draft waits", (IMAGE,), edit=(7, "the question, reworded"))
    assert await drafts.save(conversation.id, edit)
    assert await drafts.load(conversation.id) == edit
    assert await drafts.save(conversation.id, KeptDraft(edit=(7, "")))  # an edit that empties the box is kept too
    assert await drafts.load(conversation.id) == KeptDraft(edit=(7, ""))
    await store.write(lambda conn: conn.execute(
        """UPDATE drafts SET attachments = '{"images": [], "edit": {"message_id": "7", "text": 3}}'"""))
    assert await drafts.load(conversation.id) == KeptDraft()  # an edit that cannot be read is left out


async def test_attachments_that_cannot_be_read_leave_the_words(store: Store) -> None:
    await store.write(lambda conn: conn.execute(
        "INSERT INTO drafts (conversation_id, text, attachments) VALUES (0, 'my words', '{not json')"))
    assert DraftStore(store).load_sync() == KeptDraft("my words")
    await store.write(lambda conn: conn.execute(
        """UPDATE drafts SET attachments = '{"images": [3, {"sha256": "x"}], "files": "no"}'"""))
    assert DraftStore(store).load_sync() == KeptDraft("my words", ({"sha256": "x"},))  # checked where attached


async def test_a_database_of_the_schema_before_keeps_its_words(tmp_path: Path) -> None:
    # a database whose upgrade failed is opened read-only as it is: its draft has words and no attachments
    older = Store(tmp_path / "old.sqlite3", migrations=MIGRATIONS[:11])
    older.open()
    await older.write(lambda conn: conn.execute("INSERT INTO draft (id, text) VALUES (1, 'older words')"))
    await older.close()
    store = Store(tmp_path / "old.sqlite3")
    store.open_read_only()
    try:
        drafts = DraftStore(store)
        assert drafts.load_sync() == KeptDraft("older words")
        assert not await drafts.save(None, KeptDraft("new words"))  # read-only: not written, nothing raised
    finally:
        await store.close()


async def test_the_one_draft_of_before_goes_to_the_conversation_shown_at_start(tmp_path: Path) -> None:
    older = Store(tmp_path / "old.sqlite3", migrations=MIGRATIONS[:13])
    older.open()
    earlier = await older.create_conversation("gpt-4o-mini", title="Earlier")
    latest = await older.create_conversation("gpt-4o-mini", title="Latest")
    await older.write(lambda conn: conn.execute(
        "UPDATE conversations SET updated_at = updated_at + 60 WHERE id = ?", (latest.id,)))
    await older.write(lambda conn: conn.execute(
        """INSERT INTO draft (id, text, attachments) VALUES (1, 'half written', '{"images": [], "files": []}')"""))
    await older.close()
    store = Store(tmp_path / "old.sqlite3")
    store.open()
    try:
        drafts = DraftStore(store)
        assert drafts.load_sync(latest.id) == KeptDraft("half written")
        assert drafts.load_sync(earlier.id) == KeptDraft() and drafts.load_sync(None) == KeptDraft()
    finally:
        await store.close()
