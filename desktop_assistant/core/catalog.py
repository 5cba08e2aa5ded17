"""The model table: what the app knows about each OpenAI chat model, and a safe fallback for the rest.

One row per model family: context window, maximum output tokens, reasoning model or not (reasoning models
take ``max_completion_tokens`` and only the default temperature), image input, tokenizer, and the key of its
row in ``resources/pricing.json``. Figures are OpenAI's published model pages (platform.openai.com/docs/models).

:func:`lookup` resolves dated snapshots (``gpt-4o-2024-08-06``, ``gpt-4-0613``) to their family by the longest
known id that the snapshot starts with *and* whose remainder is only a date or version suffix, so
``gpt-4o-mini-2024-07-18`` is gpt-4o-mini and never gpt-4o. Everything else (a local model such as
``llama3.1:8b``, a model this table predates) gets a conservative fallback marked ``known=False``: token
counts for it are estimates and it has no price.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

O200K = "o200k_base"
CL100K = "cl100k_base"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What the app knows about one model id."""

    id: str
    context_window: int
    max_output: int
    reasoning: bool
    vision: bool
    encoding: str
    known: bool
    price_key: str | None


def _m(
    model_id: str,
    context_window: int,
    max_output: int,
    *,
    reasoning: bool = False,
    vision: bool = True,
    encoding: str = O200K,
    price_key: str | None = None,
) -> ModelInfo:
    return ModelInfo(
        id=model_id,
        context_window=context_window,
        max_output=max_output,
        reasoning=reasoning,
        vision=vision,
        encoding=encoding,
        known=True,
        price_key=price_key or model_id,
    )


_MODELS: tuple[ModelInfo, ...] = (
    # GPT-4o family
    _m("gpt-4o", 128_000, 16_384),
    _m("gpt-4o-2024-05-13", 128_000, 4_096),  # the first snapshot: own (higher) price, shorter output
    _m("gpt-4o-mini", 128_000, 16_384),
    _m("chatgpt-4o-latest", 128_000, 16_384),
    # GPT-4.1 family: one-million-token context
    _m("gpt-4.1", 1_047_576, 32_768),
    _m("gpt-4.1-mini", 1_047_576, 32_768),
    _m("gpt-4.1-nano", 1_047_576, 32_768),
    _m("gpt-4.5-preview", 128_000, 16_384),  # retired; kept so old conversations still count and price
    # GPT-5 family: reasoning models
    _m("gpt-5", 400_000, 128_000, reasoning=True),
    _m("gpt-5-mini", 400_000, 128_000, reasoning=True),
    _m("gpt-5-nano", 400_000, 128_000, reasoning=True),
    _m("gpt-5.1", 400_000, 128_000, reasoning=True),
    # o-series reasoning models
    _m("o1", 200_000, 100_000, reasoning=True),
    _m("o3", 200_000, 100_000, reasoning=True),
    _m("o3-mini", 200_000, 100_000, reasoning=True, vision=False),
    _m("o4-mini", 200_000, 100_000, reasoning=True),
    # Older models on the cl100k_base tokenizer
    _m("gpt-4-turbo", 128_000, 4_096, encoding=CL100K),
    _m("gpt-4", 8_192, 8_192, vision=False, encoding=CL100K),
    _m("gpt-3.5-turbo", 16_385, 4_096, vision=False, encoding=CL100K),
)

CATALOG: dict[str, ModelInfo] = {info.id: info for info in _MODELS}
"""Every model the app knows, by id."""

# Ids that name a known model without being a dated snapshot of it.
_ALIASES: dict[str, str] = {
    "gpt-4-turbo-preview": "gpt-4-turbo",
    "gpt-4-0125-preview": "gpt-4-turbo",
    "gpt-4-1106-preview": "gpt-4-turbo",
}

BUILTIN_MODELS: tuple[str, ...] = (
    "gpt-4o-mini",
    "gpt-4o",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "o4-mini",
    "o3",
    "o3-mini",
)
"""The ids a model picker shows before the endpoint's own list arrives; the cheap default first."""

