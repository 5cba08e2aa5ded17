"""Spell checking for the composer: which words of a line to check, and a dictionary of pyspellchecker's words.

Pure Python, no Qt (:mod:`desktop_assistant.ui.chat.spelling` draws the underlines). The dictionaries are
the word-frequency lists that ship inside the ``pyspellchecker`` package (nothing is downloaded), held in a
compact :class:`~desktop_assistant.core.word_list.WordList` (~3 MB for English instead of pyspellchecker's
~38 MB ``Counter``).

What is never checked: URLs, e-mail addresses, paths and dotted names (``example.com``, ``a/b``), inline code
between backticks, fenced code blocks (tracked across lines by :func:`fence_state`), words with digits or
underscores, words with an inner capital (camelCase, iPhone), ALL-CAPS words, and words longer than
:data:`MAX_WORD` letters.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass

from desktop_assistant.core.word_list import WordList, load_packaged

MAX_WORD = 30
"""Longer words are not checked."""
MAX_SUGGESTIONS = 5
DICTIONARY_PACKAGE = "spellchecker"
"""The package whose ``resources/<code>.json.gz`` word lists are read (pyspellchecker's)."""

NORMAL = 0
"""Block state of a line outside fenced code (QSyntaxHighlighter's default is -1, also "outside")."""
_FENCE_BASE = {"`": 1000, "~": 2000}  # block state of a line inside a fence: base + fence length

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_URL = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*://|www\.|mailto:)\S+|\S+@\S+\.\w+", re.IGNORECASE)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1|`+[^`]*$")
# a run of letters, apostrophes, digits and underscores, possibly joined by . / \ @ into a dotted name or path
_CHUNK = re.compile(r"[\w'’]+(?:[./\\@:][\w'’]+)*")
_INNER_CAPITAL = re.compile(r".+[A-Z]")


def fence_state(line: str, previous: int) -> tuple[int, bool]:
    """The block state after ``line`` (given the state after the line before) and whether ``line`` is code.

    Follows CommonMark: a fence opens with 3+ backticks or tildes (up to 3 spaces of indent) and closes with a
    line of at least as many of the same character.
    """
    match = _FENCE.match(line)
    if previous >= 1000:  # inside a fence
        char = "`" if previous < 2000 else "~"
        length = previous - _FENCE_BASE[char]
        if match and match.group(1)[0] == char and len(match.group(1)) >= length and not line[match.end() :].strip():
            return NORMAL, True
        return previous, True
    if match:
        fence = match.group(1)
        if fence[0] == "~" or "`" not in line[match.end() :]:
            return _FENCE_BASE[fence[0]] + len(fence), True
    if line.startswith(("    ", "\t")) and line.strip():
        return NORMAL, True  # indented code
    return NORMAL, False


def words_to_check(line: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, str]]:
    """(start, end, word) of each word of ``line`` that should be spell-checked, within ``line[start:end]``."""
    end = len(line) if end is None else end
    skipped = [m.span() for m in _URL.finditer(line, start, end)]
    if "`" in line:
        skipped += [m.span() for m in _CODE_SPAN.finditer(line, start, end)]
    skipped.sort()
    index = 0
    for match in _CHUNK.finditer(line, start, end):
        chunk_start, chunk_end = match.span()
        while index < len(skipped) and skipped[index][1] <= chunk_start:
            index += 1
        if index < len(skipped) and skipped[index][0] < chunk_end:
            continue  # inside (or overlapping) a URL or code span
        word = match.group()
        if any(c in "./\\@:" for c in word):
            continue  # a dotted name, a path, an address
        stripped = word.strip("'’_")
        if not stripped:
            continue
        offset = chunk_start + word.index(stripped[0])
        if _checkable(stripped):
            yield offset, offset + len(stripped), stripped


def _checkable(word: str) -> bool:
    if len(word) > MAX_WORD or len(word) < 2:
        return False
    if any(c.isdigit() or c == "_" for c in word):
        return False
    if word.isupper():
        return False  # ALL-CAPS: an acronym
    return _INNER_CAPITAL.match(word) is None  # camelCase, iPhone, McDonald


@dataclass(frozen=True)
class Language:
    code: str  # "en"
    name: str  # "English"


_NAMES = {
    "en": "English", "es": "Spanish", "fr": "French", "it": "Italian", "pt": "Portuguese", "de": "German",
    "ru": "Russian", "ar": "Arabic", "lv": "Latvian", "eu": "Basque", "nl": "Dutch", "fa": "Persian",
}  # fmt: skip


def available_languages() -> list[str]:
    """Codes of the dictionaries shipped with pyspellchecker (empty when it is not installed)."""
    try:
        from spellchecker import SpellChecker
    except ImportError:
        return []
    try:
        languages = SpellChecker.languages()
    except Exception:
        return []
    return [code for code in languages if isinstance(code, str)]


def pick_language(preferred: str | None) -> str | None:
    """``preferred`` (a locale such as "de_DE" or "de") when a dictionary for it ships, else English, else None."""
    codes = available_languages()
    if preferred:
        code = preferred.replace("-", "_").split("_")[0].lower()
        if code in codes:
            return code
    return "en" if "en" in codes else (codes[0] if codes else None)


