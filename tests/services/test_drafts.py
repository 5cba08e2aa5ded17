"""The kept draft in the database: its words with its images and files, replaced whole, read back as written."""

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
    assert await drafts.save(KeptDraft("What do these show?", (IMAGE,), (FILE,)))
    assert drafts.load_sync() == KeptDraft("What do these show?", (IMAGE,), (FILE,))
    assert await drafts.save(KeptDraft("", (IMAGE,)))  # a screenshot alone is a draft
    assert drafts.load_sync() == KeptDraft("", (IMAGE,))
    assert await drafts.save(KeptDraft())
    assert await store.read(lambda conn: conn.execute("SELECT COUNT(*) FROM draft").fetchone()[0]) == 0


async def test_attachments_that_cannot_be_read_leave_the_words(store: Store) -> None:
    await store.write(lambda conn: conn.execute(
        "INSERT INTO draft (id, text, attachments) VALUES (1, 'my words', '{not json')"))
    assert DraftStore(store).load_sync() == KeptDraft("my words")
    await store.write(lambda conn: conn.execute(
        """UPDATE draft SET attachments = '{"images": [3, {"sha256": "x"}], "files": "no"}'"""))
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
        assert not await drafts.save(KeptDraft("new words"))  # read-only: not written, nothing raised
    finally:
        await store.close()
