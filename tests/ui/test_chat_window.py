"""The real window against the loopback server: type, send, stream, stop, restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication, QMouseEvent, QTextCursor
from PySide6.QtWidgets import (
    QApplication,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desktop_assistant.core.errors import ErrorAction, ErrorKind, UserFacingError
from desktop_assistant.core.models import Role, Status, text_part
from desktop_assistant.ui.chat.composer import Composer
from desktop_assistant.ui.chat.message_view import MessageView
from desktop_assistant.ui.chat.sidebar import COST_ROLE, ID_ROLE
from desktop_assistant.ui.main_window import MainWindow
from tests.conftest import next_emission, shown_tip, until
from tests.fake_openai.fixture import fake_openai  # noqa: F401
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start


async def test_type_send_see_reply_rendered_and_stored(tmp_path: Path, fake_openai: FakeOpenAI,  # noqa: F811
                                                       qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="Use **print**:\n\n```python\nprint('hi')\n```\n",
                              usage={"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21}))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window = parts.window
        composer = window.findChild(QPlainTextEdit, "composer")
        assert composer is not None
        qtbot.keyClicks(composer, "How do I print?")
        qtbot.keyClick(composer, Qt.Key.Key_Return)
        await until(lambda: any(m.role is Role.ASSISTANT and m.status is Status.COMPLETE
                                for m in parts.chat.path))
        assert composer.toPlainText() == ""
        reply_view = window.transcript.views[parts.chat.path[-1].id]
        assert "print('hi')" in reply_view.body.toPlainText()
        assert "9 in / 12 out" in reply_view.footer.text()
        assert reply_view.body.requested == []  # nothing loaded
        # stored: the question and the reply, with usage and a ledger row
        conv = parts.chat.conversation
        assert conv is not None and conv.title == "How do I print?"
        stored = await parts.store.messages(conv.id)
        assert [(m.role, m.text) for m in stored] == [
            (Role.USER, "How do I print?"), (Role.ASSISTANT, "Use **print**:\n\n```python\nprint('hi')\n```\n")]
        ledger = await parts.store.ledger(conv.id)
        assert len(ledger) == 1 and ledger[0].usage.input_tokens == 9 and ledger[0].cost_micros is not None
        # typing also readied the connection (GET /models), in whichever order the two requests arrived
        body = next(r.json for r in reversed(fake_openai.requests) if r.path.endswith("/chat/completions"))
        assert body is not None and body["stream"] is True and body["stream_options"] == {"include_usage": True}
        assert body["max_completion_tokens"] > 0 and "max_tokens" not in body


async def test_stop_keeps_partial_reply_and_restart_finds_it(tmp_path: Path, fake_openai: FakeOpenAI,  # noqa: F811
                                                             qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(chunks=["Partial ", "answer ", "that ", "takes ", "ages"], chunk_delay=0.5))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        composer = parts.window.composer
        qtbot.keyClicks(composer.edit, "Tell me a long story")
        qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
        await until(lambda: parts.chat.streaming and len(parts.chat.path) == 2)
        stop = parts.window.findChild(QPushButton, "stop_button")
        assert stop is not None and stop.isVisible()
        await until(lambda: parts.window.transcript.views[parts.chat.path[-1].id].body.toPlainText() != "")
        qtbot.keyClick(composer.edit, Qt.Key.Key_Escape)
        await until(lambda: not parts.chat.streaming and parts.chat.path[-1].status is Status.STOPPED)
        reply = parts.chat.path[-1]
        assert reply.text.startswith("Partial")
        assert reply.usage is not None and reply.usage.estimated
        assert "stopped" in parts.window.transcript.views[reply.id].footer.text()
        assert parts.window.composer.send_button.isVisible()
        conv_id = parts.chat.conversation.id if parts.chat.conversation else None
        await parts.lifecycle.shutdown()
    async with built_app(tmp_path, fake_openai.base_url) as again:
        assert again.chat.conversation is not None and again.chat.conversation.id == conv_id
        texts = [(m.role, m.status) for m in again.chat.path]
        assert texts == [(Role.USER, Status.COMPLETE), (Role.ASSISTANT, Status.STOPPED)]
        assert again.chat.path[-1].text.startswith("Partial")
        assert again.window.sidebar.list.count() == 2  # the "Today" header and the conversation


async def test_enter_while_the_reply_streams_says_when_the_draft_can_be_sent(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:  # noqa: F811
    fake_openai.enqueue(Reply(chunks=["A ", "slow ", "answer ", "arriving"], chunk_delay=0.3))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        composer = parts.window.composer
        await parts.chat.send("Tell me slowly")
        await until(lambda: parts.chat.streaming_here and composer.stop_button.isVisible())
        asked = len(fake_openai.requests)
        qtbot.keyClicks(composer.edit, "and then?")
        qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
        await until(lambda: composer.refusal.isVisibleTo(parts.window))
        assert composer.refusal.text() == ("A reply is still arriving: send this once it has finished, or after "
                                           "Stop (Esc).")
        assert composer.text == "and then?" and len(fake_openai.requests) == asked  # kept, not sent
        await until(lambda: not parts.chat.streaming, timeout=15)
        assert not composer.refusal.isVisibleTo(parts.window)  # over: the draft can go now
        assert composer.text == "and then?"


async def test_bad_key_shows_error_with_settings_action_and_keeps_question(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:  # noqa: F811
    fake_openai.enqueue(Reply(status=401))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        qtbot.keyClicks(parts.window.composer.edit, "Hello?")
        qtbot.keyClick(parts.window.composer.edit, Qt.Key.Key_Return)
        await until(lambda: len(parts.chat.path) == 2 and bool(parts.chat.path[-1].error) and not parts.chat.streaming)
        view = parts.window.transcript.views[parts.chat.path[-1].id]
        assert "API key" in view.error_label.text()
        assert view.action_button.text() == "Open settings"
        assert parts.chat.path[0].text == "Hello?"
        parts.window.open_settings("spending")  # the tab shown last...
        dialog = parts.window.settings_dialog
        assert dialog is not None
        dialog.hide()
        view.action_button.click()  # ... is not where a key's error leads: the key field is
        assert dialog.isVisible() and dialog.tabs.currentIndex() == 0
        await until(dialog.form.api_key.hasFocus)
        dialog.hide()
        # Retry replaces the failed empty reply instead of piling up alternatives
        fake_openai.enqueue(Reply(text="Hi there"))
        await parts.chat.retry()
        await until(lambda: len(parts.chat.path) == 2 and parts.chat.path[-1].status is Status.COMPLETE
                    and not parts.chat.streaming)
        assert [m.text for m in parts.chat.path] == ["Hello?", "Hi there"]
        assert parts.chat.alternatives(parts.chat.path[-1]) == (1, 1)


async def test_no_key_shows_onboarding_not_an_error(tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    async with built_app(tmp_path, "https://api.openai.com/v1", key=None) as parts:
        await start(parts)
        onboarding = parts.window.onboarding
        assert parts.window.stack.currentWidget() is onboarding
        assert "https://platform.openai.com/api-keys" in onboarding.get_key.text()  # where a key comes from
        assert onboarding.get_key.openExternalLinks()
        onboarding.show_problem("No system keyring was found (such as GNOME Keyring, KWallet, macOS Keychain or "
                                "Windows Credential Manager), so your API key is kept only until you close the app.")
        parts.window.resize(1000, 700)
        await until(lambda: onboarding.problem.isVisible() and onboarding.problem.height() > 0)
        form = onboarding.form
        for field in (form.api_key, form.base_url, form.organization, form.timeout):
            assert field.height() >= field.minimumSizeHint().height(), field.objectName()  # no row squashed


async def test_a_key_kept_for_the_session_only_is_said_in_full(tmp_path: Path,
                                                               fake_openai: FakeOpenAI) -> None:  # noqa: F811
    text = ("No system keyring was found (such as GNOME Keyring, KWallet, macOS Keychain or Windows Credential "
            "Manager), so your API key is kept only until you close the app.")
    async with built_app(tmp_path, fake_openai.base_url, key=None) as parts:
        await start(parts)
        banner = parts.window.banner
        parts.endpoint.keyringProblem.emit(text)
        assert not banner.isVisibleTo(parts.window)  # a local server without a key: no key to lose
        await parts.endpoint.save(parts.endpoint.settings, "sk-typed-in-settings")
        parts.endpoint.keyringProblem.emit(text)
        assert banner.isVisibleTo(parts.window) and banner.label.text() == text
        assert banner.label.wordWrap()  # wrapped, not cut off at the window's width
        banner.hide()  # dismissed: read, and not said again at each save of Settings (which reads the key again)
        parts.endpoint.keyringProblem.emit(text)
        assert not banner.isVisibleTo(parts.window)


async def test_a_long_information_is_wrapped_in_the_banner_and_a_short_one_is_in_the_status_bar(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    long = ("Your conversation database was upgraded; the earlier one was copied to "
            "/home/someone/.local/share/desktop-assistant/backups/conversations-before-upgrade.sqlite3.")
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.notices.info("Copied")
        assert parts.window.statusBar().currentMessage() == "Copied"
        assert not parts.window.banner.isVisibleTo(parts.window)
        parts.notices.info(long)
        assert parts.window.banner.isVisibleTo(parts.window) and parts.window.banner.label.text() == long


async def test_truncated_reply_offers_continue(tmp_path: Path, fake_openai: FakeOpenAI,  # noqa: F811
                                               qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="The first half", finish_reason="length",
                              usage={"prompt_tokens": 100, "completion_tokens": 80, "total_tokens": 180}),
                        Reply(text=" and the rest.", usage={"prompt_tokens": 120, "completion_tokens": 9,
                                                            "total_tokens": 129}))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send("Write something long")
        await until(lambda: parts.chat.path[-1].status is Status.TRUNCATED)
        view = parts.window.transcript.views[parts.chat.path[-1].id]
        assert view.action_button.text() == "Continue" and view.action_button.isVisibleTo(view)
        qtbot.mouseClick(view.action_button, Qt.MouseButton.LeftButton)
        await until(lambda: parts.chat.path[-1].status is Status.COMPLETE and not parts.chat.streaming)
        assert parts.chat.path[-1].text == "The first half and the rest."
        # the reply shows what both requests cost (the ledger has one row for each)
        reply = parts.chat.path[-1]
        assert reply.usage is not None and (reply.usage.input_tokens, reply.usage.output_tokens) == (220, 89)
        first = parts.chat.prices.cost_micros("gpt-4o-mini", 100, 0, 80)
        second = parts.chat.prices.cost_micros("gpt-4o-mini", 120, 0, 9)
        assert first is not None and second is not None and reply.cost_micros == first + second
        assert "220 in / 89 out" in parts.window.transcript.views[reply.id].footer.text()
        sent = fake_openai.requests[-1].json
        assert sent is not None and sent["messages"][-2] == {"role": "assistant", "content": "The first half"}


async def test_edit_and_resend_makes_a_branch(tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.enqueue(Reply(text="Answer one"), Reply(text="Answer two"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send("Question one")
        await until(lambda: parts.chat.path[-1].status is Status.COMPLETE and len(parts.chat.path) == 2
                    and not parts.chat.streaming)
        first_q = parts.chat.path[0]
        await parts.chat.edit_and_resend(first_q.id, "Question two")
        await until(lambda: len(parts.chat.path) == 2 and parts.chat.path[-1].text == "Answer two"
                    and not parts.chat.streaming)
        assert parts.chat.alternatives(parts.chat.path[0]) == (2, 2)
        await parts.chat.switch_branch(parts.chat.path[0].id, -1)
        assert [m.text for m in parts.chat.path] == ["Question one", "Answer one"]
        await asyncio.sleep(0)  # wait-ok: let queued UI updates run before closing


async def test_closing_the_window_mid_stream_keeps_the_partial_reply(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.enqueue(Reply(chunks=["Half ", "of ", "it ", "and ", "more"], chunk_delay=0.4))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send("Stream please")

        def reply_visible() -> bool:
            last = parts.chat.path[-1]
            view = parts.window.transcript.views.get(last.id)
            return last.role is Role.ASSISTANT and view is not None and view.body.toPlainText() != ""

        await until(reply_visible)
        closed = asyncio.get_running_loop().create_future()
        parts.lifecycle.closed.connect(lambda: closed.done() or closed.set_result(True))
        assert parts.window.close() is False  # the first close waits for the work to be saved
        await asyncio.wait_for(closed, 10)
        assert parts.lifecycle.done
        conv_id = parts.chat.conversation.id if parts.chat.conversation else 0
    async with built_app(tmp_path, fake_openai.base_url) as again:
        assert again.chat.conversation is not None and again.chat.conversation.id == conv_id
        reply = again.chat.path[-1]
        assert reply.role is Role.ASSISTANT and reply.status is Status.INTERRUPTED  # the app closed: not a Stop
        assert reply.text.startswith("Half")


async def test_a_new_conversation_is_titled_from_its_first_exchange(tmp_path: Path,
                                                                     fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.enqueue(Reply(text="Use a list comprehension."),
                        Reply(text='"Squaring Numbers in Python."', usage={"prompt_tokens": 60, "completion_tokens": 6,
                                                                            "total_tokens": 66}))
    async with built_app(tmp_path, fake_openai.base_url, titles=True) as parts:
        await start(parts)
        await parts.chat.send("how do i square every number in a python list quickly and cleanly")
        await until(lambda: parts.chat.conversation is not None
                    and parts.chat.conversation.title == "Squaring Numbers in Python")
        title_request = fake_openai.requests[-1].json
        assert title_request["model"] == "gpt-4o-mini" and "stream" not in title_request
        assert title_request["max_completion_tokens"] == 24
        ledger = await parts.store.ledger(parts.chat.conversation.id)
        assert [e.feature for e in ledger] == ["chat", "titles"] and ledger[1].usage.input_tokens == 60
        assert parts.window.header.title.text() == "Squaring Numbers in Python"
        # renaming by hand always wins: a later exchange never retitles
        await parts.chat.rename(parts.chat.conversation.id, "My own name")
        await parts.chat.send("and cubes?")
        await until(lambda: len(parts.chat.path) == 4 and not parts.chat.streaming)
        assert parts.chat.conversation.title == "My own name"


async def test_reasoning_model_gets_effort_no_temperature_and_a_thinking_state(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.enqueue(Reply(text="42", first_byte_delay=1.6, usage={
        "prompt_tokens": 10, "completion_tokens": 50, "total_tokens": 60,
        "completion_tokens_details": {"reasoning_tokens": 45}}))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(reasoning_effort="high")
        await parts.chat.set_model("o4-mini")
        parts.chat.set_options("", 0.3, None)
        seen: list[int] = []
        parts.chat.thinking.connect(seen.append)
        await parts.chat.send("think hard")
        await until(lambda: 1 in seen)
        assert parts.window.composer.thinking.text() == "Thinking… 1 s"
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        assert seen[-1] == -1 and not parts.window.composer.thinking.isVisibleTo(parts.window)
        body = fake_openai.requests[-1].json
        assert body["reasoning_effort"] == "high" and "temperature" not in body
        assert parts.chat.path[-1].usage is not None and parts.chat.path[-1].usage.reasoning_tokens == 45
        footer = parts.window.transcript.views[parts.chat.path[-1].id].footer.text()
        assert "10 in / 50 out (45 reasoning)" in footer
        ledger = await parts.store.ledger(parts.chat.path[-1].conversation_id)
        assert ledger[-1].usage.reasoning_tokens == 45


async def test_without_a_keyring_no_screen_says_the_key_is_kept_in_one(tmp_path: Path,
                                                                       fake_openai: FakeOpenAI) -> None:  # noqa: F811
    text = "No system keyring was found, so your API key is kept only until you close the app."
    async with built_app(tmp_path, "https://api.openai.com/v1", key=None) as parts:
        await start(parts)
        parts.endpoint.keyringProblem.emit(text)
        onboarding = parts.window.onboarding
        assert parts.window.stack.currentWidget() is onboarding
        assert onboarding.problem.text() == text
        assert not parts.window.banner.isVisibleTo(parts.window)  # said once, on the welcome page itself
        hint = onboarding.form.key_hint.text()
        assert "session only" in hint and "kept in your system keyring" not in hint
        assert "No system keyring" not in hint  # said once, by the line about the problem
        parts.window.open_settings()
        dialog = parts.window.settings_dialog
        assert dialog is not None
        assert "No system keyring was found" in dialog.intro.text()
        # a tool server's secret values last as long: the form says so where they are typed
        assert "session only" in dialog.mcp.secret_env.placeholderText()
        assert "keyring" not in dialog.mcp.secret_headers.placeholderText().replace("no system keyring", "")
        assert "stored in your system keyring" not in dialog.intro.text()
        dialog.close()


async def test_a_key_typed_while_the_environment_sets_one_is_explained(tmp_path: Path,
                                                                      fake_openai: FakeOpenAI) -> None:  # noqa: F811
    async with built_app(tmp_path, fake_openai.base_url) as parts:  # OPENAI_API_KEY is set for the session
        await start(parts)
        parts.window.open_settings()
        dialog = parts.window.settings_dialog
        assert dialog is not None
        assert "OPENAI_API_KEY" in dialog.form.key_hint.text()
        dialog.form.api_key.setText("sk-typed-in-settings-0123456789")
        dialog._save()
        banner = parts.window.banner
        await until(lambda: banner.isVisibleTo(parts.window) and "OPENAI_API_KEY" in banner.label.text())
        assert "the key you typed" in banner.label.text()
        assert parts.endpoint.key_source.value == "environment"


async def test_a_reply_cut_by_closing_the_app_says_so_and_offers_retry(tmp_path: Path,
                                                                      fake_openai: FakeOpenAI) -> None:  # noqa: F811
    """Not "stopped" as if the person had pressed Stop: the app closed; what arrived is kept, Retry is offered."""
    fake_openai.enqueue(Reply(chunks=["Partial ", "answer ", "that ", "takes ", "ages"], chunk_delay=0.5))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.window.composer.set_text("Tell me a long story")
        parts.window.composer.send_button.click()
        await until(lambda: len(parts.chat.path) == 2 and parts.chat.streaming
                    and parts.window.transcript.views[parts.chat.path[-1].id].body.toPlainText() != "")
        await parts.lifecycle.shutdown()
    async with built_app(tmp_path, fake_openai.base_url) as again:
        await start(again)
        reply = again.chat.path[-1]
        assert reply.status is Status.INTERRUPTED and reply.text.startswith("Partial")
        assert (reply.error or "").startswith("The app was closed while this reply was arriving.")
        view = again.window.transcript.views[reply.id]
        assert view.action_button.text() == "Retry" and view.action_button.isVisibleTo(view)


async def test_stop_by_click_gives_the_box_back_and_ctrl_q_closes_keeping_the_draft(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:  # noqa: F811
    fake_openai.enqueue(Reply(chunks=["Partial ", "answer ", "that ", "takes ", "ages"], chunk_delay=0.5))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window, composer = parts.window, parts.window.composer
        window.activateWindow()
        await until(window.isActiveWindow)
        long_title = "A very long title about the history of printing in Europe and in Asia " * 3
        window.header.set_title(long_title)
        assert window.header.title.cursorPosition() == 0  # shown from its start, cut at its end
        assert shown_tip(window.header.title.toolTip()).startswith(long_title)  # and whole where it is cut
        await parts.chat.send("Tell me a long story")
        await until(lambda: parts.chat.streaming and composer.stop_button.isVisible())
        # Stop clicked at once, before the request went out: the reply is over (it stayed "streaming" for ever)
        qtbot.mouseClick(composer.stop_button, Qt.MouseButton.LeftButton)
        await until(lambda: not parts.chat.streaming and composer.send_button.isVisible())
        assert composer.edit.hasFocus()  # the next words typed go in the box
        qtbot.keyClicks(composer.edit, "next question")
        closed = asyncio.get_running_loop().create_future()
        parts.lifecycle.closed.connect(lambda: closed.done() or closed.set_result(True))
        qtbot.keyClick(composer.edit, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
        await asyncio.wait_for(closed, 10)
    async with built_app(tmp_path, fake_openai.base_url) as again:
        assert again.window.composer.text == "next question"


def test_a_draft_put_in_the_box_before_it_is_shown_is_all_visible_once_its_lines_wrap(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.set_max_height(400)
    long_line = "A sentence long enough to wrap more than once in a box of this narrow width, and then some more. "
    composer.set_text(f"{long_line * 2}\n\n{long_line}\n\nLast line.")  # a draft kept at close, put back at start
    composer.resize(420, 300)
    composer.show()
    bar = composer.edit.verticalScrollBar()
    qtbot.waitUntil(lambda: composer.edit.document().size().height() > 5)  # the lines have wrapped at this width
    qtbot.waitUntil(lambda: bar.maximum() == 0)  # the box grew to show them all, the last line too
    lines = composer.edit.document().size().height()
    composer.resize(340, 300)  # narrower: more lines
    qtbot.waitUntil(lambda: composer.edit.document().size().height() > lines)
    qtbot.waitUntil(lambda: bar.maximum() == 0)


def test_the_figures_under_the_box_wrap_in_a_narrow_window_and_keep_to_one_line_in_a_wide_one(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.token_count.setText("draft 12 tok · next request 2,267 / 400,000")
    composer.cost_label.setText("$0.0004 to send · at most ~$0.0026 with a 4,096-token reply")
    labels = (composer.token_count, composer.cost_label)
    line = composer.token_count.fontMetrics().height()

    def lines(label: QLabel) -> int:
        return round(label.heightForWidth(label.width()) / line)

    composer.resize(1100, 160)
    composer.show()
    qtbot.waitUntil(lambda: all(lines(label) == 1 for label in labels))  # room: one line each
    composer.resize(560, 200)  # narrow: on two lines or more, all of it shown (it was cut: "/ 400" for 400,000)
    qtbot.waitUntil(lambda: all(lines(label) >= 2 for label in labels))
    for label in labels:
        assert label.heightForWidth(label.width()) <= label.height()


async def test_a_reply_stopped_before_any_text_says_so_and_a_failed_one_has_no_empty_line(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.enqueue(Reply(text="late", first_byte_delay=2.0), Reply(status=500))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(max_retries=0)
        await parts.chat.send("Slow please")
        await until(lambda: len(fake_openai.requests) >= 1 and parts.chat.streaming)
        parts.chat.stop()
        await until(lambda: not parts.chat.streaming and parts.chat.path[-1].role is Role.ASSISTANT)
        stopped = parts.window.transcript.views[parts.chat.path[-1].id]
        assert "stopped before any text arrived" in stopped.footer.text()
        assert stopped.body.isHidden()
        await parts.chat.send("Fail please")
        await until(lambda: not parts.chat.streaming and parts.chat.path[-1].status is Status.ERROR)
        failed = parts.window.transcript.views[parts.chat.path[-1].id]
        assert failed.body.isHidden() and not failed.error_label.isHidden()


async def test_settings_say_that_another_address_needs_its_own_key(tmp_path: Path,
                                                                   fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.api_key = "sk-test"
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.window.open_settings()
        dialog = parts.window.settings_dialog
        assert dialog is not None
        form = dialog.form
        saved_hint = form.key_hint.text()
        other = fake_openai.base_url.replace("127.0.0.1", "localhost")  # the same server, another address
        form.base_url.setText(other)
        assert form.key_hint.text().startswith("No key is saved for this address")
        form.test_button.click()
        ok, message = await next_emission(parts.endpoint.connectionTested.connect)
        assert not ok and "type it in the API key field above" in message and "in Settings" not in message
        form.base_url.setText(fake_openai.base_url)
        assert form.key_hint.text() == saved_hint


async def test_settings_refuse_an_address_that_is_not_one_and_warn_before_saving_a_failed_key(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.api_key = "sk-test"
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.window.open_settings("spending")
        dialog = parts.window.settings_dialog
        assert dialog is not None
        form = dialog.form
        form.base_url.setText("not a url")
        asked = len(fake_openai.requests)
        form.test_button.click()  # says what is wrong with the address, asks nothing
        assert form.test_result.text().startswith("✗ “not a url” is not a web address")
        form.test_result.clear()
        dialog.findChild(QDialogButtonBox, "settings_buttons").button(QDialogButtonBox.StandardButton.Save).click()
        assert dialog.isVisible() and dialog.tabs.currentIndex() == 0  # not saved: the page that says why
        assert "is not a web address" in form.test_result.text()
        assert parts.endpoint.settings.base_url == fake_openai.base_url and len(fake_openai.requests) == asked
        # a key that Test connection just refused is saved only when Save is clicked again
        form.base_url.setText(fake_openai.base_url)
        form.api_key.setText("sk-wrong")
        form.test_button.click()
        ok, _message = await next_emission(parts.endpoint.connectionTested.connect)
        assert not ok
        save = dialog.findChild(QDialogButtonBox, "settings_buttons").button(QDialogButtonBox.StandardButton.Save)
        save.click()
        assert dialog.isVisible() and "click Save again to save them anyway" in form.test_result.text()
        saved = next_emission(parts.endpoint.settingsChanged.connect)
        save.click()
        await saved
        assert not dialog.isVisible()
    async with built_app(tmp_path / "first", "https://api.openai.com/v1", key=None) as first:
        await start(first)
        onboarding = first.window.onboarding
        onboarding.form.base_url.setText("http://local host:1234/v1")
        onboarding.form.api_key.setText("sk-anything")
        onboarding.start_button.click()
        assert onboarding.problem.text().startswith("“http://local host:1234/v1” is not a web address")
        assert first.window.stack.currentWidget() is onboarding


class _AnyCost:
    """Equal to a cost as the sidebar shows one ("<$0.0001", "$0.0004")."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and "$" in other


