"""Search over the history: the keyword query, hits, and how keyword and meaning results are merged.

Keyword search runs on SQLite FTS5 (see ``services/search_store.py``); search by meaning compares embedding
vectors (``core/vectors.py``). Both give ranked lists of :class:`SearchHit`, merged here by reciprocal rank
fusion, which needs no tuning between two scores that are not comparable (bm25 and cosine).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# Snippets mark matched words with these two control characters (never in stored text: the renderer drops
# them), so a widget can bold them without ever reading the untrusted text as markup.
MATCH_START = "\x02"
MATCH_END = "\x03"
ELLIPSIS = "…"
RRF_K = 60  # the usual constant of reciprocal rank fusion: rank 1 scores 1/61, rank 10 scores 1/70

_TERM = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SearchHit:
    """One message found, with where it lives and a passage to show."""

    message_id: int
    conversation_id: int
    title: str
    role: str
    created_at: float
    snippet: str  # plain text, matched words between MATCH_START and MATCH_END
    by_keyword: bool = False
    by_meaning: bool = False
    score: float = 0.0


def terms(text: str) -> list[str]:
    """The words of a query, as FTS5's unicode61 tokenizer would see them (letters and digits)."""
    return _TERM.findall(text)


def fts_query(text: str) -> str | None:
    """A safe FTS5 query for what a person typed: every word must appear, the last one as a prefix (so
    results come while typing). Each word is quoted, so operators and punctuation are never syntax.
    None when there is nothing to search for."""
    words = terms(text)
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    if not text.endswith(words[-1]) or len(words[-1]) < 2:
        return " ".join(quoted)
    return " ".join([*quoted[:-1], quoted[-1] + "*"])


def fts_phrase(text: str) -> str | None:
    """An FTS5 query for the words of what a person typed side by side, in their order (the last one as a prefix
    while typing, as in :func:`fts_query`): the messages that hold the phrase come before those that only hold
    the words. None for fewer than two words."""
    words = terms(text)
    if len(words) < 2:
        return None
    prefix = " *" if text.endswith(words[-1]) and len(words[-1]) >= 2 else ""
    return f'"{" ".join(words)}"{prefix}'


def title_matches(title: str, query: str) -> bool:
    """Whether every word of ``query`` (split at spaces, so "c++" stays whole) is in ``title``, in any order and
    any case: "lisbon trip" finds "Trip to Lisbon", as the message search finds every word."""
    folded = title.casefold()
    return all(word in folded for word in query.casefold().split())


_FENCE = re.compile(r"(?:```|~~~)[\w+#.\-]*")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*\)")
_HEADING = re.compile(r"(^|\s)#{1,6}(?=\s)")
_STRONG = re.compile(r"\*\*|~~")


def unmarked(text: str) -> str:
    """``text`` with the markdown a reader would not see rendered left out, for a one-line preview: code
    fences (and their language), backticks, bold and strike-through markers, heading marks, link targets.
    Underscores and single stars stay (``__init__``, ``2*3``)."""
    text = _FENCE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _HEADING.sub(r"\1", text)
    return _STRONG.sub("", text).replace("`", "")


def snippet_spans(snippet: str) -> tuple[str, list[tuple[int, int]]]:
    """The snippet's plain text, its markdown left out (:func:`unmarked`), and the (start, end) offsets of its
    marked words."""
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    start: int | None = None
    for char in " ".join(unmarked(snippet).split()):
        if char == MATCH_START:
            start = length
        elif char == MATCH_END:
            if start is not None and length > start:
                spans.append((start, length))
            start = None
        else:
            plain.append(char)
            length += 1
    return "".join(plain), spans


def passage(text: str, query: str, width: int = 160) -> str:
    """A passage of ``text`` about ``width`` characters long for a hit found by meaning: around the first
    query word it contains (marked), else its beginning. Whitespace is collapsed to single spaces."""
    flat = " ".join(text.split())
    lowered = flat.casefold()
    words = sorted({w.casefold() for w in terms(query) if len(w) > 2}, key=len, reverse=True)
    found = [(lowered.find(w), w) for w in words if lowered.find(w) >= 0]
    if not found:
        return flat[:width] + (ELLIPSIS if len(flat) > width else "")
    at, word = min(found)
    start = max(0, at - width // 3)
    end = min(len(flat), start + width)
    window = flat[start:end]
    marked = re.sub(f"(?i)({re.escape(word)})", MATCH_START + r"\1" + MATCH_END, window)
    return (ELLIPSIS if start > 0 else "") + marked + (ELLIPSIS if end < len(flat) else "")


def fuse(by_keyword: list[SearchHit], by_meaning: list[SearchHit], limit: int = 50) -> list[SearchHit]:
    """One ranked list from both: reciprocal rank fusion. A message found both ways keeps the keyword
    snippet (it marks the words) and is flagged as found both ways."""
    merged: dict[int, SearchHit] = {}
    for ranked, keyword in ((by_keyword, True), (by_meaning, False)):
        for rank, hit in enumerate(ranked, start=1):
            score = 1.0 / (RRF_K + rank)
            known = merged.get(hit.message_id)
            if known is None:
                merged[hit.message_id] = replace(hit, score=score, by_keyword=keyword, by_meaning=not keyword)
            else:
                merged[hit.message_id] = replace(known, score=known.score + score,
                                                 by_keyword=known.by_keyword or keyword,
                                                 by_meaning=known.by_meaning or not keyword)
    ordered = sorted(merged.values(), key=lambda h: (-h.score, -h.created_at))
    return ordered[:limit]


@dataclass(frozen=True)
class IndexPlan:
    """What building (or topping up) the index for search by meaning would take."""

    messages: int
    tokens: int
    cost_micros: int | None  # None: no price known for the embeddings model

    @property
    def empty(self) -> bool:
        """Nothing left to embed."""
        return self.messages == 0


def batches(items: list[tuple[int, str, int]], max_inputs: int = 256,
            max_tokens: int = 200_000) -> list[list[tuple[int, str, int]]]:
    """Split (id, text, tokens) items into requests of at most ``max_inputs`` inputs and ``max_tokens``
    tokens (OpenAI allows 2,048 inputs and 300,000 tokens per embeddings request)."""
    out: list[list[tuple[int, str, int]]] = []
    current: list[tuple[int, str, int]] = []
    total = 0
    for item in items:
        if current and (len(current) >= max_inputs or total + item[2] > max_tokens):
            out.append(current)
            current, total = [], 0
        current.append(item)
        total += item[2]
    if current:
        out.append(current)
    return out
