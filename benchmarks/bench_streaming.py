"""Streaming: CPU per 1,000 tokens streamed and rendered, and event-loop gaps while streaming at 2,000 tokens/s.

The fake OpenAI server runs in its own process (``_server.py``) so its CPU is not counted. In this process
the real app is built (``app.build`` + ``after_first_paint``, window shown, on a qasync loop) and sends
``bench N 0``: the server streams N one-token chunks of markdown with code as fast as it can. The CPU time
(``time.process_time()``: every thread of this process) from Send to the end of the reply is compared with a
bare ``openai.AsyncOpenAI`` consumer reading the same stream on the same loop; the two alternate.

Then the app streams at 2,000 tokens/s while a 4 ms ``Qt.PreciseTimer`` heartbeat records the gaps between its
ticks. Targets: CPU ratio <= 1.5; gap p99 <= 16 ms and max <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _common import (
    BENCH_DIR,
    Figure,
    Heartbeat,
    banner,
    gap_figures,
    median,
    prepare_home,
    qasync_run,
    quiet_environment,
    report,
)

BENCH = "streaming"


async def wait_quiet(parts: Any) -> None:
    """Let the after-reply work (estimate recount, sidebar refresh) finish so it is not billed to the next run."""
    await asyncio.sleep(0.3)
    while parts.runner.operations:
        await asyncio.sleep(0.02)


async def app_stream(parts: Any, tokens: int, rate: float, heartbeat: Heartbeat | None = None
                     ) -> tuple[float, float]:
    """Stream one reply through the app; returns (CPU s, wall s)."""
    from desktop_assistant.core.models import Status

    chat = parts.chat
    chat.new_conversation()
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_streaming(streaming: bool) -> None:
        if not streaming and not done.done():
            done.set_result(None)

    chat.streamingChanged.connect(on_streaming)
    if heartbeat is not None:
        heartbeat.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await chat.send(f"bench {tokens} {rate:g}")
    await asyncio.wait_for(done, 300)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if heartbeat is not None:
        heartbeat.stop()
    chat.streamingChanged.disconnect(on_streaming)
    last = chat.path[-1]
    if last.status is not Status.COMPLETE or not last.text:
        raise RuntimeError(f"the reply did not complete: {last.status} {last.error}")
    await wait_quiet(parts)
    return cpu, wall


async def bare_stream(client: Any, tokens: int, rate: float, heartbeat: Heartbeat | None = None
                      ) -> tuple[float, float]:
    """Read the same stream with a bare AsyncOpenAI loop; returns (CPU s, wall s)."""
    if heartbeat is not None:
        heartbeat.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": f"bench {tokens} {rate:g}"}], stream=True,
        stream_options={"include_usage": True}, max_completion_tokens=16384)
    pieces: list[str] = []
    async with stream:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
    text = "".join(pieces)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if heartbeat is not None:
        heartbeat.stop()
    if not text:
        raise RuntimeError("the bare consumer got no text")
    await asyncio.sleep(0.3)
    return cpu, wall


async def run(base_url: str, root: Path, tokens: int, rounds: int, paced_seconds: float) -> None:
    import openai

    from desktop_assistant.app import after_first_paint, build
    from desktop_assistant.services.paths import AppPaths

    parts = build(AppPaths.under(root), quit=lambda: None,
                  environ={"OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "sk-test"},
                  keyring_service=f"desktop-assistant-bench-{uuid.uuid4().hex[:8]}")
    parts.window.show()
    await after_first_paint(parts)
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=base_url, max_retries=0)
    try:
        await app_stream(parts, 300, 0)  # warm-up: imports, first layout, tokenizer
        await bare_stream(client, 300, 0)
        apps: list[float] = []
        bares: list[float] = []
        for i in range(rounds):
            order = ("app", "bare") if i % 2 == 0 else ("bare", "app")
            for who in order:
                if who == "app":
                    cpu, wall = await app_stream(parts, tokens, 0)
                    apps.append(cpu * 1000.0 * 1000.0 / tokens)
                else:
                    cpu, wall = await bare_stream(client, tokens, 0)
                    bares.append(cpu * 1000.0 * 1000.0 / tokens)
                print(f"  {who}: {tokens} tokens in {wall:.2f} s wall, {cpu:.2f} s CPU "
                      f"({tokens / wall:,.0f} tokens/s)", flush=True)
        ratio = median(apps) / median(bares)
        report(Figure(BENCH, "CPU per 1,000 tokens, full speed (median)", median(apps), "ms",
                      baseline=median(bares), target="ratio <= 1.5", met=ratio <= 1.5))

        paced = int(2000 * paced_seconds)
        heartbeat = Heartbeat()
        cpu, wall = await bare_stream(client, paced, 2000, heartbeat)
        bare_gaps = list(heartbeat.gaps_ms)
        bare_p99 = sorted(bare_gaps)[int(len(bare_gaps) * 0.99)]
        print(f"  bare at 2,000 tokens/s: {paced} tokens in {wall:.2f} s, {cpu:.2f} s CPU ({cpu / wall * 100:.0f} % "
              f"of a core); heartbeat p99 {bare_p99:.1f} ms, max {max(bare_gaps):.1f} ms", flush=True)
        cpu, wall = await app_stream(parts, paced, 2000, heartbeat)
        print(f"  app at 2,000 tokens/s: {paced} tokens in {wall:.2f} s wall, {cpu:.2f} s CPU "
              f"({cpu / wall * 100:.0f} % of a core)", flush=True)
        gap_figures(BENCH, "app streaming at 2,000 tokens/s", heartbeat.gaps_ms)
    finally:
        await client.close()
        parts.window.hide()
        if not parts.lifecycle.done:
            await parts.lifecycle.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3,000 tokens x 2 rounds; 2 s paced")
    parser.add_argument("--tokens", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--paced-seconds", type=float, default=None)
    args = parser.parse_args()
    tokens = args.tokens or (3000 if args.quick else 20000)
    rounds = args.rounds or (2 if args.quick else 5)
    paced_seconds = args.paced_seconds or (2.0 if args.quick else 10.0)
    quiet_environment()
    banner(f"streaming: {tokens} tokens x {rounds} rounds, app vs bare AsyncOpenAI; {paced_seconds:g} s paced")
    server = subprocess.Popen([sys.executable, str(BENCH_DIR / "_server.py")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        if not base_url.startswith("http"):
            raise RuntimeError("the benchmark server did not start")
        with tempfile.TemporaryDirectory(prefix="da-bench-stream-") as tmp:
            prepare_home(Path(tmp), [("Warm-up", 2, 400)], base_url=base_url)
            qasync_run(lambda: run(base_url, Path(tmp), tokens, rounds, paced_seconds))
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
