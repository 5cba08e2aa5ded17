"""The pure parts of search: the keyword query, snippets, passages, fusion and request batches."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_assistant.core.search import (
    ELLIPSIS,
    MATCH_END,
    MATCH_START,
    SearchHit,
    batches,
    fts_phrase,
    fts_query,
    fuse,
    passage,
    snippet_spans,
    title_matches,
)
from desktop_assistant.core.vectors import to_blob, unit_vector


@pytest.mark.parametrize(("typed", "query"), [
    ("", None), ("  ", None), ("?!", None),
    ("hello", '"hello"*'), ("hello ", '"hello"'), ("hello wor", '"hello" "wor"*'),
    ("a", '"a"'),  # one letter is too short a prefix: it would match half the history
    ('say "OR" NOT', '"say" "OR" "NOT"*'), ("c++", '"c"'), ("naïve café", '"naïve" "café"*'),
])
def test_fts_query_quotes_every_word(typed: str, query: str | None) -> None:
    assert fts_query(typed) == query


@pytest.mark.parametrize(("typed", "phrase"), [
    ("hello", None), ("hello ", None), ("how do", '"how do" *'), ("how do ", '"how do"'),
    ("how do i", '"how do i"'), ('say "OR" NOT', '"say OR NOT" *'),
])
def test_fts_phrase_keeps_the_words_in_their_order(typed: str, phrase: str | None) -> None:
    assert fts_phrase(typed) == phrase


def test_snippet_spans_strip_markers() -> None:
    plain, spans = snippet_spans(f"{ELLIPSIS}the {MATCH_START}cat{MATCH_END} sat on {MATCH_START}cats{MATCH_END}")
    assert plain == f"{ELLIPSIS}the cat sat on cats"
    assert [plain[a:b] for a, b in spans] == ["cat", "cats"]
    assert snippet_spans("no marks") == ("no marks", [])
    assert snippet_spans(f"odd {MATCH_END}end {MATCH_START}") == ("odd end ", [])


def test_passage_centres_on_a_query_word_or_shows_the_start() -> None:
    text = "word " * 100 + "the Volcano erupted\n\nagain " + "tail " * 100
    shown = passage(text, "volcano eruption", width=60)
    plain, spans = snippet_spans(shown)
    assert plain.startswith(ELLIPSIS) and plain.endswith(ELLIPSIS)
    assert [plain[a:b] for a, b in spans] == ["Volcano"] and "\n" not in plain
    assert passage("short text", "unrelated") == "short text"
    assert passage("x" * 300, "zzz", width=50) == "x" * 50 + ELLIPSIS


def _hit(message_id: int, created: float = 0.0) -> SearchHit:
    return SearchHit(message_id, 1, "t", "user", created, f"s{message_id}")


def test_fuse_rewards_messages_found_both_ways() -> None:
    keyword = [_hit(1), _hit(2), _hit(3)]
    meaning = [_hit(3), _hit(4)]
    fused = fuse(keyword, meaning)
    assert [h.message_id for h in fused] == [3, 1, 2, 4]
    both = fused[0]
    assert both.by_keyword and both.by_meaning and both.snippet == "s3"
    assert fused[3].by_meaning and not fused[3].by_keyword
    assert [h.message_id for h in fuse([], meaning)] == [3, 4]
    assert len(fuse(keyword, meaning, limit=2)) == 2


def test_batches_respect_inputs_and_tokens() -> None:
    items = [(i, "t", 100) for i in range(10)]
    assert [len(b) for b in batches(items, max_inputs=4)] == [4, 4, 2]
    assert [len(b) for b in batches(items, max_tokens=250)] == [2, 2, 2, 2, 2]
    assert batches([], max_inputs=4) == []
    assert [len(b) for b in batches([(1, "big", 900)], max_tokens=250)] == [1]  # one big input still goes


def test_unit_vector_reads_base64_and_lists_and_refuses_garbage() -> None:
    vector = unit_vector([3.0, 4.0])
    assert np.allclose(vector, [0.6, 0.8])
    import base64
    assert np.allclose(unit_vector(base64.b64encode(to_blob(np.array([0.0, 2.0], dtype=np.float32))).decode()),
                       [0.0, 1.0])
    for bad in ([], [[1.0]], [float("nan"), 1.0]):
        with pytest.raises(ValueError):
            unit_vector(bad)


def test_scoring_in_memory_matches_scoring_stored_blocks() -> None:
    from desktop_assistant.core.vectors import load_matrix, top_k_matrix
    rng = np.random.default_rng(5)
    vectors = [unit_vector(rng.normal(size=16)) for _ in range(500)]
    blocks = [(list(range(s, min(s + 64, 500))), b"".join(to_blob(v) for v in vectors[s:s + 64]))
              for s in range(0, 500, 64)]
    ids, matrix = load_matrix(blocks, 16)
    assert matrix.dtype == np.float16 and ids.tolist() == list(range(500))
    query = vectors[42]
    exact = sorted(((i, float(np.dot(v, query))) for i, v in enumerate(vectors)), key=lambda p: -p[1])
    from_disk = [(i, score) for i, score in exact if score >= 0.1][:10]  # float32, straight from what was stored
    in_memory = top_k_matrix(query, ids, matrix, 10, threshold=0.1, chunk=100)
    assert [i for i, _s in in_memory][:3] == [i for i, _s in from_disk][:3] and in_memory[0][0] == 42
    assert all(abs(a - b) < 2e-3 for (_i, a), (_j, b) in zip(in_memory, from_disk, strict=True))
    empty_ids, empty = load_matrix([], 16)
    assert top_k_matrix(query, empty_ids, empty, 5) == []


def test_snippets_leave_out_the_markdown_a_reader_would_not_see() -> None:
    snippet = (f"Here is a **Python** function that {MATCH_START}reverses{MATCH_END} text: ```python def "
               f"{MATCH_START}reverse{MATCH_END}(s) ``` see [the docs](https://x.org) ## Notes `__init__` 2*3")
    plain, spans = snippet_spans(snippet)
    assert plain == ("Here is a Python function that reverses text: def reverse(s) see the docs Notes __init__ 2*3")
    assert [plain[a:b] for a, b in spans] == ["reverses", "reverse"]


@pytest.mark.parametrize(("title", "query", "found"), [
    ("Trip to Lisbon", "lisbon trip", True),  # any order, any case
    ("Trip to Lisbon", "  trip  ", True),
    ("Trip to Lisbon", "trip paris", False),  # every word must be there
    ("Learning C++ fast", "c++", True),  # punctuation is part of a word
    ("Learning C fast", "c++", False),
    ("Café notes", "CAFÉ", True),
])
def test_title_matches_every_word_in_any_order(title: str, query: str, found: bool) -> None:
    assert title_matches(title, query) is found
