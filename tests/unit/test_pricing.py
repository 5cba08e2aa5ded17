"""Prices: the bundled table, exact decimal cost, overrides, and how money is shown."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from desktop_assistant.core.catalog import CATALOG
from desktop_assistant.core.pricing import ModelPrice, PriceTable, format_usd


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load_default()


def test_bundled_table_has_provenance_and_every_catalog_model(table: PriceTable) -> None:
    assert table.source.startswith("https://openai.com/api/pricing/")
    assert table.checked and table.currency == "USD" and table.per == 1_000_000
    for model_id, info in CATALOG.items():
        assert info.price_key in table.models, model_id
        assert table.price_for(model_id) is not None


def test_bundled_prices_are_strings_and_decimals(table: PriceTable) -> None:
    from importlib.resources import files

    raw = json.loads((files("desktop_assistant") / "resources" / "pricing.json").read_text(encoding="utf-8"))
    for row in raw["models"].values():
        assert all(isinstance(value, str) for value in row.values())
    for price in table.models.values():
        assert isinstance(price.input, Decimal) and isinstance(price.output, Decimal)


@pytest.mark.parametrize(
    ("model_id", "prices"),
    [
        ("gpt-4o", ("2.50", "1.25", "10.00")),
        ("gpt-4o-mini", ("0.15", "0.075", "0.60")),
        ("gpt-4.1", ("2.00", "0.50", "8.00")),
        ("gpt-4.1-mini", ("0.40", "0.10", "1.60")),
        ("gpt-4.1-nano", ("0.10", "0.025", "0.40")),
        ("gpt-5", ("1.25", "0.125", "10.00")),
        ("gpt-5-mini", ("0.25", "0.025", "2.00")),
        ("gpt-5-nano", ("0.05", "0.005", "0.40")),
        ("o3", ("2.00", "0.50", "8.00")),
        ("o4-mini", ("1.10", "0.275", "4.40")),
        ("o3-mini", ("1.10", "0.55", "4.40")),
        ("o1", ("15", "7.50", "60")),
        ("gpt-4-turbo", ("10", None, "30")),
        ("gpt-4", ("30", None, "60")),
        ("gpt-3.5-turbo", ("0.50", None, "1.50")),
    ],
)
def test_published_prices(table: PriceTable, model_id: str, prices: tuple[str, str | None, str]) -> None:
    price = table.price_for(model_id)
    assert price is not None
    assert price.input == Decimal(prices[0])
    assert price.cached_input == (None if prices[1] is None else Decimal(prices[1]))
    assert price.output == Decimal(prices[2])


def test_snapshots_use_their_family_price_and_unknown_models_have_none(table: PriceTable) -> None:
    assert table.price_for("gpt-4o-2024-08-06") == table.price_for("gpt-4o")
    assert table.price_for("gpt-4o-2024-05-13") != table.price_for("gpt-4o")
    assert table.price_for("llama3.1:8b") is None
    assert table.cost_micros("llama3.1:8b", 100, 0, 100) is None
    assert table.worst_case_micros("qwen2.5", 100, 100) is None
    assert table.price_for("ft:gpt-4o-mini-2024-07-18:acme::x") is None


def test_cost_is_exact_and_rounded_once(table: PriceTable) -> None:
    # gpt-4o: 1000 input of which 500 cached, 200 output: 500*2.50 + 500*1.25 + 200*10 = 3875 micro-dollars
    assert table.cost_micros("gpt-4o", 1000, 500, 200) == 3875
    # gpt-4o-mini: 7 input tokens = 1.05 micros, 3 output = 1.8 micros: 2.85 -> 3 (rounding per part gives 1 + 2)
    assert table.cost_micros("gpt-4o-mini", 7, 0, 3) == 3
    # half a micro-dollar rounds up: gpt-5-nano cached 100 tokens = 0.5 micros
    assert table.cost_micros("gpt-5-nano", 100, 100, 0) == 1
    assert table.cost_micros("gpt-5-nano", 10, 10, 0) == 0
    # a big, precise number stays exact: 123,456,789 input tokens of o1 = $1,851.851835
    assert table.cost_micros("o1", 123_456_789, 0, 0) == 1_851_851_835
    assert isinstance(table.cost_micros("gpt-4o", 1, 0, 1), int)


def test_models_without_cached_price_charge_the_input_price(table: PriceTable) -> None:
    assert table.cost_micros("gpt-4", 1000, 600, 0) == table.cost_micros("gpt-4", 1000, 0, 0) == 30_000
    price = table.price_for("gpt-3.5-turbo")
    assert price is not None and price.cached == price.input


def test_cached_tokens_are_clamped_and_bad_counts_refused(table: PriceTable) -> None:
    assert table.cost_micros("gpt-4o", 100, 500, 0) == table.cost_micros("gpt-4o", 100, 100, 0)
    with pytest.raises(ValueError):
        table.cost_micros("gpt-4o", -1, 0, 0)
    with pytest.raises(ValueError):
        table.cost_micros("gpt-4o", 1.5, 0, 0)  # type: ignore[arg-type]


def test_worst_case(table: PriceTable) -> None:
    # 1000 prompt at 0.15 + 16384 output at 0.60 = 150 + 9830.4 micros
    assert table.worst_case_micros("gpt-4o-mini", 1000, 16_384) == 9_980


def test_overrides(table: PriceTable) -> None:
    changed = table.with_overrides(
        {
            "models": {
                "gpt-4o": {"output": "9.00"},
                "gpt-4o-mini": {"cached_input": None},
                "llama3.1:8b": {"input": "0", "output": "0"},
                "my-model": {"input": 1, "output": "2.5"},
            }
        }
    )
    assert changed.price_for("gpt-4o") == ModelPrice(Decimal("2.50"), Decimal("9.00"), Decimal("1.25"))
    assert changed.price_for("gpt-4o-2024-08-06") == changed.price_for("gpt-4o")
    mini = changed.price_for("gpt-4o-mini")
    assert mini is not None and mini.cached_input is None
    assert changed.cost_micros("llama3.1:8b", 1000, 0, 1000) == 0
    assert changed.cost_micros("my-model", 1_000_000, 0, 0) == 1_000_000
    assert table.price_for("gpt-4o") != changed.price_for("gpt-4o"), "the original table is unchanged"
    assert table.with_overrides({}) is table


def test_overrides_in_another_unit(table: PriceTable) -> None:
    per_thousand = table.with_overrides({"per": 1000, "models": {"gpt-4o": {"output": "0.009"}}})
    price = per_thousand.price_for("gpt-4o")
    assert price is not None and price.output == Decimal("9") and price.input == Decimal("2.50")


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        "{}",
        '{"models": {"x": {"input": "1"}}}',
        '{"models": {"x": {"input": "-1", "output": "1"}}}',
        '{"models": {"x": {"input": "abc", "output": "1"}}}',
        '{"models": {"x": {"input": "NaN", "output": "1"}}}',
        '{"models": {"x": {"input": true, "output": "1"}}}',
        '{"models": {"x": {"input": "1", "output": "1", "typo": "1"}}}',
        '{"per": 0, "models": {}}',
    ],
)
def test_invalid_documents_are_refused(document: str) -> None:
    with pytest.raises(ValueError):
        PriceTable.from_json(document)


def test_numbers_in_json_are_read_as_decimals_not_floats() -> None:
    table = PriceTable.from_json('{"models": {"x": {"input": 0.1, "output": 0.3}}}')
    price = table.price_for("x")
    assert price is not None and price.input == Decimal("0.1") and price.output == Decimal("0.3")
    assert table.cost_micros("x", 3_000_000, 0, 0) == 300_000


def test_round_trip(table: PriceTable) -> None:
    again = PriceTable.from_json(json.dumps(table.to_dict()))
    assert again == table


@pytest.mark.parametrize(
    ("micros", "text"),
    [
        (0, "$0.00"),
        (1, "<$0.0001"),
        (99, "<$0.0001"),
        (100, "$0.0001"),
        (300, "$0.0003"),
        (349, "$0.0003"),
        (350, "$0.0004"),
        (15_300, "$0.0153"),
        (150_000, "$0.15"),
        (999_999, "$1.00"),
        (1_000_000, "$1.00"),
        (1_240_000, "$1.24"),
        (1_245_000, "$1.25"),
        (1_234_500_000, "$1,234.50"),
    ],
)
def test_format_usd(micros: int, text: str) -> None:
    assert format_usd(micros) == text


def test_format_usd_estimates() -> None:
    assert format_usd(300, estimate=True) == "~$0.0003"
    assert format_usd(1_240_000, estimate=True) == "~$1.24"
    assert format_usd(5, estimate=True) == "<$0.0001"


def test_batch_calls_cost_half() -> None:
    table = PriceTable.load_default()
    standard = table.cost_micros("gpt-4o-mini", 1_000_000, 0, 1_000_000)
    batch = table.cost_micros("gpt-4o-mini", 1_000_000, 0, 1_000_000, batch=True)
    assert (standard, batch) == (750_000, 375_000)
    assert table.worst_case_micros("gpt-4o-mini", 1000, 1000, batch=True) == 375
