"""Text hygiene for untrusted model output: control characters, ANSI, bidi, invisibles, escaping, line breaks.

Helpers of :mod:`desktop_assistant.core.render`; pure Python, no Qt.

Every function here is *line-preserving*: it never adds or removes a ``"\\n"``, and what it does to a line
does not depend on any other line. The streaming splitter relies on that to map line numbers of the cleaned
text back to offsets in the raw text.
"""

from __future__ import annotations

import html
import re

BREAK_HINT = "\u200b"
"""ZERO WIDTH SPACE, inserted by the renderer as a line-break opportunity in long unbroken runs.

:func:`clean_text` removes every U+200B from the input, so any U+200B in rendered HTML is one of ours: a
widget may strip them all from copied text (:func:`strip_break_hints`)."""

MAX_UNBROKEN_RUN = 256
"""Longest run of characters without a break opportunity in the rendered HTML.

Qt lays out a paragraph with an unbreakable 1 MB run in ~25 s (its break-anywhere fallback is superlinear);
with a break opportunity every 256 characters the same text takes ~0.13 s (measured, PySide6 6.12)."""

# --- ANSI / terminal escape sequences -------------------------------------------------------------------
# None of these patterns crosses a newline (line-preserving, see the module docstring).
_ANSI = re.compile(
    r"""
      \x1b\[ [0-?]* [\x20-/]* [@-~]            # CSI ... final byte (colours, cursor moves)
    | \x9b   [0-?]* [\x20-/]* [@-~]            # 8-bit CSI
    | \x1b\] [^\x07\x1b\n]* (?:\x07|\x1b\\)?   # OSC (titles, OSC 8 hyperlinks), terminated or not
    | \x1b[PX^_] [^\x1b\n]* (?:\x1b\\)?        # DCS, SOS, PM, APC strings
    | \x1b [\x20-/]* [0-~]                     # two-byte and nF escapes (ESC c, ESC ( B, ...)
    """,
    re.VERBOSE,
)

# --- characters removed outright ------------------------------------------------------------------------
# C0 controls but tab and newline; DEL; C1 controls; bidi embeddings/overrides (U+202A-U+202E) and isolates
# (U+2066-U+2069), the "Trojan Source" characters; invisible characters that hide or smuggle text: soft
# hyphen, combining grapheme joiner, Mongolian vowel separator, ZERO WIDTH SPACE, word joiner and invisible
# operators (U+2060-U+2064), BOM/ZWNBSP, Hangul fillers.
_REMOVE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u034f\u115f\u1160\u180e\u200b\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\u3164\ufeff\uffa0]"
)
# ZERO WIDTH (NON-)JOINER are real text in Persian, Indic scripts and emoji sequences: one is kept between two
# non-ASCII characters, removed elsewhere (where it can only split a word to dodge a reader or a filter).
_JOINERS = re.compile("[\u200c\u200d]+")
# Tag characters (U+E0000-U+E007F) spell invisible ASCII ("ASCII smuggling"); their one legitimate use is a
# subdivision flag (black flag + 2-6 tags + CANCEL TAG), which is kept.
_TAGS = re.compile("(\U0001f3f4[\U000e0020-\U000e007e]{2,6}\U000e007f)|[\U000e0000-\U000e007f]")
# Variation selectors: one after a base character is real (emoji presentation, CJK variants); a run of them
# can encode hidden bytes, so only the first of a run is kept.
_VS = "\ufe00-\ufe0f\U000e0100-\U000e01ef"
_VS_RUN = re.compile(f"(?<=[{_VS}])[{_VS}]+")
_LINE_SEPARATORS = re.compile("[\u2028\u2029]")

_BREAKABLE = re.compile(r"[^ \t\n]+")


def clean_text(text: str) -> str:
    """Return ``text`` without terminal escapes, control, bidi-override and hidden characters.

    Line-preserving: the result has exactly the same number of ``"\\n"`` as ``text`` (CR LF becomes LF, a
    lone CR is dropped, U+2028/U+2029 become spaces).
    """
    text = text.replace("\r\n", "\n")
    text = _ANSI.sub("", text)
    text = _REMOVE.sub("", text)
    if text.isascii():
        return text
    text = _LINE_SEPARATORS.sub(" ", text)
    text = _TAGS.sub(lambda m: m.group(1) or "", text)
    text = _VS_RUN.sub("", text)
    return _JOINERS.sub(lambda m: _joiner(m, text), text)


def _joiner(match: re.Match[str], text: str) -> str:
    """Keep one joiner of a run when it sits between two non-ASCII characters; drop it otherwise."""
    start, end = match.span()
    if start == 0 or end == len(text) or text[start - 1].isascii() or text[end].isascii():
        return ""
    return match.group()[0]


def escape(text: str) -> str:
    """HTML-escape ``text`` for element content or a double-quoted attribute value."""
    return html.escape(text, quote=True)


def strip_break_hints(text: str) -> str:
    """Remove the renderer's break opportunities (U+200B) from text copied out of a rendered document."""
    return text.replace(BREAK_HINT, "")


class Breaker:
    """Inserts :data:`BREAK_HINT` so that no run without a break opportunity exceeds ``limit`` characters.

    Fed the consecutive text pieces of one block (a paragraph's inline texts, a code block's tokens), it
    carries the length of the current run across pieces, so a run split over many small tokens is still cut.
    Only spaces, tabs and newlines count as break opportunities (Qt does not break at NO-BREAK SPACE).
    """

    __slots__ = ("limit", "run")

    def __init__(self, limit: int = MAX_UNBROKEN_RUN) -> None:
        self.limit = limit
        self.run = 0

    def reset(self) -> None:
        """Start a new block: the next piece begins a fresh run."""
        self.run = 0

    def feed(self, text: str) -> str:
        """Return ``text`` with break hints inserted; updates the running length."""
        limit = self.limit
        if not text:
            return text
        if self.run + len(text) <= limit:
            # Common case: cannot overflow; only track the length of the trailing run.
            last = max(text.rfind(" "), text.rfind("\t"), text.rfind("\n"))
            self.run = len(text) - last - 1 if last >= 0 else self.run + len(text)
            return text
        out: list[str] = []
        pos = 0
        run = self.run
        for match in _BREAKABLE.finditer(text):
            start, end = match.span()
            if start > pos:
                run = 0
            segment = match.group()
            if run + len(segment) > limit:
                first = limit - run
                pieces = [segment[:first]]
                pieces.extend(segment[i : i + limit] for i in range(first, len(segment), limit))
                segment = BREAK_HINT.join(pieces)
                run = len(pieces[-1])
            else:
                run += len(segment)
            out.append(text[pos:start])
            out.append(segment)
            pos = end
        if pos < len(text):
            run = 0
            out.append(text[pos:])
        self.run = run
        return "".join(out)


def text_html(text: str, breaker: Breaker) -> str:
    """Clean, break and escape one piece of untrusted text for HTML element content."""
    return escape(breaker.feed(clean_text(text)))
