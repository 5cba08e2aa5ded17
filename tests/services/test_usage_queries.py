"""The usage panel's queries on a real SQLite file, through the store's worker thread."""

from __future__ import annotations

import datetime as dt
import sqlite3

from desktop_assistant.core.models import LedgerEntry, Usage
from desktop_assistant.core.usage import Totals, UsageReport, day_start, month_start
from desktop_assistant.services import usage_queries
from desktop_assistant.services.store import Store

NOW = dt.datetime(2026, 11, 25, 15, 0)

TODAY_MIDNIGHT = dt.datetime(2026, 11, 25, 0, 0)
TODAY_MORNING = dt.datetime(2026, 11, 25, 10, 0)
TODAY_AFTERNOON = dt.datetime(2026, 11, 25, 14, 0)
YESTERDAY_LATE = dt.datetime(2026, 11, 24, 23, 59, 59)
MONTH_FIRST = dt.datetime(2026, 11, 1, 0, 0)
LAST_MONTH_LAST_DAY = dt.datetime(2026, 10, 31, 23, 0)
FORTY_DAYS_AGO = dt.datetime(2026, 10, 16, 12, 0)
LAST_YEAR = dt.datetime(2025, 11, 25, 12, 0)


def _entry(when: dt.datetime, feature: str, model: str, usage: Usage, cost: int | None, *, job: str | None = None,
           batch: bool = False) -> LedgerEntry:
    return LedgerEntry(feature=feature, model=model, usage=usage, cost_micros=cost, created_at=when.timestamp(),
                       job=job, batch=batch)


# inserted deliberately out of time order, to check the queries sort
ROWS: list[LedgerEntry] = [
    _entry(LAST_YEAR, "chat", "gpt-4.1", Usage(4000, 0, 1000), 13_000),
    _entry(TODAY_MORNING, "chat", "gpt-4o", Usage(1000, 100, 200), 3_000),
    _entry(MONTH_FIRST, "bulk", "gpt-4o-mini", Usage(800, 0, 400), 5_000, job="run-1", batch=True),
    _entry(TODAY_AFTERNOON, "chat", "gpt-4o-mini", Usage(500, 0, 50, estimated=True), None),  # unpriced, estimated
    _entry(FORTY_DAYS_AGO, "chat", "gpt-4o", Usage(3000, 0, 700), 11_000),
    _entry(TODAY_MIDNIGHT, "title", "gpt-4o-mini", Usage(10, 0, 5), 100),
    _entry(YESTERDAY_LATE, "chat", "gpt-4o", Usage(600, 300, 100), 2_000),
    _entry(LAST_MONTH_LAST_DAY, "chat", "gpt-4o", Usage(2000, 0, 500), 7_000),
]


async def _fill(store: Store, rows: list[LedgerEntry] = ROWS) -> None:
    for row in rows:
        await store.record_usage(row)


async def _report(store: Store, now: dt.datetime = NOW) -> UsageReport:
    return await store.read(lambda c: usage_queries.report(c, now))


async def test_empty_ledger(store: Store) -> None:
    report = await _report(store)
    assert report.today == report.month == report.all_time == Totals()
    assert report.by_feature == [] and report.by_model == []
    assert len(report.daily) == 30
    assert all(cost == 0 for _, cost in report.daily)
    assert await store.read(usage_queries.all_rows) == []
    assert await store.read(lambda c: usage_queries.spent_since(c, 0.0)) == 0


async def test_today_totals(store: Store) -> None:
    await _fill(store)
    report = await _report(store)
    # midnight, morning and afternoon of the 25th; yesterday 23:59:59 is not today
    assert report.today == Totals(calls=3, input_tokens=1510, cached_input_tokens=100, output_tokens=255,
                                  cost_micros=3_100, unpriced_calls=1, estimated_calls=1)


async def test_month_totals(store: Store) -> None:
    await _fill(store)
    report = await _report(store)
    # today's three, yesterday and the first of the month at midnight; October 31 is last month
    assert report.month == Totals(calls=5, input_tokens=2910, cached_input_tokens=400, output_tokens=755,
                                  cost_micros=10_100, unpriced_calls=1, estimated_calls=1)


