"""Sidebar (rename, delete with undo), the model list from the endpoint, copying a code block."""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QMenu, QPushButton
from pytestqt.qtbot import QtBot

from desktop_assistant.controllers.endpoint import RETRY_SECONDS
from desktop_assistant.core.errors import ErrorAction
from desktop_assistant.core.models import Conversation, Status
from desktop_assistant.ui.chat.header import Header
from desktop_assistant.ui.chat.sidebar import Sidebar
from desktop_assistant.ui.extraction.workspace import ExtractWorkspace
from desktop_assistant.ui.lab.workspace import LabWorkspace
from tests.conftest import next_emission, shown_tip, until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start

fake_openai = fixture.fake_openai


async def test_rename_delete_and_undo(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="one"), Reply(text="two"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send("First chat")
        await until(lambda: not parts.chat.streaming and len(parts.chat.path) == 2)
        first = parts.chat.conversation
        assert first is not None
        parts.window.new_chat()
        await parts.chat.send("Second chat")
        await until(lambda: not parts.chat.streaming and len(parts.chat.path) == 2)
        titles = [parts.window.sidebar.list.item(i).text() for i in range(parts.window.sidebar.list.count())]
        assert titles == ["Today", "Second chat", "First chat"]  # newest activity first
        row = parts.window.sidebar.list.item(1)
        row.setText("   ")  # a rename left empty: the row keeps its title (it was left blank)
        assert row.text() == "Second chat"
        assert (await parts.store.get_conversation(parts.chat.conversation.id)).title == "Second chat"  # type: ignore
        await parts.chat.rename(first.id, "  Renamed   by hand ")
        assert (await parts.store.get_conversation(first.id)).title == "Renamed by hand"  # type: ignore[union-attr]
        await parts.chat.delete(first.id)
        assert parts.window.banner.isVisible() and "Renamed by hand" in parts.window.banner.label.text()
        assert [c.id for c in await parts.store.list_conversations()] != [] and first.id not in [
            c.id for c in await parts.store.list_conversations()]
        parts.window.banner.action.click()  # Undo
        await until(lambda: parts.window.sidebar.list.count() == 3)
        assert first.id in [c.id for c in await parts.store.list_conversations()]
        # the Delete key deletes the conversation selected in the list, with Undo as well
        sidebar = parts.window.sidebar
        await until(lambda: sidebar.list.count() == 3)
        target = next(sidebar.list.item(i) for i in range(sidebar.list.count())
                      if sidebar.list.item(i).text() == "Renamed by hand")
        sidebar.list.setCurrentItem(target)
        QTest.keyClick(sidebar.list, Qt.Key.Key_Delete)
        await until(lambda: "Renamed by hand" not in [sidebar.list.item(i).text() for i in range(sidebar.list.count())])
        assert "Renamed by hand" in parts.window.banner.label.text() and parts.window.banner.action.text() == "Undo"
        # the conversation shown, deleted then brought back: it is shown again (not left on an empty new chat)
        second = parts.chat.conversation
        assert second is not None
        await parts.chat.delete(second.id)
        assert parts.chat.conversation is None
        parts.window.banner.action.click()  # Undo
        await until(lambda: parts.chat.conversation is not None and parts.chat.conversation.id == second.id)
        assert [m.text for m in parts.chat.path] == ["Second chat", "two"]
        # two deleted one after the other: one Undo brings both back (the second's offer replaced the first's)
        third = await parts.store.create_conversation("gpt-4o-mini", title="Third chat")
        await parts.chat.delete(second.id)
        await parts.chat.delete(third.id)
        assert parts.window.banner.label.text() == "Deleted “Third chat” and 1 other conversation."
        parts.window.banner.action.click()
        await until(lambda: parts.chat.conversation is not None and parts.chat.conversation.id == second.id)
        # (the first one too: deleted by the Delete key while the offer showed, it was in that Undo as well)
        assert {c.id for c in await parts.store.list_conversations()} == {first.id, second.id, third.id}


async def test_model_list_merges_the_endpoint_models(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.models = ["gpt-4o-mini", "my-fine-tune", "text-embedding-3-small", "whisper-1"]
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        assert not any(r.path.endswith("/models") for r in fake_openai.requests)  # not asked at start
        picker = parts.window.header.model_picker
        picker.showPopup()  # opening the list asks the endpoint for its models
        await until(lambda: picker.count() == 2)
        picker.hidePopup()
        items = [picker.itemText(i) for i in range(picker.count())]
        # a local server (loopback) offers its own chat models only; embeddings and audio models are left out
        assert items == ["gpt-4o-mini", "my-fine-tune"]
    fake_openai.models = ["gpt-4o-mini", "my-fine-tune", "another-one"]
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        picker = parts.window.header.model_picker
        # the next start offers the remembered list at once, before anything is asked
        assert [picker.itemText(i) for i in range(picker.count())] == ["gpt-4o-mini", "my-fine-tune"]
        await start(parts)
        parts.window.composer.set_text("h")  # writing gets the connection ready, the list included
        await until(lambda: picker.count() == 3)
        assert sum(r.path.endswith("/models") for r in fake_openai.requests) == 2
        parts.window.composer.set_text("hello")  # once per endpoint
        picker.showPopup()
        picker.hidePopup()
        assert parts.runner.find("connect") is None
        assert sum(r.path.endswith("/models") for r in fake_openai.requests) == 2


async def test_a_local_server_without_the_default_model_gets_one_it_has(tmp_path: Path,
                                                                        fake_openai: FakeOpenAI) -> None:
    fake_openai.models = ["llama3.2:3b-instruct-q4_K_M", "mistral:latest"]  # Ollama's: no gpt-4o-mini
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        assert parts.chat.conversation is None and parts.chat.model == "gpt-4o-mini"
        parts.window.composer.set_text("h")  # writing gets the connection ready, the model list included
        await until(lambda: parts.endpoint.settings.default_model == "llama3.2:3b-instruct-q4_K_M")
        assert parts.chat.model == "llama3.2:3b-instruct-q4_K_M"  # the new chat shown asks a model the server has
        assert parts.window.header.model_picker.currentText() == "llama3.2:3b-instruct-q4_K_M"
        await parts.chat.send("hello")
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        request = [r for r in fake_openai.requests if r.path.endswith("/chat/completions")][-1]
        assert request.json is not None and request.json["model"] == "llama3.2:3b-instruct-q4_K_M"
        parts.window.new_chat()
        await parts.chat.set_model("a-model-i-typed")  # chosen by the person: a list arriving leaves it alone
        assert await parts.endpoint.refresh_models()
        assert parts.chat.model == "a-model-i-typed"


async def test_a_list_fetched_after_saving_settings_is_not_asked_for_again_when_writing(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.models = ["gpt-4o-mini", "my-fine-tune"]
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window = parts.window
        window._save_settings(parts.endpoint.settings, None)  # what Save in Settings does
        await until(lambda: not any(op.name == "save settings" and not op.done for op in parts.runner.operations))
        assert any(r.path.endswith("/models") for r in fake_openai.requests)  # the save asked for the list
        assert not parts.endpoint.wants_connection()
        window.composer.set_text("hello")  # writing: the connection is ready already
        assert parts.runner.find("connect") is None
        assert sum(r.path.endswith("/models") for r in fake_openai.requests) == 1


async def test_a_refused_model_list_keeps_the_remembered_one_and_is_asked_again_later(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.models = ["gpt-4o-mini", "my-fine-tune"]
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.endpoint.prepare_connection()
        assert parts.endpoint.models == ["gpt-4o-mini", "my-fine-tune"]
    fake_openai.api_key = "sk-someone-else"  # the server now refuses our key
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        now = 1000.0
        parts.endpoint.clock = lambda: now
        await parts.endpoint.prepare_connection()
        picker = parts.window.header.model_picker
        assert [picker.itemText(i) for i in range(picker.count())] == ["gpt-4o-mini", "my-fine-tune"]
        assert not parts.endpoint.wants_connection()  # not asked again on every key press
        fake_openai.api_key = None
        fake_openai.models = ["gpt-4o-mini", "my-fine-tune", "third"]
        now += RETRY_SECONDS
        assert parts.endpoint.wants_connection()
        parts.window.composer.set_text("a minute later")
        await until(lambda: picker.count() == 3)


async def test_typing_in_the_model_box_is_kept_when_the_list_arrives(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.models = ["gpt-4o-mini", "my-fine-tune"]
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        picker = parts.window.header.model_picker
        line = picker.lineEdit()
        assert line is not None
        parts.window.activateWindow()
        line.setFocus()
        await until(line.hasFocus)
        line.selectAll()
        QTest.keyClicks(line, "my-f")  # typing asks for the list; it arrives while the box has the focus
        await until(lambda: picker.count() == 2)
        assert line.text() == "my-f" and line.cursorPosition() == 4
        completer = picker.completer()
        assert completer.completionPrefix() == "my-f"  # the suggestions are of the new list, for what was typed
        assert completer.currentCompletion() == "my-fine-tune"
        assert parts.chat.model == "gpt-4o-mini"  # nothing chosen until Enter or a pick
        QTest.keyClick(line, Qt.Key.Key_Return)  # Enter: the one model the list showed, not the letters typed
        await until(lambda: parts.chat.model == "my-fine-tune")


def test_a_model_typed_in_part_names_the_one_it_matches(qtbot: QtBot) -> None:
    header = Header()
    qtbot.addWidget(header)
    header.set_models(["acme-chat-9000", "gpt-4o", "gpt-4o-mini"], "gpt-4o-mini")
    picker = header.model_picker
    for typed, chosen in [("acme", "acme-chat-9000"), ("GPT-4O", "gpt-4o"), ("gpt-4o", "gpt-4o"),
                          ("4o", "4o"),  # two match: the text as typed (the list is still there to pick from)
                          ("my-own-model", "my-own-model")]:  # a model the endpoint does not list
        picker.setEditText(typed)
        assert header.typed_model() == chosen, typed
    chosen_models: list[str] = []
    header.modelChosen.connect(chosen_models.append)
    header.set_model("gpt-4o-mini")
    header.show()
    line = picker.lineEdit()
    assert line is not None
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, "zzz")
    qtbot.keyClick(line, Qt.Key.Key_Escape)  # Esc drops what was typed: the model in use is back
    assert picker.currentText() == "gpt-4o-mini"
    line.clearFocus()
    assert chosen_models == []
    header.set_model("llama3.2:3b-instruct-q4_K_M")  # a long local name: its start shows, and all of it on hover
    assert line.cursorPosition() == 0
    assert shown_tip(picker.toolTip()).startswith("llama3.2:3b-instruct-q4_K_M")


async def test_a_model_list_that_arrives_after_switching_endpoints_is_not_kept(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.models = ["model-of-the-first-endpoint"]
    fake_openai.models_delay = 0.5
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        asking = asyncio.ensure_future(parts.endpoint.prepare_connection())
        await until(lambda: any(r.path.endswith("/models") for r in fake_openai.requests) or asking.done())
        other = parts.endpoint.settings.copy(base_url="https://api.openai.com/v1")
        await parts.endpoint.save(other, None)  # Settings switched the endpoint while the list was on its way
        await asking
        settings = parts.endpoint.settings
        assert settings.endpoint_models_for != settings.endpoint or settings.endpoint_models == []
        assert "model-of-the-first-endpoint" not in parts.endpoint.models
        assert parts.endpoint.clock() - parts.endpoint._failed_at >= RETRY_SECONDS  # the new one may try at once


async def test_typing_before_the_key_is_read_waits_for_it(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        parts.window.composer.set_text("typed while the keyring answers")
        assert not parts.endpoint.wants_connection() and parts.runner.find("connect") is None
        await start(parts)  # the key is read
        parts.window.composer.set_text("typed while the keyring answers!")
        await until(lambda: parts.endpoint._connected_to == parts.endpoint.settings.endpoint)
        assert sum(r.path.endswith("/models") for r in fake_openai.requests) == 1


async def test_copy_a_code_block(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="Two blocks:\n\n```sh\nls -la\n```\n\n```python\nprint(1)\n```\n"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send("show code")
        await until(lambda: parts.chat.path[-1].status is Status.COMPLETE and not parts.chat.streaming)
        view = parts.window.transcript.views[parts.chat.path[-1].id]
        assert "copy-code:1" in view.body.toHtml()
        view.body.linkClicked.emit(QUrl("copy-code:1"))
        assert QGuiApplication.clipboard().text() == "print(1)\n" or QGuiApplication.clipboard().text() == "print(1)"


async def test_legacy_max_tokens_endpoint_is_remembered(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.legacy_max_tokens = True
    fake_openai.enqueue(Reply(text="old server"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send("hello")
        await until(lambda: parts.chat.path[-1].status is Status.COMPLETE and not parts.chat.streaming)
        assert parts.endpoint.settings.endpoint in parts.endpoint.settings.legacy_max_tokens_endpoints
        body = fake_openai.requests[-1].json
        assert "max_tokens" in body and "max_completion_tokens" not in body


async def test_shortcuts_help_and_new_chat(tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window = parts.window
        window.activateWindow()
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_F1)
        assert window.help_overlay is not None and window.help_overlay.isVisible()
        window.help_overlay.close()
        window.help_button.click()  # the same list, found without knowing F1
        assert window.help_overlay.isVisible() and "F1" in window.help_button.toolTip()
        from desktop_assistant import __version__
        assert window.help_overlay.about.text().startswith(f"Desktop Assistant {__version__} · open source")
        window.help_overlay.close()
        await parts.chat.send("hello")
        await until(lambda: not parts.chat.streaming and len(parts.chat.path) == 2)
        window.activateWindow()
        await until(window.isActiveWindow)
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        assert parts.chat.conversation is None and parts.chat.path == []
        assert window.transcript.empty.isVisibleTo(window.transcript)

        # from another workspace, the chat shortcuts bring the chat into view: typing never goes to a hidden box
        # (Enter there sent a paid request nobody saw)
        for key, focused in ((Qt.Key.Key_L, window.composer.edit), (Qt.Key.Key_N, window.composer.edit),
                             (Qt.Key.Key_K, window.sidebar.filter)):
            window.show_workspace(3)
            qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
            assert window.workspaces.currentIndex() == 3
            qtbot.keyClick(window.focusWidget() or window, key, Qt.KeyboardModifier.ControlModifier)
            assert window.workspaces.currentIndex() == 0 and focused.isVisible(), key
            await until(focused.hasFocus)
        window.sidebar.hide()  # Ctrl+B
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        assert window.sidebar.isVisible() and window.sidebar.filter.hasFocus()


async def test_presets_and_default_system_prompt(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="ok"), Reply(text="ok"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window = parts.window
        window.options.load("You are terse.", 0.2, 300)
        await parts.chat.set_model("gpt-4o")
        window.options.preset_name.setText("Terse 4o")
        window.options.findChild(QPushButton, "save_preset_button").click()
        assert parts.endpoint.settings.presets["Terse 4o"]["model"] == "gpt-4o"
        assert [a.text() for a in window.sidebar.presets_menu.actions()] == ["Terse 4o"]
        window.options.system_prompt.setPlainText("Answer in French.")
        window.options.findChild(QPushButton, "default_prompt_button").click()
        # a plain new chat gets the default prompt and the default model
        window.new_chat()
        await parts.chat.send("bonjour")
        await until(lambda: not parts.chat.streaming and len(parts.chat.path) == 2)
        first = fake_openai.requests[-1].json
        assert first["model"] == "gpt-4o-mini"
        assert first["messages"][0] == {"role": "system", "content": "Answer in French."}
        # a chat from the preset gets its prompt, model, temperature and max tokens
        window.sidebar.presets_menu.actions()[0].trigger()
        assert parts.chat.model == "gpt-4o" and window.header.model_picker.currentText() == "gpt-4o"
        # before its first message too: the worst case shown and checked is of its own 300 tokens, not 4,096
        assert parts.chat.conversation is None and parts.chat.max_output_tokens() == 300
        await parts.chat.send("hi")
        await until(lambda: not parts.chat.streaming and len(parts.chat.path) == 2)
        body = fake_openai.requests[-1].json
        assert body["model"] == "gpt-4o" and body["temperature"] == 0.2 and body["max_completion_tokens"] == 300
        assert body["messages"][0] == {"role": "system", "content": "You are terse."}


async def test_what_start_and_the_sdk_built_is_kept_out_of_full_collections(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    # a full collection walking the SDK's and Qt's objects took 45-60 ms: a stall in the middle of a reply
    # (frozen objects are outside every generation, so gc.get_objects() does not list them; the freeze count
    # alone can go down meanwhile, as frozen objects made before are freed)
    gc.unfreeze()
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        assert gc.get_freeze_count() > 0
        assert not _tracked(parts.window.transcript)
        await parts.endpoint.prepare_connection()  # imports the SDK and builds the client
        client = parts.endpoint.gateway._client
        assert client is not None and not _tracked(client)


def _tracked(obj: object) -> bool:
    """Whether ``obj`` is in one of the collector's generations (not frozen)."""
    return any(o is obj for o in gc.get_objects())


def test_long_titles_are_cut_short_not_scrolled_sideways(qtbot: QtBot) -> None:
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    sidebar.resize(260, 400)
    sidebar.show()
    now = time.time()
    sidebar.set_conversations([Conversation(1, "A very long title about printing in Python " * 4, "gpt-4o-mini",
                                            updated_at=now, cost_micros=4000),
                               Conversation(2, "Short", "gpt-4o-mini", updated_at=now)])
    qtbot.wait(10)
    assert not sidebar.list.horizontalScrollBar().isVisible()


def test_a_conversation_on_a_model_without_a_price_does_not_read_as_free(qtbot: QtBot) -> None:
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    sidebar.priced = lambda model: model != "my-custom-finetune"
    now = time.time()
    sidebar.set_conversations([Conversation(1, "Priced", "gpt-4o-mini", updated_at=now, cost_micros=4000),
                               Conversation(2, "Not yet", "gpt-4o-mini", updated_at=now),
                               Conversation(3, "Unpriced", "my-custom-finetune", updated_at=now)])
    tips = {sidebar.list.item(i).text(): shown_tip(sidebar.list.item(i).toolTip())
            for i in range(sidebar.list.count())}
    assert tips["Priced"] == "gpt-4o-mini · $0.004"
    assert tips["Not yet"] == "gpt-4o-mini · no cost yet"
    assert tips["Unpriced"] == "my-custom-finetune · cost not counted: no price for this model"


def _luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def test_the_group_names_in_the_sidebar_can_be_read(qtbot: QtBot) -> None:
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    sidebar.resize(260, 300)
    sidebar.show()
    sidebar.set_conversations([Conversation(1, "Trip to Lisbon", "gpt-4o-mini", updated_at=time.time())])
    header = sidebar.list.item(0)
    assert header.text() == "Today"
    image = sidebar.list.viewport().grab(sidebar.list.visualItemRect(header)).toImage()
    background = image.pixelColor(1, 1)
    colours = [image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())]
    darkest = max(colours, key=lambda c: abs(_luminance(c) - _luminance(background)))
    light, dark = sorted((_luminance(darkest), _luminance(background)), reverse=True)
    assert (light + 0.05) / (dark + 0.05) >= 4.5  # WCAG AA for text (the disabled colour gave 2.3:1)


def test_a_long_header_title_ends_in_an_ellipsis_until_it_is_edited(qtbot: QtBot) -> None:
    header = Header()
    qtbot.addWidget(header)
    header.resize(520, 48)
    header.show()
    qtbot.waitExposed(header)
    long_title = "A very long title about the history of printing in Europe and in Asia"
    header.set_title(long_title)
    shown = header.title.shown()
    assert shown.endswith("…") and long_title.startswith(shown[:-1])  # cut at a letter, marked as cut
    assert not header.title.grab().isNull()  # the cut title paints
    header.set_title("Short")
    assert header.title.shown() == "Short"
    header.set_title(long_title)
    header.title.setFocus()
    qtbot.waitUntil(header.title.hasFocus)
    assert header.title.shown() == long_title  # being edited: the whole title, as a line edit shows it


def test_the_title_filter_finds_every_word_in_any_order(qtbot: QtBot) -> None:
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    now = time.time()
    sidebar.set_conversations([Conversation(1, "Trip to Lisbon", "gpt-4o-mini", updated_at=now),
                               Conversation(2, "Lisbon restaurants", "gpt-4o-mini", updated_at=now)])

    def shown() -> list[str]:
        return [sidebar.list.item(i).text() for i in range(sidebar.list.count())
                if not sidebar.list.item(i).isHidden()]

    sidebar.filter.setText("lisbon TRIP")
    assert shown() == ["Trip to Lisbon"]
    # the titles found take their rows only: the messages found follow right below, not a third further down
    assert sidebar.list.maximumHeight() < 3 * sidebar.list.sizeHintForRow(1)
    sidebar.filter.setText("lisbon")
    assert shown() == ["Trip to Lisbon", "Lisbon restaurants"]
    sidebar.filter.setText("")
    assert shown() == ["Today", "Trip to Lisbon", "Lisbon restaurants"]
    assert sidebar.list.maximumHeight() > 10_000

    # Ctrl+K, a few letters, Enter: the first conversation whose title matches opens
    opened: list[int] = []
    jumps: list[bool] = []
    sidebar.openRequested.connect(opened.append)
    sidebar.jumped.connect(lambda: jumps.append(True))
    sidebar.filter.setText("restau")
    qtbot.keyClick(sidebar.filter, Qt.Key.Key_Return)
    assert opened == [2] and jumps == [True]
    sidebar.filter.setText("nothing like it")
    qtbot.keyClick(sidebar.filter, Qt.Key.Key_Return)
    assert opened == [2]  # no title matches: nothing opens


async def test_ctrl_s_saves_what_the_workspace_shown_edits(tmp_path: Path, fake_openai: FakeOpenAI,
                                                            qtbot: QtBot) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window = parts.window
        window.activateWindow()
        await until(window.isActiveWindow)
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
        assert window.statusBar().currentMessage() == "Conversations and what you type are saved as you go."
        window.show_workspace(1)  # Extract: its schema
        extract = window.findChild(ExtractWorkspace, "extract")
        assert extract is not None
        extract.schema_editor.name.setText("invoice_fields")
        qtbot.keyClick(extract.schema_editor.name, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: extract.schema_editor.template.findText("Saved: invoice_fields") >= 0)
        assert parts.lab is not None
        loaded = next_emission(parts.lab.runsChanged.connect)
        window.show_workspace(2)  # the Lab: the page shown
        await loaded
        lab = window.findChild(LabWorkspace, "lab")
        assert lab is not None
        lab.editor.name.setText("Support")
        lab.editor.template.setPlainText("Q: {{question}}")
        saved = next_emission(parts.lab.versionsChanged.connect)
        qtbot.keyClick(lab.editor.name, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
        (name, versions) = await saved
        assert name == "Support" and len(versions) == 1
        lab.pages.setCurrentWidget(lab.run_panel)
        qtbot.keyClick(lab.run_panel, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
        assert lab.message.text() == "Ctrl+S saves the Prompt page (as a new version) or the Test set page."


async def test_options_apply_as_they_are_changed_and_follow_the_conversation_shown(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="Arr."), Reply(text="Plain."), Reply(text="Arr again."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window = parts.window
        window.header.options_button.click()  # a new chat: nothing is stored by opening or editing its options
        options = window.options
        assert options.isVisible()
        options.system_prompt.setPlainText("You are a pirate.")
        options.use_temperature.setChecked(True)
        options.temperature.setValue(0.3)
        assert parts.chat.conversation is None and await parts.store.list_conversations() == []
        await parts.chat.send("hello")  # no Apply: what the panel shows is what is sent
        await until(lambda: not parts.chat.streaming and len(parts.chat.path) == 2)
        body = fake_openai.requests[-1].json
        assert body["messages"][0] == {"role": "system", "content": "You are a pirate."}
        assert body["temperature"] == 0.3
        pirate = parts.chat.conversation
        assert pirate is not None
        window.new_chat()
        assert options.system_prompt.toPlainText() == "" and not options.use_temperature.isChecked()
        await parts.chat.send("plain question")
        await until(lambda: not parts.chat.streaming and len(parts.chat.path) == 2)
        assert fake_openai.requests[-1].json["messages"][0]["role"] == "user"
        await parts.chat.open_conversation(pirate.id)  # the panel shows the pirate's options again, unchanged
        assert options.system_prompt.toPlainText() == "You are a pirate." and options.temperature.value() == 0.3
        options.system_prompt.setPlainText("You are a pirate. Always say Arr.")
        assert parts.chat.options().system_prompt == "You are a pirate. Always say Arr."
        await parts.chat.send("again")
        await until(lambda: not parts.chat.streaming and len(parts.chat.path) == 4)
        assert fake_openai.requests[-1].json["messages"][0]["content"] == "You are a pirate. Always say Arr."
        kept = await parts.store.get_conversation(pirate.id)
        assert kept is not None and kept.system_prompt == "You are a pirate. Always say Arr."


async def test_the_options_panel_works_from_the_keyboard(tmp_path: Path, fake_openai: FakeOpenAI,
                                                         qtbot: QtBot) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window = parts.window
        window.activateWindow()
        await until(window.isActiveWindow)
        button = window.header.options_button
        button.setFocus()
        qtbot.keyClick(button, Qt.Key.Key_Space)  # opened: the cursor is in its first field, not left on the button
        options = window.options
        await until(lambda: options.isVisible() and options.system_prompt.hasFocus())
        qtbot.keyClicks(options.system_prompt, "Be brief.")
        qtbot.keyClick(options.system_prompt, Qt.Key.Key_Tab)  # Tab moves on: no tab typed into the prompt
        assert options.system_prompt.toPlainText() == "Be brief." and not options.system_prompt.hasFocus()
        qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Escape)  # Esc closes the panel, what was typed applied
        assert not options.isVisible() and not button.isChecked() and button.hasFocus()
        assert parts.chat.options().system_prompt == "Be brief."


async def test_a_reasoning_model_shows_its_temperature_off_and_says_why(tmp_path: Path,
                                                                        fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window = parts.window
        window.header.options_button.click()
        options = window.options
        assert options.use_temperature.isEnabled() and options.temperature_note.isHidden()
        window.header.model_picker.setCurrentText("gpt-5-mini")
        window.header.modelChosen.emit("gpt-5-mini")
        assert not options.use_temperature.isEnabled() and not options.temperature.isEnabled()
        assert "gpt-5-mini is a reasoning model" in options.temperature_note.text()
        assert not options.temperature_note.isHidden()
        window.header.modelChosen.emit("gpt-4o-mini")
        assert options.use_temperature.isEnabled() and options.temperature_note.isHidden()


async def test_a_conversation_is_exported_from_its_menu_in_the_format_its_name_says(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="Tides follow the moon."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send("Why are there tides?")
        await until(lambda: not parts.chat.streaming and len(parts.chat.path) == 2)
        conversation = parts.chat.conversation
        assert conversation is not None
        sidebar = parts.window.sidebar
        item = next(sidebar.list.item(i) for i in range(sidebar.list.count())
                    if sidebar.list.item(i).data(Qt.ItemDataRole.UserRole) == conversation.id)
        assert item is not None
        sidebar.exportRequested.emit(conversation.id, "Why are there tides?")
        dialog = parts.window.findChild(QFileDialog, "conversation_export_dialog")
        assert dialog is not None and dialog.isVisible()
        assert Path(dialog.selectedFiles()[0]).name == "Why are there tides_.md"
        for name in ("tides.md", "tides.json"):
            dialog.fileSelected.emit(str(tmp_path / name))
            await until(lambda n=name: (tmp_path / n).exists())
        await until(lambda: "Tides follow the moon." in (tmp_path / "tides.md").read_text(encoding="utf-8"))
        assert (tmp_path / "tides.md").read_text(encoding="utf-8").lstrip()[:1] != "{"
        await until(lambda: (tmp_path / "tides.json").read_text(encoding="utf-8").lstrip().startswith(("{", "[")))
        dialog.close()


def test_a_right_click_leaves_the_conversation_shown_marked(qtbot: QtBot) -> None:
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    sidebar.resize(260, 400)
    sidebar.show()
    now = time.time()
    sidebar.set_conversations([Conversation(1, "Shown", "gpt-4o-mini", updated_at=now),
                               Conversation(2, "Other", "gpt-4o-mini", updated_at=now)])
    sidebar.set_current(1)
    other = next(sidebar.list.item(i) for i in range(sidebar.list.count()) if sidebar.list.item(i).text() == "Other")
    spot = sidebar.list.visualItemRect(other).center()
    qtbot.mouseClick(sidebar.list.viewport(), Qt.MouseButton.RightButton, pos=spot)
    sidebar.list.setCurrentItem(other)  # what the right press does
    sidebar.list.customContextMenuRequested.emit(spot)
    menu = sidebar.findChildren(QMenu)[-1]
    assert [a.text() for a in menu.actions()] == ["Rename", "Export…", "Delete"]
    menu.close()
    assert sidebar.list.currentItem().text() == "Shown"


def test_older_conversations_are_grouped_by_month() -> None:
    import datetime as dt

    from desktop_assistant.ui.chat.sidebar import group_name

    today = dt.date(2026, 12, 7)

    def at(day: dt.date) -> float:
        return dt.datetime(day.year, day.month, day.day, 12).timestamp()
    names = [group_name(at(today - dt.timedelta(days=days)), today) for days in (0, 1, 5, 20, 40, 200, 400)]
    assert names == ["Today", "Yesterday", "Previous 7 days", "Previous 30 days", "October", "May",
                     "November 2025"]


def test_markup_in_a_title_or_a_model_name_is_shown_as_it_is_in_tooltips(qtbot: QtBot) -> None:
    """A title a model wrote, or a model name a server sent, is never read as HTML (an <img> could load a file)."""
    header = Header()
    qtbot.addWidget(header)
    title = '<img src="file:///etc/passwd"><b>Bold</b> plan'
    header.set_title(title)
    assert shown_tip(header.title.toolTip()) == f"{title} (click to rename)"
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    sidebar.set_conversations([Conversation(1, "x", "<i>model</i>", updated_at=time.time())])
    tip = sidebar.list.item(1).toolTip()
    assert "&lt;i&gt;model&lt;/i&gt;" in tip and shown_tip(tip).startswith("<i>model</i> · ")


async def test_a_server_switched_to_that_does_not_offer_the_conversation_s_model_says_so(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="Hello"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send("Hi")  # a conversation on gpt-4o-mini (a new chat would take the server's default)
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        assert parts.chat.model == "gpt-4o-mini"
        await parts.endpoint.refresh_models()  # the same server's list: nothing to say
        banner = parts.window.banner
        assert not banner.isVisibleTo(parts.window)
        fake_openai.models = ["llama3.2:3b"]
        other = fake_openai.base_url.replace("127.0.0.1", "localhost")  # another server, as far as the app knows
        await parts.endpoint.save(parts.endpoint.settings.copy(base_url=other), None)
        await parts.endpoint.refresh_models()
        assert banner.isVisibleTo(parts.window)
        assert "does not offer gpt-4o-mini, the model of this conversation" in banner.label.text()
        assert banner._action is ErrorAction.CHOOSE_MODEL
        banner.hide()
        await parts.endpoint.refresh_models()  # said once, after the switch: not at every list
        assert not banner.isVisibleTo(parts.window)


def test_a_narrow_header_keeps_room_for_the_title(qtbot: QtBot) -> None:
    header = Header()
    qtbot.addWidget(header)
    header.set_title("Trip to Portugal in May")
    header.resize(900, 50)
    header.show()
    qtbot.waitUntil(lambda: header.title.width() > 300)
    assert not header.compact and header.model_label.isVisible()
    assert header.options_button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon
    header.resize(480, 50)  # the narrowest window: the buttons keep their icons, the title its words
    qtbot.waitUntil(lambda: header.compact)
    assert not header.model_label.isVisible()
    assert header.settings_button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly
    assert header.options_button.accessibleName() == "Conversation options"  # still said to a screen reader
    qtbot.waitUntil(lambda: header.title.width() >= 150)
    header.setStyleSheet("QToolButton { padding: 3px; }")  # a theme change measures the words again...
    qtbot.waitUntil(lambda: header.compact)  # ...and the narrow header stays compact
    header.resize(900, 50)
    qtbot.waitUntil(lambda: not header.compact)
    assert header.model_label.isVisible()


def test_a_search_with_more_hits_than_shown_says_how_to_narrow_it(qtbot: QtBot) -> None:
    from desktop_assistant.controllers.search import RESULTS
    from desktop_assistant.core.search import SearchHit
    from desktop_assistant.ui.chat.search_results import SHOWN, SearchResults

    assert SHOWN == RESULTS
    results = SearchResults()
    qtbot.addWidget(results)
    hit = SearchHit(message_id=1, conversation_id=1, title="Trip", role="user", created_at=0.0, snippet="a train")
    results.show_hits("train", [hit] * RESULTS)
    assert results.summary.text() == ("At least 50 messages found: the 50 that match best are shown (more words "
                                      "narrow it down).")
    results.show_hits("train", [hit] * 3)
    assert results.summary.text() == "3 messages found"
