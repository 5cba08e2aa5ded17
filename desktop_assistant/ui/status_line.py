"""The words of the composer's status line, from a draft estimate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop_assistant.core.catalog import sees_images
from desktop_assistant.core.pricing import format_usd

if TYPE_CHECKING:
    from desktop_assistant.controllers.estimates import DraftEstimate


def estimate_texts(e: DraftEstimate) -> tuple[str, str, float]:
    """(token text, cost text, fraction of the context window) for the composer's status line."""
    approx = "" if e.exact else "~"
    tokens = (f"draft {approx}{e.draft_tokens:,} tok · next request {approx}{e.prompt_tokens:,} / "
              f"{e.context_window:,}")
    if e.dropped:
        tokens += f" · {e.dropped:,} oldest left out"
    if not e.fits:
        tokens += " · too long for this model"
    if e.images and not sees_images(e.model):
        tokens += f" · {e.model} cannot see images"
    elif e.earlier_images_unseen:  # the conversation's pictures are not sent to it: said, not left to surprise
        n = e.earlier_images_unseen
        which = "the earlier image is" if n == 1 else f"the {n:,} earlier images are"
        tokens += f" · {e.model} cannot see images: {which} not sent"
    if e.input_cost_micros is None:
        cost = "price unknown"
    else:
        cost = (f"{format_usd(e.input_cost_micros, estimate=not e.exact)} to send · at most "
                f"{format_usd(e.worst_case_micros or 0, estimate=True)} with a {e.max_output_tokens:,}-token reply")
    fraction = min(1.0, e.prompt_tokens / e.context_window) if e.context_window else 0.0
    return tokens, cost, fraction


def image_cost_texts(e: DraftEstimate) -> dict[str, str]:
    """Each attached image's token count and cost for the selected model (estimates), by hash; for a model
    that cannot see images, that it cannot (before Send refuses it)."""
    if not sees_images(e.model):
        return {sha: "this model cannot see it" for sha in e.images}
    return {sha: f"~{tokens:,} tok · " + (format_usd(cost, estimate=True) if cost is not None else "price unknown")
            for sha, (tokens, cost) in e.images.items()}
