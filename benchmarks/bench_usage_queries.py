"""Usage dashboard: the panel's queries over 100,000 ledger rows, against a plain COUNT(*) of the same table.

The panel must open instantly: the report (today, month, all time, by feature, by model, 30 days of daily
spend) is timed on a real SQLite file through the store's worker thread, as the app runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import Figure, banner, median, report
from desktop_assistant.services import usage_queries
from desktop_assistant.services.store import Store

FEATURES = ("chat", "vision", "extraction", "batch", "embeddings", "audio", "titles")
MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-5-mini", "o4-mini", "llama3.1:8b")


def fill(store: Store, rows: int, now: dt.datetime) -> None:
    """Insert ``rows`` ledger rows spread over the last 400 days (one transaction)."""
    rng = random.Random(7)
    start = now.timestamp() - 400 * 86400

    def insert() -> None:
        conn = store.conn
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO usage_ledger(created_at, feature, model, input_tokens, cached_input_tokens, output_tokens, "
            "cost_micros) VALUES (?,?,?,?,?,?,?)",
            ((start + rng.random() * 400 * 86400, rng.choice(FEATURES), rng.choice(MODELS), rng.randint(10, 9000),
              rng.randint(0, 500), rng.randint(1, 2000), None if rng.random() < 0.05 else rng.randint(1, 20000))
             for _ in range(rows)))
        conn.execute("COMMIT")

    store.call_sync(insert)


async def measure(store: Store, now: dt.datetime, rounds: int) -> tuple[list[float], list[float]]:
    """Time the report and the baseline query, alternating which runs first."""
    results: list[tuple[str, float]] = []

    async def timed(name: str, fn: object) -> None:
        t = time.perf_counter()
        await store.read(fn)  # type: ignore[arg-type]
        results.append((name, (time.perf_counter() - t) * 1000))

    for i in range(rounds):
        order = [("report", lambda c: usage_queries.report(c, now)),
                 ("count", lambda c: c.execute("SELECT COUNT(*) FROM usage_ledger").fetchone())]
        for name, fn in order if i % 2 == 0 else reversed(order):
            await timed(name, fn)
    return [t for n, t in results if n == "report"], [t for n, t in results if n == "count"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 rows, few rounds")
    args = parser.parse_args()
    rows, rounds = (10_000, 3) if args.quick else (100_000, 9)
    banner(f"Usage dashboard queries over {rows:,} ledger rows")
    now = dt.datetime.now()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "db.sqlite3")
        store.open()
        fill(store, rows, now)
        reports, counts = asyncio.run(measure(store, now, rounds))
        store.close_sync()
    report(Figure("usage queries", "usage report (median)", median(reports), "ms", median(counts),
                  "opens instantly (< 100 ms)", median(reports) < 100))
    return 0


if __name__ == "__main__":
    sys.exit(main())
