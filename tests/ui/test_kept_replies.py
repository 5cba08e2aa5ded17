"""Replies painted from the HTML kept at the last close: shown at once, checked after the paint, never stale."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop_assistant.core.first_screen import render_key
from desktop_assistant.core.models import Message, Role, text_part
from desktop_assistant.core.render import render_markdown
from desktop_assistant.ui import theme
from desktop_assistant.ui.chat.message_view import MessageView
from desktop_assistant.ui.chat.transcript import Transcript

REPLY = "Use **pathlib**:\n\n```python\nfrom pathlib import Path\nPath('x').read_text()\n```\n"


def _reply(text: str = REPLY, mid: int = 2) -> Message:
    return Message(id=mid, conversation_id=1, parent_id=1, role=Role.ASSISTANT, parts=[text_part(text)])


def _shown(view: MessageView) -> str:
    return view.body.document().toPlainText()


def test_a_kept_reply_is_shown_at_once_and_replaced_if_a_fresh_render_differs(qtbot: QtBot) -> None:
    dark = theme.is_dark()
    stale = "<p>Rendered by an older version</p>"
    view = MessageView(_reply(), kept=(render_key(REPLY, dark), stale))
    qtbot.addWidget(view)
    view.update_message(view.message)
    assert _shown(view) == "Rendered by an older version"  # painted without rendering
    qtbot.waitUntil(lambda: "read_text" in _shown(view), timeout=5000)  # the check after the paint corrects it
    assert "older version" not in _shown(view)


def test_a_kept_reply_that_is_up_to_date_is_not_set_again(qtbot: QtBot) -> None:
    dark = theme.is_dark()
    fresh = render_markdown(REPLY, dark=dark)
    view = MessageView(_reply(), kept=(render_key(REPLY, dark), fresh))
    qtbot.addWidget(view)
    checked: list[str] = []
    apply = view._apply_highlight

    def record(text: str, dark: bool, html: str, unless: str | None = None) -> None:
        checked.append(html)
        apply(text, dark, html, unless)
    view._apply_highlight = record  # type: ignore[method-assign]  # the view's own method, still run
    view.update_message(view.message)
    document = view.body.document()
    revision = document.revision()
    qtbot.waitUntil(lambda: bool(checked), timeout=5000)  # the fresh render after the paint has come back
    assert checked == [fresh] and view._highlighting is None
    assert document.revision() == revision and "read_text" in _shown(view)


def test_kept_html_of_another_text_or_theme_is_not_used(qtbot: QtBot) -> None:
    dark = theme.is_dark()
    for key in (render_key("An earlier text of the reply", dark), render_key(REPLY, not dark)):
        view = MessageView(_reply(), kept=(key, "<p>not this</p>"))
        qtbot.addWidget(view)
        view.update_message(view.message)
        assert "read_text" in _shown(view) and "not this" not in _shown(view)


def test_the_transcript_hands_each_view_its_kept_html(qtbot: QtBot) -> None:
    dark = theme.is_dark()
    question = Message(id=1, conversation_id=1, parent_id=None, role=Role.USER, parts=[text_part("How?")])
    transcript = Transcript()
    qtbot.addWidget(transcript)
    transcript.kept = {2: (render_key(REPLY, dark), "<p>kept</p>")}
    transcript.set_messages([question, _reply()])
    assert _shown(transcript.views[2]) == "kept"
    assert transcript.kept == {}  # used once: a view built later renders as usual
