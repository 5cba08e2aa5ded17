"""The compact word list behind spell checking: order, membership, counts, prefixes, size, damaged files."""

from __future__ import annotations

import gzip
import itertools
import json
import pkgutil
from pathlib import Path

import pytest

from desktop_assistant.core import spelling as core_spelling
from desktop_assistant.core import word_list
from desktop_assistant.core.spelling import Language, SpellDictionary, load_dictionary
from desktop_assistant.core.word_list import MAX_COUNT, WordList, from_gzipped_json, load_packaged

_packages = itertools.count()


def _raw(code: str) -> dict[str, int]:
    """The packaged word list as pyspellchecker reads it (independently of WordList)."""
    data = pkgutil.get_data("spellchecker", f"resources/{code}.json.gz")
    assert data is not None
    counts: dict[str, int] = json.loads(gzip.decompress(data).decode("utf-8"))
    return counts


@pytest.fixture(scope="module")
def english() -> WordList:
    return load_packaged("en")


@pytest.fixture(scope="module")
def german() -> WordList:
    return load_packaged("de")


def test_small_list_is_sorted_by_utf8_bytes_with_counts_merged_by_case() -> None:
    words = WordList({"b": 2, "é": 3, "a": 1, "e": 4, "Apple": 5, "apple": 6, "": 9})
    assert list(words.words(range(len(words)))) == ["a", "apple", "b", "e", "é"]
    assert words.count("apple") == 11  # "Apple" and "apple" are one word
    assert words.count("Apple") == 0  # stored lower case: callers lower-case first
    assert words.count("zebra") == 0 and "zebra" not in words and "" not in words
    assert words.letters == frozenset("abeélp")
    assert words.longest == 5


def test_counts_are_clamped_to_32_bits_and_must_be_whole_numbers() -> None:
    words = WordList({"huge": 2**40, "negative": -5, "plain": 7})
    assert (words.count("huge"), words.count("negative"), words.count("plain")) == (MAX_COUNT, 0, 7)
    with pytest.raises(ValueError):
        WordList({"word": "many"})  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        WordList({"word": 1.5})  # type: ignore[dict-item]


