"""Token counts remembered by the text they count, so that a conversation shown again needs no tokenizer.

Loading the o200k tokenizer costs ~50 MB for as long as the app runs and holds the GIL ~0.1-0.2 s while it is
built. Most counts the app makes at start are counts it already made in an earlier session (the messages of
the conversation that was open), so every count is remembered under a digest of its encoding and its text:
in memory (:class:`CountMemo`, bounded), and on disk through a ``loader`` that the app installs (the store's
table of counts). The tokenizer is loaded only for texts never counted before.

A digest is 16 bytes of BLAKE2b over the encoding name and the UTF-8 text: a count is only ever reused for
exactly the same text in exactly the same encoding.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence

Loader = Callable[[list[bytes]], dict[bytes, int]]
"""Looks digests up in a lasting store; returns the counts it has (missing digests are left out)."""

DEFAULT_CAPACITY = 50_000
"""Counts kept in memory (~110 bytes each); the oldest half is forgotten when the memo is full."""


def digest(encoding: str, text: str) -> bytes:
    """The key of ``text``'s count in ``encoding``."""
    h = hashlib.blake2b(digest_size=16)
    h.update(encoding.encode("ascii"))
    h.update(b"\0")
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.digest()


class CountMemo:
    """Counts by digest: remembered in memory, looked up in a lasting store, and new ones kept for saving.

    Thread-safe: counting runs on worker threads while the store's loader and saver run elsewhere.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self.loader: Loader | None = None
        self._counts: dict[bytes, int] = {}
        self._unsaved: dict[bytes, int] = {}
        self._lock = threading.Lock()

    def lookup(self, keys: Sequence[bytes]) -> dict[bytes, int]:
        """The counts known for ``keys``: from memory, then from the loader for the rest (one call)."""
        with self._lock:
            found = {k: n for k in keys if (n := self._counts.get(k)) is not None}
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        loader = self.loader
        if missing and loader is not None:
            loaded = loader(missing)
            if loaded:
                with self._lock:
                    self._store(loaded)
                found.update(loaded)
        return found

    def remember(self, counts: dict[bytes, int]) -> None:
        """Keep new counts (made by the tokenizer) in memory and for the next :meth:`take_unsaved`."""
        if not counts:
            return
        with self._lock:
            self._store(counts)
            self._unsaved.update(counts)

    def take_unsaved(self) -> list[tuple[bytes, int]]:
        """The counts remembered since the last call, for the lasting store (each is handed out once)."""
        with self._lock:
            rows, self._unsaved = list(self._unsaved.items()), {}
        return rows

    def forget(self) -> None:
        """Drop what is in memory (tests; a restored database)."""
        with self._lock:
            self._counts.clear()
            self._unsaved.clear()

    def __len__(self) -> int:
        return len(self._counts)

    def _store(self, counts: dict[bytes, int]) -> None:
        self._counts.update(counts)
        if len(self._counts) > self.capacity:  # forget the oldest half (dicts keep insertion order)
            keep = list(self._counts.items())[len(self._counts) // 2:]
            self._counts = dict(keep)


MEMO = CountMemo()
"""The process's memo, used by :mod:`desktop_assistant.core.tokens`."""
