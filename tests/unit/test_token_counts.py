"""Remembered token counts: the memo, and counting through it without loading the tokenizer."""

from __future__ import annotations

import dataclasses
import threading

import pytest
import tiktoken

from desktop_assistant.core import token_counts, tokens
from desktop_assistant.core.token_counts import CountMemo, digest
from desktop_assistant.core.tokens import count_many, count_text, estimate_prompt_tokens, get_encoding


@pytest.fixture
def memo(monkeypatch: pytest.MonkeyPatch) -> CountMemo:
    """An empty memo used by core.tokens for this test only."""
    fresh = CountMemo()
    monkeypatch.setattr(tokens, "MEMO", fresh)
    return fresh


@pytest.fixture
def no_tokenizer(monkeypatch: pytest.MonkeyPatch) -> dict[str, tiktoken.Encoding]:
    """No encoding built yet in this test (the module-wide cache is left as it was)."""
    cache: dict[str, tiktoken.Encoding] = {}
    monkeypatch.setattr(tokens, "_encodings", cache)
    return cache


def test_digest_depends_on_encoding_and_exact_text() -> None:
    assert digest("o200k_base", "hello") == digest("o200k_base", "hello")
    assert len({digest("o200k_base", "hello"), digest("cl100k_base", "hello"), digest("o200k_base", "hello "),
                digest("o200k_base", "Hello")}) == 4
    assert len(digest("o200k_base", "\ud800 lone surrogate")) == 16  # never raises on odd text


def test_memo_asks_its_loader_once_for_what_it_lacks() -> None:
    asked: list[list[bytes]] = []
    memo = CountMemo()
    memo.remember({b"a": 1})
    memo.take_unsaved()
    memo.loader = lambda keys: asked.append(keys) or {b"b": 2}
    assert memo.lookup([b"a", b"b", b"c", b"b"]) == {b"a": 1, b"b": 2}
    assert asked == [[b"b", b"c"]]
    assert memo.lookup([b"b"]) == {b"b": 2}  # kept in memory now
    assert len(asked) == 1
    assert memo.take_unsaved() == []  # loaded counts are already saved; only new ones are handed out


def test_memo_hands_out_new_counts_once_and_forgets_its_oldest_half_when_full() -> None:
    memo = CountMemo(capacity=4)
    memo.remember({bytes([i]): i for i in range(5)})
    assert sorted(memo.take_unsaved()) == [(bytes([i]), i) for i in range(5)]
    assert memo.take_unsaved() == []
    assert len(memo) <= 4
    assert memo.lookup([bytes([4])]) == {bytes([4]): 4}  # the newest stay


def test_counts_are_remembered_and_reused_without_the_tokenizer(
        memo: CountMemo, no_tokenizer: dict[str, tiktoken.Encoding]) -> None:
    texts = ["Hello, world!", "", "déjà vu " * 50, "Hello, world!"]
    first = count_many("o200k_base", texts)
    reference = get_encoding("o200k_base")
    assert first == [len(reference.encode_ordinary(t)) for t in texts]
    saved = dict(memo.take_unsaved())
    assert len(saved) == 2  # the empty text is 0 without counting; the repeated one is counted once

    # a later session: nothing in memory, no tokenizer, the counts come from the lasting store
    later = CountMemo()
    later.loader = lambda keys: {k: saved[k] for k in keys if k in saved}
    tokens.MEMO = later
    no_tokenizer.clear()
    assert count_many("o200k_base", texts) == first
    assert no_tokenizer == {}
    assert count_text("Hello, world!", "gpt-4o") == first[0]
    assert no_tokenizer == {}
    # a text never counted loads the tokenizer, and its count is new
    assert count_text("something new", "gpt-4o") == len(reference.encode_ordinary("something new"))
    assert "o200k_base" in no_tokenizer
    assert [n for _k, n in later.take_unsaved()] == [len(reference.encode_ordinary("something new"))]


def test_a_request_estimate_from_remembered_counts_is_the_same(
        memo: CountMemo, no_tokenizer: dict[str, tiktoken.Encoding]) -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2+2?"},
                {"role": "assistant", "content": "4", "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{\"a\": 2}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "4"}, {"role": "user", "content": "Thanks"}]
    tools = [{"type": "function", "function": {"name": "add", "description": "Adds",
                                               "parameters": {"type": "object", "properties": {"a": {}}}}}]
    counted = estimate_prompt_tokens(messages, "gpt-4o", tools=tools)
    saved = dict(memo.take_unsaved())
    looked_up: list[int] = []
    later = CountMemo()
    later.loader = lambda keys: looked_up.append(len(keys)) or {k: saved[k] for k in keys if k in saved}
    tokens.MEMO = later
    no_tokenizer.clear()
    assert estimate_prompt_tokens(messages, "gpt-4o", tools=tools) == counted
    assert no_tokenizer == {} and len(looked_up) == 1  # one look-up for the whole request


def test_counting_from_many_threads_agrees(memo: CountMemo) -> None:
    texts = [f"message number {i} " * (i % 7 + 1) for i in range(200)]
    expected = count_many("o200k_base", texts)
    memo.forget()
    results: list[list[int]] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        results.append(count_many("o200k_base", texts))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4
    assert token_counts.MEMO is not memo  # the module-wide memo was left alone


def test_a_count_is_kept_under_the_exact_tokenizer_that_made_it(monkeypatch: pytest.MonkeyPatch) -> None:
    key = tokens.count_key("o200k_base", "hello")
    assert key == tokens.count_key("o200k_base", "hello") != tokens.count_key("cl100k_base", "hello")
    spec = tokens._SPECS["o200k_base"]
    changed = dataclasses.replace(spec, pat_str=spec.pat_str + r"|\s")  # a future pattern: counts start afresh
    monkeypatch.setitem(tokens._SPECS, "o200k_base", changed)
    tokens._fingerprinted.cache_clear()
    try:
        assert tokens.count_key("o200k_base", "hello") != key
    finally:
        monkeypatch.undo()
        tokens._fingerprinted.cache_clear()
    assert tokens.count_key("o200k_base", "hello") == key
