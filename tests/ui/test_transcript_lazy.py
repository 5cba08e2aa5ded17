"""The transcript builds views lazily; a finished stream keeps its document; heights fit without re-wrapping."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from PySide6.QtCore import QPoint, QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QApplication

from desktop_assistant.core.models import Message, Role, Status, text_part
from desktop_assistant.core.render import render_markdown
from desktop_assistant.ui.chat import transcript as transcript_module
from desktop_assistant.ui.chat.message_view import MessageView, SafeBrowser
from desktop_assistant.ui.chat.transcript import PAGE, Transcript

REPLY = "## Title\n\nSome *prose* here.\n\n```python\ndef f(x):\n    return x * 2\n```\n\n- one\n- two\n"


def _messages(count: int) -> list[Message]:
    return [
        Message(id=i + 1, conversation_id=1, parent_id=i or None, role=Role.USER if i % 2 == 0 else Role.ASSISTANT,
                parts=[text_part(f"Question {i}" if i % 2 == 0 else f"Reply {i}\n\n{REPLY}")])
        for i in range(count)
    ]


def _wait_built(transcript: Transcript, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while transcript.pending and time.monotonic() < deadline:
        QApplication.processEvents()
    QApplication.processEvents()


def _layout_ids(transcript: Transcript) -> list[int]:
    layout = transcript._layout
    items = (layout.itemAt(i).widget() for i in range(layout.count()))
    return [w.message.id for w in items if isinstance(w, MessageView)]


def test_first_screen_is_built_at_once_and_the_rest_in_batches(qtbot: Any) -> None:
    transcript = Transcript()
    qtbot.addWidget(transcript)
    transcript.resize(900, 600)
    transcript.show()
    created: list[int] = []
    transcript.viewCreated.connect(lambda view: created.append(view.message.id))
    messages = _messages(200)
    transcript.set_messages(messages)
    newest = [m.id for m in messages[-2:]]
    assert all(mid in transcript.views for mid in newest)  # the newest views exist right away
    assert len(transcript.views) < PAGE and transcript.pending > 0
    _wait_built(transcript)
    shown = [m.id for m in messages[-PAGE:]]
    assert sorted(transcript.views) == shown
    assert _layout_ids(transcript) == shown  # message order, whatever the build order
    assert sorted(created) == shown and len(created) == len(set(created))
    latest = [v for v in transcript.views.values() if not v._is_user and "stay" not in v.regenerate_button.toolTip()]
    assert [v.message.id for v in latest] == [messages[-1].id]  # the earlier replies say where the later ones go


def test_batches_stay_short(qtbot: Any, monkeypatch: Any) -> None:
    transcript = Transcript()
    qtbot.addWidget(transcript)
    transcript.resize(900, 600)
    transcript.show()
    spans: list[float] = []
    original = transcript._build_batch

    def timed() -> None:
        t0 = time.perf_counter()
        original()
        spans.append(time.perf_counter() - t0)

    transcript._batch.timeout.disconnect()
    transcript._batch.timeout.connect(timed)
    transcript.set_messages(_messages(120))
    _wait_built(transcript)
    assert len(spans) > 1
    # a batch stops after BATCH_MS plus at most one view (a few ms; generous for a loaded machine)
    assert sorted(spans)[len(spans) // 2] < (transcript_module.BATCH_MS + 40) / 1000


def test_views_are_reused_and_new_messages_appended(qtbot: Any) -> None:
    transcript = Transcript()
    qtbot.addWidget(transcript)
    transcript.resize(900, 600)
    transcript.show()
    messages = _messages(10)
    transcript.set_messages(messages)
    _wait_built(transcript)
    before = dict(transcript.views)
    more = messages + _messages(12)[10:]
    transcript.set_messages(more)
    assert all(transcript.views[mid] is view for mid, view in before.items())
    assert more[-1].id in transcript.views
    _wait_built(transcript)
    assert _layout_ids(transcript) == [m.id for m in more]


def _three_pages_shown(qtbot: Any, pages: int = 3) -> tuple[Transcript, list[Message]]:
    """A shown transcript of three (or ``pages``) pages of messages, the newest page built."""
    transcript = Transcript()
    qtbot.addWidget(transcript)
    transcript.resize(900, 600)
    transcript.show()
    messages = _messages(pages * PAGE)
    transcript.set_messages(messages)
    _wait_built(transcript)
    return transcript, messages


def test_show_earlier_is_incremental(qtbot: Any) -> None:
    transcript, messages = _three_pages_shown(qtbot)
    assert transcript._earlier.isVisible()
    t0 = time.perf_counter()
    transcript._earlier.click()
    blocked = time.perf_counter() - t0
    assert len(transcript.views) == PAGE and transcript.pending == PAGE  # nothing built by the click itself
    assert blocked < 0.1
    _wait_built(transcript)
    shown = [m.id for m in messages[-2 * PAGE:]]
    assert _layout_ids(transcript) == shown


def test_earlier_messages_come_in_above_without_moving_what_is_read(qtbot: Any) -> None:
    """The message read when "Show earlier messages" is clicked stays where it was (the page goes above it),
    and scrolling up to the top brings the next page by itself."""
    transcript, _messages_shown = _three_pages_shown(qtbot)
    bar = transcript.verticalScrollBar()
    bar.setValue(40)  # the person scrolled up, near the button, reading the oldest message shown
    QApplication.processEvents()
    read = transcript._top_visible()
    assert read is not None
    view, offset = read
    transcript._earlier.click()
    _wait_built(transcript)
    assert len(transcript.views) == 2 * PAGE
    body = transcript.widget()
    qtbot.waitUntil(lambda: bar.maximum() > 10 * 600 and view.mapTo(body, QPoint(0, 0)).y() - bar.value() == offset)
    for _ in range(5):  # and it stays there once the last views are laid out
        QApplication.processEvents()
    assert view.mapTo(body, QPoint(0, 0)).y() - bar.value() == offset
    bar.setValue(0)  # up to the top: the next page comes by itself
    QApplication.processEvents()
    _wait_built(transcript)
    assert len(transcript.views) == 3 * PAGE and not transcript._earlier.isVisible()


def test_new_conversation_replaces_views(qtbot: Any) -> None:
    transcript = Transcript()
    qtbot.addWidget(transcript)
    transcript.show()
    transcript.set_messages(_messages(PAGE))
    other = [Message(id=1000 + m.id, conversation_id=2, parent_id=None, role=m.role, parts=m.parts)
             for m in _messages(4)]
    transcript.set_messages(other)  # while the first is still being built
    _wait_built(transcript)
    assert sorted(transcript.views) == [m.id for m in other]
    assert _layout_ids(transcript) == [m.id for m in other]
    transcript.set_messages([])
    assert transcript.views == {} and transcript.empty.isVisibleTo(transcript)


def _reply(text: str, status: Status) -> Message:
    return Message(id=7, conversation_id=1, parent_id=None, role=Role.ASSISTANT, parts=[text_part(text)],
                   status=status)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_finished_stream_keeps_its_document(qtbot: Any, monkeypatch: Any) -> None:
    text = "Intro paragraph.\n\n" + REPLY + "\nMore text.\n\n```python\nprint('open at the end')\n"
    final = text + "```\n"
    view = MessageView(_reply("", Status.STREAMING))
    qtbot.addWidget(view)
    for end in range(0, len(text) + 1, 17):
        view.set_streaming_text(text[:end])
    view.set_streaming_text(text)
    set_html: list[str] = []
    monkeypatch.setattr(view.body, "setHtml", lambda html: set_html.append(html))
    view.update_message(_reply(final, Status.COMPLETE))
    assert set_html == []  # no full re-render at the end of the reply
    whole = MessageView(_reply(final, Status.COMPLETE))
    qtbot.addWidget(whole)
    assert _squash(view.body.toPlainText()) == _squash(whole.body.toPlainText())
    assert "print" in view.body.toPlainText()
    html = view.body.document().toHtml()
    assert "print" in html and html.count("color:#") > 3  # the fence closed at the end is highlighted now
    view.update_message(_reply(final, Status.COMPLETE))  # the same text again: nothing to do
    assert set_html == []


def test_final_text_that_does_not_extend_the_stream_is_rendered_whole(qtbot: Any) -> None:
    view = MessageView(_reply("", Status.STREAMING))
    qtbot.addWidget(view)
    view.set_streaming_text("First paragraph.\n\nSecond paragraph.\n\nThird")
    view.update_message(_reply("Something else entirely.", Status.COMPLETE))
    assert view.body.toPlainText().strip() == "Something else entirely."


def test_stream_updates_with_streaming_status_keep_feeding(qtbot: Any) -> None:
    view = MessageView(_reply("", Status.STREAMING))
    qtbot.addWidget(view)
    view.set_streaming_text("Para one.\n\nPara two")
    stream = view._stream
    view.update_message(_reply("Para one.\n\nPara two and more", Status.STREAMING))
    assert view._stream is stream
    qtbot.waitUntil(lambda: "and more" in view.body.toPlainText())  # rendered on a worker, applied when ready


def test_height_change_does_not_rewrap(qtbot: Any) -> None:
    browser = SafeBrowser()
    qtbot.addWidget(browser)
    browser.resize(500, 100)
    browser.setHtml(render_markdown(REPLY * 5))
    browser.show()
    QApplication.processEvents()
    calls: list[float] = []
    document = browser.document()
    original = document.setTextWidth
    document.setTextWidth = lambda width: (calls.append(width), original(width))  # type: ignore[method-assign]
    old = browser.size()
    browser.resizeEvent(QResizeEvent(QSize(old.width(), old.height() + 50), old))
    assert calls == []
    assert browser.height() == int(document.size().height()) + 4


def test_safe_browser_still_loads_nothing(qtbot: Any) -> None:
    view = MessageView(_reply("", Status.STREAMING))
    qtbot.addWidget(view)
    text = "![x](http://evil.example/a.png) <img src=file:///etc/passwd>\n\n```python\nx = 1\n"
    for end in range(0, len(text) + 1, 9):
        view.set_streaming_text(text[:end])
    view.update_message(_reply(text + "```\n", Status.COMPLETE))
    view.body.grab()
    assert view.body.requested == []


def test_lexer_loading_waits_until_after_the_view_is_built(qtbot: Any, monkeypatch: Any) -> None:
    from desktop_assistant.core import render_code

    monkeypatch.setattr(render_code, "_LEXERS", {})
    view = MessageView(_reply(REPLY, Status.COMPLETE))
    qtbot.addWidget(view)
    assert not render_code.lexer_loaded("python")  # built without loading pygments' Python lexer
    plain = view.body.document().toHtml()
    qtbot.waitUntil(lambda: render_code.lexer_loaded("python"), timeout=5000)
    # the lexer is loaded and the reply rendered on the render worker; the view applies the result when ready
    qtbot.waitUntil(lambda: view.body.document().toHtml().count("color:#") > plain.count("color:#"), timeout=5000)
    assert view._highlighting is None


def test_lexers_load_on_the_render_worker_not_the_ui_thread(qtbot: Any, monkeypatch: Any) -> None:
    """Loading a lexer compiles its regular expressions (30-100 ms): never on the UI thread."""
    from desktop_assistant.core import render_code

    monkeypatch.setattr(render_code, "_LEXERS", {})
    loaded_on: list[str] = []
    real = render_code._lexer

    def spy(language: str) -> Any:
        if language not in render_code._LEXERS:
            loaded_on.append(threading.current_thread().name)
        return real(language)

    monkeypatch.setattr(render_code, "_lexer", spy)
    view = MessageView(_reply(REPLY, Status.COMPLETE))
    qtbot.addWidget(view)
    plain = view.body.document().toHtml()
    qtbot.waitUntil(lambda: view.body.document().toHtml().count("color:#") > plain.count("color:#"), timeout=5000)
    assert loaded_on and all(name.startswith("render") for name in loaded_on), loaded_on


def test_a_message_scrolled_to_stays_in_sight_while_the_range_settles_until_the_person_scrolls(qtbot: Any) -> None:
    transcript = Transcript()
    qtbot.addWidget(transcript)
    transcript.resize(900, 600)
    transcript.show()
    messages = _messages(40)
    transcript.set_messages(messages)
    _wait_built(transcript)
    view = transcript.ensure_view(messages[2].id)
    assert view is not None
    transcript.scroll_to(view)
    bar = transcript.verticalScrollBar()

    def top() -> int:
        return view.mapTo(transcript.viewport(), view.rect().topLeft()).y()

    in_sight = top()
    assert 0 <= in_sight < transcript.viewport().height()
    # what a window system's late layout does to a conversation just opened: the range shrinks (the value is
    # clamped to its end), then grows to its full size; the message stays in sight, not at the bottom
    full = bar.maximum()
    bar.setRange(0, 50)
    bar.setRange(0, full)
    QApplication.processEvents()
    assert top() == in_sight and bar.value() < full
    bar.triggerAction(bar.SliderAction.SliderToMaximum)  # the person scrolls to the end: it is let go of, and
    bar.setRange(0, 50)  # the transcript follows the end again
    bar.setRange(0, full)
    assert bar.value() == full


def _layout_items(transcript: Transcript) -> list[int | str]:
    """The layout's message views (ids) and, where it is shown, the gap's button ("gap")."""
    layout = transcript._layout
    out: list[int | str] = []
    for i in range(layout.count()):
        widget = layout.itemAt(i).widget()
        if isinstance(widget, MessageView):
            out.append(widget.message.id)
        elif widget is transcript._gap_button and widget.isVisibleTo(transcript):
            out.append("gap")
    return out


def test_a_jump_far_above_shows_the_page_after_it_and_the_newest_below_a_gap_that_fills(qtbot: Any) -> None:
    """Find or a search hit far above the page shown: the message comes with the messages after it, and the
    newest stay below a "Show later messages" button, never as if they followed on (no silent gap)."""
    transcript, messages = _three_pages_shown(qtbot, 5)
    ids = [m.id for m in messages]
    newest = ids[-PAGE:]

    def go(index: int) -> None:  # as Find and a search hit do
        view = transcript.ensure_view(ids[index])
        assert view is not None and view.message.id == ids[index]
        transcript.scroll_to(view)
        _wait_built(transcript)

    target = 10
    go(target)
    page = ids[target:target + 1 + PAGE]
    assert _layout_items(transcript) == [*page, "gap", *newest]
    hidden = len(messages) - PAGE - len(page) - target
    assert transcript._gap_button.text() == f"Show later messages ({hidden:,} not shown here)"
    assert transcript._earlier.isVisibleTo(transcript)  # the ten above it are a click away
    assert len(transcript.views) == len(page) + PAGE  # not the hundreds between

    transcript.scroll_to(transcript.views[ids[target]])
    transcript._gap_button.click()  # a page of the gap comes under those above it
    _wait_built(transcript)
    assert _layout_items(transcript) == [*ids[target:target + 1 + 2 * PAGE], "gap", *newest]

    between = target + 1 + 2 * PAGE + 5  # a hit just inside the gap: those before it come too
    go(between)
    assert _layout_items(transcript) == [*ids[target:between + 1], "gap", *newest]

    go(2)  # back up, close to the messages shown: the few between come, no new gap
    assert _layout_items(transcript) == [*ids[2:between + 1], "gap", *newest]

    bar = transcript.verticalScrollBar()
    body = transcript.widget()
    for _ in range(40):  # scrolling down to the gap fills it a page at a time, until it is gone
        bar.setValue(transcript._gap_button.mapTo(body, QPoint(0, 0)).y() - 300)
        QApplication.processEvents()
        _wait_built(transcript)
        if transcript._gap is None:
            break
    assert transcript._gap is None and _layout_items(transcript) == ids[2:]

    reply = Message(id=len(ids) + 1, conversation_id=1, parent_id=ids[-1], role=Role.ASSISTANT,
                    parts=[text_part("A new reply")])
    transcript.ensure_view(ids[20 + PAGE])  # (shown: nothing changes)
    transcript.set_messages([*messages, reply])  # a new reply goes at the end, under everything
    _wait_built(transcript)
    assert _layout_items(transcript) == [*ids[2:], reply.id]


def test_a_new_reply_after_a_jump_goes_below_the_newest_and_another_branch_drops_the_gap(qtbot: Any) -> None:
    transcript, messages = _three_pages_shown(qtbot, 4)
    ids = [m.id for m in messages]
    first = transcript.ensure_view(ids[0])
    assert first is not None
    transcript.scroll_to(first)
    _wait_built(transcript)
    reply = Message(id=len(ids) + 1, conversation_id=1, parent_id=ids[-1], role=Role.ASSISTANT,
                    parts=[text_part("A new reply")])
    transcript.set_messages([*messages, reply])
    _wait_built(transcript)
    assert _layout_items(transcript) == [*ids[:1 + PAGE], "gap", *ids[-PAGE:], reply.id]

    other = _messages(PAGE + 10)[:-3]  # another branch: its own messages from the newest page, no gap
    transcript.set_messages(other)
    _wait_built(transcript)
    assert transcript._gap is None
    assert _layout_items(transcript) == [m.id for m in other[-PAGE:]]


def test_another_conversation_opens_at_its_newest_page_whatever_was_shown_of_the_last(qtbot: Any) -> None:
    """Earlier pages shown in one conversation are not a reason to build hundreds of views of the next one."""
    transcript, _shown = _three_pages_shown(qtbot)
    transcript._earlier.click()
    _wait_built(transcript)
    assert len(transcript.views) == 2 * PAGE
    other = [Message(id=10_000 + m.id, conversation_id=2, parent_id=None, role=m.role, parts=m.parts)
             for m in _messages(10 * PAGE)]
    transcript.set_messages(other)
    _wait_built(transcript)
    assert _layout_ids(transcript) == [m.id for m in other[-PAGE:]]
    assert transcript._earlier.isVisibleTo(transcript)
