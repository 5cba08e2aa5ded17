"""The spending limit: parsing typed amounts and the verdict on a request's worst case."""

from __future__ import annotations

import pytest

from desktop_assistant.core.budget import Limits, Spent, Verdict, check, parse_usd, plain_usd
from desktop_assistant.core.pricing import format_usd

DOLLAR = 1_000_000


# -- parse_usd ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10", 10 * DOLLAR),  # whole dollars
        ("$2.50", 2_500_000),  # a dollar sign and cents
        ("1,000", 1_000 * DOLLAR),  # thousands separator
        ("  $1,234.56 ", 1_234_560_000),  # surrounding blanks, sign and separator together
        ("0.000001", 1),  # one micro-dollar
        ("0", 0),  # zero is a valid limit
        ("", None),  # empty: no limit
        ("   ", None),  # blanks only: no limit
        ("abc", None),  # not a number
        ("-1", None),  # negative amounts are refused
        ("inf", None),  # not finite
        ("-inf", None),  # not finite and negative
        ("2,50", 2_500_000),  # a decimal comma, as many people write it: $2.50, never $250
        ("0,15", 150_000),
        ("2,5", 2_500_000),
        ("12 000", 12_000 * DOLLAR),  # a space between thousands
        ("0,150", None),  # neither thousands nor cents: refused, not guessed
        ("1,2,3", None),
        ("1,00.5", None),
        ("1.000,50", None),  # both separators the other way round: refused
    ],
)
def test_parse_usd(text: str, expected: int | None) -> None:
    assert parse_usd(text) == expected


@pytest.mark.parametrize(("text", "plain"), [("$1,234.50", "1234.5"), ("2,50", "2.5"), ("10", "10"),
                                             ("0.000", "0"), ("1e3", "1000"), ("0,150", None), ("", None)])
def test_plain_usd_is_what_settings_keep(text: str, plain: str | None) -> None:
    assert plain_usd(text) == plain


@pytest.mark.parametrize("text", ["nan", "NaN", "sNaN"])
def test_parse_usd_nan_is_none(text: str) -> None:
    assert parse_usd(text) is None


# -- check --------------------------------------------------------------------------------------------------


def test_no_limits_allows_anything() -> None:
    assert check(Limits(), Spent(today_micros=999 * DOLLAR, month_micros=999 * DOLLAR), 50 * DOLLAR) == Verdict(True)


def test_no_limits_allows_an_unpriced_model() -> None:
    assert check(Limits(), Spent(0, 0), None) == Verdict(True)


def test_under_limit_is_allowed_without_warning() -> None:
    verdict = check(Limits(monthly_micros=10 * DOLLAR), Spent(today_micros=0, month_micros=1 * DOLLAR), 50_000)
    assert verdict == Verdict(True, "", warning=False)


def test_crossing_the_monthly_limit_is_refused_with_the_numbers() -> None:
    limit, spent, worst = 10 * DOLLAR, 9_900_000, 250_000
    verdict = check(Limits(monthly_micros=limit), Spent(today_micros=0, month_micros=spent), worst)
    assert not verdict.allowed
    assert not verdict.warning
    msg = verdict.message
    assert f"could cost up to {format_usd(worst)}" in msg
    assert f"only {format_usd(limit - spent)} is left" in msg
    assert f"monthly limit of {format_usd(limit)}" in msg
    assert f"({format_usd(spent)} spent)" in msg
    assert "daily" not in msg


def test_crossing_the_daily_limit_is_refused_while_monthly_is_fine() -> None:
    limits = Limits(monthly_micros=100 * DOLLAR, daily_micros=2 * DOLLAR)
    spent = Spent(today_micros=1_800_000, month_micros=20 * DOLLAR)
    worst = 300_000
    verdict = check(limits, spent, worst)
    assert not verdict.allowed
    msg = verdict.message
    assert f"could cost up to {format_usd(worst)}" in msg
    assert f"only {format_usd(200_000)} is left" in msg
    assert f"daily limit of {format_usd(2 * DOLLAR)}" in msg
    assert f"({format_usd(1_800_000)} spent)" in msg
    assert "monthly" not in msg


def test_already_over_the_limit_says_nothing_is_left() -> None:
    verdict = check(Limits(monthly_micros=5 * DOLLAR), Spent(0, 6 * DOLLAR), 1)
    assert not verdict.allowed
    assert f"only {format_usd(0)} is left" in verdict.message
    assert f"({format_usd(6 * DOLLAR)} spent)" in verdict.message


