"""What a reply looks like at the next start: the part of a message that is shown, and the key its rendered HTML
is kept under so the first paint can show it without loading the markdown renderer (markdown-it, ~20 ms).

Qt-free and light: imported before the first paint, so nothing here may import the renderer.
"""

from __future__ import annotations

from desktop_assistant import __version__

try:  # what hashlib.blake2b is, without importing hashlib and starting OpenSSL (~2 ms before the first paint)
    from _blake2 import blake2b
except ImportError:  # an interpreter built without it
    from hashlib import blake2b

DISPLAY_LIMIT = 100_000
"""Characters laid out per message: Qt needs ~0.1 s per 100 KB of one paragraph."""

RENDERER = 1
"""Raise when the HTML rendered for the same text changes without a new app version (kept HTML is then stale).
A stale HTML would only show until the check after the first paint replaces it (``MessageView``)."""


def display_part(text: str, limit: int = DISPLAY_LIMIT) -> str:
    """``text`` if it is short enough to lay out quickly, else its start (cut after a line where possible)."""
    if len(text) <= limit:
        return text
    newline = text.rfind("\n", limit - 2000, limit)
    return text[: newline + 1] if newline > 0 else text[:limit]


def render_key(shown: str, dark: bool) -> bytes:
    """The key of the HTML rendered from ``shown`` (a message's :func:`display_part`) for the light or dark theme."""
    digest = blake2b(f"{__version__}\0{RENDERER}\0{int(dark)}\0".encode(), digest_size=16)
    digest.update(shown.encode("utf-8", "surrogatepass"))
    return digest.digest()
