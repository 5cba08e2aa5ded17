"""Schema migrations: a version-1 database opened by the current store is brought up to date, data intact."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_assistant.core.models import LedgerEntry, Role, Status, Usage
from desktop_assistant.services.migrations import LATEST, MIGRATIONS, migrate
from desktop_assistant.services.store import Store

T0 = 1_790_000_000.0


def _make_v1(path: Path) -> None:
    """A database as version 1 of the app left it: one conversation, one message, one ledger row."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            """INSERT INTO conversations(id, title, model, system_prompt, created_at, updated_at)
               VALUES (1, 'Old chat', 'gpt-4o-mini', 'Be brief.', ?, ?)""", (T0, T0))
        conn.execute(
            """INSERT INTO messages(id, conversation_id, parent_id, role, content, status, model, input_tokens,
               cached_input_tokens, output_tokens, reasoning_tokens, cost_micros, created_at, updated_at)
               VALUES (1, 1, NULL, 'assistant', ?, 'complete', 'gpt-4o-mini', 12, 0, 34, 0, 56, ?, ?)""",
            (json.dumps([{"type": "text", "text": "hello from v1"}]), T0, T0))
        conn.execute("UPDATE conversations SET current_leaf_id = 1 WHERE id = 1")
        conn.execute(
            """INSERT INTO usage_ledger(id, created_at, feature, conversation_id, message_id, model, input_tokens,
               cached_input_tokens, output_tokens, reasoning_tokens, estimated, cost_micros)
               VALUES (1, ?, 'chat', 1, 1, 'gpt-4o-mini', 12, 0, 34, 0, 0, 56)""", (T0,))
    finally:
        conn.close()


def _columns(store: Store, table: str) -> list[str]:
    return store.call_sync(lambda: [r["name"] for r in store.conn.execute(f"PRAGMA table_info({table})")])


def _version(store: Store) -> int:
    return int(store.call_sync(lambda: store.conn.execute("PRAGMA user_version").fetchone()[0]))


@pytest.fixture
def v1_store(tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "db.sqlite3"
    _make_v1(path)
    s = Store(path)
    s.open()
    yield s
    s.close_sync()


def test_v1_file_is_really_v1(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    _make_v1(path)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        columns = [r[1] for r in conn.execute("PRAGMA table_info(usage_ledger)")]
        assert "job" not in columns and "batch" not in columns and "audio_input_tokens" not in columns
    finally:
        conn.close()


def test_latest_is_the_number_of_migrations() -> None:
    assert len(MIGRATIONS) == LATEST
    assert LATEST >= 2


async def test_v1_database_migrates_to_latest(v1_store: Store) -> None:
    assert v1_store.started_at_version == 1
    assert _version(v1_store) == LATEST
    columns = _columns(v1_store, "usage_ledger")
    for name in ("audio_input_tokens", "audio_output_tokens", "job", "batch"):
        assert name in columns
    assert "calls" in _columns(v1_store, "usage_daily")


async def test_old_rows_are_intact(v1_store: Store) -> None:
    conversations = await v1_store.list_conversations()
    assert [(c.id, c.title, c.model, c.system_prompt, c.current_leaf_id) for c in conversations] == [
        (1, "Old chat", "gpt-4o-mini", "Be brief.", 1)]
    assert conversations[0].cost_micros == 56
    messages = await v1_store.messages(1)
    assert len(messages) == 1
    m = messages[0]
    assert (m.role, m.status, m.text, m.model, m.cost_micros) == (Role.ASSISTANT, Status.COMPLETE, "hello from v1",
                                                                  "gpt-4o-mini", 56)
    assert m.usage == Usage(12, 0, 34, 0, False)
    assert await v1_store.conversation_cost(1) == 56


async def test_old_ledger_row_reads_with_defaults(v1_store: Store) -> None:
    assert await v1_store.ledger() == [
        LedgerEntry(feature="chat", model="gpt-4o-mini", usage=Usage(12, 0, 34, 0, False, 0, 0), cost_micros=56,
                    conversation_id=1, message_id=1, created_at=T0, id=1, job=None, batch=False)]
    old = (await v1_store.ledger(1))[0]
    assert (old.usage.audio_input_tokens, old.usage.audio_output_tokens, old.job, old.batch) == (0, 0, None, False)


async def test_new_columns_round_trip_after_migration(v1_store: Store) -> None:
    entry = LedgerEntry(feature="bulk", model="gpt-4o-audio-preview",
                        usage=Usage(input_tokens=100, cached_input_tokens=10, output_tokens=20, reasoning_tokens=3,
                                    estimated=True, audio_input_tokens=7, audio_output_tokens=9),
                        cost_micros=1234, conversation_id=1, created_at=T0 + 60, job="batch_abc", batch=True)
    new_id = await v1_store.record_usage(entry)
    rows = await v1_store.ledger()
    assert [r.id for r in rows] == [1, new_id]
    got = rows[1]
    assert got == LedgerEntry(feature="bulk", model="gpt-4o-audio-preview", usage=entry.usage, cost_micros=1234,
                              conversation_id=1, message_id=None, created_at=T0 + 60, id=new_id, job="batch_abc",
                              batch=True)
    assert await v1_store.conversation_cost(1) == 56 + 1234


async def test_old_ledger_rows_are_rolled_up_and_new_ones_follow(v1_store: Store) -> None:
    def daily() -> list[tuple[object, ...]]:
        return [tuple(r) for r in v1_store.conn.execute(
            """SELECT feature, model, calls, input_tokens, output_tokens, cost_micros, unpriced_calls
               FROM usage_daily ORDER BY feature""")]

    assert v1_store.call_sync(daily) == [("chat", "gpt-4o-mini", 1, 12, 34, 56, 0)]
    await v1_store.record_usage(LedgerEntry(feature="chat", model="gpt-4o-mini", usage=Usage(1, 0, 2),
                                            cost_micros=None, created_at=T0 + 1))
    assert v1_store.call_sync(daily) == [("chat", "gpt-4o-mini", 2, 13, 36, 56, 1)]


async def test_migration_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    _make_v1(path)
    first = Store(path)
    first.open()
    first.close_sync()
    again = Store(path)
    again.open()
    try:
        assert again.started_at_version == LATEST  # nothing left to migrate
        assert _version(again) == LATEST
        assert len(await again.ledger()) == 1
    finally:
        again.close_sync()


async def test_fresh_database_is_created_at_latest(tmp_path: Path) -> None:
    store = Store(tmp_path / "sub" / "fresh.sqlite3")
    store.open()
    try:
        assert store.started_at_version == 0
        assert _version(store) == LATEST
        assert await store.ledger() == []
        assert "batch" in _columns(store, "usage_ledger")
    finally:
        store.close_sync()


def test_migrate_applies_only_the_missing_steps(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    _make_v1(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert migrate(conn) == 1
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
        assert migrate(conn) == LATEST  # a second run changes nothing
        assert conn.execute("SELECT COUNT(*) FROM usage_ledger").fetchone()[0] == 1
    finally:
        conn.close()
