"""The words being written in the composer and not sent yet, kept in the database (one draft, as one box), with
the images and files attached to them.

Saved a moment after typing stops and at close (``controllers/drafts.py``), read back before the first paint:
closing the app, a crash or a power cut loses at most the last second of typing. The draft lives with the
conversations (and their backups), never in a settings file. Its images are kept by reference: the image store
already holds each attached image (by hash) from the moment it was attached.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from desktop_assistant.core.errors import UserFacingError
from desktop_assistant.services.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeptDraft:
    """A draft as kept: its words, and its images and files as the attachments controller describes them (one
    JSON-ready dict each)."""

    text: str = ""
    images: tuple[dict[str, Any], ...] = field(default=())
    files: tuple[dict[str, Any], ...] = field(default=())

    @property
    def empty(self) -> bool:
        """Nothing written and nothing attached."""
        return not self.text and not self.images and not self.files


def _attachments_json(draft: KeptDraft) -> str:
    return json.dumps({"images": list(draft.images), "files": list(draft.files)}, ensure_ascii=False)


def _from_row(text: str, attachments: str | None) -> KeptDraft:
    try:
        kept = json.loads(attachments or "{}")
    except ValueError:
        log.warning("the attachments kept with the draft could not be read; its words are kept")
        kept = {}
    images = kept.get("images", []) if isinstance(kept, dict) else []
    files = kept.get("files", []) if isinstance(kept, dict) else []
    return KeptDraft(text, tuple(i for i in images if isinstance(i, dict)),
                     tuple(f for f in files if isinstance(f, dict)))


class DraftStore:
    """Reads and replaces the kept draft."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def load_sync(self) -> KeptDraft:
        """The draft kept by the last session, or an empty one (before the event loop runs; a database of an older
        schema opened read-only has none, or only its words)."""
        def select(conn: sqlite3.Connection) -> KeptDraft:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(draft)")}
            if "attachments" not in columns:  # schema 11, opened read-only after a failed upgrade
                row = conn.execute("SELECT text FROM draft WHERE id = 1").fetchone()
                return KeptDraft(str(row[0])) if row else KeptDraft()
            row = conn.execute("SELECT text, attachments FROM draft WHERE id = 1").fetchone()
            return _from_row(str(row[0]), row[1]) if row else KeptDraft()

        try:
            return self._store.call_sync(lambda: select(self._store.conn))
        except (RuntimeError, sqlite3.Error) as exc:
            log.debug("no kept draft: %s", exc)
            return KeptDraft()

    async def save(self, draft: KeptDraft) -> bool:
        """Keep ``draft`` (an empty one removes it); False when it could not be written (a full disk, a database
        opened read-only): the words are still in the box, and the next save tries again."""
        def replace(conn: sqlite3.Connection) -> None:
            if not draft.empty:
                conn.execute("INSERT OR REPLACE INTO draft (id, text, attachments) VALUES (1, ?, ?)",
                             (draft.text, _attachments_json(draft)))
            else:
                conn.execute("DELETE FROM draft")
        return await self._write(replace, "the draft")

    async def texts(self) -> dict[str, str]:
        """The other texts kept by name (Extract's instructions and input); none from an older database."""
        def select(conn: sqlite3.Connection) -> dict[str, str]:
            return {str(name): str(text) for name, text in conn.execute("SELECT name, text FROM kept_text")}
        try:
            return await self._store.read(select)
        except (RuntimeError, sqlite3.Error) as exc:
            log.debug("no kept texts: %s", exc)
            return {}

    async def keep_text(self, name: str, text: str) -> bool:
        """Keep ``text`` under ``name`` (an empty one removes it); False when it could not be written."""
        def replace(conn: sqlite3.Connection) -> None:
            if text:
                conn.execute("INSERT OR REPLACE INTO kept_text (name, text) VALUES (?, ?)", (name, text))
            else:
                conn.execute("DELETE FROM kept_text WHERE name = ?", (name,))
        return await self._write(replace, name)

    async def _write(self, replace: Callable[[sqlite3.Connection], None], what: str) -> bool:
        """Run ``replace`` in one write transaction; False (logged) when it could not be written: a full disk, a
        database opened read-only."""
        if self._store.read_only:
            return False
        try:
            await self._store.write(replace)
        except (UserFacingError, RuntimeError, sqlite3.Error) as exc:
            log.warning("%s could not be kept: %s", what, exc)
            return False
        return True
