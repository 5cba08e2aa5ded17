"""Network and API faults through the real window: none crashes, the UI keeps breathing, nothing is lost."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from pytestqt.qtbot import QtBot

from desktop_assistant.app import AppParts
from desktop_assistant.core.errors import ErrorKind
from desktop_assistant.core.models import Message, Role, Status
from tests.conftest import ended, until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.fake_openai.wire import context_length_error
from tests.ui.app_fixture import built_app, start

fake_openai = fixture.fake_openai


@dataclass
class Heartbeat:
    """The longest gap between ticks of a precise 5 ms timer: how long the UI thread was blocked."""

    worst_ms: float = 0.0


@contextmanager
def heartbeat() -> Iterator[Heartbeat]:
    beat = Heartbeat()
    clock = QElapsedTimer()
    clock.start()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(5)

    def tick() -> None:
        beat.worst_ms = max(beat.worst_ms, clock.restart())

    timer.timeout.connect(tick)
    timer.start()
    try:
        yield beat
    finally:
        timer.stop()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


FAULTS = [
    # (id, reply, expected kind, words the message must contain)
    ("403", Reply(status=403), ErrorKind.PERMISSION, "not allowed"),
    ("404 model", Reply(status=404), ErrorKind.MODEL_UNAVAILABLE, "Choose another model"),
    ("429", Reply(status=429, headers={"retry-after": "7"}), ErrorKind.RATE_LIMITED, "Wait about 7 s"),
    ("500", Reply(status=500), ErrorKind.SERVER, "Try again"),
    ("502", Reply(status=502), ErrorKind.SERVER, "Try again"),
    ("503", Reply(status=503), ErrorKind.SERVER, "Try again"),
    ("no first byte", Reply(first_byte_delay=3.0), ErrorKind.TIMEOUT, "took too long"),
]


@pytest.mark.parametrize(("reply", "kind", "words"), [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS])
async def test_api_faults_are_explained_and_nothing_is_lost(tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot,
                                                            reply: Reply, kind: ErrorKind, words: str) -> None:
    fake_openai.enqueue(reply)
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(max_retries=0, timeout_seconds=1.0)
        edit = parts.window.composer.edit
        qtbot.keyClicks(edit, "My carefully written question")
        # What the first words begin is done (the tokenizer, whose build holds the GIL ~0.1-0.2 s once, the
        # dictionary, the SDK): the heartbeat is about the fault, from the send to the message explaining it.
        await until(lambda: edit.spelling is not None and ended(parts.runner, "connect"))
        with heartbeat() as beat:
            qtbot.keyClick(edit, Qt.Key.Key_Return)
            await until(lambda: len(parts.chat.path) == 2 and bool(parts.chat.path[-1].error)
                        and not parts.chat.streaming)
        reply_msg = parts.chat.path[-1]
        assert words in (reply_msg.error or ""), reply_msg.error
        assert parts.chat.path[0].text == "My carefully written question"  # the question is kept, stored
        view = parts.window.transcript.views[reply_msg.id]
        assert view.error_label.text() == reply_msg.error and view.action_button.isVisibleTo(view)
        assert not [n for n in parts.notices.history if n.kind is ErrorKind.INTERNAL]
        assert beat.worst_ms < 250, f"the UI thread was blocked {beat.worst_ms:.0f} ms"
        stored = await parts.store.messages(reply_msg.conversation_id)
        assert [m.role for m in stored] == [Role.USER, Role.ASSISTANT]
        assert kind.value  # the kind is documented by the table above


STREAM_FAULTS = [
    ("disconnect mid-stream", Reply(text="one two three four five", disconnect_after=2), "broke"),
    ("malformed SSE line", Reply(text="one two three", raw_events=["data: {this is not json\n\n"]),
     "could not be read"),
    ("chunk with empty choices", Reply(text="one two three", raw_events=[
        'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[]}\n\n']),
     None),
    ("content filter", Reply(text="one two", finish_reason="content_filter"), "content filter"),
    ("refusal", Reply(refusal="I can't help with that."), "declined"),
]


async def _reply_to_a_question(parts: AppParts) -> Message:
    """Start the app, ask once (no retries) and return the reply once it has ended, however it ended."""
    await start(parts)
    parts.endpoint.update_settings(max_retries=0)
    await parts.chat.send("question")
    await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming
                and parts.chat.path[-1].status is not Status.STREAMING)
    return parts.chat.path[-1]


@pytest.mark.parametrize(("reply", "words"), [f[1:] for f in STREAM_FAULTS], ids=[f[0] for f in STREAM_FAULTS])
async def test_stream_faults_keep_what_arrived(tmp_path: Path, fake_openai: FakeOpenAI, reply: Reply,
                                               words: str | None) -> None:
    fake_openai.enqueue(reply)
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        last = await _reply_to_a_question(parts)
        assert not [n for n in parts.notices.history if n.kind is ErrorKind.INTERNAL], parts.notices.history
        if words is None:  # tolerated noise: the reply simply arrives
            assert last.status is Status.COMPLETE and last.text == "one two three"
        else:
            shown = (last.error or "") + " ".join(str(p.get("refusal", "")) for p in last.parts)
            assert words in shown, shown
            if reply.refusal is None and not reply.raw_events:
                assert last.text.startswith("one ")  # what arrived is kept


def _content_event(text: str) -> str:
    """One streamed chunk of reply text, as verbatim SSE."""
    chunk = {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
             "choices": [{"index": 0, "delta": {"content": text}, "logprobs": None, "finish_reason": None}]}
    return f"data: {json.dumps(chunk)}\n\n"


async def test_an_error_the_server_sends_mid_stream_is_said_in_its_words_keeping_what_arrived(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    error = {"error": {"message": "The model is overloaded, please try again later", "type": "server_error",
                       "param": None, "code": None}}
    fake_openai.enqueue(Reply(text="never sent", raw_events=[
        _content_event("Half "), _content_event("an answer"), f"data: {json.dumps(error)}\n\n"]))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        last = await _reply_to_a_question(parts)
        assert last.error == ("The server reported an error while the reply was arriving: The model is overloaded, "
                              "please try again later. What arrived is kept; Retry asks for the whole reply again.")
        assert last.text == "Half an answer" and last.error_action == "retry"
        view = parts.window.transcript.views[last.id]
        assert view.action_button.text() == "Retry" and view.action_button.isVisibleTo(view)


async def test_connection_refused_and_unresolvable_host(tmp_path: Path) -> None:
    for base_url in (f"http://127.0.0.1:{closed_port()}/v1", "http://nonexistent.invalid/v1"):
        async with built_app(tmp_path / str(abs(hash(base_url))), base_url) as parts:
            await start(parts)
            parts.endpoint.update_settings(max_retries=0, timeout_seconds=3.0)
            await parts.chat.send("anyone there?")
            await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming, timeout=20)
            assert "Could not reach" in (parts.chat.path[-1].error or "")


async def test_stall_mid_stream_times_out_keeping_the_start(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="first words then silence", hold=True))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(max_retries=0, timeout_seconds=1.0)
        await parts.chat.send("question")
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming, timeout=20)
        fake_openai.release()
        last = parts.chat.path[-1]
        assert last.status is Status.ERROR and last.error


async def test_a_first_question_too_long_for_the_server_offers_another_model_not_a_vain_retry(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    # the server's context is smaller than the catalog says (a local model): the first question alone is too long
    fake_openai.enqueue(Reply(status=400, error=context_length_error(limit=4096, used=6000)))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(max_retries=0)
        await parts.chat.send("log line " * 2000)
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming
                    and parts.chat.path[-1].status is not Status.STREAMING)
        last = parts.chat.path[-1]
        assert last.error == ("This question is too long for gpt-4o-mini by itself: there are no older messages to "
                              "leave out. Shorten it, send only part of it, or choose a model with a larger context.")
        assert last.error_action == "choose_model"
        view = parts.window.transcript.views[last.id]
        assert view.action_button.text() == "Choose another model" and view.action_button.isVisibleTo(view)
        chosen: list[bool] = []
        view.chooseModelRequested.connect(lambda: chosen.append(True))
        asked = len(fake_openai.requests)
        view.action_button.click()
        assert chosen == [True] and len(fake_openai.requests) == asked  # nothing sent again
        parts.window.header.model_picker.hidePopup()


async def test_context_too_long_trims_and_retries(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="a1"), Reply(text="a2"), Reply(status=400, error=context_length_error()),
                        Reply(text="fits now"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(max_retries=0)
        for q in ("q1 " * 15000, "q2 " * 15000, "q3"):
            await parts.chat.send(q)
            await until(lambda: not parts.chat.streaming and parts.chat.path[-1].role is Role.ASSISTANT
                        and parts.chat.path[-1].status is not Status.STREAMING)
        assert parts.chat.path[-1].error_action == "trim_and_retry"
        sent_before = len(fake_openai.requests[-1].json["messages"])
        # the server knows better than our table (a smaller context): each retry halves the history budget
        await parts.chat.retry()
        await until(lambda: parts.chat.path[-1].text == "fits now" and not parts.chat.streaming)
        sent_after = len(fake_openai.requests[-1].json["messages"])
        assert sent_after < sent_before