def test_english_first_last_words_and_counts_match_the_file(english: WordList) -> None:
    raw = _raw("en")
    keys = sorted(raw, key=lambda w: w.encode("utf-8"))
    assert len(english) == len(raw)
    assert english.word(0) == keys[0] and english.word(len(english) - 1) == keys[-1]
    assert english.count_at(0) == raw[keys[0]] and english.count_at(len(english) - 1) == raw[keys[-1]]
    assert keys[0] in english and keys[-1] in english
    for word in ("the", "receive", "tomorrow", "spelling", keys[len(keys) // 2]):
        assert word in english and english.count(word) == raw[word]
    assert english.find("the") >= 0 and english.word(english.find("the")) == "the"
    assert "recieve" not in english and english.find("recieve") == -1
    assert max(map(len, raw)) == english.longest


def test_german_non_ascii_membership(german: WordList) -> None:
    raw = _raw("de")
    for word in ("größer", "straße", "mädchen", "häuser", "über"):
        assert word in raw  # the file has them lower case
        assert word in german and german.count(word) == raw[word]
    assert "grösser" not in german and "madchen" not in german
    assert {"ä", "ö", "ü", "ß"} <= german.letters


def test_prefix_range_is_exactly_the_words_with_that_prefix(english: WordList, german: WordList) -> None:
    for words, raw, prefix in ((english, _raw("en"), "spel"), (german, _raw("de"), "grö"), (english, {}, "qqqz")):
        span = words.prefix_range(prefix)
        expected = sorted((w for w in raw if w.startswith(prefix)), key=lambda w: w.encode("utf-8"))
        assert list(words.words(span)) == expected
        if span.start > 0:
            assert not words.word(span.start - 1).startswith(prefix)
        if span.stop < len(words):
            assert not words.word(span.stop).startswith(prefix)
    outer = english.prefix_range("sp")
    assert english.prefix_range("spel", outer) == english.prefix_range("spel")
    assert english.find("spelling", english.prefix_range("spel")) == english.find("spelling")
    assert english.find("spelling", english.prefix_range("a")) == -1  # not in that range


def test_words_sized_keeps_lengths_in_characters(german: WordList) -> None:
    span = german.prefix_range("grö")
    sized = list(german.words_sized(span, 6, 6))
    assert "größer" in sized  # 6 characters, 8 bytes
    assert sized == [w for w in german.words(span) if len(w) == 6]


def test_english_structure_is_small(english: WordList) -> None:
    raw = _raw("en")
    text_bytes = sum(len(w.encode("utf-8")) for w in raw)
    # the words themselves, 8 bytes a word for their offset and count, and a sample of every 64th word
    assert text_bytes + 8 * len(raw) < english.nbytes < 5_000_000


def test_suggestions_rank_by_count_then_alphabet_in_the_typed_case() -> None:
    words = WordList({"cat": 5, "bat": 5, "hat": 9, "cart": 1, "definitely": 10, "definite": 3, "12": 50, "ab": 1})
    dictionary = SpellDictionary(words, Language("xx", "Test"))
    assert dictionary.suggestions("zat") == ["hat", "bat", "cat"]
    assert dictionary.suggestions("Zat", limit=2) == ["Hat", "Bat"]
    assert dictionary.suggestions("definatelly") == ["definitely"]  # two edits away
    assert dictionary.suggestions("1b") == ["ab"]  # "12" is one edit away too, but a number is no suggestion
    assert dictionary.suggestions("qqqqqqqq") == []


def test_german_words_with_sharp_s_are_correct(german: WordList) -> None:
    dictionary = SpellDictionary(german, Language("de", "German"), {"Zorbulon"})
    assert dictionary.is_correct("Größer") and dictionary.is_correct("Straße")
    assert dictionary.is_correct("ZORBULON")
    assert not dictionary.is_correct("Grösser")
    assert "Größer" in dictionary.suggestions("Grözer")


def _package_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes | None) -> None:
    """Read the dictionaries from a fresh package in tmp_path whose resources/en.json.gz holds ``data``."""
    name = f"fake_dictionaries_{next(_packages)}"
    resources = tmp_path / name / "resources"
    resources.mkdir(parents=True)
    (tmp_path / name / "__init__.py").write_text("")
    if data is not None:
        (resources / "en.json.gz").write_bytes(data)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(core_spelling, "DICTIONARY_PACKAGE", name)


@pytest.mark.parametrize("data", [
    b"this is not gzip",
    gzip.compress(json.dumps({"word": 1}).encode())[:20],  # cut short
    gzip.compress(b"[1, 2, 3]"),  # JSON, but not words and counts
    gzip.compress(b"{\"word\": \"many\"}"),
    None,  # no file at all
], ids=["not-gzip", "truncated", "not-an-object", "bad-count", "missing"])
def test_a_damaged_dictionary_file_gives_a_plain_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         data: bytes | None) -> None:
    _package_with(tmp_path, monkeypatch, data)
    message = load_dictionary("en")
    assert isinstance(message, str)
    assert message.startswith("Spell checking is off: the English dictionary could not be loaded (")


def test_an_empty_dictionary_file_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _package_with(tmp_path, monkeypatch, gzip.compress(b"{}"))
    assert load_dictionary("en") == "Spell checking is off: the English dictionary is empty."


def test_a_good_file_in_another_package_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _package_with(tmp_path, monkeypatch, gzip.compress(json.dumps({"hello": 3, "world": 2}).encode()))
    loaded = load_dictionary("en")
    assert isinstance(loaded, SpellDictionary) and len(loaded.words) == 2
    assert loaded.is_correct("Hello") and not loaded.is_correct("helo")
    assert loaded.suggestions("helo") == ["hello"]


def test_from_gzipped_json_raises_for_damage() -> None:
    with pytest.raises(OSError):
        from_gzipped_json(b"nope")
    with pytest.raises(ValueError):
        from_gzipped_json(gzip.compress(b"not json"))


@pytest.mark.parametrize("code", ["en", "de", "fr"])
def test_parsing_in_pieces_reads_exactly_what_json_reads(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = pkgutil.get_data("spellchecker", f"resources/{code}.json.gz")
    assert data is not None
    text = gzip.decompress(data).decode("utf-8")
    monkeypatch.setattr(word_list, "_PIECE", 5_000)  # many pieces even for a small file
    assert word_list._loads_in_pieces(text) == json.loads(text)


def test_parsing_in_pieces_takes_any_layout_and_refuses_what_is_not_an_object(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(word_list, "_PIECE", 3)
    words = {"a": 1, 'b,\n"c': 2, "déjà": 3, "x": 4}
    for text in (json.dumps(words), json.dumps(words, indent=1), "{\n" + ",\n".join(
            f"{json.dumps(k)}: {v}" for k, v in words.items()) + "\n}", "{\n\"a\": 1\n, \"x\": 4\n}\n"):
        assert word_list._loads_in_pieces(text) == json.loads(text)
    for bad in ("[1, 2]", "{\"a\": 1,\n\"b\": }", "", "{\"a\": [1,\n2]}"):
        with pytest.raises(ValueError):
            word_list._loads_in_pieces(bad)