class SpellDictionary:
    """One language's word list plus the person's own words; answers are cached.

    The :class:`~desktop_assistant.core.word_list.WordList` is immutable and may be shared by several
    dictionaries (``SpellDictionary(other.words, other.language)``). Use a dictionary from one thread.
    """

    CACHE_LIMIT = 100_000

    def __init__(self, words: WordList, language: Language, personal: set[str] | None = None) -> None:
        self.words = words
        self.language = language
        self._personal = {w.casefold() for w in personal or ()}
        self._cache: dict[str, bool] = {}

    def is_correct(self, word: str) -> bool:
        """Whether ``word`` is spelled right (case-insensitive, as the dictionaries are lower case)."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        folded = word.casefold()  # the person's words: "Straße" and "STRASSE" alike
        lower = word.lower()  # the dictionary's words: lower-cased, "straße" kept as it is
        correct = folded in self._personal or self._known(lower) or (folded != lower and self._known(folded))
        if not correct and ("'" in lower or "’" in lower):  # "model's": the word before the apostrophe
            base = re.split("['’]", lower)[0]
            correct = len(base) > 1 and (base in self.words or base.casefold() in self._personal)
        if len(self._cache) >= self.CACHE_LIMIT:
            self._cache.clear()
        self._cache[word] = correct
        return correct

    def _known(self, key: str) -> bool:
        return key in self.words or ("’" in key and key.replace("’", "'") in self.words)

    def add(self, word: str) -> None:
        """Accept ``word`` from now on."""
        self._personal.add(word.casefold())
        self._cache.clear()

    def suggestions(self, word: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
        """Up to ``limit`` likely corrections, most common first, in the case of ``word``. Fast enough for a
        right-click: the words one edit away, else those two edits away among the words of similar length
        that start with the same letter."""
        key = word.lower()
        if not key:
            return []
        words = self.words
        found: set[str] = set()
        if len(key) <= words.longest + 3:  # pyspellchecker's limit: up to 2 letters may be removed
            found = {w for w in _one_edit(key, words) if _suggestible(w)}
        if not found:
            found = set(self._two_edits(key))
        ranked = sorted(found, key=lambda w: (-words.count(w), w))[:limit]
        return [_match_case(w, word) for w in ranked]

    def _two_edits(self, key: str) -> Iterator[str]:
        """The words within two edits of ``key`` that share its first letter, of length within +-2."""
        letters = set(key)  # two edits change at most four distinct letters: a cheap first filter
        for w in self.words.words_sized(self.words.prefix_range(key[0]), len(key) - 2, len(key) + 2):
            if len(letters ^ set(w)) <= 4 and _within_two_edits(key, w):
                yield w


def _one_edit(word: str, words: WordList) -> set[str]:
    """The listed words one delete, adjacent swap, replacement or insertion (of a letter of the list) away.

    The edits at position i all start with ``word[:i]``, so each position searches only the (shrinking) range
    of the words with that prefix, and none once that range is empty."""
    found: set[str] = set()
    letters = words.letters
    span = range(len(words))
    for i in range(len(word) + 1):
        left, right = word[:i], word[i:]
        if i:
            span = words.prefix_range(left, span)
            if not span:
                break
        edits = {left + c + right for c in letters}
        if right:
            edits.add(left + right[1:])
            edits.update(left + c + right[1:] for c in letters)
            if len(right) > 1:
                edits.add(left + right[1] + right[0] + right[2:])
        found.update(edit for edit in edits if words.find(edit, span) >= 0)
    return found


def _suggestible(word: str) -> bool:
    """What pyspellchecker's ``known`` accepts of a listed word: not lone punctuation, not a number."""
    if len(word) == 1 and word in string.punctuation:
        return False
    if word in ("nan", "inf", "infinity"):
        return True
    try:
        float(word)
    except ValueError:
        return True
    return False


def _within_two_edits(a: str, b: str) -> bool:
    """Optimal string alignment distance (edits and adjacent swaps) of at most 2, with early exit."""
    if abs(len(a) - len(b)) > 2:
        return False
    previous2: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if previous2 is not None and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > 2:
            return False
        previous2, previous = previous, current
    return previous[-1] <= 2


def _match_case(suggestion: str, word: str) -> str:
    if word[:1].isupper():
        return suggestion[:1].upper() + suggestion[1:]
    return suggestion


def load_dictionary(language: str | None = None, personal: set[str] | None = None) -> SpellDictionary | str:
    """The dictionary for ``language`` (a locale or code; English when there is none for it), or a sentence
    saying why there is none. Takes ~0.15 s (it reads and sorts the packaged word list): best in a worker
    thread."""
    code = pick_language(language)
    if code is None:
        return "Spell checking is off: no spelling dictionary is installed (the pyspellchecker package is missing)."
    name = _NAMES.get(code, code)
    try:
        words = load_packaged(code, DICTIONARY_PACKAGE)
    except Exception as exc:  # a damaged package or data file
        return f"Spell checking is off: the {name} dictionary could not be loaded ({exc})."
    if not len(words):
        return f"Spell checking is off: the {name} dictionary is empty."
    return SpellDictionary(words, Language(code, name), personal)
