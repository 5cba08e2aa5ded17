"""Child process for bench_streaming.py: the loopback fake OpenAI server, out of the measured process.

    python benchmarks/_server.py

Prints its base URL on the first line, serves until stdin closes. A chat request whose last user message is
``bench <tokens> <rate>`` is answered with a markdown reply of ``<tokens>`` pieces (one piece = one token),
streamed as fast as possible (rate 0) or paced at ``<rate>`` tokens per second against the clock.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from _common import markdown_reply
from aiohttp import web

from tests.fake_openai.server import FakeOpenAI
from tests.fake_openai.wire import Reply, last_user_text, split_words


def reply_pieces(tokens: int) -> list[str]:
    """``tokens`` pieces of a markdown reply with code blocks (words with their spaces)."""
    pieces: list[str] = []
    seed = 0
    while len(pieces) < tokens:
        pieces += split_words(markdown_reply(seed, 4000) + "\n\n")
        seed += 1
    return pieces[:tokens]


class PacedServer(FakeOpenAI):
    """FakeOpenAI answering ``bench N RATE`` questions, with pacing in the chunk writer."""

    def __init__(self) -> None:
        super().__init__()
        self._rate = 0.0
        self._sent = 0
        self._t0 = 0.0

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        words = last_user_text(body).split()
        if len(words) == 3 and words[0] == "bench":
            self._rate, self._sent, self._t0 = float(words[2]), 0, time.monotonic()
            return Reply(chunks=reply_pieces(int(words[1])))
        self._rate = 0.0
        return super()._next_reply(body)

    async def _send(self, response: web.StreamResponse, chunk: dict[str, Any]) -> None:  # type: ignore[override]
        if self._rate:
            self._sent += 1
            due = self._t0 + self._sent / self._rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        await FakeOpenAI._send(response, chunk)


def main() -> int:
    server = PacedServer()
    server.start()
    print(server.base_url, flush=True)
    sys.stdin.read()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
