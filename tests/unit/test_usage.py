"""Usage reports: the daily series, period starts and the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools

from desktop_assistant.core.models import LedgerEntry, Usage
from desktop_assistant.core.usage import CSV_COLUMNS, day_start, fill_days, ledger_csv, month_start

# -- fill_days ----------------------------------------------------------------------------------------------


def test_fill_days_fills_gaps_with_zero_in_order() -> None:
    last = dt.date(2026, 11, 25)
    days = {dt.date(2026, 11, 20): 5, dt.date(2026, 11, 23): 7, last: 11}
    assert fill_days(days, last, 7) == [
        (dt.date(2026, 11, 19), 0),
        (dt.date(2026, 11, 20), 5),
        (dt.date(2026, 11, 21), 0),
        (dt.date(2026, 11, 22), 0),
        (dt.date(2026, 11, 23), 7),
        (dt.date(2026, 11, 24), 0),
        (dt.date(2026, 11, 25), 11),
    ]


def test_fill_days_count_and_last_day() -> None:
    last = dt.date(2026, 11, 25)
    series = fill_days({}, last, 30)
    assert len(series) == 30
    assert series[-1] == (last, 0)
    assert series[0][0] == dt.date(2026, 10, 27)
    assert [d for d, _ in series] == sorted(d for d, _ in series)
    assert all(b - a == dt.timedelta(days=1) for (a, _), (b, _) in itertools.pairwise(series))


def test_fill_days_ignores_days_outside_the_window() -> None:
    last = dt.date(2026, 11, 25)
    days = {dt.date(2026, 11, 1): 99, dt.date(2026, 11, 26): 99, dt.date(2026, 11, 24): 3}
    assert fill_days(days, last, 3) == [(dt.date(2026, 11, 23), 0), (dt.date(2026, 11, 24), 3), (last, 0)]


def test_fill_days_across_a_month_boundary() -> None:
    days = {dt.date(2026, 2, 28): 4, dt.date(2026, 3, 1): 6}
    assert fill_days(days, dt.date(2026, 3, 2), 4) == [
        (dt.date(2026, 2, 27), 0),
        (dt.date(2026, 2, 28), 4),
        (dt.date(2026, 3, 1), 6),
        (dt.date(2026, 3, 2), 0),
    ]


def test_fill_days_across_a_leap_day_and_a_year_boundary() -> None:
    assert [d for d, _ in fill_days({}, dt.date(2028, 3, 1), 3)] == [
        dt.date(2028, 2, 28), dt.date(2028, 2, 29), dt.date(2028, 3, 1)]
    assert [d for d, _ in fill_days({}, dt.date(2027, 1, 1), 2)] == [dt.date(2026, 12, 31), dt.date(2027, 1, 1)]


def test_fill_days_single_day() -> None:
    assert fill_days({dt.date(2026, 11, 25): 1}, dt.date(2026, 11, 25), 1) == [(dt.date(2026, 11, 25), 1)]


# -- day_start / month_start --------------------------------------------------------------------------------


def test_day_start_is_local_midnight() -> None:
    now = dt.datetime(2026, 11, 25, 15, 30, 12, 500)
    assert day_start(now) == dt.datetime(2026, 11, 25, 0, 0).timestamp()
    assert day_start(dt.datetime(2026, 11, 25)) == dt.datetime(2026, 11, 25).timestamp()
    assert day_start(dt.datetime(2026, 11, 25, 23, 59, 59)) == dt.datetime(2026, 11, 25).timestamp()


def test_month_start_is_local_midnight_of_the_first() -> None:
    assert month_start(dt.datetime(2026, 11, 25, 15, 0)) == dt.datetime(2026, 11, 1).timestamp()
    assert month_start(dt.datetime(2026, 11, 1, 0, 0)) == dt.datetime(2026, 11, 1).timestamp()
    assert month_start(dt.datetime(2026, 1, 31, 23, 59)) == dt.datetime(2026, 1, 1).timestamp()


def test_starts_are_before_now() -> None:
    now = dt.datetime(2026, 11, 25, 15, 0)
    assert month_start(now) <= day_start(now) <= now.timestamp()


# -- ledger_csv ---------------------------------------------------------------------------------------------


def _parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_ledger_csv_empty_has_only_the_header() -> None:
    text = ledger_csv([])
    assert _parse(text) == [list(CSV_COLUMNS)]
    assert text == ",".join(CSV_COLUMNS) + "\n"


def test_ledger_csv_rows() -> None:
    t1 = dt.datetime(2026, 11, 25, 15, 0, 7)
    t2 = dt.datetime(2026, 11, 25, 16, 30)
    rows = [
        LedgerEntry(feature="chat", model="gpt-4o-mini",
                    usage=Usage(input_tokens=1200, cached_input_tokens=200, output_tokens=300, reasoning_tokens=40,
                                estimated=False, audio_input_tokens=5, audio_output_tokens=6),
                    cost_micros=1_234_567, conversation_id=7, message_id=9, created_at=t1.timestamp() + 0.4,
                    job=None, batch=False),
        LedgerEntry(feature="bulk", model="my-local-model", usage=Usage(10, 0, 20, estimated=True), cost_micros=None,
                    conversation_id=None, created_at=t2.timestamp(), job="run-3", batch=True),
        LedgerEntry(feature="title", model="gpt-4o", usage=Usage(1, 0, 1), cost_micros=0,
                    created_at=t2.timestamp()),
    ]
    parsed = _parse(ledger_csv(rows))
    assert parsed[0] == list(CSV_COLUMNS)
    assert len(parsed) == 1 + len(rows)
    first = dict(zip(CSV_COLUMNS, parsed[1], strict=True))
    assert first == {
        "time": "2026-11-25T15:00:07",
        "feature": "chat",
        "model": "gpt-4o-mini",
        "conversation_id": "7",
        "job": "",
        "input_tokens": "1200",
        "cached_input_tokens": "200",
        "output_tokens": "300",
        "reasoning_tokens": "40",
        "audio_input_tokens": "5",
        "audio_output_tokens": "6",
        "estimated": "0",
        "batch": "0",
        "cost_usd": "1.234567",
    }
    second = dict(zip(CSV_COLUMNS, parsed[2], strict=True))
    assert second["time"] == "2026-11-25T16:30:00"
    assert second["conversation_id"] == ""
    assert second["job"] == "run-3"
    assert second["estimated"] == "1"
    assert second["batch"] == "1"
    assert second["cost_usd"] == ""  # unpriced: empty, not zero
    third = dict(zip(CSV_COLUMNS, parsed[3], strict=True))
    assert third["cost_usd"] == "0.000000"


def test_ledger_csv_six_decimal_dollars() -> None:
    def cost(micros: int) -> str:
        entry = LedgerEntry(feature="chat", model="m", usage=Usage(), cost_micros=micros, created_at=1.0)
        return _parse(ledger_csv([entry]))[1][-1]

    assert cost(1) == "0.000001"
    assert cost(150) == "0.000150"
    assert cost(2_500_000) == "2.500000"
    assert cost(1_234_000_001) == "1234.000001"


def test_ledger_csv_model_name_with_comma_and_quote_survives() -> None:
    name = 'weird, "quoted" model'
    entry = LedgerEntry(feature='feat,"x"', model=name, usage=Usage(1, 0, 2), cost_micros=10, created_at=1000.0)
    parsed = _parse(ledger_csv([entry]))
    assert len(parsed) == 2
    row = dict(zip(CSV_COLUMNS, parsed[1], strict=True))
    assert row["model"] == name
    assert row["feature"] == 'feat,"x"'
    assert row["input_tokens"] == "1" and row["output_tokens"] == "2"


def test_ledger_csv_model_name_with_newline_survives() -> None:
    entry = LedgerEntry(feature="chat", model="two\nlines", usage=Usage(), cost_micros=None, created_at=1000.0)
    parsed = _parse(ledger_csv([entry]))
    assert len(parsed) == 2
    assert parsed[1][CSV_COLUMNS.index("model")] == "two\nlines"
