"""The words being written in the composer and not sent yet, kept in the database (one draft, as one box).

Saved a moment after typing stops and at close (``controllers/drafts.py``), read back before the first paint:
closing the app, a crash or a power cut loses at most the last second of typing. The draft lives with the
conversations (and their backups), never in a settings file.
"""

from __future__ import annotations

import logging
import sqlite3

from desktop_assistant.core.errors import UserFacingError
from desktop_assistant.services.store import Store

log = logging.getLogger(__name__)


class DraftStore:
    """Reads and replaces the kept draft."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def load_sync(self) -> str:
        """The draft kept by the last session, or ``""`` (before the event loop runs; a database of an older
        schema opened read-only has none)."""
        def select(conn: sqlite3.Connection) -> str:
            row = conn.execute("SELECT text FROM draft WHERE id = 1").fetchone()
            return str(row[0]) if row else ""

        try:
            return self._store.call_sync(lambda: select(self._store.conn))
        except (RuntimeError, sqlite3.Error) as exc:
            log.debug("no kept draft: %s", exc)
            return ""

    async def save(self, text: str) -> bool:
        """Keep ``text`` as the draft (an empty one removes it); False when it could not be written (a full
        disk, a database opened read-only): the words are still in the box, and the next save tries again."""
        if self._store.read_only:
            return False

        def replace(conn: sqlite3.Connection) -> None:
            if text:
                conn.execute("INSERT OR REPLACE INTO draft (id, text) VALUES (1, ?)", (text,))
            else:
                conn.execute("DELETE FROM draft")
        try:
            await self._store.write(replace)
        except (UserFacingError, RuntimeError, sqlite3.Error) as exc:
            log.warning("the draft could not be kept: %s", exc)
            return False
        return True
