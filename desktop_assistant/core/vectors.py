"""Embedding vectors: decoding what the API sends, and the top-k by cosine similarity over stored blocks.

Vectors are stored normalised, as little-endian float32, so cosine similarity is a dot product and 100,000
messages at 512 dimensions are 200 MB on disk, scanned in blocks rather than held in memory.
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


def top_k(query: np.ndarray, blocks: Iterable[tuple[Sequence[int], bytes]], k: int,
          threshold: float = 0.0) -> list[tuple[int, float]]:
    """The ``k`` most similar (id, similarity) pairs at or above ``threshold``, best first.

    ``blocks`` yields (ids, the concatenated blobs of those ids' vectors); only one block is in memory at a time.
    """
    dims = len(query)
    best_ids = np.empty(0, dtype=np.int64)
    best_scores = np.empty(0, dtype=np.float32)
    q = np.asarray(query, dtype=np.float32)
    for ids, blob in blocks:
        matrix = np.frombuffer(blob, dtype=DTYPE).reshape(-1, dims)
        scores = matrix @ q
        keep = scores >= threshold
        if not keep.any():
            continue
        best_ids = np.concatenate([best_ids, np.asarray(ids, dtype=np.int64)[keep]])
        best_scores = np.concatenate([best_scores, scores[keep]])
        if len(best_scores) > k:
            chosen = np.argpartition(-best_scores, k - 1)[:k]
            best_ids, best_scores = best_ids[chosen], best_scores[chosen]
    order = np.argsort(-best_scores, kind="stable")
    return [(int(best_ids[i]), float(best_scores[i])) for i in order[:k]]
