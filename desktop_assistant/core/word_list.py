"""A compact, read-only word-frequency list: the spelling dictionary's words in a few flat buffers.

A ``dict``/``Counter`` of 160,000 English words costs ~38 MB of Python objects; here the same words take
~3 MB: their UTF-8 bytes, sorted, back to back in one ``bytes`` blob, with an ``array('I')`` of where each word
starts and one of how often it occurs. Membership is a binary search over the blob (``bisect`` on a sequence
view of it, after a first step on a sample of every 64th word), and the words sharing a prefix are one
contiguous range of indices.

Pure Python, no Qt. The word lists are the gzipped JSON files (``{"word": count, ...}``) that ship inside the
``pyspellchecker`` package; :func:`load_packaged` reads one the way pyspellchecker itself does
(``pkgutil.get_data``), so a frozen build that ships those files as data works too.
"""

from __future__ import annotations

import bisect
import gc
import gzip
import json
import pkgutil
import sys
from array import array
from collections.abc import Iterator, Mapping
from itertools import accumulate

from desktop_assistant.core.memory import malloc_trim

MAX_COUNT = 0xFFFF_FFFF
"""Counts are stored in 32 bits; larger ones are clamped (the ranking only needs their order)."""
_STRIDE = 64
"""Every 64th word is also kept as a ``bytes`` object in a list (~5% more memory), so that a search first
narrows to a block of 64 words with ``bisect`` at C speed, then needs only 6 steps through the blob."""


class _Keys:
    """The i-th word's UTF-8 bytes, as a sequence ``bisect`` can search."""

    __slots__ = ("_blob", "_offsets")

    def __init__(self, blob: bytes, offsets: array[int]) -> None:
        self._blob = blob
        self._offsets = offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index: int) -> bytes:
        return self._blob[self._offsets[index] : self._offsets[index + 1]]


class WordList:
    """Lower-case words with their counts, sorted by UTF-8 bytes; immutable once built, safe to share."""

    __slots__ = ("_blob", "_counts", "_keys", "_offsets", "_sample", "letters", "longest")

    def __init__(self, counts: Mapping[str, int]) -> None:
        """From ``{word: count}``. Words are lower-cased (as pyspellchecker does), the counts of words that
        differ only in case are summed, an empty word is dropped, counts are clamped to 0..MAX_COUNT. Raises
        ValueError for a count that is not an integer."""
        if not {type(count) for count in counts.values()} <= {int}:
            raise ValueError("a count is not a whole number")
        merged = {word.lower(): count for word, count in counts.items()}
        if len(merged) != len(counts):  # words that differ only in case: sum their counts
            merged = {}
            for word, count in counts.items():
                merged[word.lower()] = merged.get(word.lower(), 0) + count
        merged.pop("", None)
        ordered = sorted(merged)  # code point order is UTF-8 byte order
        self.letters: frozenset[str] = frozenset("".join(ordered))
        """Every character that occurs in a word (the alphabet for one-edit candidates)."""
        self.longest: int = max(map(len, ordered), default=0)
        """The length of the longest word, in characters."""
        encoded = [word.encode("utf-8") for word in ordered]
        self._blob = b"".join(encoded)
        if len(self._blob) > MAX_COUNT:
            raise ValueError("the word list is too large")
        self._offsets = array("I", accumulate(map(len, encoded), initial=0))
        del encoded
        values = [merged[word] for word in ordered]
        if values and (min(values) < 0 or max(values) > MAX_COUNT):
            values = [min(max(count, 0), MAX_COUNT) for count in values]
        self._counts = array("I", values)
        self._keys = _Keys(self._blob, self._offsets)
        self._sample: list[bytes] | None = None  # built on first use, once the parse garbage is freed

    def __len__(self) -> int:
        return len(self._counts)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.find(word) >= 0

    def find(self, word: str, within: range | None = None) -> int:
        """The index of ``word`` (exactly as given: words are stored lower case), or -1. ``within``: search
        only these indices (e.g. a :meth:`prefix_range` that ``word`` is known to fall in)."""
        key = word.encode("utf-8", "surrogatepass")
        block = bisect.bisect_right(self._sampled(), key) - 1  # C speed, on a plain list: the word's block
        if block < 0:
            return -1
        start, stop = block * _STRIDE, min((block + 1) * _STRIDE, len(self._counts))
        if within is not None:
            start, stop = max(start, within.start), min(stop, within.stop)
        index = bisect.bisect_left(self._keys, key, start, stop)
        return index if index < stop and self._keys[index] == key else -1

    def _sampled(self) -> list[bytes]:
        if self._sample is None:  # two threads may both build it: the same list, assigned atomically
            self._sample = [self._keys[index] for index in range(0, len(self._counts), _STRIDE)]
        return self._sample

    def count(self, word: str) -> int:
        """How often ``word`` occurs in the corpus; 0 when it is not in the list."""
        index = self.find(word)
        return self._counts[index] if index >= 0 else 0

    def word(self, index: int) -> str:
        """The word at ``index`` (0 is the first in UTF-8 byte order)."""
        return self._keys[index].decode("utf-8")

    def count_at(self, index: int) -> int:
        """The count of the word at ``index``."""
        return self._counts[index]

    def prefix_range(self, prefix: str, within: range | None = None) -> range:
        """The indices of the words that start with ``prefix`` (a contiguous run, as they are sorted).
        ``within``: a range known to hold them all (e.g. the range of a shorter prefix), to search less."""
        key = prefix.encode("utf-8", "surrogatepass")
        start, stop = (0, len(self._counts)) if within is None else (within.start, within.stop)
        start = bisect.bisect_left(self._keys, key, start, stop)
        # no UTF-8 byte is 0xff, so every word starting with ``key`` sorts before key + b"\xff"
        return range(start, bisect.bisect_left(self._keys, key + b"\xff", start, stop))

    def words(self, indices: range) -> Iterator[str]:
        """The words at ``indices``, in order."""
        for index in indices:
            yield self._keys[index].decode("utf-8")

    def words_sized(self, indices: range, shortest: int, longest: int) -> Iterator[str]:
        """The words at ``indices`` (in order) that are ``shortest`` to ``longest`` characters long."""
        blob, offsets = self._blob, self._offsets
        most = 4 * longest  # a character is 1 to 4 bytes: skip most words without decoding them
        for index in indices:
            start, end = offsets[index], offsets[index + 1]
            if shortest <= end - start <= most:
                word = blob[start:end].decode("utf-8")
                if shortest <= len(word) <= longest:
                    yield word

    @property
    def nbytes(self) -> int:
        """The size of the word data: the blob, both arrays and the sampled keys (the rest is ~200 bytes)."""
        arrays = self._offsets.itemsize * len(self._offsets) + self._counts.itemsize * len(self._counts)
        sample = self._sampled()
        sample_size = sys.getsizeof(sample) + sum(map(sys.getsizeof, sample))
        return len(self._blob) + arrays + sample_size


