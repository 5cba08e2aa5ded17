"""Hostile model output through the real window: nothing loads, nothing runs, the UI never stalls."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from desktop_assistant.core.models import Status
from desktop_assistant.core.tokens import encoding_for
from tests.conftest import until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start
from tests.ui.test_faults import heartbeat

fake_openai = fixture.fake_openai

HOSTILE = (
    "Look: ![tracker](https://evil.example/pixel.png) and <img src=\"http://evil.example/x.png\">\n\n"
    "<script>alert('x')</script> <iframe src=\"https://evil.example\"></iframe>\n\n"
    "[click](javascript:alert(1)) [local](file:///etc/passwd) [ok](https://example.com)\n\n"
    "\x1b[31mred\x1b[0m \u202eevil\u202c \u200bhidden\u200b\n\n"
    + "> " * 5000 + "deep\n\n"
    + "- " * 3000 + "nested\n\n"
)


def _chunks(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("extra", ["", "x" * 1_000_000], ids=["markup", "a 1 MB line"])
async def test_hostile_reply_is_inert_and_the_ui_keeps_breathing(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                  extra: str) -> None:
    text = HOSTILE + extra
    fake_openai.enqueue(Reply(chunks=_chunks(text, 20_000), chunk_delay=0.01))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        # as when the person types: the SDK is imported and the tokenizer built (holding the GIL) before sending
        await parts.endpoint.prepare_connection()
        await asyncio.to_thread(encoding_for, parts.chat.model)
        with heartbeat() as beat:
            await parts.chat.send("show me")
            await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming, timeout=60)
            view = parts.window.transcript.views[parts.chat.path[-1].id]
            await until(lambda: not view.rendering)  # the end of a long reply is finished on a worker
            view.body.document().size()  # lay it out
        assert parts.chat.path[-1].status is Status.COMPLETE
        shown = view.body.toPlainText()
        html = view.body.toHtml()
        assert view.body.requested == []  # no image, no resource of any kind was asked for
        assert "<script" not in html.lower() and "<iframe" not in html.lower()
        hrefs = [part.split('"', 1)[0] for part in html.split('href="')[1:]]
        # javascript: and file: links are shown as text; an image becomes a link to click, never a load
        assert hrefs == ["https://evil.example/pixel.png", "https://example.com"]
        assert "\x1b" not in shown and "\u202e" not in shown
        assert [r.path for r in fake_openai.requests] == ["/v1/models", "/v1/chat/completions"]
        # showing the finished 1 MB line takes ~60-100 ms here; parsing it on the UI thread took seconds. The
        # bound catches that work coming back, not the speed (benchmarks/ measure that)
        assert beat.worst_ms < 250, f"the UI thread was blocked {beat.worst_ms:.0f} ms"
