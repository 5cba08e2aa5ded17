"""The store's table of token counts behind :data:`desktop_assistant.core.token_counts.MEMO`.

Counts are looked up in one query per request (on the store thread, waited for by the counting thread) and
saved in batches after each count; the table keeps the newest :data:`KEEP` rows.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from desktop_assistant.core.errors import UserFacingError
from desktop_assistant.core.token_counts import MEMO, CountMemo
from desktop_assistant.services.store import Store

log = logging.getLogger(__name__)

KEEP = 200_000
"""Rows kept (~10 MB on disk); a count forgotten is simply made again when it is next needed."""

_CHUNK = 900  # keys per query: under SQLite's oldest limit of 999 variables


class TokenCountCache:
    """Remembered token counts in the conversation database: the memo's loader, and its saver."""

    def __init__(self, store: Store, memo: CountMemo = MEMO) -> None:
        self._store = store
        self._memo = memo

    def install(self) -> None:
        """Let the memo look up counts made in earlier sessions (from worker threads: see :meth:`load_off_ui`)."""
        self._memo.loader = self.load_off_ui

    def uninstall(self) -> None:
        """Stop looking counts up here (the store is closing)."""
        if self._memo.loader == self.load_off_ui:
            self._memo.loader = None

    def load_off_ui(self, keys: list[bytes]) -> dict[bytes, int]:
        """The memo's loader: :meth:`load` on a worker thread; nothing on the UI (main) thread, which never waits
        for the store thread (it may be busy with a backup, a restore or an import for seconds). The few counts
        made on the UI thread (a title, a stopped reply, a search query) are of new texts, made by the tokenizer."""
        if threading.current_thread() is threading.main_thread():
            return {}
        return self.load(keys)

    def load(self, keys: list[bytes]) -> dict[bytes, int]:
        """The remembered counts of ``keys`` (from any thread but the store's; waits for the store thread)."""
        try:
            return self._store.call_sync(self._select, keys)
        except (RuntimeError, sqlite3.Error) as exc:  # closed, or a database that could not be upgraded
            log.debug("token counts not available: %s", exc)
            return {}

    async def save(self) -> None:
        """Write the counts made since the last save. A count that cannot be written (a full disk) is only made
        again when next needed, so a failure here is not the person's concern: it is logged, not raised."""
        rows = self._memo.take_unsaved()
        if not rows or self._store.read_only:
            return
        try:
            await self._store.write(lambda conn: conn.executemany(
                "INSERT OR IGNORE INTO token_counts (key, tokens) VALUES (?, ?)", rows))
        except (UserFacingError, RuntimeError, sqlite3.Error) as exc:
            log.info("token counts not saved: %s", exc)

    async def prune(self) -> None:
        """Keep only the newest :data:`KEEP` rows. Housekeeping, as :meth:`save`: a failure (a full disk) is
        logged, not raised, so that the start-up work after it goes on; the rows are pruned at a later start."""
        if self._store.read_only:
            return
        try:
            await self._store.write(lambda conn: conn.execute(
                "DELETE FROM token_counts WHERE id <= (SELECT MAX(id) FROM token_counts) - ?", (KEEP,)))
        except (UserFacingError, RuntimeError, sqlite3.Error) as exc:
            log.info("token counts not pruned: %s", exc)

    def _select(self, keys: list[bytes]) -> dict[bytes, int]:
        conn = self._store.conn
        found: dict[bytes, int] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(conn.execute(f"SELECT key, tokens FROM token_counts WHERE key IN ({marks})", chunk))
        return found