async def test_all_time_totals(store: Store) -> None:
    await _fill(store)
    report = await _report(store)
    assert report.all_time == Totals(calls=8, input_tokens=11910, cached_input_tokens=400, output_tokens=2955,
                                     cost_micros=41_100, unpriced_calls=1, estimated_calls=1)


async def test_unpriced_and_estimated_are_counted_per_row(store: Store) -> None:
    await _fill(store, [
        _entry(TODAY_MORNING, "chat", "local", Usage(1, 0, 1), None),
        _entry(TODAY_MORNING, "chat", "local", Usage(1, 0, 1, estimated=True), None),
        _entry(TODAY_MORNING, "chat", "gpt-4o", Usage(1, 0, 1, estimated=True), 0),  # free, but priced
        _entry(TODAY_MORNING, "chat", "gpt-4o", Usage(1, 0, 1), 50),
    ])
    today = (await _report(store)).today
    assert (today.calls, today.cost_micros, today.unpriced_calls, today.estimated_calls) == (4, 50, 2, 2)


async def test_by_feature_highest_cost_first(store: Store) -> None:
    await _fill(store)
    report = await _report(store)
    assert [(b.name, b.totals.calls, b.totals.cost_micros) for b in report.by_feature] == [
        ("chat", 6, 36_000),
        ("bulk", 1, 5_000),
        ("title", 1, 100),
    ]
    chat = report.by_feature[0].totals
    assert chat == Totals(calls=6, input_tokens=11100, cached_input_tokens=400, output_tokens=2550,
                          cost_micros=36_000, unpriced_calls=1, estimated_calls=1)


async def test_by_model_highest_cost_first(store: Store) -> None:
    await _fill(store)
    report = await _report(store)
    assert [(b.name, b.totals.calls, b.totals.cost_micros, b.totals.unpriced_calls) for b in report.by_model] == [
        ("gpt-4o", 4, 23_000, 0),
        ("gpt-4.1", 1, 13_000, 0),
        ("gpt-4o-mini", 3, 5_100, 1),
    ]
    mini = report.by_model[2].totals
    assert (mini.input_tokens, mini.output_tokens, mini.estimated_calls) == (1310, 455, 1)


async def test_breakdown_ties_on_cost_go_by_calls(store: Store) -> None:
    await _fill(store, [
        _entry(TODAY_MORNING, "one", "a", Usage(), 100),
        _entry(TODAY_MORNING, "two", "b", Usage(), 50),
        _entry(TODAY_MORNING, "two", "b", Usage(), 50),
    ])
    report = await _report(store)
    assert [b.name for b in report.by_feature] == ["two", "one"]
    assert [b.name for b in report.by_model] == ["b", "a"]


async def test_breakdowns_from_since(store: Store) -> None:
    await _fill(store)
    first = NOW.date().replace(day=1)
    report = await store.read(lambda c: usage_queries.report(c, NOW, breakdown_from=first))
    assert [(b.name, b.totals.cost_micros) for b in report.by_feature] == [("chat", 5_000), ("bulk", 5_000),
                                                                           ("title", 100)]
    assert [(b.name, b.totals.cost_micros) for b in report.by_model] == [("gpt-4o-mini", 5_100), ("gpt-4o", 5_000)]
    # the totals do not depend on breakdown_from
    assert report.all_time.calls == 8


async def test_daily_series(store: Store) -> None:
    await _fill(store)
    report = await _report(store)
    daily = report.daily
    assert len(daily) == 30
    assert daily[-1][0] == NOW.date()
    assert daily[0][0] == dt.date(2026, 10, 27)
    assert [d for d, _ in daily] == [dt.date(2026, 10, 27) + dt.timedelta(days=i) for i in range(30)]
    by_day = dict(daily)
    assert by_day[dt.date(2026, 11, 25)] == 3_100  # the unpriced call adds nothing
    assert by_day[dt.date(2026, 11, 24)] == 2_000  # 23:59:59 stays on its own day
    assert by_day[dt.date(2026, 11, 1)] == 5_000
    assert by_day[dt.date(2026, 10, 31)] == 7_000  # last month, but within 30 days
    assert dt.date(2026, 10, 16) not in by_day  # forty days ago is outside the chart
    assert by_day[dt.date(2026, 11, 10)] == 0  # a day without rows
    assert sum(cost for _, cost in daily) == 17_100


