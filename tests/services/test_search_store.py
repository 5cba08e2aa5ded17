"""Keyword and vector search on a real SQLite file: the FTS5 index kept by triggers, ranking, snippets."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np

from desktop_assistant.core.models import Role, Status, text_part
from desktop_assistant.core.search import MATCH_END, MATCH_START, fts_phrase, fts_query, snippet_spans
from desktop_assistant.core.vectors import unit_vector
from desktop_assistant.services.migrations import MIGRATIONS, migrate
from desktop_assistant.services.search_store import SearchStore
from desktop_assistant.services.store import Store


async def _say(store: Store, conv: int, role: Role, *texts: str, status: Status = Status.COMPLETE) -> int:
    parts = [text_part(t) for t in texts]
    message = await store.add_message(conv, None, role, parts, status=status)
    return message.id


async def _keyword(search: SearchStore, text: str) -> list[int]:
    query = fts_query(text)
    assert query is not None
    return [hit.message_id for hit in await search.keyword(query)]


async def test_finds_words_with_accents_case_and_prefix_and_marks_them(store: Store) -> None:
    conv = (await store.create_conversation("gpt-4o-mini", title="Cooking")).id
    first = await _say(store, conv, Role.USER, "Where is the best Café in Zürich?")
    await _say(store, conv, Role.ASSISTANT, "Try the bakery near the station.")
    search = SearchStore(store)
    assert await _keyword(search, "cafe zurich") == [first]
    assert await _keyword(search, "CAF") == [first]  # the last word is a prefix while typing
    hit = (await search.keyword(fts_query("zurich") or ""))[0]
    plain, spans = snippet_spans(hit.snippet)
    assert [plain[a:b] for a, b in spans] == ["Zürich"]
    assert (hit.title, hit.role, hit.conversation_id) == ("Cooking", "user", conv)


async def test_ranking_puts_the_denser_match_first(store: Store) -> None:
    conv = (await store.create_conversation("gpt-4o-mini")).id
    once = await _say(store, conv, Role.USER, "A long message that mentions kubernetes once among many other "
                      "words about gardening, tomatoes, weather, holidays and the price of bread in town.")
    often = await _say(store, conv, Role.ASSISTANT, "Kubernetes: kubernetes pods and kubernetes services.")
    assert await _keyword(SearchStore(store), "kubernetes") == [often, once]


async def test_the_words_side_by_side_come_before_the_words_apart(store: Store) -> None:
    conv = (await store.create_conversation("gpt-4o-mini")).id
    phrase = await _say(store, conv, Role.USER, "How do I center a div in a page with a header and a footer around it")
    apart = await _say(store, conv, Role.ASSISTANT, "Center it: the div goes in a flex box. Center, center, center.")
    search = SearchStore(store)
    assert await _keyword(search, "center div") == [apart, phrase]  # bm25 alone: the denser match
    for typed in ("center a div", "center a di"):  # as typed, and while typing the last word
        query, words = fts_query(typed), fts_phrase(typed)
        assert query is not None and words is not None
        assert [hit.message_id for hit in await search.keyword(query, phrase=words)] == [phrase, apart]


async def test_index_follows_edits_deletes_and_streaming_updates(store: Store) -> None:
    conv = (await store.create_conversation("gpt-4o-mini")).id
    reply = await _say(store, conv, Role.ASSISTANT, "partial answ", status=Status.STREAMING)
    search = SearchStore(store)
    await store.update_message(reply, parts=[text_part("partial answer about volcanoes")])
    assert await _keyword(search, "volcanoes") == [reply]
    assert await _keyword(search, "answ ") == []  # a whole word, no longer a prefix: the old text is gone
    await store.delete_message(reply)
    assert await _keyword(search, "volcanoes") == []
    store.call_sync(lambda: store.conn.execute(
        "INSERT INTO message_search(message_search) VALUES ('integrity-check')"))


async def test_images_and_refusals_are_not_searched_and_deleted_conversations_are_hidden(store: Store) -> None:
    conv = (await store.create_conversation("gpt-4o-mini")).id
    await store.add_message(conv, None, Role.USER, [{"type": "image", "path": "penguin.png"},
                                                     text_part("what bird is this")])
    await store.add_message(conv, None, Role.ASSISTANT, [text_part(""), {"type": "refusal", "refusal": "penguin"}])
    search = SearchStore(store)
    assert await _keyword(search, "penguin") == []
    assert len(await _keyword(search, "bird")) == 1
    await store.delete_conversation(conv)
    assert await _keyword(search, "bird") == []
    await store.restore_conversation(conv)
    assert len(await _keyword(search, "bird")) == 1


async def test_operators_typed_by_a_person_are_words_not_syntax(store: Store) -> None:
    conv = (await store.create_conversation("gpt-4o-mini")).id
    found = await _say(store, conv, Role.USER, 'NEAR the "OR" gate, AND NOT c++ -x * ^')
    search = SearchStore(store)
    for text in ['"OR"', "NEAR(", "AND NOT", "c++", "-x", "gate*", "^", '"', "*"]:
        query = fts_query(text)
        if query is not None:
            assert found in [h.message_id for h in await search.keyword(query)], text


async def test_upgrading_an_existing_database_indexes_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[:5])
    conn.execute("INSERT INTO conversations(title, model, created_at, updated_at) VALUES ('t', 'm', 0, 0)")
    conn.execute("INSERT INTO messages(conversation_id, role, content, status, created_at, updated_at) "
                  "VALUES (1, 'user', ?, 'complete', 0, 0)", (json.dumps([text_part("an old message about owls")]),))
    conn.close()
    store = Store(path)
    store.open()
    try:
        assert await _keyword(SearchStore(store), "owls") == [1]
        await SearchStore(store).repair()
        assert await _keyword(SearchStore(store), "owls") == [1]
    finally:
        store.close_sync()


async def test_pending_vectors_nearest_and_model_change(store: Store) -> None:
    conv = (await store.create_conversation("gpt-4o-mini")).id
    a = await _say(store, conv, Role.USER, "alpha")
    b = await _say(store, conv, Role.ASSISTANT, "beta")
    await _say(store, conv, Role.ASSISTANT, "still streaming", status=Status.STREAMING)
    await _say(store, conv, Role.ASSISTANT, "   ")
    search = SearchStore(store)
    assert await search.pending("m", 3) == [(a, "alpha"), (b, "beta")]
    await search.save_vectors("m", 3, [(a, unit_vector([1, 0, 0])), (b, unit_vector([0.6, 0.8, 0])),
                                       (99999, unit_vector([1, 1, 1]))])  # 99999 was deleted meanwhile
    assert await search.pending("m", 3) == []
    assert await search.indexed("m", 3) == 2
    assert [i for i, _s in await search.pending("other-model", 3)] == [a, b]
    nearest = await search.nearest(unit_vector([1, 0.1, 0]), "m", 5, 0.0)
    assert [i for i, _s in nearest] == [a, b] and nearest[0][1] > nearest[1][1]
    assert [i for i, _s in await search.nearest(unit_vector([0, 0, 1]), "m", 5, 0.25)] == []
    await store.update_message(a, parts=[text_part("alpha, edited")])  # an edited text needs a new vector
    assert await search.pending("m", 3) == [(a, "alpha, edited")]
    found = await search.hits([(b, 0.9)])
    assert found[0][0].message_id == b and found[0][1] == "beta"
    found = await search.hits([(b, 0.9), (99999, 0.8), (a, 0.7)])  # in the order given; a gone id is skipped
    assert [(h.message_id, h.score, text) for h, text in found] == [(b, 0.9, "beta"), (a, 0.7, "alpha, edited")]
    await store.delete_conversation(conv)  # in the bin: never found, by meaning neither
    assert await search.hits([(b, 0.9)]) == []


def test_vector_scan_keeps_the_best_across_blocks() -> None:
    from desktop_assistant.core.vectors import top_k_matrix
    rng = np.random.default_rng(7)
    vectors = [unit_vector(rng.normal(size=8)) for _ in range(1000)]
    query = vectors[123]
    got = top_k_matrix(query, np.arange(1000, dtype=np.int64), np.stack(vectors), 5, chunk=100)
    want = sorted(range(1000), key=lambda i: -float(np.dot(vectors[i], query)))[:5]
    assert [i for i, _s in got] == want and got[0][0] == 123
    assert MATCH_START not in "".join(str(s) for s in got) and MATCH_END  # markers are control characters