ANY_COST = _AnyCost()


def _sidebar_costs(window: MainWindow) -> dict[str, object]:
    """What the sidebar shows at the right of each conversation, by title."""
    items = [window.sidebar.list.item(i) for i in range(window.sidebar.list.count())]
    return {item.text(): item.data(COST_ROLE) for item in items if item.data(ID_ROLE) is not None}


async def test_a_reply_arriving_in_another_conversation_is_not_stopped_or_blocked_unseen(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:  # noqa: F811
    fake_openai.enqueue(Reply(text="First answer."),
                        Reply(chunks=["Slow ", "answer ", "that ", "takes ", "a ", "while"], chunk_delay=0.4,
                              first_byte_delay=0.5))  # its first words arrive after the switch
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window, composer = parts.window, parts.window.composer
        await parts.chat.send("First chat")
        await until(lambda: not parts.chat.streaming and len(parts.chat.path) == 2)
        first = parts.chat.conversation
        assert first is not None
        window.new_chat()
        await parts.chat.send("Second chat, slow")
        await until(lambda: parts.chat.streaming and composer.stop_button.isVisible())
        await parts.chat.open_conversation(first.id)  # the slow reply goes on arriving in the other chat
        assert composer.send_button.isVisible() and not composer.stop_button.isVisible()
        qtbot.keyClick(composer.edit, Qt.Key.Key_Escape)  # Esc here does not stop the reply unseen
        assert parts.chat.streaming
        composer.set_text("a follow-up")
        composer.send_button.click()  # refused with the reason, the words kept
        await until(lambda: "still arriving in another conversation" in composer.refusal.text())
        assert composer.refusal.text() == ("A reply is still arriving in another conversation, “Second chat, slow”: "
                                           "send once it has finished, or open that conversation and stop it.")
        assert composer.text == "a follow-up"
        # the sidebar shows where the reply is arriving, in place of that conversation's cost
        await until(lambda: _sidebar_costs(window) == {"Second chat, slow": "replying…", "First chat": ANY_COST})
        await until(lambda: not parts.chat.streaming, timeout=15)
        assert composer.refusal.text() == ""  # it has arrived: the reason to wait is gone with it
        await until(lambda: "replying…" not in _sidebar_costs(window).values())
        stored = await parts.store.messages(parts.chat.path[0].conversation_id)
        assert stored[-1].text == "First answer."  # nothing was added here meanwhile
        assert [m.text for m in parts.chat.path] == ["First chat", "First answer."]  # nor shown here
        second = (await parts.store.list_conversations())[0]
        await parts.chat.open_conversation(second.id)
        assert [m.text for m in parts.chat.path] == ["Second chat, slow", "Slow answer that takes a while"]


async def test_a_long_question_shows_its_start_until_show_all_and_find_unfolds_it(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.enqueue(Reply(text="A short answer."))
    pasted = "\n".join(f"log line {i}: all is well" for i in range(200)) + "\nthe needle is here"
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send(pasted)
        await until(lambda: not parts.chat.streaming and len(parts.chat.path) == 2)
        view = parts.window.transcript.views[parts.chat.path[0].id]
        shown = view.body.toPlainText()
        assert shown.startswith("log line 0") and "the needle" not in shown and view.folded
        assert view.fold_button.text() == "Show all (189 more lines)"
        view.fold_button.click()
        assert "the needle is here" in view.body.toPlainText() and view.fold_button.text() == "Show less"
        view.fold_button.click()
        assert view.folded
        parts.window.find_bar.open_bar(parts.chat.path)
        parts.window.find_bar.field.setText("needle")
        parts.window.find_bar.search("needle")
        assert parts.window.find_bar.matches and not view.folded  # found in the part that was folded away
        copied: list[str] = []
        view.copyRequested.connect(copied.append)
        view.fold_button.click()  # folded again: Copy still copies all of it
        view.copy_button.click()
        assert copied == [pasted]


async def test_saving_a_key_that_test_connection_just_refused_asks_for_a_second_click(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.api_key = "sk-right-key-0123456789"
    async with built_app(tmp_path, "https://api.openai.com/v1", key=None) as parts:
        await start(parts)
        onboarding = parts.window.onboarding
        form = onboarding.form
        form.base_url.setText(fake_openai.base_url)
        form.api_key.setText("sk-wrong-key-0123456789")
        form.test_button.click()
        ok, message = await next_emission(parts.endpoint.connectionTested.connect)
        assert not ok and "was not accepted" in message and "wrong-key" not in message  # masked
        assert message.endswith("Paste the key again in the field above (a key starts with sk-; the server's owner "
                                "gives it), then Test connection.")  # the next step, where the person is
        saved: list[object] = []
        onboarding.saveRequested.connect(lambda *args: saved.append(args))
        onboarding.start_button.click()
        assert saved == [] and "Test connection did not work" in onboarding.problem.text()
        onboarding.start_button.click()  # the second click saves them anyway
        assert len(saved) == 1


async def test_a_reply_finished_after_its_conversation_was_opened_again_is_shown_and_sent_whole(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.enqueue(Reply(text="First answer."),
                        Reply(chunks=[f"word{i} " for i in range(30)], chunk_delay=0.1),
                        Reply(text="Next answer."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send("First chat")
        await until(lambda: not parts.chat.streaming and len(parts.chat.path) == 2)
        first = parts.chat.conversation
        assert first is not None
        parts.window.new_chat()
        await parts.chat.send("Slow one")
        await until(lambda: parts.chat.streaming and len(parts.chat.path) == 2)
        slow = parts.chat.conversation
        assert slow is not None
        await asyncio.sleep(0.6)  # wait-ok: part of the reply arrives (and is saved) meanwhile
        await parts.chat.open_conversation(first.id)
        await parts.chat.open_conversation(slow.id)  # back while it still streams: read from the store, cut short
        assert parts.chat.streaming
        await until(lambda: not parts.chat.streaming, timeout=15)
        whole = "".join(f"word{i} " for i in range(30))
        assert parts.chat.path[-1].text == whole and parts.chat.path[-1].status is Status.COMPLETE
        await until(lambda: "writing" not in parts.window.transcript.views[parts.chat.path[-1].id].footer.text())
        await parts.chat.send("And then?")
        await until(lambda: not parts.chat.streaming and len(parts.chat.path) == 4)
        sent = fake_openai.requests[-1].json
        assert sent is not None and sent["messages"][-2] == {"role": "assistant", "content": whole}


async def test_a_question_left_without_a_reply_by_a_crash_says_so_and_retries(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        # the app killed after the question was stored and before the reply's first words
        conversation = await parts.store.create_conversation("gpt-4o-mini", title="Unanswered")
        await parts.store.add_message(conversation.id, None, Role.USER, [text_part("Is anyone there?")])
        parts.endpoint.update_settings(last_conversation_id=conversation.id)
    fake_openai.enqueue(Reply(text="Yes, here."))
    async with built_app(tmp_path, fake_openai.base_url) as again:
        await start(again)
        banner = again.window.banner
        assert banner.isVisibleTo(again.window) and "has no reply" in banner.label.text()
        assert banner.action.text() == "Retry"
        banner.action.click()
        await until(lambda: len(again.chat.path) == 2 and again.chat.path[-1].text == "Yes, here."
                    and not again.chat.streaming)
        assert [m.text for m in again.chat.path] == ["Is anyone there?", "Yes, here."]
        again.window.new_chat()
        await again.chat.open_conversation(conversation.id)  # answered now: nothing more to say
        assert "has no reply" not in banner.label.text() or not banner.isVisibleTo(again.window)


async def test_a_reply_cut_short_by_a_crash_is_counted_as_an_estimate(tmp_path: Path,
                                                                      fake_openai: FakeOpenAI) -> None:  # noqa: F811
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        # the app killed while a reply streamed: the question and what had arrived are on disk, its usage is not
        conversation = await parts.store.create_conversation("gpt-4o-mini", title="Cut short")
        question = await parts.store.add_message(conversation.id, None, Role.USER,
                                                 [text_part("Tell me about the tides, at length.")])
        reply = await parts.store.add_message(conversation.id, question.id, Role.ASSISTANT,
                                              [text_part("Tides are the rise and fall of the sea. " * 20)],
                                              status=Status.STREAMING, model="gpt-4o-mini")
        parts.endpoint.update_settings(last_conversation_id=conversation.id)
    async with built_app(tmp_path, fake_openai.base_url) as again:
        await start(again)
        await until(lambda: again.chat.path[-1].usage is not None)
        shown = again.chat.path[-1]
        assert shown.id == reply.id and shown.status is Status.INTERRUPTED
        assert shown.usage is not None and shown.usage.estimated and shown.usage.output_tokens > 100
        assert shown.cost_micros is not None and shown.cost_micros > 0
        footer = again.window.transcript.views[reply.id].footer.text()
        assert "~" in footer and "interrupted" in footer  # counted, and said to be an estimate
        ledger = await again.store.read(lambda c: c.execute(
            "SELECT message_id, estimated FROM usage_ledger").fetchall())
        assert [tuple(row) for row in ledger] == [(reply.id, 1)]
    async with built_app(tmp_path, fake_openai.base_url) as third:  # counted once, not at every start
        await start(third)
        ledger = await third.store.read(lambda c: c.execute("SELECT COUNT(*) FROM usage_ledger").fetchone()[0])
        assert ledger == 1


async def test_the_banner_s_retry_is_only_offered_for_the_chat_s_own_failures(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.enqueue(Reply(text="An answer."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send("A question")
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        asked = len([r for r in fake_openai.requests if r.path.endswith("/chat/completions")])
        banner = parts.window.banner
        # indexing for search failed: its Retry regenerated the last reply (a request nobody asked for)
        parts.notices.error(UserFacingError(ErrorKind.SERVER, "The server had a problem (500). Try again in a "
                                            "moment.", ErrorAction.RETRY))
        assert banner.isVisibleTo(parts.window) and "(500)" in banner.label.text()
        assert not banner.action.isVisibleTo(parts.window)  # said, without a Retry that would ask the chat
        conversation = parts.chat.conversation
        assert conversation is not None
        parts.notices.error(UserFacingError(ErrorKind.SERVER, "The reply failed (500).", ErrorAction.RETRY),
                            {"conversation_id": conversation.id})
        assert banner.action.isVisibleTo(parts.window) and banner.action.text() == "Retry"  # the chat's own
        assert len([r for r in fake_openai.requests if r.path.endswith("/chat/completions")]) == asked


async def test_settings_open_with_the_cursor_in_the_page_s_first_field(tmp_path: Path,
                                                                     fake_openai: FakeOpenAI) -> None:  # noqa: F811
    """Never on Cancel: a space typed there closed the dialog. Reopened on the tab shown last, at its first field."""
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.window.open_settings()
        dialog = parts.window.settings_dialog
        assert dialog is not None
        assert dialog.focusWidget() is dialog.form.api_key  # the Connection page's first field
        dialog.tabs.setCurrentWidget(dialog.spending)
        dialog.reject()
        parts.window.open_settings()
        assert dialog.tabs.currentWidget() is dialog.spending
        focused = dialog.focusWidget()
        assert focused is not None and dialog.spending.isAncestorOf(focused)
        assert not isinstance(focused, QPushButton)


async def test_a_saved_key_can_be_removed_from_settings(tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    async with built_app(tmp_path, fake_openai.base_url, key=None) as parts:
        await start(parts)
        parts.window.open_settings()
        dialog = parts.window.settings_dialog
        assert dialog is not None
        form = dialog.form
        assert not form.forget_key.isVisibleTo(dialog)  # no key saved: nothing to remove
        form.api_key.setText("sk-to-be-removed-0123")
        saved = next_emission(parts.endpoint.settingsChanged.connect)
        dialog._save()
        await saved
        assert parts.endpoint.key_source.value in ("keyring", "session")
        parts.window.open_settings()
        assert form.forget_key.isVisibleTo(dialog)
        form.forget_key.click()
        assert not form.api_key.isEnabled() and "will be removed from this computer" in form.key_hint.text()
        dialog.reject()  # Cancel keeps it
        assert parts.endpoint.key_source.value in ("keyring", "session")
        parts.window.open_settings()
        assert not form.forget_key.isChecked() and form.api_key.isEnabled()
        form.forget_key.click()
        saved = next_emission(parts.endpoint.settingsChanged.connect)
        dialog._save()
        await saved
        assert parts.endpoint.key_source.value == "none" and not parts.endpoint.has_key
        assert (await parts.endpoint._secrets.get_key(fake_openai.base_url)).key is None


def _hover(widget: QWidget, at: QPoint) -> None:
    """Move the pointer over ``widget`` to ``at`` (qtbot's mouseMove processes events inside the test's task,
    which leaves the qasync loop unable to stop at the end of the test)."""
    point = QPointF(at)
    QApplication.sendEvent(widget, QMouseEvent(QEvent.Type.MouseMove, point, widget.mapToGlobal(point),
                                               Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                                               Qt.KeyboardModifier.NoModifier))


def _link_point(browser: QTextBrowser, href: str) -> QPoint:
    """Where the link to ``href`` is drawn in ``browser``'s viewport."""
    block = browser.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().anchorHref() == href:
                cursor = QTextCursor(browser.document())
                cursor.setPosition(fragment.position() + 1)
                return browser.cursorRect(cursor).center()
            it += 1
        block = block.next()
    raise AssertionError(f"no link to {href}")


class _Opened(QObject):
    """Receives the links the desktop is asked to open (a URL handler in place of the browser)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def take(self, url: QUrl) -> None:
        self.urls.append(url.toString())


async def test_a_link_shows_where_it_leads_and_says_when_no_browser_opens_it(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:  # noqa: F811
    fake_openai.enqueue(Reply(text="Read [the official guide](https://evil.example/steal?x=1) first."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window = parts.window
        await parts.chat.send("Where is the guide?")
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        view: MessageView = window.transcript.views[parts.chat.path[-1].id]
        await until(lambda: "official guide" in view.body.toPlainText())
        point = _link_point(view.body, "https://evil.example/steal?x=1")
        viewport = view.body.viewport()
        # hovering the link shows its address, not only its text
        _hover(viewport, point)
        await until(lambda: window.statusBar().currentMessage() == "https://evil.example/steal?x=1")
        assert "https://evil.example/steal?x=1" in view.body.toolTip()
        _hover(viewport, QPoint(1, viewport.height() - 1))  # off the link: the address goes away
        await until(lambda: window.statusBar().currentMessage() == "")
        assert view.body.toolTip() == ""
        # no browser here (the offscreen platform opens nothing): said in the window, the address copied
        QGuiApplication.clipboard().clear()
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=point)
        await until(lambda: window.banner.isVisibleTo(window))
        assert window.banner.label.text() == ("Could not open a browser for https://evil.example/steal?x=1: the "
                                              "address was copied to the clipboard.")
        assert QGuiApplication.clipboard().text() == "https://evil.example/steal?x=1"
        # where the desktop opens it, nothing more is said
        window.banner.hide()
        opened = _Opened()
        QDesktopServices.setUrlHandler("https", opened, "take")  # (PySide refuses the bytes its stub names)
        try:
            qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=point)
            await until(lambda: opened.urls == ["https://evil.example/steal?x=1"])
        finally:
            QDesktopServices.unsetUrlHandler("https")
        assert not window.banner.isVisibleTo(window)
        window._on_link_not_opened("mailto:help@example.com")  # a mail address is not for a browser
        assert window.banner.label.text().startswith("Could not open a mail program for mailto:help@example.com")


async def test_the_welcome_page_warns_once_before_saving_a_key_test_connection_refused(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.api_key = "sk-the-right-one"
    async with built_app(tmp_path, "https://api.openai.com/v1", key=None) as parts:
        await start(parts)
        onboarding = parts.window.onboarding
        form = onboarding.form
        form.base_url.setText(fake_openai.base_url.replace("127.0.0.1", "localhost"))
        form.api_key.setText("sk-a-wrong-one")
        form.test_button.click()
        ok, _message = await next_emission(parts.endpoint.connectionTested.connect)
        assert not ok
        onboarding.start_button.click()
        assert "click “Save and start chatting” again to save them anyway" in onboarding.problem.text()
        assert parts.window.stack.currentWidget() is onboarding  # not saved yet
        saved = next_emission(parts.endpoint.settingsChanged.connect)
        onboarding.start_button.click()  # the second click saves them as typed
        await saved
        assert parts.endpoint.settings.endpoint == fake_openai.base_url.replace("127.0.0.1", "localhost")
