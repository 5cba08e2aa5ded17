"""Prices and the cost of a request, in exact decimal money.

``resources/pricing.json`` carries OpenAI's standard-tier prices per ``per`` tokens (1,000,000) with its
source and the date they were checked; a user-editable copy can override any row (same shape). Prices are
strings parsed to :class:`~decimal.Decimal`; a cost is computed exactly and rounded **once** to an integer
number of micro-dollars (ROUND_HALF_UP), which is what the usage ledger stores. Money is never a float.

Billing rule: ``prompt_tokens`` includes ``cached_tokens``; cached tokens are charged the cached-input price
(the input price for models without one), the rest the input price; ``completion_tokens`` (reasoning tokens
included) the output price.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

from desktop_assistant import RESOURCES
from desktop_assistant.core.catalog import lookup

MICROS_PER_DOLLAR = 1_000_000
BATCH_DISCOUNT = Decimal("0.5")  # the Batch API bills half the standard price
_NO_CACHED_PRICE = object()


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """Prices of one model, in dollars per ``PriceTable.per`` tokens."""

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None

    @property
    def cached(self) -> Decimal:
        """The price of a cached input token (the input price when the model has no cached price)."""
        return self.input if self.cached_input is None else self.cached_input


def _decimal(value: Any, where: str) -> Decimal:
    """A non-negative finite price from a JSON string or number (floats via their shortest repr)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f'{where}: a price must be a string such as "2.50", not {value!r}')
    try:
        price = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{where}: {value!r} is not a number") from None
    if not price.is_finite() or price < 0:
        raise ValueError(f"{where}: {value!r} is not a valid price")
    return price


def _model_price(row: Any, where: str, base: ModelPrice | None = None) -> ModelPrice:
    if not isinstance(row, Mapping):
        raise ValueError(f"{where}: expected an object with input and output prices")
    unknown = set(row) - {"input", "cached_input", "output"}
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    if base is None:
        if not {"input", "output"} <= set(row):
            raise ValueError(f"{where}: needs both input and output prices")
        base = ModelPrice(input=Decimal(0), output=Decimal(0))
    input_price = _decimal(row["input"], f"{where}.input") if "input" in row else base.input
    output = _decimal(row["output"], f"{where}.output") if "output" in row else base.output
    cached_raw = row.get("cached_input", _NO_CACHED_PRICE)
    if cached_raw is _NO_CACHED_PRICE:
        cached = base.cached_input
    elif cached_raw is None:
        cached = None
    else:
        cached = _decimal(cached_raw, f"{where}.cached_input")
    return ModelPrice(input=input_price, output=output, cached_input=cached)


@dataclass(frozen=True, slots=True)
class AudioPrice:
    """Prices of an audio model in the units it is billed in (``pricing.json``'s ``audio`` section).

    ``per_minute``: billed by duration (whisper-1). ``per_million_characters``: billed by the characters of
    the input (tts-1). Token-billed models (gpt-4o-transcribe, gpt-4o-mini-tts) carry per-1M-token prices
    (``text_input``, ``audio_input``, ``output``) and OpenAI's published ``minute_estimate``, used where no
    token count is known beforehand (before an upload, or speech, whose answer reports no usage).
    """

    per_minute: Decimal | None = None
    per_million_characters: Decimal | None = None
    text_input: Decimal | None = None
    audio_input: Decimal | None = None
    output: Decimal | None = None
    minute_estimate: Decimal | None = None


_AUDIO_FIELDS = frozenset(AudioPrice.__slots__)


def _audio_prices(section: Any) -> dict[str, AudioPrice]:
    """The ``audio`` section of a pricing document (absent: no audio prices)."""
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise ValueError('"audio" must be an object of model rows')
    prices: dict[str, AudioPrice] = {}
    for key, row in section.items():
        if key == "note":
            continue
        if not isinstance(row, Mapping) or not row or set(row) - _AUDIO_FIELDS:
            raise ValueError(f"audio.{key}: expected prices named {', '.join(sorted(_AUDIO_FIELDS))}")
        prices[str(key)] = AudioPrice(**{k: _decimal(v, f"audio.{key}.{k}") for k, v in row.items()})
    return prices


def _price_text(price: Decimal) -> str:
    return format(price, "f")


