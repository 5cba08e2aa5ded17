"""Seeding and comparing conversations for the backup, export and import tests (real SQLite files)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from desktop_assistant.core.export_format import ConversationRecord
from desktop_assistant.core.models import Role, Status, Usage, text_part
from desktop_assistant.services.data_io import load_record
from desktop_assistant.services.migrations import MIGRATIONS
from desktop_assistant.services.store import Store

T0 = 1_750_000_000.0
PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJ"
       "RU5ErkJggg==")


async def seed(store: Store) -> list[int]:
    """Two conversations: one with an edit branch, usage and an image; one short with a hostile title."""
    first = await store.create_conversation("gpt-4o-mini", title="Trip to Lisbon", system_prompt="Be brief.",
                                            temperature=0.3, max_output_tokens=500)
    q = await store.add_message(first.id, None, Role.USER, [text_part("Where should I eat?"),
                                                            {"type": "image_url", "image_url": {"url": PNG}}])
    a = await store.add_message(first.id, q.id, Role.ASSISTANT, [text_part("Try **Time Out Market**.")],
                                model="gpt-4o-mini")
    await store.update_message(a.id, usage=Usage(12, 2, 30, 0, False), cost_micros=42, finish_reason="stop")
    edited = await store.add_message(first.id, None, Role.USER, [text_part("Where should I eat fish?")])
    await store.add_message(first.id, edited.id, Role.ASSISTANT, [text_part("Cervejaria Ramiro.\n\n```py\nx=1\n```")],
                            status=Status.STOPPED)
    await store.update_conversation(first.id, current_leaf_id=a.id, tools=["weather", "notes"])  # MCP server ids
    second = await store.create_conversation("gpt-4.1", title="<script>alert(1)</script> & co")
    q2 = await store.add_message(second.id, None, Role.USER, [text_part("<img src=http://evil.example/x.png>")])
    await store.add_message(second.id, q2.id, Role.ASSISTANT, [text_part("![x](http://evil.example/y.png) ok")])
    return [first.id, second.id]


def records(store: Store) -> list[ConversationRecord]:
    """Every conversation as a record (ids kept), oldest first."""
    def do() -> list[ConversationRecord]:
        ids = [r[0] for r in store.conn.execute("SELECT id FROM conversations WHERE deleted_at IS NULL ORDER BY id")]
        return [r for r in (load_record(store.conn, i) for i in ids) if r is not None]
    return store.call_sync(do)


def normalized(record: ConversationRecord) -> dict[str, Any]:
    """A record with message ids replaced by their position, so two stores can be compared."""
    order = {m.id: i for i, m in enumerate(record.messages)}
    data = {k: v for k, v in record.__dict__.items() if k not in ("messages", "source_key", "origin", "left_out")}
    data["current_leaf"] = order.get(record.current_leaf) if record.current_leaf is not None else None
    data["messages"] = [{**m.__dict__, "id": order[m.id], "parent": order.get(m.parent) if m.parent else None}
                        for m in record.messages]
    return data


def make_old_database(path: Path, version: int) -> None:
    """A database as the app at schema ``version`` left it: one conversation, one message, one ledger row."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for step in MIGRATIONS[:version]:
            for statement in step:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("""INSERT INTO conversations(id, title, model, created_at, updated_at)
                        VALUES (1, 'Old chat', 'gpt-4o-mini', ?, ?)""", (T0, T0))
        conn.execute("""INSERT INTO messages(id, conversation_id, role, content, status, created_at, updated_at)
                        VALUES (1, 1, 'user', ?, 'complete', ?, ?)""",
                     (json.dumps([text_part(f"hello from v{version}")]), T0, T0))
        conn.execute("UPDATE conversations SET current_leaf_id = 1")
        conn.execute("""INSERT INTO usage_ledger(created_at, feature, conversation_id, message_id, model, input_tokens,
                        cached_input_tokens, output_tokens, cost_micros) VALUES (?, 'chat', 1, 1, 'gpt-4o-mini',
                        5, 0, 7, 9)""", (T0,))
    finally:
        conn.close()


def version_of(path: Path) -> int:
    """The schema version of a database file, read without changing it."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()
