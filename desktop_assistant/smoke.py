"""``--smoke-test QUESTION``: start the real app, ask one question, print the reply as JSON, and quit.

For installers and packaged builds: it proves that a frozen bundle starts, finds its resources (the spelling
dictionary too), reaches the endpoint (``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` or the saved settings) and
renders a streamed reply; and that what loads only when a feature is used loads (numpy for search by meaning, Qt
Multimedia's FFmpeg backend for read aloud): each is "ok" or why not.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from desktop_assistant.core.models import Role, Status

if TYPE_CHECKING:
    from desktop_assistant.app import AppParts

TIMEOUT = 60.0


async def run(parts: AppParts, question: str) -> int:
    """Send ``question`` through the window's controller and print the finished reply."""
    chat = parts.chat
    done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def on_streaming(streaming: bool) -> None:
        if not streaming and not done.done() and chat.path and chat.path[-1].role is Role.ASSISTANT:
            done.set_result(True)

    chat.streamingChanged.connect(on_streaming)
    await chat.send(question)
    try:
        await asyncio.wait_for(done, TIMEOUT)
    except TimeoutError:
        print(json.dumps({"ok": False, "error": "no reply in time"}), flush=True)
        return 1
    reply = chat.path[-1]
    view = parts.window.transcript.views.get(reply.id)
    shown = view.body.toPlainText() if view is not None else ""
    result = {"ok": reply.status is Status.COMPLETE, "reply": reply.text, "shown": shown,
              "status": reply.status.value, "error": reply.error, "model": reply.model,
              "spelling": parts.window.composer.edit.spelling is not None,
              "garbage_collector": gc.isenabled(),  # off for the start (desktop_assistant.launch), on after it
              "search_by_meaning": _works(_vectors), "read_aloud": _works(_player)}
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


def _works(check: Callable[[], object]) -> str:
    try:
        check()
    except Exception as exc:  # the reason is the result
        return f"{type(exc).__name__}: {exc}"[:300]
    return "ok"


def _vectors() -> None:
    from desktop_assistant.core.vectors import unit_vector  # numpy, with its OpenBLAS

    if abs(float((unit_vector([3.0, 4.0]) ** 2).sum()) - 1.0) > 1e-6:
        raise ValueError("unit_vector is not of length 1")


def _player() -> None:
    from PySide6.QtMultimedia import QMediaPlayer

    if not QMediaPlayer().isAvailable():
        raise RuntimeError("no Qt Multimedia backend could be loaded")
