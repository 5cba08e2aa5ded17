"""The spending limit: checked on a request's worst case before anything is sent.

Worst case = the request's prompt tokens at the input price plus its max output tokens at the output price (no
cache discount assumed). A request whose worst case would take the month's (or the day's) spend past its limit
is refused with the numbers; one that would pass 80 % of a limit is sent with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from desktop_assistant.core.pricing import format_usd

WARN_FRACTION = Decimal("0.8")
MICROS = Decimal(1_000_000)


_THOUSANDS = re.compile(r"[1-9]\d{0,2}(,\d{3})+(\.\d+)?")
_DECIMAL_COMMA = re.compile(r"\d+,\d{1,2}")


def _amount(text: str) -> Decimal | None:
    """The amount a person typed, or None when empty, not a number, negative or ambiguous.

    A comma is a thousands separator where it groups thousands ("1,000", "$1,234.56"); followed by one or two
    digits it is a decimal comma ("2,50" is $2.50, as many people write it); anywhere else ("0,150", "1,2,3")
    the amount is refused rather than guessed: a limit read 100 times too large protects nothing.
    """
    cleaned = text.strip().replace("$", "").replace(" ", "")
    if _THOUSANDS.fullmatch(cleaned):
        cleaned = cleaned.replace(",", "")
    elif _DECIMAL_COMMA.fullmatch(cleaned):
        cleaned = cleaned.replace(",", ".")
    elif "," in cleaned or not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0:  # NaN compares by raising: check finiteness first
        return None
    return value


def parse_usd(text: str) -> int | None:
    """A dollar amount typed by a person ("10", "$2.50", "2,50", "1,000") as micro-dollars; None when empty, not a
    number, negative or ambiguous (see :func:`_amount`)."""
    value = _amount(text)
    return None if value is None else int((value * MICROS).to_integral_value())


def plain_usd(text: str) -> str | None:
    """A typed dollar amount written plainly ("$1,234.50" → "1234.5", "2,50" → "2.5"), as settings keep it; None
    as :func:`parse_usd`."""
    value = _amount(text)
    if value is None:
        return None
    plain = format(value.normalize(), "f")
    return plain if plain != "-0" else "0"


@dataclass(frozen=True)
class Limits:
    """Monthly and daily limits in micro-dollars (None: no limit)."""

    monthly_micros: int | None = None
    daily_micros: int | None = None

    @property
    def any(self) -> bool:
        """Some limit is set."""
        return self.monthly_micros is not None or self.daily_micros is not None


@dataclass(frozen=True)
class Spent:
    """What was spent so far."""

    today_micros: int
    month_micros: int


@dataclass(frozen=True)
class Verdict:
    """Whether a request may be sent, and what to tell the person."""

    allowed: bool
    message: str = ""
    warning: bool = False


def check(limits: Limits, spent: Spent, worst_case_micros: int | None, *, free: bool = False) -> Verdict:
    """Decide on a request whose worst case is ``worst_case_micros`` (None: the model has no price).

    ``free``: the endpoint does not bill (a local server), so a missing price does not block it.
    """
    if not limits.any:
        return Verdict(True)
    if worst_case_micros is None:
        if free:
            return Verdict(True)
        return Verdict(False, "A spending limit is set, but this model has no price, so its cost cannot be "
                              "checked. Add its price in Settings → Spending and prices, or choose a priced model.")
    warnings: list[str] = []
    for name, limit, already in (("monthly", limits.monthly_micros, spent.month_micros),
                                 ("daily", limits.daily_micros, spent.today_micros)):
        if limit is None:
            continue
        after = already + worst_case_micros
        if after > limit:
            left = max(limit - already, 0)
            return Verdict(False, (
                f"Not sent: this request could cost up to {format_usd(worst_case_micros)}, and only "
                f"{format_usd(left)} is left of your {name} limit of {format_usd(limit)} "
                f"({format_usd(already)} spent). Raise the limit in Settings, lower the max output tokens, "
                "or choose a cheaper model."))
        if Decimal(after) >= WARN_FRACTION * limit:
            warnings.append(f"Near your {name} limit: with this request, up to {format_usd(after)} of your "
                            f"{format_usd(limit)} could be spent ({format_usd(already)} so far).")
    if warnings:
        return Verdict(True, " ".join(warnings), warning=True)
    return Verdict(True)
