"""The usage panel's queries (run on the store thread through ``Store.read``).

Reports read ``usage_daily``, a per-day roll-up that a trigger keeps in step with the ledger (a few thousand
rows after years of use), so the panel opens instantly; the spending check reads the ledger itself by time.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from desktop_assistant.core.models import LedgerEntry
from desktop_assistant.core.usage import Breakdown, Totals, UsageReport, fill_days
from desktop_assistant.services.store import ledger_entry

_SUMS = """COALESCE(SUM(calls), 0), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(cached_input_tokens), 0),
           COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cost_micros), 0), COALESCE(SUM(unpriced_calls), 0),
           COALESCE(SUM(estimated_calls), 0)"""


def _totals(row: tuple[int, ...]) -> Totals:
    return Totals(*(int(v) for v in row))


def totals_from(conn: sqlite3.Connection, first_day: dt.date | None) -> Totals:
    """Sums of the days from ``first_day`` on (all days when None)."""
    since = first_day.isoformat() if first_day else ""
    return _totals(conn.execute(f"SELECT {_SUMS} FROM usage_daily WHERE day >= ?", (since,)).fetchone())


def spent_since(conn: sqlite3.Connection, since: float) -> int:
    """Micro-dollars spent from the timestamp ``since`` on (exact, from the ledger)."""
    return int(conn.execute("SELECT COALESCE(SUM(cost_micros), 0) FROM usage_ledger WHERE created_at >= ?",
                            (since,)).fetchone()[0])


def _breakdown(conn: sqlite3.Connection, column: str, first_day: dt.date | None) -> list[Breakdown]:
    since = first_day.isoformat() if first_day else ""
    rows = conn.execute(f"SELECT {column}, {_SUMS} FROM usage_daily WHERE day >= ? GROUP BY {column} "
                        "ORDER BY 6 DESC, 2 DESC", (since,)).fetchall()
    return [Breakdown(str(r[0]), _totals(tuple(r[1:]))) for r in rows]


def report(conn: sqlite3.Connection, now: dt.datetime, days: int = 30,
           breakdown_from: dt.date | None = None) -> UsageReport:
    """Today, this month and all time; by feature and by model (from ``breakdown_from``); daily spend."""
    today = now.date()
    first = today - dt.timedelta(days=days - 1)
    daily_rows = conn.execute("SELECT day, SUM(cost_micros) FROM usage_daily WHERE day >= ? GROUP BY day",
                              (first.isoformat(),)).fetchall()
    daily = {dt.date.fromisoformat(d): int(c) for d, c in daily_rows}
    return UsageReport(
        today=totals_from(conn, today),
        month=totals_from(conn, today.replace(day=1)),
        all_time=totals_from(conn, None),
        by_feature=_breakdown(conn, "feature", breakdown_from),
        by_model=_breakdown(conn, "model", breakdown_from),
        daily=fill_days(daily, today, days),
    )


def all_rows(conn: sqlite3.Connection) -> list[LedgerEntry]:
    """Every ledger row, oldest first (for the CSV export)."""
    return [ledger_entry(r) for r in conn.execute("SELECT * FROM usage_ledger ORDER BY created_at, id")]
