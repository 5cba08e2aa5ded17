"""Search over the history: keyword (FTS5) and by meaning (stored vectors) over 100,000 messages.

Keyword search is timed against a plain ``LIKE '%word%'`` scan of the same messages (what an app without an
index does). Search by meaning (512-dimension vectors, top 50 by cosine) is timed twice: the first search,
which reads every vector from SQLite into memory (float16), and later ones, which only score them; both
against the same dot products over a float32 matrix already in memory (the floor: pure arithmetic). Both run on a
real SQLite file through the store's worker thread, as in the app.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from benchmarks._common import Figure, banner, median, report
from desktop_assistant.core.search import fts_query
from desktop_assistant.core.vectors import to_blob
from desktop_assistant.services.search_store import SearchStore
from desktop_assistant.services.store import Store

DIMENSIONS = 512
QUERIES = ["kubernetes deployment", "volcano", "recipe bread yeast", "python async", "invoice total"]


def _vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(size)}
    return sorted(words) + [w for q in QUERIES for w in q.split()]


def fill(store: Store, messages: int) -> None:
    """``messages`` messages of 20-200 words (Zipf-like word choice) in 1,000 conversations, and a vector each."""
    rng = random.Random(11)
    vocabulary = _vocabulary(rng)
    weights = [1.0 / (rank + 1) for rank in range(len(vocabulary))]
    vectors = np.random.default_rng(11).normal(size=(messages, DIMENSIONS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)

    def text() -> str:
        words = rng.choices(vocabulary, weights, k=rng.randint(20, 200))
        return json.dumps([{"type": "text", "text": " ".join(words)}])

    def insert() -> None:
        conn = store.conn
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO conversations(id, title, model, created_at, updated_at) VALUES (?,?,?,?,?)",
                         ((i, f"Conversation {i}", "gpt-4o-mini", 0, 0) for i in range(1, 1001)))
        conn.executemany(
            "INSERT INTO messages(id, conversation_id, role, content, status, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?)",
            ((i, 1 + i % 1000, "user" if i % 2 else "assistant",
              text(), "complete", i, i) for i in range(1, messages + 1)))
        conn.executemany("INSERT INTO message_embeddings(message_id, model, dimensions, vector) VALUES (?,?,?,?)",
                         ((i, "m", DIMENSIONS, to_blob(vectors[i - 1])) for i in range(1, messages + 1)))
        conn.execute("COMMIT")

    store.call_sync(insert)


async def measure(store: Store, rounds: int) -> dict[str, list[float]]:
    """Time each search and its baseline, alternating which runs first."""
    search = SearchStore(store)
    rng = np.random.default_rng(3)
    matrix = await store.read(lambda c: np.frombuffer(b"".join(
        r[0] for r in c.execute("SELECT vector FROM message_embeddings ORDER BY message_id")), dtype="<f4"))
    matrix = matrix.reshape(-1, DIMENSIONS)
    times: dict[str, list[float]] = {"keyword": [], "like": [], "meaning": [], "in memory": [], "first": []}
    for _ in range(2 if rounds < 10 else 3):  # the first search by meaning reads every vector into memory
        query = rng.normal(size=DIMENSIONS).astype(np.float32)
        search.release()
        start = time.perf_counter()
        await search.nearest(query / np.linalg.norm(query), "m", 50, 0.0)
        times["first"].append((time.perf_counter() - start) * 1000)

    async def keyword(text: str) -> None:
        await search.keyword(fts_query(text) or "")

    async def like(text: str) -> None:
        word = text.split()[0]
        await store.read(lambda c: c.execute(
            "SELECT id FROM messages WHERE content LIKE ? ORDER BY id DESC LIMIT 50", (f"%{word}%",)).fetchall())

    async def meaning(query: np.ndarray) -> None:
        await search.nearest(query, "m", 50, 0.0)

    async def in_memory(query: np.ndarray) -> None:
        scores = matrix @ query
        np.argpartition(-scores, 50)[:50]

    for i in range(rounds):
        text = QUERIES[i % len(QUERIES)]
        query = rng.normal(size=DIMENSIONS).astype(np.float32)
        query /= np.linalg.norm(query)
        pairs = [("keyword", keyword(text)), ("like", like(text))]
        pairs += [("meaning", meaning(query)), ("in memory", in_memory(query))]
        for name, coro in pairs if i % 2 == 0 else list(reversed(pairs)):
            start = time.perf_counter()
            await coro
            times[name].append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 messages, few rounds")
    args = parser.parse_args()
    messages, rounds = (10_000, 4) if args.quick else (100_000, 10)
    banner(f"Search over {messages:,} messages")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "db.sqlite3")
        store.open()
        start = time.perf_counter()
        fill(store, messages)
        print(f"  filled (index and vectors included) in {time.perf_counter() - start:.1f} s", flush=True)
        times = asyncio.run(measure(store, rounds))
        size = (Path(tmp) / "db.sqlite3").stat().st_size + (Path(tmp) / "db.sqlite3-wal").stat().st_size
        store.close_sync()
    print(f"  database with vectors: {size / 2**20:.0f} MB", flush=True)
    report(Figure("search", "keyword search (median)", median(times["keyword"]), "ms", median(times["like"]),
                  "answers while typing (< 100 ms)", median(times["keyword"]) < 100))
    report(Figure("search", "first search by meaning, reading the vectors (median)", median(times["first"]), "ms",
                  median(times["in memory"]), "< 2,000 ms", median(times["first"]) < 2000))
    report(Figure("search", "search by meaning, top 50 (median)", median(times["meaning"]), "ms",
                  median(times["in memory"]), "< 1,000 ms", median(times["meaning"]) < 1000))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