@dataclass(frozen=True)
class PriceTable:
    """Model prices with their provenance; immutable (overrides make a new table)."""

    models: Mapping[str, ModelPrice] = field(default_factory=dict)
    per: int = 1_000_000
    currency: str = "USD"
    source: str = ""
    checked: str = ""
    audio: Mapping[str, AudioPrice] = field(default_factory=dict)

    @classmethod
    def load_default(cls) -> PriceTable:
        """The table bundled with the app (``resources/pricing.json``)."""
        return cls.from_json((RESOURCES / "pricing.json").read_text(encoding="utf-8"))

    @classmethod
    def from_json(cls, text: str) -> PriceTable:
        """Parse a pricing document; numbers are read as decimals, never floats."""
        try:
            data = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as error:
            raise ValueError(f"pricing file is not valid JSON: {error}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceTable:
        """Build a table from the parsed pricing document (``{"per": ..., "models": {...}}``)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("models"), Mapping):
            raise ValueError('pricing document needs a "models" object')
        per = _per(data)
        models = {str(k): _model_price(v, f"models.{k}") for k, v in data["models"].items()}
        return cls(
            models=models,
            per=per,
            currency=str(data.get("currency", "USD")),
            source=str(data.get("source", "")),
            checked=str(data.get("checked", "")),
            audio=_audio_prices(data.get("audio")),
        )

    def with_overrides(self, overrides: Mapping[str, Any]) -> PriceTable:
        """A new table with the user's rows applied on top (same shape as the file).

        A row may be partial for a model the table already prices (``{"gpt-4o": {"output": "9"}}``);
        ``"cached_input": null`` removes a cached price; a new model (a local or fine-tuned one) needs
        input and output. Prices given per a different ``per`` are converted to this table's.
        """
        if not overrides:
            return self
        if not isinstance(overrides.get("models"), Mapping):
            raise ValueError('price overrides need a "models" object')
        scale = Decimal(self.per) / Decimal(_per(overrides, default=self.per))
        models = dict(self.models)
        for key, row in overrides["models"].items():
            base = models.get(str(key))
            if base is not None and scale != 1:
                base = _scaled(base, 1 / scale)
            price = _model_price(row, f"overrides.models.{key}", base)
            models[str(key)] = _scaled(price, scale) if scale != 1 else price
        checked = str(overrides.get("checked", self.checked))
        source = str(overrides.get("source", self.source))
        return PriceTable(models=models, per=self.per, currency=self.currency, source=source, checked=checked,
                          audio=self.audio)

    def to_dict(self) -> dict[str, Any]:
        """The table as a pricing document (prices as strings), e.g. to write a user-editable copy."""
        models: dict[str, Any] = {}
        for key, price in self.models.items():
            row = {"input": _price_text(price.input)}
            if price.cached_input is not None:
                row["cached_input"] = _price_text(price.cached_input)
            row["output"] = _price_text(price.output)
            models[key] = row
        audio = {key: {k: _price_text(getattr(price, k)) for k in AudioPrice.__slots__
                       if getattr(price, k) is not None} for key, price in self.audio.items()}
        return {
            "source": self.source,
            "checked": self.checked,
            "currency": self.currency,
            "per": self.per,
            "models": models,
            **({"audio": audio} if audio else {}),
        }

    def price_for(self, model_id: str) -> ModelPrice | None:
        """Prices of ``model_id``: a row for the exact id first, else its catalog family's; None if neither."""
        exact = self.models.get(model_id)
        if exact is not None:
            return exact
        key = lookup(model_id).price_key
        return self.models.get(key) if key is not None else None

    def cost_micros(self, model_id: str, input_tokens: int, cached_input_tokens: int, output_tokens: int,
                    *, batch: bool = False) -> int | None:
        """Cost in integer micro-dollars (exact, rounded once), or None when the model has no price.

        ``input_tokens`` is the whole prompt, cached tokens included; cached tokens beyond it are clamped.
        ``batch``: billed through the Batch API, at half the standard price.
        """
        price = self.price_for(model_id)
        if price is None:
            return None
        for name, value in (("input", input_tokens), ("cached", cached_input_tokens), ("output", output_tokens)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} tokens must be a non-negative integer, not {value!r}")
        cached = min(cached_input_tokens, input_tokens)
        with localcontext() as context:
            context.prec = 60
            dollars_times_per = (
                (input_tokens - cached) * price.input + cached * price.cached + output_tokens * price.output
            )
            micros = dollars_times_per * MICROS_PER_DOLLAR / self.per
            if batch:
                micros *= BATCH_DISCOUNT
            return int(micros.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def worst_case_micros(self, model_id: str, prompt_tokens: int, max_output_tokens: int, *,
                          batch: bool = False) -> int | None:
        """The most a request can cost: no cache hits and the full output allowance (None without a price)."""
        return self.cost_micros(model_id, prompt_tokens, 0, max_output_tokens, batch=batch)


def _per(data: Mapping[str, Any], default: int = 1_000_000) -> int:
    per = data.get("per", default)
    if isinstance(per, bool) or not isinstance(per, int | Decimal) or per <= 0 or int(per) != per:
        raise ValueError(f'"per" must be a positive whole number of tokens, not {per!r}')
    return int(per)


def _scaled(price: ModelPrice, factor: Decimal) -> ModelPrice:
    cached = None if price.cached_input is None else price.cached_input * factor
    return ModelPrice(input=price.input * factor, output=price.output * factor, cached_input=cached)


def format_usd(micros: int, *, estimate: bool = False) -> str:
    """Micro-dollars as a person reads them.

    ``$0.00`` for zero; ``<$0.0001`` for a non-zero amount below a hundredth of a cent (no ``~``: it already
    says "less than"); up to four decimals below a dollar (``$0.0003``, ``$0.0153``, ``$0.15``); two decimals
    with thousands separators from a dollar up (``$1.24``, ``$1,234.50``). ``estimate`` prefixes ``~``.
    """
    sign = "-" if micros < 0 else ""
    amount = abs(micros)
    if 0 < amount < 100:
        return f"{sign}<$0.0001"
    dollars = Decimal(amount) / MICROS_PER_DOLLAR
    if dollars < 1:
        text = format(dollars.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP), "f")
        while text.endswith("0") and len(text.split(".")[1]) > 2:
            text = text[:-1]
    else:
        text = f"{dollars.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
    return f"{'~' if estimate else ''}{sign}${text}"
