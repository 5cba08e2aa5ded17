"""Closing with work pending loses nothing."""

from __future__ import annotations

import asyncio

from desktop_assistant.controllers.lifecycle import Lifecycle
from desktop_assistant.controllers.notices import NoticeBus
from desktop_assistant.controllers.runner import OperationRunner


async def test_close_cancels_awaits_and_flushes_before_quit() -> None:
    events: list[str] = []
    runner = OperationRunner(NoticeBus())
    started = asyncio.Event()

    async def streaming() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(0)  # wait-ok: the partial reply is saved asynchronously
            events.append("partial saved")
            raise

    async def flush() -> None:
        events.append("store flushed")

    life = Lifecycle(runner, quit=lambda: events.append("quit"), flushers=[flush])
    runner.start("stream", streaming())
    await started.wait()
    await life.shutdown()
    assert events == ["partial saved", "store flushed", "quit"]
    await life.shutdown()  # a second close does nothing more
    assert events.count("quit") == 1
