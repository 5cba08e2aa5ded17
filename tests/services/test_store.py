"""The SQLite store on a real file, through its worker thread."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from desktop_assistant.core.branches import active_path, newest_leaf_under, siblings
from desktop_assistant.core.models import LedgerEntry, Role, Status, Usage, text_part
from desktop_assistant.services.migrations import LATEST, MigrationFailedError, NewerDatabaseError
from desktop_assistant.services.store import Store


async def test_creates_schema_with_wal(store: Store) -> None:
    assert store.path.exists()
    assert store.started_at_version == 0
    mode = store.call_sync(lambda: store.conn.execute("PRAGMA journal_mode").fetchone()[0])
    version = store.call_sync(lambda: store.conn.execute("PRAGMA user_version").fetchone()[0])
    assert (mode, version) == ("wal", LATEST)


async def test_sql_runs_on_one_worker_thread(store: Store) -> None:
    names = {await store._run(lambda: threading.current_thread().name) for _ in range(3)}
    assert len(names) == 1 and names.pop().startswith("store")
    assert threading.current_thread().name != "store"


async def test_conversation_roundtrip_and_order(store: Store) -> None:
    a = await store.create_conversation("gpt-4o-mini", title="A")
    b = await store.create_conversation("gpt-4o", title="B", system_prompt="Be brief.", temperature=0.2)
    assert [c.title for c in await store.list_conversations()] == ["B", "A"]
    await store.add_message(a.id, None, Role.USER, [text_part("hi")])
    assert [c.title for c in await store.list_conversations()] == ["A", "B"]
    got = await store.get_conversation(b.id)
    assert got is not None and got.system_prompt == "Be brief." and got.temperature == 0.2
    await store.update_conversation(b.id, title="Renamed", title_by_user=True)
    got = await store.get_conversation(b.id)
    assert got is not None and got.title == "Renamed" and got.title_by_user
    with pytest.raises(ValueError):
        await store.update_conversation(b.id, deleted_at=1)


async def test_delete_undo_and_purge(store: Store) -> None:
    c = await store.create_conversation("gpt-4o-mini", title="gone")
    await store.add_message(c.id, None, Role.USER, [text_part("x")])
    await store.delete_conversation(c.id)
    assert await store.list_conversations() == []
    await store.restore_conversation(c.id)
    assert [x.id for x in await store.list_conversations()] == [c.id]
    await store.delete_conversation(c.id)
    assert await store.purge_deleted() == 1
    assert await store.messages(c.id) == []


async def test_messages_tree_and_branches(store: Store) -> None:
    c = await store.create_conversation("gpt-4o-mini")
    q1 = await store.add_message(c.id, None, Role.USER, [text_part("first question")])
    a1 = await store.add_message(c.id, q1.id, Role.ASSISTANT, [text_part("answer")], model="gpt-4o-mini")
    q2 = await store.add_message(c.id, a1.id, Role.USER, [text_part("follow up")])
    q2b = await store.add_message(c.id, a1.id, Role.USER, [text_part("edited follow up")])
    conv = await store.get_conversation(c.id)
    assert conv is not None and conv.current_leaf_id == q2b.id
    msgs = await store.messages(c.id)
    assert [m.text for m in active_path(msgs, conv.current_leaf_id)] == ["first question", "answer",
                                                                         "edited follow up"]
    assert [m.id for m in siblings(msgs, q2b)] == [q2.id, q2b.id]
    assert newest_leaf_under(msgs, q2.id) == q2.id
    assert [m.text for m in active_path(msgs, q2.id)][-1] == "follow up"


async def test_update_message_and_usage(store: Store) -> None:
    c = await store.create_conversation("gpt-4o-mini")
    m = await store.add_message(c.id, None, Role.ASSISTANT, [text_part("")], status=Status.STREAMING)
    usage = Usage(input_tokens=12, cached_input_tokens=2, output_tokens=5, estimated=True)
    await store.update_message(m.id, parts=[text_part("Hello")], status=Status.STOPPED, usage=usage,
                               cost_micros=7, finish_reason="stop")
    (got,) = await store.messages(c.id)
    assert (got.text, got.status, got.usage, got.cost_micros) == ("Hello", Status.STOPPED, usage, 7)


async def test_ledger_and_conversation_cost(store: Store) -> None:
    c = await store.create_conversation("gpt-4o-mini")
    for cost in (120, 30, None):
        await store.record_usage(LedgerEntry("chat", "gpt-4o-mini", Usage(10, 0, 5), cost, conversation_id=c.id))
    await store.record_usage(LedgerEntry("chat", "gpt-4o-mini", Usage(1, 0, 1), 999))
    assert await store.conversation_cost(c.id) == 150
    assert len(await store.ledger(c.id)) == 3
    assert (await store.list_conversations())[0].cost_micros == 150


async def test_streaming_left_by_crash_reads_as_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    first = Store(path)
    first.open()
    c = await first.create_conversation("gpt-4o-mini")
    q = await first.add_message(c.id, None, Role.USER, [text_part("question")])
    await first.add_message(c.id, q.id, Role.ASSISTANT, [text_part("half an ans")], status=Status.STREAMING)
    first.close_sync()
    second = Store(path)
    second.open()
    try:
        assert second.interrupted_on_open == 1
        msgs = await second.messages(c.id)
        assert [(m.text, m.status) for m in msgs] == [("question", Status.COMPLETE),
                                                     ("half an ans", Status.INTERRUPTED)]
    finally:
        second.close_sync()


def test_newer_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = path.read_bytes()
    store = Store(path)
    with pytest.raises(NewerDatabaseError, match="newer version"):
        store.open()
    assert path.read_bytes() == before


def test_failed_migration_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_assistant.services import migrations

    broken = [*migrations.MIGRATIONS, ["CREATE TABLE extra (x)", "THIS IS NOT SQL"]]
    monkeypatch.setattr(migrations, "MIGRATIONS", broken)
    monkeypatch.setattr(migrations, "LATEST", len(broken))
    store = Store(tmp_path / "db.sqlite3")
    with pytest.raises(MigrationFailedError):
        store.open()
    conn = sqlite3.connect(tmp_path / "db.sqlite3")
    # every pending migration runs in one transaction: a failure leaves the file exactly as it was (empty here)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='extra'").fetchone() is None
    conn.close()
