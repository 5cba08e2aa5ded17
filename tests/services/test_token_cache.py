"""Token counts kept in the conversation database (real SQLite file, the store's own thread)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from desktop_assistant.core.token_counts import CountMemo
from desktop_assistant.services import token_cache
from desktop_assistant.services.store import Store
from desktop_assistant.services.token_cache import TokenCountCache


async def test_saved_counts_are_found_by_a_later_session(store: Store, tmp_path: Path) -> None:
    memo = CountMemo()
    cache = TokenCountCache(store, memo)
    memo.remember({b"k1" * 8: 5, b"k2" * 8: 1200})
    await cache.save()
    await cache.save()  # nothing new: nothing written twice
    rows = store.call_sync(lambda: store.conn.execute("SELECT COUNT(*) FROM token_counts").fetchone()[0])
    assert rows == 2
    store.close_sync()

    again = Store(tmp_path / "db.sqlite3")
    again.open()
    try:
        later = CountMemo()
        TokenCountCache(again, later).install()
        # looked up from a worker thread, as the estimate does
        found = await asyncio.to_thread(later.lookup, [b"k1" * 8, b"k2" * 8, b"k3" * 8])
        assert found == {b"k1" * 8: 5, b"k2" * 8: 1200}
    finally:
        again.close_sync()


async def test_many_keys_are_looked_up_in_chunks(store: Store) -> None:
    memo = CountMemo()
    cache = TokenCountCache(store, memo)
    counts = {i.to_bytes(16, "big"): i for i in range(2500)}
    memo.remember(counts)
    await cache.save()
    assert await asyncio.to_thread(cache.load, list(counts)) == counts


async def test_prune_keeps_the_newest_rows(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token_cache, "KEEP", 3)
    memo = CountMemo()
    cache = TokenCountCache(store, memo)
    for i in range(5):
        memo.remember({bytes([i]) * 16: i})
        await cache.save()
    await cache.prune()
    assert cache.load([bytes([i]) * 16 for i in range(5)]) == {bytes([i]) * 16: i for i in (2, 3, 4)}


async def test_a_closed_store_finds_nothing_and_uninstall_detaches(store: Store) -> None:
    memo = CountMemo()
    cache = TokenCountCache(store, memo)
    cache.install()
    assert memo.loader is not None
    store.close_sync()
    assert memo.lookup([b"x" * 16]) == {}
    cache.uninstall()
    assert memo.loader is None


async def test_a_count_that_cannot_be_written_is_dropped_quietly(store: Store, tmp_path: Path) -> None:
    memo = CountMemo()
    cache = TokenCountCache(store, memo)
    store.call_sync(lambda: store.conn.execute("DROP TABLE token_counts"))  # any failure of the write
    memo.remember({b"k" * 16: 3})
    await cache.save()  # logged, not raised: a count is only made again when next needed
    assert memo.take_unsaved() == []
    assert memo.lookup([b"k" * 16]) == {b"k" * 16: 3}  # still known for this session


def test_a_count_on_the_ui_thread_never_waits_for_the_store_thread(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Titles, a stopped reply's estimate, tool definitions and a search query are counted on the UI (main) thread:
    a store thread busy with a backup, a restore or an import must not freeze the window until it is done."""
    from desktop_assistant.core import tokens

    memo = CountMemo()
    monkeypatch.setattr(tokens, "MEMO", memo)
    tokens.get_encoding("o200k_base")  # built already, as it is once the person has typed
    TokenCountCache(store, memo).install()
    gate = threading.Event()
    busy = threading.Thread(target=store.call_sync, args=(gate.wait,))  # a long job on the store thread
    busy.start()
    release = threading.Timer(3.0, gate.set)  # the test cannot hang
    release.start()
    try:
        began = time.monotonic()
        counted = tokens.count_text("A title for this conversation, never counted before", "gpt-4o")
        waited = time.monotonic() - began
    finally:
        gate.set()
        release.cancel()
        busy.join()
    assert counted == len(tokens.get_encoding("o200k_base").encode_ordinary(
        "A title for this conversation, never counted before"))
    assert waited < 1.0, f"the UI thread waited {waited:.2f} s for the store thread"

