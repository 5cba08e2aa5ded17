"""Search over every conversation from the sidebar: keyword hits, opening one, and search by meaning."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_assistant.app import AppParts
from desktop_assistant.controllers.search import EMBEDDING_ENCODING
from desktop_assistant.core.models import Role, text_part
from desktop_assistant.core.tokens import count_key
from desktop_assistant.ui import theme
from tests.conftest import until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start

fake_openai = fixture.fake_openai


async def _chat(parts: AppParts, question: str) -> None:
    parts.window.new_chat()
    await parts.chat.send(question)
    await until(lambda: not parts.chat.streaming and len(parts.chat.path) == 2)


async def _type(parts: AppParts, qtbot: QtBot, text: str) -> None:
    box = parts.window.sidebar.filter
    box.clear()
    qtbot.keyClicks(box, text)
    results = parts.window.sidebar.results
    await until(lambda: results.query == text)


async def test_typing_finds_messages_and_a_hit_opens_at_the_message(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                     qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="Volcanoes erupt when magma rises."), Reply(text="Bread needs yeast."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await _chat(parts, "Tell me about volcanoes")
        volcano_chat = parts.chat.conversation
        await _chat(parts, "How to bake bread")
        assert parts.chat.conversation != volcano_chat
        results = parts.window.sidebar.results
        assert not results.isVisible()
        await _type(parts, qtbot, "magma")
        assert results.isVisible()
        assert [h.role for h in results.hits] == ["assistant"]
        assert results.summary.text() == "1 message found"
        hit = results.hits[0]
        assert volcano_chat is not None and hit.conversation_id == volcano_chat.id
        item = results.list.item(0)
        rect = results.list.visualItemRect(item)
        qtbot.mouseClick(results.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        await until(lambda: parts.chat.conversation is not None and parts.chat.conversation.id == volcano_chat.id)
        view = parts.window.transcript.views[hit.message_id]
        await until(lambda: len(view.body.extraSelections()) == 1)
        assert view.body.extraSelections()[0].cursor.selectedText() == "magma"
        theme.set_appearance("dark")  # the message is rendered again for the scheme: the words stay highlighted
        try:
            parts.window.follow_scheme()
            assert [s.cursor.selectedText() for s in view.body.extraSelections()] == ["magma"]
        finally:
            theme.set_appearance("system")
            parts.window.follow_scheme()
        await _type(parts, qtbot, "zzz nothing")
        assert results.hits == [] and results.summary.text() == "No messages match."
        parts.window.sidebar.filter.clear()
        assert not results.isVisible()


async def test_a_hit_on_another_branch_switches_to_that_branch(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="About penguins."), Reply(text="About puffins."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await _chat(parts, "penguins please")
        first_question = parts.chat.path[0]
        await parts.chat.edit_and_resend(first_question.id, "puffins please")
        await until(lambda: not parts.chat.streaming and parts.chat.path[-1].text == "About puffins.")
        await _type(parts, qtbot, "penguins")
        found = {h.message_id for h in parts.window.sidebar.results.hits}
        assert first_question.id in found
        parts.window.sidebar.results.hitChosen.emit(first_question.conversation_id, first_question.id, ["penguins"])
        await until(lambda: parts.chat.path[0].id == first_question.id)
        assert parts.chat.path[-1].text == "About penguins."


async def test_search_by_meaning_shows_its_cost_then_finds_other_words(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                        qtbot: QtBot) -> None:
    fake_openai.embeddings.concepts = {"vehicle": ["car", "automobile", "truck"]}
    fake_openai.enqueue(Reply(text="Check the tyres of your car first."), Reply(text="Tomatoes like sun."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await _chat(parts, "my car makes a noise")
        await _chat(parts, "growing tomatoes")
        results = parts.window.sidebar.results
        await _type(parts, qtbot, "automobile")
        assert results.hits == []
        await until(lambda: parts.search.state.plan is not None)
        line = results.meaning_label.text()
        assert "indexing 4 messages" in line and "~$" in line and "text-embedding-3-small" in line, line
        assert results.meaning_button.isVisible() and results.meaning_button.text() == "Turn on"
        assert fake_openai.embeddings.calls == []  # nothing is embedded before the person agrees
        results.meaning_button.click()
        await until(lambda: parts.search.state.indexed == 4 and not parts.search.state.running)
        assert parts.endpoint.settings.semantic_search
        assert results.meaning_button.text() == "Turn off"
        assert len(fake_openai.embeddings.calls) == 1 and len(fake_openai.embeddings.calls[0]) == 4
        ledger = [e for e in await parts.store.ledger() if e.feature == "embeddings"]
        assert len(ledger) == 1 and ledger[0].model == "text-embedding-3-small" and ledger[0].usage.input_tokens > 0
        await _type(parts, qtbot, "automobile")
        await until(lambda: any(h.by_meaning for h in results.hits))
        texts = {m.id: m.text for m in await parts.store.messages(parts.chat.conversation.id)}  # type: ignore[union-attr]
        conv_ids = {h.conversation_id for h in results.hits}
        assert len(conv_ids) == 1 and not texts.keys() & {h.message_id for h in results.hits}  # the car chat
        assert all("tomato" not in h.snippet.lower() for h in results.hits)
        # a second search for the same words costs nothing more; a new message is embedded in the background
        calls = len(fake_openai.embeddings.calls)
        await _type(parts, qtbot, "automobil")
        await _type(parts, qtbot, "automobile")
        assert len(fake_openai.embeddings.calls) == calls + 1  # "automobil" only: "automobile" is remembered
        await _chat(parts, "a truck question")
        parts.search.top_up()
        await until(lambda: parts.search.state.indexed == 6 and not parts.search.state.running)
        # imported conversations can be found by meaning at once, not from the next start
        imported = tmp_path / "more.jsonl"
        imported.write_text(json.dumps({"messages": [{"role": "user", "content": "A bicycle question"},
                                                     {"role": "assistant", "content": "Pedal."}]}) + "\n",
                            encoding="utf-8")
        parts.window.sidebar.filter.clear()  # not searching: nothing else asks for it
        parts.data.import_(imported)  # (before the pause after a reply that tops the index up: 5 s)
        await until(lambda: parts.search.state.indexed == 8 and not parts.search.state.running, timeout=2.0)


async def test_an_endpoint_without_embeddings_keeps_keyword_search_and_says_so(tmp_path: Path,
                                                                               fake_openai: FakeOpenAI,
                                                                               qtbot: QtBot) -> None:
    fake_openai.embeddings.available = False
    fake_openai.enqueue(Reply(text="Paris is the capital."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await _chat(parts, "capital of France")
        await _type(parts, qtbot, "capital")
        await until(lambda: parts.search.state.plan is not None)
        parts.window.sidebar.results.meaning_button.click()
        await until(lambda: not parts.search.state.available)
        results = parts.window.sidebar.results
        assert "does not offer embeddings" in results.meaning_label.text()
        assert not results.meaning_button.isVisible()
        await _type(parts, qtbot, "capitals")
        await _type(parts, qtbot, "capital")
        assert len(results.hits) == 2 and "does not offer embeddings" in results.summary.text()


async def test_an_indexing_failure_says_it_was_indexing_and_offers_no_chat_retry(tmp_path: Path,
                                                                                  fake_openai: FakeOpenAI,
                                                                                  qtbot: QtBot) -> None:
    fake_openai.embeddings.failing = 500
    fake_openai.enqueue(Reply(text="Paris is the capital."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(max_retries=0)
        await _chat(parts, "capital of France")
        await _type(parts, qtbot, "capital")
        await until(lambda: parts.search.state.plan is not None)
        parts.window.sidebar.results.meaning_button.click()
        banner = parts.window.banner
        await until(lambda: banner.isVisibleTo(parts.window))
        # over the chat, it says what failed (it read as if the chat had), and its Retry would ask the chat again
        assert banner.label.text().startswith("Indexing for search by meaning: ")
        assert not banner.action.isVisibleTo(parts.window)


async def test_the_spending_limit_stops_indexing_before_any_request(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                    qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="An answer " * 200))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await _chat(parts, "a question")
        parts.endpoint.update_settings(monthly_limit_usd="0.000001")
        await _type(parts, qtbot, "answer")
        await until(lambda: parts.search.state.plan is not None)
        def sent() -> int:  # what was sent but the model list (writing readies the connection, at any moment)
            return sum(1 for r in fake_openai.requests if not r.path.endswith("/models"))
        before = sent()
        parts.window.sidebar.results.meaning_button.click()
        await until(lambda: parts.window.banner.isVisible())
        await until(lambda: not parts.search.state.running)
        assert fake_openai.embeddings.calls == [] and sent() == before
        assert "limit" in parts.window.banner.label.text().lower()
        assert parts.search.state.indexed == 0
        assert [m.role for m in parts.chat.path] == [Role.USER, Role.ASSISTANT]


async def test_keys_in_the_search_box(tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="Lighthouses guide ships."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await _chat(parts, "what do lighthouses do")
        await _type(parts, qtbot, "lighthouse")
        sidebar = parts.window.sidebar
        qtbot.keyClick(sidebar.filter, Qt.Key.Key_Down)
        assert sidebar.results.list.hasFocus() and sidebar.results.list.currentRow() == 0
        sidebar.filter.setFocus()
        qtbot.keyClick(sidebar.filter, Qt.Key.Key_Escape)
        assert sidebar.filter.text() == "" and not sidebar.results.isVisible()


async def test_another_embeddings_model_turns_meaning_off_until_its_cost_is_seen(tmp_path: Path,
                                                                                 fake_openai: FakeOpenAI,
                                                                                 qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="Glaciers move slowly."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await _chat(parts, "tell me about glaciers")
        await _type(parts, qtbot, "glacier")
        await until(lambda: parts.search.state.plan is not None)
        small = parts.search.state.plan
        parts.window.sidebar.results.meaning_button.click()
        await until(lambda: parts.search.state.indexed == 2 and not parts.search.state.running)
        parts.window.open_settings()
        dialog = parts.window.settings_dialog
        assert dialog is not None
        dialog.tabs.setCurrentWidget(dialog.search)
        dialog.search.model.setCurrentText("text-embedding-3-large")
        dialog.search.dimensions.setValue(256)
        dialog._save()
        await until(lambda: parts.endpoint.settings.embeddings_model == "text-embedding-3-large")
        await until(lambda: parts.search.state.plan is not None and parts.search.state.plan.messages == 2)
        state = parts.search.state
        assert not state.enabled and state.indexed == 0 and "text-embedding-3-large" in state.message
        assert small is not None and state.plan is not None and state.plan.tokens == small.tokens
        assert parts.window.sidebar.results.meaning_button.text() == "Turn on"
        calls = len(fake_openai.embeddings.calls)
        parts.search.top_up()  # nothing is embedded with the new model until the person agrees
        assert len(fake_openai.embeddings.calls) == calls and parts.endpoint.settings.embeddings_dimensions == 256


async def test_the_history_is_embedded_in_batched_requests_each_in_the_ledger(tmp_path: Path,
                                                                               fake_openai: FakeOpenAI,
                                                                               qtbot: QtBot) -> None:
    fake_openai.enqueue(*[Reply(text=f"Answer number {i}.") for i in range(3)])
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        for i in range(3):
            await _chat(parts, f"question number {i}")
        parts.search.batch_inputs = 4
        await parts.search.refresh_state()
        # the counts that priced the index are kept in the database at once, not held until the next estimate
        texts = [f"question number {i}" for i in range(3)] + [f"Answer number {i}." for i in range(3)]
        assert parts.token_counts is not None
        kept = await asyncio.to_thread(parts.token_counts.load, [count_key(EMBEDDING_ENCODING, t) for t in texts])
        assert len(kept) == 6
        parts.search.start_index()
        await until(lambda: parts.search.state.indexed == 6 and not parts.search.state.running)
        assert [len(c) for c in fake_openai.embeddings.calls] == [4, 2]
        ledger = [e for e in await parts.store.ledger() if e.feature == "embeddings"]
        assert len(ledger) == 2 and all(e.cost_micros is not None for e in ledger)
        assert sum(e.usage.input_tokens for e in ledger) > 0
        body = next(r.json for r in fake_openai.requests if r.path.endswith("/embeddings"))
        assert body["model"] == "text-embedding-3-small" and body["dimensions"] == 512


async def test_a_hit_early_in_another_long_conversation_opens_at_the_hit(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                         qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="Short answer."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        long = await parts.store.create_conversation("gpt-4o-mini", title="A long one")
        parent = None
        for i in range(24):
            words = "marmalade recipe" if i == 0 else f"paragraph {i}"
            role = Role.USER if i % 2 == 0 else Role.ASSISTANT
            text = f"{words}\n\n" + "\n\n".join(f"Paragraph {j} of message {i}, long enough to wrap on a narrow "
                                                 "window: " + "more words " * 20 for j in range(4))
            text += "\n\n```python\n" + "\n".join(f"value_{j} = compute({j}) + {j}" for j in range(15)) + "\n```"
            message = await parts.store.add_message(long.id, parent, role, [text_part(text)])
            parent = message.id
        await _chat(parts, "something else entirely")  # the conversation shown is another one
        await parts.search.refresh_state()
        await _type(parts, qtbot, "marmalade")
        results = parts.window.sidebar.results
        assert [h.conversation_id for h in results.hits] == [long.id]
        rect = results.list.visualItemRect(results.list.item(0))
        qtbot.mouseClick(results.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        transcript = parts.window.transcript
        hit = results.hits[0].message_id
        await until(lambda: hit in transcript.views and len(transcript.views[hit].body.extraSelections()) == 1)
        await until(lambda: transcript.pending == 0)  # the rest of the conversation is built meanwhile
        await asyncio.sleep(0.5)  # wait-ok: code highlighted and views laid out at their width meanwhile
        view = transcript.views[hit]
        top = view.mapTo(transcript.viewport(), view.rect().topLeft()).y()
        assert -20 <= top < transcript.viewport().height()  # in sight, not at the bottom of the chat


async def test_the_messages_found_follow_a_delete_and_its_undo(tmp_path: Path, fake_openai: FakeOpenAI,
                                                              qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="Volcanoes erupt when magma rises."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await _chat(parts, "Tell me about volcanoes")
        volcanoes = parts.chat.conversation
        assert volcanoes is not None
        await _type(parts, qtbot, "magma")
        results = parts.window.sidebar.results
        assert len(results.hits) == 1
        await parts.chat.delete(volcanoes.id)
        await until(lambda: results.hits == [])  # searched again: the hit is gone with its conversation
        parts.window.banner.action.click()  # Undo
        await until(lambda: len(results.hits) == 1)  # and back with it
