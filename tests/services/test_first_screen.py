"""The replies' HTML kept at close for the next start's first paint: what is kept, replaced and forgotten."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop_assistant.core.first_screen import DISPLAY_LIMIT, display_part, render_key
from desktop_assistant.core.models import Message, Role
from desktop_assistant.core.render import render_markdown
from desktop_assistant.services.first_screen import NEWEST, FirstScreenCache
from desktop_assistant.services.migrations import MIGRATIONS
from desktop_assistant.services.store import Store
from tests.services.data_helpers import text_part


async def _chat(store: Store, turns: int, reply: str = "Reply **{n}** with `code`") -> list[Message]:
    conversation = await store.create_conversation("gpt-4o-mini", title="chat")
    path: list[Message] = []
    parent = None
    for n in range(turns):
        question = await store.add_message(conversation.id, parent, Role.USER, [text_part(f"Question {n}")])
        answer = await store.add_message(conversation.id, question.id, Role.ASSISTANT,
                                         [text_part(reply.format(n=n))])
        path += [question, answer]
        parent = answer.id
    return path


async def test_the_newest_replies_are_kept_rendered_for_the_theme(store: Store) -> None:
    path = await _chat(store, 6)
    cache = FirstScreenCache(store)
    await cache.save(path, dark=False)
    kept = cache.load_sync()
    replies = [m for m in path[-NEWEST:] if m.role is Role.ASSISTANT]
    assert sorted(kept) == sorted(m.id for m in replies)  # questions are shown as plain text: nothing to keep
    for message in replies:
        key, html = kept[message.id]
        assert key == render_key(message.text, False) != render_key(message.text, True)
        assert html == render_markdown(message.text, dark=False)


async def test_a_later_close_replaces_what_was_kept_and_renders_only_what_changed(store: Store) -> None:
    cache = FirstScreenCache(store)
    first = await _chat(store, 2)
    await cache.save(first, dark=False)
    second = await _chat(store, 1, reply="Another conversation")
    await cache.save(second, dark=True)
    kept = cache.load_sync()
    assert list(kept) == [second[-1].id]  # one screen of one conversation
    assert kept[second[-1].id][0] == render_key("Another conversation", True)

    def tamper(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE rendered_html SET html = 'unchanged, so not rendered again'")
    await store.write(tamper)
    await cache.save(second, dark=True)
    assert cache.load_sync()[second[-1].id][1] == "unchanged, so not rendered again"
    edited = Message(**{**second[-1].__dict__, "parts": [text_part("Edited")]})
    await cache.save([second[0], edited], dark=True)
    assert cache.load_sync()[edited.id] == (render_key("Edited", True), render_markdown("Edited", dark=True))


async def test_a_very_long_reply_is_kept_as_the_part_that_is_shown(store: Store) -> None:
    path = await _chat(store, 1, reply="word " * (DISPLAY_LIMIT // 4))
    cache = FirstScreenCache(store)
    await cache.save(path, dark=False)
    key, _html = cache.load_sync()[path[-1].id]
    assert key == render_key(display_part(path[-1].text), False)


async def test_a_deleted_conversation_takes_its_kept_html_with_it(store: Store) -> None:
    path = await _chat(store, 2)
    cache = FirstScreenCache(store)
    await cache.save(path, dark=False)
    assert cache.load_sync()
    await store.delete_conversation(path[0].conversation_id)
    await store.purge_deleted()
    assert cache.load_sync() == {}


async def test_a_database_without_the_table_has_nothing_kept(tmp_path: Path) -> None:
    # a database that could not be upgraded is opened read-only as it is: the first screen renders as before
    older = Store(tmp_path / "old.sqlite3", migrations=MIGRATIONS[:9])  # before 10: rendered_html
    older.open()
    path = await _chat(older, 1)
    await older.close()
    store = Store(tmp_path / "old.sqlite3")
    store.open_read_only()
    try:
        cache = FirstScreenCache(store)
        assert cache.load_sync() == {}
        await cache.save(path, dark=False)  # nothing written, nothing raised
    finally:
        await store.close()