async def test_daily_series_custom_length(store: Store) -> None:
    await _fill(store)
    report = await store.read(lambda c: usage_queries.report(c, NOW, days=2))
    assert report.daily == [(dt.date(2026, 11, 24), 2_000), (dt.date(2026, 11, 25), 3_100)]


async def test_now_is_taken_from_the_argument(store: Store) -> None:
    now = dt.datetime(2026, 10, 31, 23, 30)
    await _fill(store, [r for r in ROWS if r.created_at <= now.timestamp()])
    report = await _report(store, now)
    assert report.today.calls == 1 and report.today.cost_micros == 7_000
    # "now" in October: the month holds October 31 and October 16; last year counts in all time only
    assert report.month.calls == 2 and report.month.cost_micros == 18_000
    assert report.all_time.calls == 3 and report.all_time.cost_micros == 31_000
    assert report.daily[-1] == (dt.date(2026, 10, 31), 7_000)
    assert dict(report.daily)[dt.date(2026, 10, 16)] == 11_000


async def test_spent_since(store: Store) -> None:
    await _fill(store)

    async def spent(since: float) -> int:
        return await store.read(lambda c: usage_queries.spent_since(c, since))

    assert await spent(day_start(NOW)) == 3_100
    assert await spent(month_start(NOW)) == 10_100
    assert await spent(0.0) == 41_100
    assert await spent(NOW.timestamp()) == 0
    assert await spent(TODAY_AFTERNOON.timestamp()) == 0  # only the unpriced call from then on


async def test_totals_from(store: Store) -> None:
    await _fill(store)
    totals = await store.read(lambda c: usage_queries.totals_from(c, YESTERDAY_LATE.date()))
    assert (totals.calls, totals.cost_micros) == (4, 5_100)
    everything = await store.read(lambda c: usage_queries.totals_from(c, None))
    assert (everything.calls, everything.cost_micros) == (8, 41_100)


async def test_roll_up_matches_the_ledger(store: Store) -> None:
    await _fill(store)

    def compare(conn: sqlite3.Connection) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        ledger = conn.execute(
            """SELECT date(created_at, 'unixepoch', 'localtime'), feature, model, COUNT(*), SUM(input_tokens),
                      SUM(cached_input_tokens), SUM(output_tokens), COALESCE(SUM(cost_micros), 0),
                      SUM(cost_micros IS NULL), SUM(estimated)
               FROM usage_ledger GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""").fetchall()
        daily = conn.execute(
            """SELECT day, feature, model, calls, input_tokens, cached_input_tokens, output_tokens, cost_micros,
                      unpriced_calls, estimated_calls FROM usage_daily ORDER BY 1, 2, 3""").fetchall()
        return [tuple(r) for r in ledger], [tuple(r) for r in daily]

    ledger, daily = await store.read(compare)
    assert daily == ledger
    assert len(daily) == 8


async def test_all_rows_oldest_first(store: Store) -> None:
    await _fill(store)
    # two rows at the same instant keep insertion (id) order
    await _fill(store, [_entry(TODAY_AFTERNOON, "later-a", "x", Usage(), 1),
                        _entry(TODAY_AFTERNOON, "later-b", "x", Usage(), 2)])
    rows = await store.read(usage_queries.all_rows)
    assert [r.created_at for r in rows] == sorted(r.created_at for r in rows)
    assert [dt.datetime.fromtimestamp(r.created_at) for r in rows] == [
        LAST_YEAR, FORTY_DAYS_AGO, LAST_MONTH_LAST_DAY, MONTH_FIRST, YESTERDAY_LATE, TODAY_MIDNIGHT, TODAY_MORNING,
        TODAY_AFTERNOON, TODAY_AFTERNOON, TODAY_AFTERNOON]
    assert [r.feature for r in rows[-3:]] == ["chat", "later-a", "later-b"]
    bulk = rows[3]
    assert (bulk.feature, bulk.job, bulk.batch, bulk.cost_micros) == ("bulk", "run-1", True, 5_000)
    unpriced = rows[7]
    assert unpriced.cost_micros is None and unpriced.usage.estimated
    assert all(r.id is not None for r in rows)
