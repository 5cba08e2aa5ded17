"""What an image costs in tokens, and the size the API would scale it to anyway.

From OpenAI's published rules (platform.openai.com/docs/guides/images-vision, "Calculating costs"), checked
against real usage in ../shared/data/openai-usage (gpt-4o 3008x2000 "auto" = 1105 tokens; gpt-4.1-nano
540x360 = one token more than the patch formula, which we add):

- Tile models (gpt-4o, gpt-4.1, o-series, gpt-5): ``detail: low`` costs the base alone. Otherwise the image is
  fitted in 2048 x 2048, then scaled so its short side is at most 768 px; it costs base + tile x (number of
  512 px tiles). The base and tile figures differ per model (gpt-4o-mini is 2833 + 5667).
- Patch models (gpt-4.1-mini/nano, o4-mini, gpt-5-mini/nano): the image is cut into 32 px patches, scaled
  down to fit at most 1536 patches, and the patch count is multiplied by a per-model factor. With ``detail:
  low`` the app sends a copy fitted in 512 px (as for tile models), so that copy's patches are what is billed.

``auto`` is priced as ``high`` (the worst case: the API picks between them). Every figure is an estimate and
is labelled so wherever it shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from desktop_assistant.core.catalog import family, lookup

DETAILS = ("auto", "low", "high")
MAX_SIDE = 2048
SHORT_SIDE = 768
TILE = 512
PATCH = 32
MAX_PATCHES = 1536
LOW_DETAIL_SIDE = 512


@dataclass(frozen=True)
class TileRule:
    """base + tile x tiles."""

    base: int
    tile: int


@dataclass(frozen=True)
class PatchRule:
    """patches x multiplier (+1, as billed)."""

    multiplier: float


# One table, by catalog family (the model a dated snapshot resolves to). Source: the guide above.
RULES: dict[str, TileRule | PatchRule] = {
    "gpt-4o": TileRule(85, 170),
    "chatgpt-4o-latest": TileRule(85, 170),
    "gpt-4.1": TileRule(85, 170),
    "gpt-4.5-preview": TileRule(85, 170),
    "o1": TileRule(75, 150),
    "o3": TileRule(75, 150),
    "gpt-4-turbo": TileRule(85, 170),
    "gpt-4o-mini": TileRule(2833, 5667),
    "gpt-5": TileRule(70, 140),
    "gpt-5.1": TileRule(70, 140),
    "gpt-4.1-mini": PatchRule(1.62),
    "gpt-4.1-nano": PatchRule(2.46),
    "o4-mini": PatchRule(1.72),
    "gpt-5-mini": PatchRule(1.62),
    "gpt-5-nano": PatchRule(2.46),
}
FALLBACK = TileRule(85, 170)  # unknown (local) vision models: an estimate in gpt-4o's terms


def rule_for(model: str) -> TileRule | PatchRule:
    """The token rule for ``model`` (gpt-4o's for models the table does not know)."""
    return RULES.get(family(model) or lookup(model).id, FALLBACK)


def _fit(width: int, height: int, box: int) -> tuple[int, int]:
    scale = min(1.0, box / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def tile_size(width: int, height: int) -> tuple[int, int]:
    """The size a tile model works on: fitted in 2048 x 2048, short side at most 768."""
    w, h = _fit(width, height, MAX_SIDE)
    short = min(w, h)
    if short > SHORT_SIDE:
        scale = SHORT_SIDE / short
        w, h = max(1, round(w * scale)), max(1, round(h * scale))
    return w, h


def patch_size(width: int, height: int) -> tuple[int, int]:
    """The size a patch model works on: scaled down until it fits in 1536 patches of 32 px."""
    if math.ceil(width / PATCH) * math.ceil(height / PATCH) <= MAX_PATCHES:
        return width, height
    shrink = math.sqrt(PATCH * PATCH * MAX_PATCHES / (width * height))
    w, h = width * shrink, height * shrink
    shrink *= min(math.floor(w / PATCH) / (w / PATCH), math.floor(h / PATCH) / (h / PATCH))
    return max(1, int(width * shrink)), max(1, int(height * shrink))


def image_tokens(width: int, height: int, detail: str, model: str) -> int:
    """Prompt tokens one image of ``width`` x ``height`` costs with ``model`` at ``detail``."""
    if width <= 0 or height <= 0:
        raise ValueError("an image has a positive size")
    rule = rule_for(model)
    if isinstance(rule, PatchRule):
        if detail == "low":  # what is sent is a copy fitted in 512 px (upload_size): its patches are billed
            width, height = _fit(width, height, LOW_DETAIL_SIDE)
        w, h = patch_size(width, height)
        patches = math.ceil(w / PATCH) * math.ceil(h / PATCH)
        return math.ceil(patches * rule.multiplier) + 1
    if detail == "low":
        return rule.base
    w, h = tile_size(width, height)
    return rule.base + rule.tile * math.ceil(w / TILE) * math.ceil(h / TILE)


def upload_size(width: int, height: int, detail: str, model: str) -> tuple[int, int]:
    """The largest size worth sending: what the API would scale the image to anyway (same tokens)."""
    if detail == "low":
        return _fit(width, height, LOW_DETAIL_SIDE)
    rule = rule_for(model)
    if isinstance(rule, PatchRule):
        return patch_size(width, height)
    return tile_size(width, height)


def parts_image_tokens(messages: list[dict[str, object]], model: str) -> int:
    """Tokens of every stored image part (``{"type": "image_url", "size": [w, h], ...}``) in ``messages``."""
    total = 0
    for message in messages:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            if isinstance(part, dict) and part.get("type") == "image_url" and isinstance(part.get("size"), list):
                width, height = part["size"]
                detail = str(part.get("image_url", {}).get("detail", "auto"))
                total += image_tokens(int(width), int(height), detail, model)
    return total
