"""Search queries on the store: FTS5 keyword hits, messages waiting for an embedding, and the vector scan.

Everything runs on the store's own thread (``Store.read`` / ``Store.write``). Deleted conversations (in the
bin until purged) are never found.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from desktop_assistant.core.search import ELLIPSIS, MATCH_END, MATCH_START, SearchHit
from desktop_assistant.services.store import Store

if TYPE_CHECKING:  # numpy is imported on first use of search by meaning, not at start-up
    import numpy as np

SNIPPET_TOKENS = 16
SCAN_BLOCK = 4096  # vectors read per step of the scan: 8 MB at 512 dimensions

_LIVE = "JOIN messages m ON m.id = {id} JOIN conversations c ON c.id = m.conversation_id AND c.deleted_at IS NULL"


class SearchStore:
    """The search tables of one :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._matrix: tuple[tuple[str, int], np.ndarray, np.ndarray] | None = None  # (model, dims), ids, vectors

    async def keyword(self, query: str, limit: int = 50, phrase: str | None = None) -> list[SearchHit]:
        """Messages matching the FTS5 ``query`` (built by ``core.search.fts_query``), best first: those matching
        ``phrase`` too (``core.search.fts_phrase``: the words side by side) before the others."""
        def do(conn: sqlite3.Connection) -> list[SearchHit]:
            first = "(message_search.rowid IN (SELECT rowid FROM message_search WHERE message_search MATCH ?)) DESC,"
            rows = conn.execute(
                f"""SELECT m.id, m.conversation_id, c.title, m.role, m.created_at,
                          snippet(message_search, 0, ?, ?, ?, {SNIPPET_TOKENS}) AS snippet
                   FROM message_search {_LIVE.format(id="message_search.rowid")}
                   WHERE message_search MATCH ?
                   ORDER BY {first if phrase else ""} bm25(message_search), m.id DESC LIMIT ?""",
                (MATCH_START, MATCH_END, ELLIPSIS, query, *([phrase] if phrase else []), limit)).fetchall()
            return [SearchHit(r["id"], r["conversation_id"], r["title"], r["role"], r["created_at"],
                              r["snippet"] or "", by_keyword=True) for r in rows]
        return await self._store.read(do)

    async def hits(self, scored: list[tuple[int, float]]) -> list[tuple[SearchHit, str]]:
        """The hits (and their full text) for message ids found by meaning, in the given order."""
        def do(conn: sqlite3.Connection) -> list[tuple[SearchHit, str]]:
            ids = json.dumps([message_id for message_id, _score in scored])
            rows = {row["id"]: row for row in conn.execute(
                f"""SELECT m.id, m.conversation_id, c.title, m.role, m.created_at, t.text
                   FROM message_text t {_LIVE.format(id="t.id")}
                   WHERE t.id IN (SELECT value FROM json_each(?))""", (ids,))}
            return [(SearchHit(row["id"], row["conversation_id"], row["title"], row["role"], row["created_at"], "",
                               by_meaning=True, score=score), row["text"] or "")
                    for message_id, score in scored if (row := rows.get(message_id)) is not None]
        return await self._store.read(do)

    async def pending(self, model: str, dimensions: int, limit: int | None = None) -> list[tuple[int, str]]:
        """(id, text) of finished messages with text but no vector from ``model`` at ``dimensions``, oldest
        first."""
        def do(conn: sqlite3.Connection) -> list[tuple[int, str]]:
            # the messages without a vector first, their text after: reading every message's text (JSON) to
            # find the few new ones made each background top-up scan the whole history
            rows = conn.execute(
                """SELECT t.id, t.text FROM (
                       SELECT m.id FROM messages m
                       JOIN conversations c ON c.id = m.conversation_id AND c.deleted_at IS NULL
                       WHERE m.status = 'complete'
                         AND NOT EXISTS (SELECT 1 FROM message_embeddings e
                                         WHERE e.message_id = m.id AND e.model = ? AND e.dimensions = ?)
                       ORDER BY m.id) AS todo
                   JOIN message_text t ON t.id = todo.id
                   WHERE t.text IS NOT NULL AND trim(t.text) != ''
                   ORDER BY t.id LIMIT ?""", (model, dimensions, -1 if limit is None else limit)).fetchall()
            return [(int(r[0]), str(r[1])) for r in rows]
        return await self._store.read(do)

    async def indexed(self, model: str, dimensions: int) -> int:
        """How many messages have a vector from ``model`` at ``dimensions``."""
        def do(conn: sqlite3.Connection) -> int:
            return int(conn.execute("SELECT COUNT(*) FROM message_embeddings WHERE model = ? AND dimensions = ?",
                                    (model, dimensions)).fetchone()[0])
        return await self._store.read(do)

    async def save_vectors(self, model: str, dimensions: int, vectors: Sequence[tuple[int, np.ndarray]]) -> None:
        """Store (message id, unit vector) pairs; a message deleted meanwhile is skipped."""
        from desktop_assistant.core.vectors import to_blob

        def do(conn: sqlite3.Connection) -> None:
            conn.executemany(
                """INSERT OR REPLACE INTO message_embeddings(message_id, model, dimensions, vector)
                   SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM messages WHERE id = ?)""",
                [(mid, model, dimensions, to_blob(v), mid) for mid, v in vectors])
        await self._store.write(do)
        self._matrix = None  # read again at the next search, with these

    async def nearest(self, query: np.ndarray, model: str, k: int, threshold: float) -> list[tuple[int, float]]:
        """The ``k`` stored messages most similar to ``query`` (same model and dimensions), best first; some may
        belong to deleted conversations (:meth:`hits` drops those).

        The first search reads every vector into memory (float16); later ones only score them, off the UI
        thread. :meth:`release` frees them when search is put away.
        """
        from desktop_assistant.core.vectors import load_matrix, top_k_matrix
        key = (model, len(query))
        cached = self._matrix if self._matrix is not None and self._matrix[0] == key else None
        if cached is None:
            dims = len(query)
            ids, matrix = await self._store.read(lambda c: load_matrix(_blocks(c, model, dims), dims))
            cached = self._matrix = (key, ids, matrix)
        _key, ids, matrix = cached
        return await asyncio.to_thread(top_k_matrix, query, ids, matrix, k, threshold)

    def release(self) -> None:
        """Free the vectors held for searching (they stay on disk)."""
        self._matrix = None

    async def repair(self) -> None:
        """Rebuild the keyword index from the messages (if it was ever out of step with them)."""
        def do(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO message_search(message_search) VALUES ('delete-all')")
            conn.execute("INSERT INTO message_search(rowid, text) SELECT id, text FROM message_text")
        await self._store.write(do)


def _blocks(conn: sqlite3.Connection, model: str, dimensions: int) -> Iterator[tuple[list[int], bytes]]:
    # no join here: it doubles the scan; messages of deleted conversations are dropped from the few best by hits()
    cursor = conn.execute("SELECT message_id, vector FROM message_embeddings WHERE model = ? AND dimensions = ?",
                          (model, dimensions))
    while rows := cursor.fetchmany(SCAN_BLOCK):
        yield [r[0] for r in rows], b"".join(r[1] for r in rows)