FALLBACK_CONTEXT_WINDOW = 8_192
FALLBACK_MAX_OUTPUT = 4_096

# A dated snapshot (-2024-08-06) or a month-day version (-0613, -0125).
_SNAPSHOT_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|(?:0[1-9]|1[0-2])\d{2})")
# Longest ids first, so the most specific family wins.
_BY_LENGTH: tuple[str, ...] = tuple(sorted([*CATALOG, *_ALIASES], key=len, reverse=True))


def _resolve(model_id: str) -> ModelInfo | None:
    if model_id in CATALOG:
        return CATALOG[model_id]
    if model_id in _ALIASES:
        return CATALOG[_ALIASES[model_id]]
    for known_id in _BY_LENGTH:
        if model_id.startswith(known_id) and _SNAPSHOT_SUFFIX.fullmatch(model_id[len(known_id) :]):
            return CATALOG[_ALIASES.get(known_id, known_id)]
    return None


def family(model_id: str) -> str | None:
    """The catalog id ``model_id`` resolves to (``gpt-4o`` for ``gpt-4o-2024-08-06``), or None if unknown."""
    found = _resolve(model_id)
    if found is None and model_id.startswith("ft:"):
        found = _resolve(model_id[3:].split(":", 1)[0])
    return found.id if found is not None else None


def fallback(model_id: str) -> ModelInfo:
    """The conservative entry for a model the table does not know (counts are estimates, no price)."""
    return ModelInfo(
        id=model_id,
        context_window=FALLBACK_CONTEXT_WINDOW,
        max_output=FALLBACK_MAX_OUTPUT,
        reasoning=False,
        vision=False,
        encoding=O200K,
        known=False,
        price_key=None,
    )


def lookup(model_id: str) -> ModelInfo:
    """What is known about ``model_id``; ``id`` is always the id asked for.

    Exact ids and dated snapshots of known models resolve to their family's row. A fine-tuned model
    (``ft:gpt-4o-mini-2024-07-18:org::abc``) has its base model's limits and tokenizer but no price
    (fine-tuned models are priced differently). Anything else gets :func:`fallback`.
    """
    found = _resolve(model_id)
    if found is not None:
        return replace(found, id=model_id)
    if model_id.startswith("ft:"):
        base = _resolve(model_id[3:].split(":", 1)[0])
        if base is not None:
            return replace(base, id=model_id, price_key=None)
    return fallback(model_id)


def sees_images(model_id: str) -> bool:
    """Whether ``model_id`` takes images; an unknown model (a local server's) is given the benefit of the doubt."""
    info = lookup(model_id)
    return info.vision or not info.known


# Substrings of ids that a models.list() returns but that are not chat-completion text models.
_NOT_CHAT = (
    "embed",
    "tts",
    "whisper",
    "dall-e",
    "moderation",
    "image",
    "audio",
    "realtime",
    "transcribe",
    "search",
    "davinci",
    "babbage",
    "computer-use",
    "codex",
    "deep-research",
    "sora",
)
_RESPONSES_ONLY = re.compile(r"-pro(?:-|$)")  # o1-pro, o3-pro, gpt-5-pro: Responses API only
_OPENAI_FAMILY = re.compile(r"^(?:gpt-|text-|o\d)")
"""OpenAI's own ids: only there does "instruct" mean a legacy completion model (gpt-3.5-turbo-instruct) and "-pro"
a Responses-only one; a local server's "qwen2.5:7b-instruct" or "llama3.2:3b-instruct-q4_K_M" is a chat model."""


def is_chat_model(model_id: str) -> bool:
    """Whether ``model_id`` (from an endpoint's model list) can be offered for chat completions.

    Drops embeddings, speech, transcription, image, moderation, realtime/audio, search-only, legacy
    completion and Responses-only ids; keeps everything else, including unknown local models.
    """
    lowered = model_id.lower()
    if any(word in lowered for word in _NOT_CHAT):
        return False
    if _OPENAI_FAMILY.match(lowered) is None:
        return True
    return "instruct" not in lowered and _RESPONSES_ONLY.search(lowered) is None
