"""The words being written in the composer and not sent yet, kept in the database with the images and files
attached to them: one draft for each conversation (key 0: a new chat, not stored until its first message).

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
    JSON-ready dict each); ``edit``: an earlier question of the conversation being edited meanwhile (its id, and
    the words of the edit), which comes back in the box when the conversation is opened again."""

    text: str = ""
    images: tuple[dict[str, Any], ...] = field(default=())
    files: tuple[dict[str, Any], ...] = field(default=())
    edit: tuple[int, str] | None = None

    @property
    def empty(self) -> bool:
        """Nothing written, attached or edited."""
        return not self.text and not self.images and not self.files and self.edit is None


def _attachments_json(draft: KeptDraft) -> str:
    kept: dict[str, Any] = {"images": list(draft.images), "files": list(draft.files)}
    if draft.edit is not None:  # in the attachments' JSON: an older version of the app reads the draft as before
        kept["edit"] = {"message_id": draft.edit[0], "text": draft.edit[1]}
    return json.dumps(kept, ensure_ascii=False)


def _edit_from(kept: Any) -> tuple[int, str] | None:
    edit = kept.get("edit") if isinstance(kept, dict) else None
    if not isinstance(edit, dict):
        return None
    message_id, text = edit.get("message_id"), edit.get("text")
    return (message_id, text) if isinstance(message_id, int) and isinstance(text, str) else None


def _from_row(text: str, attachments: str | None) -> KeptDraft:
    try:
        kept = json.loads(attachments or "{}")
    except ValueError:
        log.warning("the attachments kept with the draft could not be read; its words are kept")
        kept = {}
    images = kept.get("images", []) if isinstance(kept, dict) else []
    files = kept.get("files", []) if isinstance(kept, dict) else []
    return KeptDraft(text, tuple(i for i in images if isinstance(i, dict)),
                     tuple(f for f in files if isinstance(f, dict)), _edit_from(kept))


NEW_CHAT = 0
"""The key of the draft of a new chat (conversation ids start at 1)."""


def draft_key(conversation_id: int | None) -> int:
    """The key a conversation's draft is kept under (``None``: a new chat)."""
    return NEW_CHAT if conversation_id is None else conversation_id


def _select(conn: sqlite3.Connection, key: int) -> KeptDraft:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "drafts" in tables:
        row = conn.execute("SELECT text, attachments FROM drafts WHERE conversation_id = ?", (key,)).fetchone()
        return _from_row(str(row[0]), row[1]) if row else KeptDraft()
    if "draft" not in tables:
        return KeptDraft()
    columns = {row[1] for row in conn.execute("PRAGMA table_info(draft)")}  # schema 11 to 13, opened read-only
    if "attachments" not in columns:
        row = conn.execute("SELECT text FROM draft WHERE id = 1").fetchone()
        return KeptDraft(str(row[0])) if row else KeptDraft()
    row = conn.execute("SELECT text, attachments FROM draft WHERE id = 1").fetchone()
    return _from_row(str(row[0]), row[1]) if row else KeptDraft()


class DraftStore:
    """Reads and replaces the kept drafts, one for each conversation."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def load_sync(self, conversation_id: int | None = None) -> KeptDraft:
        """The draft kept for a conversation (``None``: a new chat), or an empty one (before the event loop runs).
        A database of an older schema opened read-only has its one draft for any conversation (or only its
        words, or none)."""
        try:
            return self._store.call_sync(lambda: _select(self._store.conn, draft_key(conversation_id)))
        except (RuntimeError, sqlite3.Error) as exc:
            log.debug("no kept draft: %s", exc)
            return KeptDraft()

    async def load(self, conversation_id: int | None) -> KeptDraft:
        """The draft kept for a conversation (``None``: a new chat), or an empty one."""
        try:
            return await self._store.read(lambda conn: _select(conn, draft_key(conversation_id)))
        except (RuntimeError, sqlite3.Error) as exc:
            log.debug("no kept draft: %s", exc)
            return KeptDraft()

    async def save(self, conversation_id: int | None, draft: KeptDraft) -> bool:
        """Keep ``draft`` for a conversation (an empty one removes it); False when it could not be written (a full
        disk, a database opened read-only): the words are still in the box, and the next save tries again."""
        key = draft_key(conversation_id)

        def replace(conn: sqlite3.Connection) -> None:
            if not draft.empty:
                conn.execute("INSERT OR REPLACE INTO drafts (conversation_id, text, attachments) VALUES (?, ?, ?)",
                             (key, draft.text, _attachments_json(draft)))
            else:
                conn.execute("DELETE FROM drafts WHERE conversation_id = ?", (key,))
        return await self._write(replace, "the draft")

    async def prune(self) -> None:
        """Remove the drafts of conversations deleted for good."""
        def delete(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM drafts WHERE conversation_id != ? AND conversation_id NOT IN "
                         "(SELECT id FROM conversations)", (NEW_CHAT,))
        await self._write(delete, "pruning drafts")

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