def test_exactly_at_the_limit_is_allowed() -> None:
    verdict = check(Limits(monthly_micros=10 * DOLLAR), Spent(0, 9 * DOLLAR), 1 * DOLLAR)
    assert verdict.allowed
    # reaching the limit is past 80 %, so it comes with a warning
    assert verdict.warning
    assert f"Near your monthly limit: with this request, up to {format_usd(10 * DOLLAR)} of your " \
        f"{format_usd(10 * DOLLAR)} could be spent" in verdict.message


def test_one_micro_over_the_limit_is_refused() -> None:
    assert not check(Limits(daily_micros=10 * DOLLAR), Spent(9 * DOLLAR, 9 * DOLLAR), 1 * DOLLAR + 1).allowed


def test_past_eighty_percent_warns() -> None:
    verdict = check(Limits(monthly_micros=10 * DOLLAR), Spent(0, 7_900_000), 200_000)
    assert verdict.allowed and verdict.warning
    assert verdict.message == (f"Near your monthly limit: with this request, up to {format_usd(8_100_000)} of your "
                               f"{format_usd(10 * DOLLAR)} could be spent ({format_usd(7_900_000)} so far).")


def test_both_limits_past_eighty_percent_warn_about_both() -> None:
    limits = Limits(monthly_micros=10 * DOLLAR, daily_micros=1 * DOLLAR)
    verdict = check(limits, Spent(today_micros=850_000, month_micros=8_500_000), 50_000)
    assert verdict.allowed and verdict.warning
    assert "monthly limit" in verdict.message and "daily limit" in verdict.message
    assert verdict.message.index("monthly") < verdict.message.index("daily")


def test_unpriced_model_is_refused_when_a_limit_is_set() -> None:
    verdict = check(Limits(daily_micros=1 * DOLLAR), Spent(0, 0), None)
    assert not verdict.allowed
    assert "no price" in verdict.message


def test_unpriced_model_on_a_free_endpoint_is_allowed() -> None:
    assert check(Limits(daily_micros=1 * DOLLAR), Spent(0, 0), None, free=True) == Verdict(True)


@pytest.mark.parametrize(
    ("limits", "spent", "worst", "free", "allowed", "warning"),
    [
        # no limit at all: always allowed, never warned
        (Limits(), Spent(0, 0), 10 * DOLLAR, False, True, False),
        # well under the monthly limit (10 %)
        (Limits(monthly_micros=10 * DOLLAR), Spent(0, 0), 1 * DOLLAR, False, True, False),
        # just under 80 % of the monthly limit: no warning
        (Limits(monthly_micros=10 * DOLLAR), Spent(0, 7 * DOLLAR), 999_999, False, True, False),
        # exactly 80 % of the monthly limit: warning
        (Limits(monthly_micros=10 * DOLLAR), Spent(0, 7 * DOLLAR), 1 * DOLLAR, False, True, True),
        # exactly at the monthly limit: allowed, warned
        (Limits(monthly_micros=10 * DOLLAR), Spent(0, 7 * DOLLAR), 3 * DOLLAR, False, True, True),
        # one micro-dollar over the monthly limit: refused
        (Limits(monthly_micros=10 * DOLLAR), Spent(0, 7 * DOLLAR), 3 * DOLLAR + 1, False, False, False),
        # daily limit crossed while the month has room: refused
        (Limits(monthly_micros=100 * DOLLAR, daily_micros=1 * DOLLAR), Spent(900_000, 900_000), 200_000, False,
         False, False),
        # daily at 90 % while monthly is low: warned about the day
        (Limits(monthly_micros=100 * DOLLAR, daily_micros=1 * DOLLAR), Spent(800_000, 800_000), 100_000, False,
         True, True),
        # only a daily limit, spent on earlier days of the month does not count against it
        (Limits(daily_micros=1 * DOLLAR), Spent(0, 500 * DOLLAR), 100_000, False, True, False),
        # unpriced model with a limit: refused
        (Limits(monthly_micros=10 * DOLLAR), Spent(0, 0), None, False, False, False),
        # unpriced model on a free endpoint: allowed
        (Limits(monthly_micros=10 * DOLLAR), Spent(0, 0), None, True, True, False),
        # a free endpoint with a priced worst case is still checked
        (Limits(monthly_micros=1 * DOLLAR), Spent(0, 0), 2 * DOLLAR, True, False, False),
        # unpriced model without any limit: allowed
        (Limits(), Spent(0, 0), None, False, True, False),
    ],
)
def test_check_table(limits: Limits, spent: Spent, worst: int | None, free: bool, allowed: bool,
                     warning: bool) -> None:
    verdict = check(limits, spent, worst, free=free)
    assert (verdict.allowed, verdict.warning) == (allowed, warning)
    assert bool(verdict.message) == (not allowed or warning)


def test_limits_any() -> None:
    assert not Limits().any
    assert Limits(monthly_micros=0).any
    assert Limits(daily_micros=1).any
