"""Preparing messages for embedding: counts made when the index was priced are used again, not recounted."""

from __future__ import annotations

from desktop_assistant.controllers.search import EMBEDDING_ENCODING, MAX_INPUT_TOKENS, _prepared
from desktop_assistant.core.tokens import get_encoding


def tokens(text: str) -> int:
    return len(get_encoding(EMBEDDING_ENCODING).encode_ordinary(text))


def test_counts_from_pricing_are_used_again_and_stale_ones_are_not() -> None:
    long_text = "word " * (MAX_INPUT_TOKENS + 50)
    pending = [(1, "hello there"), (2, "an edited message"), (3, long_text), (4, "never priced")]
    counted = {1: (hash("hello there"), 7),  # 7 is not its count: seeing 7 proves it was not counted again
               2: (hash("the message before it was edited"), 4),
               3: (hash(long_text), MAX_INPUT_TOKENS)}  # at the limit: it must be cut, so it is tokenized
    out = _prepared(pending, counted)
    assert [i for i, _text, _n in out] == [1, 2, 3, 4]  # the order of the pending messages
    assert out[0] == (1, "hello there", 7)
    assert out[1] == (2, "an edited message", tokens("an edited message"))
    assert out[2][2] == MAX_INPUT_TOKENS and tokens(out[2][1]) <= MAX_INPUT_TOKENS < tokens(long_text)
    assert out[3] == (4, "never priced", tokens("never priced"))
    assert _prepared(pending) == [(1, "hello there", tokens("hello there")), *out[1:]]
