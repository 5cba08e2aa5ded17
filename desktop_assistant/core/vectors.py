"""Embedding vectors: decoding what the API sends, loading stored ones, and the top-k by cosine similarity.

Vectors are stored normalised, as little-endian float32, so cosine similarity is a dot product: 100,000
messages at 512 dimensions are 200 MB on disk. While search by meaning is in use they are held in memory as
float16 (half that), scored in chunks; reading them from SQLite for every query took seconds at that size.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

DTYPE = np.dtype("<f4")


def unit_vector(raw: Any) -> np.ndarray:
    """A normalised float32 vector from an API embedding: a base64 string of float32, or a list of floats."""
    if isinstance(raw, str):
        vector = np.frombuffer(base64.b64decode(raw), dtype=DTYPE).astype(np.float32)
    else:
        vector = np.asarray(raw, dtype=np.float32)
    if vector.ndim != 1 or not len(vector) or not np.all(np.isfinite(vector)):
        raise ValueError("The server sent an embedding that is not a list of numbers.")
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def to_blob(vector: np.ndarray) -> bytes:
    """The stored form of a vector."""
    return np.ascontiguousarray(vector, dtype=DTYPE).tobytes()


class _Best:
    """The best (id, score) pairs seen so far, at most ``k``, at or above ``threshold``."""

    def __init__(self, k: int, threshold: float) -> None:
        self.k, self.threshold = k, threshold
        self.ids = np.empty(0, dtype=np.int64)
        self.scores = np.empty(0, dtype=np.float32)

    def offer(self, ids: np.ndarray, scores: np.ndarray) -> None:
        keep = scores >= self.threshold
        if not keep.any():
            return
        self.ids = np.concatenate([self.ids, ids[keep]])
        self.scores = np.concatenate([self.scores, scores[keep].astype(np.float32)])
        if len(self.scores) > self.k:
            chosen = np.argpartition(-self.scores, self.k - 1)[:self.k]
            self.ids, self.scores = self.ids[chosen], self.scores[chosen]

    def ranked(self) -> list[tuple[int, float]]:
        order = np.argsort(-self.scores, kind="stable")
        return [(int(self.ids[i]), float(self.scores[i])) for i in order[:self.k]]


def load_matrix(blocks: Iterable[tuple[Sequence[int], bytes]], dims: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids as int64, vectors as a float16 matrix) from stored blocks."""
    ids: list[np.ndarray] = []
    parts: list[np.ndarray] = []
    for block_ids, blob in blocks:
        ids.append(np.asarray(block_ids, dtype=np.int64))
        parts.append(np.frombuffer(blob, dtype=DTYPE).reshape(-1, dims).astype(np.float16))
    if not parts:
        return np.empty(0, dtype=np.int64), np.empty((0, dims), dtype=np.float16)
    return np.concatenate(ids), np.concatenate(parts)


def top_k_matrix(query: np.ndarray, ids: np.ndarray, matrix: np.ndarray, k: int, threshold: float = 0.0,
                 chunk: int = 16384) -> list[tuple[int, float]]:
    """The ``k`` most similar (id, similarity) pairs at or above ``threshold``, best first, over vectors in
    memory (row ``i`` of ``matrix`` belongs to ``ids[i]``), scored ``chunk`` rows at a time in float32."""
    q = np.asarray(query, dtype=np.float32)
    best = _Best(k, threshold)
    for start in range(0, len(ids), chunk):
        best.offer(ids[start:start + chunk], matrix[start:start + chunk].astype(np.float32) @ q)
    return best.ranked()
