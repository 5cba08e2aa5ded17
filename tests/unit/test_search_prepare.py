"""Preparing messages for embedding: counts made when the index was priced are used again, not recounted."""

from __future__ import annotations

import pytest

from desktop_assistant.controllers.search import EMBEDDING_ENCODING, MAX_INPUT_TOKENS, _count_tokens, _prepared
from desktop_assistant.core import tokens as core_tokens
from desktop_assistant.core.token_counts import CountMemo
from desktop_assistant.core.tokens import count_key, get_encoding


def tokens(text: str) -> int:
    return len(get_encoding(EMBEDDING_ENCODING).encode_ordinary(text))


def test_counts_from_pricing_are_used_again_and_long_texts_are_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    memo = CountMemo()
    monkeypatch.setattr(core_tokens, "MEMO", memo)
    long_text = "word " * (MAX_INPUT_TOKENS + 50)
    pending = [(1, "hello there"), (2, "an edited message"), (3, long_text), (4, "never priced")]
    assert _count_tokens(["hello there", long_text]) == [tokens("hello there"), MAX_INPUT_TOKENS]
    memo.remember({count_key(EMBEDDING_ENCODING, "hello there"): 7})  # not its count: seeing 7 proves no recount
    out = _prepared(pending)
    assert [i for i, _text, _n in out] == [1, 2, 3, 4]  # the order of the pending messages
    assert out[0] == (1, "hello there", 7)
    assert out[1] == (2, "an edited message", tokens("an edited message"))
    assert out[2][2] == MAX_INPUT_TOKENS and tokens(out[2][1]) <= MAX_INPUT_TOKENS < tokens(long_text)
    assert out[3] == (4, "never priced", tokens("never priced"))


def test_many_new_texts_are_counted_as_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core_tokens, "MEMO", CountMemo())
    texts = [f"message {i}: " + "déjà vu " * (i % 9) for i in range(100)] + ["", "message 1: déjà vu "]
    assert core_tokens.count_many(EMBEDDING_ENCODING, texts) == [tokens(t) for t in texts]
