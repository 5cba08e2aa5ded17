"""The quiet line under a reply: tokens in / out, cost, model, and a marker for its status."""

from __future__ import annotations

from desktop_assistant.core.models import Message, Role, Status
from desktop_assistant.core.pricing import format_usd

STATUS_MARKERS = {
    Status.STOPPED: "stopped",
    Status.INTERRUPTED: "interrupted",
    Status.TRUNCATED: "cut off at the output limit",
    Status.ERROR: "failed",
    Status.STREAMING: "writing…",
}


def footer_text(message: Message) -> str:
    """Plain text for a message's footer (empty for questions)."""
    if message.role is not Role.ASSISTANT:
        return ""
    bits: list[str] = []
    u = message.usage
    if u is not None:
        approx = "~" if u.estimated else ""
        out = f"{approx}{u.input_tokens:,} in / {approx}{u.output_tokens:,} out"
        if u.reasoning_tokens:
            out += f" ({u.reasoning_tokens:,} reasoning)"
        bits.append(out)
        if message.cost_micros is not None:
            bits.append(format_usd(message.cost_micros, estimate=u.estimated))
        else:
            bits.append("price unknown")
    if message.model:
        bits.append(message.model)
    marker = STATUS_MARKERS.get(message.status)
    if message.status is Status.STOPPED and not message.text.strip() and not message.error:
        marker = "stopped before any text arrived"
    if marker:
        bits.append(marker)
    return " · ".join(bits)