def from_gzipped_json(data: bytes) -> WordList:
    """The word list in ``data``, a gzipped JSON object ``{"word": count}``; raises OSError, EOFError or
    ValueError for a damaged file. The parse garbage (~40 MB for English) is handed back to the system."""
    words = _parse(data)
    gc.collect()
    words.find("")  # builds the sample now (in the loading thread), not on the first lookup
    malloc_trim()
    return words


_PIECE = 100_000
"""Characters of JSON parsed at a time: ``json.loads`` holds the GIL for the whole of its text (~80 ms for the
English list, a stall of the UI thread while the list loads on a worker), a piece only ~3 ms."""


def _parse(data: bytes) -> WordList:
    counts = _loads_in_pieces(gzip.decompress(data).decode("utf-8"))
    return WordList(counts)


def _loads_in_pieces(text: str) -> dict[str, int]:
    """The JSON object ``text`` (``{"word": count, ...}``), parsed a few thousand lines at a time.

    A raw line break can only stand between two tokens of JSON (inside a string it is escaped), so cutting
    a flat object after a line break never cuts a word or a count; a file on one line is parsed whole.
    """
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise ValueError("it is not a list of words and counts")
    inner = body[1:-1]
    counts: dict[str, int] = {}
    start = 0
    while start < len(inner):
        cut = inner.find("\n", start + _PIECE)
        end = len(inner) if cut < 0 else cut + 1
        piece = inner[start:end].strip().strip(",")
        if piece:
            parsed = json.loads("{" + piece + "}")
            if not isinstance(parsed, dict):  # pragma: no cover - braces around a piece always make an object
                raise ValueError("it is not a list of words and counts")
            counts.update(parsed)
        start = end
    return counts


def load_packaged(code: str, package: str = "spellchecker") -> WordList:
    """The word list for language ``code`` shipped in ``package`` (``resources/<code>.json.gz``); raises
    FileNotFoundError when there is none, and the errors of :func:`from_gzipped_json` for a damaged one."""
    data = pkgutil.get_data(package, f"resources/{code}.json.gz")
    if data is None:  # a loader that cannot read data files
        raise FileNotFoundError(f"resources/{code}.json.gz cannot be read from {package}")
    return from_gzipped_json(data)
