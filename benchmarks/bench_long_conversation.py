"""Long conversation: open a stored 5,000-message conversation (about 2M tokens, code blocks included).

In one process the real app is built over a prepared store (``app.build`` + ``after_first_paint``, window
shown, qasync loop). Figures:

- time from ``ChatController.open_conversation`` to the first Paint of the newest message, for the long
  conversation against a 10-message one, alternating (target: ratio <= 1.5);
- RSS growth of the first opening of the long conversation, measured once the app is idle again, the tokenizer
  already loaded as after the person's first input (target: <= 100 MB);
- heartbeat gaps (4 ms ``Qt.PreciseTimer``) while the transcript is scrolled from top to bottom in 120 px steps
  at 60 steps per second (target: p99 <= 16 ms);
- for information: how long one "Show earlier messages" click blocks the UI thread.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _common import (
    Figure,
    Heartbeat,
    banner,
    gap_figures,
    install_paint_probe,
    median,
    prepare_home,
    qasync_run,
    quiet_environment,
    report,
    rss_mb,
)

BENCH = "long conversation"
REPLY_CHARS = 2600  # about 760 tokens per reply, 60 per question: about 2M tokens for 5,000 messages


async def settle(parts: Any, seconds: float = 0.3) -> None:
    """Wait until no operation (estimate recount, ...) runs and the loop had time to paint."""
    await asyncio.sleep(seconds)
    deadline = time.monotonic() + 120
    while parts.runner.operations and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.05)


async def open_and_paint(parts: Any, conversation_id: int) -> tuple[float, float]:
    """Open a conversation; returns (ms until open_conversation returned, ms until the newest message painted)."""
    loop = asyncio.get_running_loop()
    painted: asyncio.Future[float] = loop.create_future()
    probes: list[Any] = []

    def on_transcript(_path: list[Any]) -> None:
        views = parts.window.transcript.views
        if views and not probes:
            target = views[max(views)].body.viewport()
            probes.append(install_paint_probe(target, lambda t: painted.done() or painted.set_result(t)))

    parts.chat.transcriptChanged.connect(on_transcript)
    t0 = time.perf_counter()
    await parts.chat.open_conversation(conversation_id)
    opened = time.perf_counter()
    t_paint = await asyncio.wait_for(painted, 60)
    parts.chat.transcriptChanged.disconnect(on_transcript)
    return (opened - t0) * 1000.0, (t_paint - t0) * 1000.0


async def scroll_through(parts: Any, step_px: int = 120, steps_per_s: float = 60.0) -> tuple[list[float], int]:
    """Scroll the transcript from top to bottom with a heartbeat running; returns (gaps, pixels)."""
    bar = parts.window.transcript.verticalScrollBar()
    bar.setValue(0)
    await asyncio.sleep(0.2)
    heartbeat = Heartbeat()
    with heartbeat.running():
        while bar.value() < bar.maximum():
            bar.setValue(min(bar.maximum(), bar.value() + step_px))
            await asyncio.sleep(1.0 / steps_per_s)
        await asyncio.sleep(0.05)
    return heartbeat.gaps_ms, bar.maximum()


async def run(root: Path, ids: list[int], rounds: int, earlier_clicks: int) -> None:
    from desktop_assistant.app import after_first_paint, build
    from desktop_assistant.services.paths import AppPaths

    small, large = ids
    parts = build(AppPaths.under(root), quit=lambda: None,
                  environ={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "sk-test"},
                  keyring_service=f"desktop-assistant-bench-{uuid.uuid4().hex[:8]}")
    parts.window.show()
    try:
        await after_first_paint(parts)
        # the tokenizer belongs to the app, not to this conversation: the person's first key press or click loads
        # it (prepare_on_first_input), and counting a conversation never counted before would load it anyway
        from desktop_assistant.core.tokens import encoding_for

        await asyncio.to_thread(encoding_for, parts.chat.model)
        await settle(parts)
        gc.collect()
        before = rss_mb()
        load_ms, paint_ms = await open_and_paint(parts, large)
        await settle(parts)
        gc.collect()
        grown = rss_mb() - before
        messages = len(parts.chat.path)
        print(f"  first open of the long conversation ({messages} messages on the branch, "
              f"{len(parts.window.transcript.views)} views built): store read {load_ms:.0f} ms, painted after "
              f"{paint_ms:.0f} ms; RSS {before:.0f} -> {before + grown:.0f} MB", flush=True)
        report(Figure(BENCH, "RSS growth opening it", grown, "MB", target="<= 100 MB", met=grown <= 100))

        smalls: list[float] = []
        larges: list[float] = []
        for _ in range(rounds):
            for cid, sink in ((small, smalls), (large, larges)):
                await settle(parts, 0.1)
                _load, paint = await open_and_paint(parts, cid)
                sink.append(paint)
        print(f"  to first paint, long (ms): {', '.join(f'{v:.0f}' for v in larges)}; "
              f"10 messages: {', '.join(f'{v:.0f}' for v in smalls)}", flush=True)
        ratio = median(larges) / median(smalls)
        report(Figure(BENCH, "open to first paint (median)", median(larges), "ms", baseline=median(smalls),
                      target="ratio <= 1.5", met=ratio <= 1.5))

        await settle(parts)
        gaps, pixels = await scroll_through(parts)
        print(f"  scrolled {pixels} px over {len(parts.window.transcript.views)} built messages", flush=True)
        gap_figures(BENCH, "scrolling top to bottom", gaps, max_target=None)

        button = parts.window.transcript.findChild(type(parts.window.transcript._earlier), "show_earlier_button")
        blocks: list[float] = []
        for _ in range(earlier_clicks):
            if button is None or not button.isVisible():
                break
            t0 = time.perf_counter()
            button.click()
            blocks.append((time.perf_counter() - t0) * 1000.0)
            await settle(parts, 0.1)
        if blocks:
            report(Figure(BENCH, f"'Show earlier messages' click blocks the UI (median of {len(blocks)})",
                          median(blocks), "ms", target="(information)"))
    finally:
        parts.window.hide()
        if not parts.lifecycle.done:
            await parts.lifecycle.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 messages, 2 rounds, 1 click")
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    count = args.messages or (1000 if args.quick else 5000)
    rounds = args.rounds or (2 if args.quick else 5)
    clicks = 1 if args.quick else 3
    quiet_environment()
    banner(f"long conversation: {count} messages (about {count * 41 // 100}k tokens) vs 10, {rounds} rounds")
    with tempfile.TemporaryDirectory(prefix="da-bench-long-") as tmp:
        t0 = time.perf_counter()
        ids = prepare_home(Path(tmp), [("Ten messages", 10, REPLY_CHARS), ("Long", count, REPLY_CHARS)], last=0)
        print(f"  prepared the store in {time.perf_counter() - t0:.1f} s", flush=True)
        qasync_run(lambda: run(Path(tmp), ids, rounds, clicks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
