"""The tools a conversation may use (migration 8) and tool messages, on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from desktop_assistant.core.models import Role, Status, tool_call_part, tool_result_part
from desktop_assistant.services.store import Store


async def test_enabled_servers_and_tool_messages_survive_reopening(tmp_path: Path, store: Store) -> None:
    conv = await store.create_conversation("gpt-4o-mini", title="t")
    assert conv.tools == []
    await store.update_conversation(conv.id, tools=["files", "web"])
    reply = await store.add_message(conv.id, None, Role.ASSISTANT,
                                    [tool_call_part("call_1", "read", "{}", "files", "read")])
    result = await store.add_message(conv.id, reply.id, Role.TOOL, [tool_result_part("call_1", "read", "text")],
                                     status=Status.STOPPED)
    store.close_sync()
    again = Store(tmp_path / "db.sqlite3")
    again.open()
    try:
        loaded = await again.get_conversation(conv.id)
        assert loaded is not None and loaded.tools == ["files", "web"] and loaded.current_leaf_id == result.id
        messages = await again.messages(conv.id)
        assert [(m.role, m.status) for m in messages] == [(Role.ASSISTANT, Status.COMPLETE),
                                                          (Role.TOOL, Status.STOPPED)]
        assert messages[1].parts[0]["tool_call_id"] == "call_1"
    finally:
        again.close_sync()


async def test_a_damaged_tools_value_reads_as_none(store: Store) -> None:
    conv = await store.create_conversation("gpt-4o-mini")
    store.call_sync(lambda: store.conn.execute("UPDATE conversations SET tools='{oops' WHERE id=?", (conv.id,)))
    loaded = await store.get_conversation(conv.id)
    assert loaded is not None and loaded.tools == []
