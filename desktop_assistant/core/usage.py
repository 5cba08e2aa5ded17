"""Usage reports: what was spent, when, on what (plain data built by the store's queries)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from desktop_assistant.core.models import LedgerEntry


@dataclass(frozen=True)
class Totals:
    """Sums over a set of ledger rows."""

    calls: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    cost_micros: int = 0
    unpriced_calls: int = 0  # calls whose model had no price (their cost is not in cost_micros)
    estimated_calls: int = 0


@dataclass(frozen=True)
class Breakdown:
    """Totals for one feature or one model."""

    name: str
    totals: Totals


@dataclass(frozen=True)
class UsageReport:
    """What the usage panel shows."""

    today: Totals
    month: Totals
    all_time: Totals
    by_feature: list[Breakdown] = field(default_factory=list)
    by_model: list[Breakdown] = field(default_factory=list)
    daily: list[tuple[dt.date, int]] = field(default_factory=list)  # (day, cost) for the chart, oldest first


def day_start(now: dt.datetime) -> float:
    """The timestamp of local midnight starting ``now``'s day."""
    return dt.datetime(now.year, now.month, now.day).timestamp()


def month_start(now: dt.datetime) -> float:
    """The timestamp of local midnight starting ``now``'s month."""
    return dt.datetime(now.year, now.month, 1).timestamp()


def fill_days(days: dict[dt.date, int], last: dt.date, count: int) -> list[tuple[dt.date, int]]:
    """``count`` consecutive days ending at ``last``, with zero for days without spend."""
    first = last - dt.timedelta(days=count - 1)
    return [(first + dt.timedelta(days=i), days.get(first + dt.timedelta(days=i), 0)) for i in range(count)]


CSV_COLUMNS = ("time", "feature", "model", "conversation_id", "job", "input_tokens", "cached_input_tokens",
               "output_tokens", "reasoning_tokens", "audio_input_tokens", "audio_output_tokens", "estimated",
               "batch", "cost_usd")


def ledger_csv(rows: Iterable[LedgerEntry]) -> str:
    """The ledger as CSV (local ISO times; cost in dollars with six decimals, empty when unpriced)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        u = r.usage
        cost = "" if r.cost_micros is None else f"{r.cost_micros / 1_000_000:.6f}"
        when = dt.datetime.fromtimestamp(r.created_at).isoformat(timespec="seconds")
        writer.writerow([when, r.feature, r.model, r.conversation_id or "", r.job or "", u.input_tokens,
                         u.cached_input_tokens, u.output_tokens, u.reasoning_tokens, u.audio_input_tokens,
                         u.audio_output_tokens, int(u.estimated), int(r.batch), cost])
    return out.getvalue()
