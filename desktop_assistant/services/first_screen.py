"""The rendered HTML of the replies shown when the app closed, kept in the database for the next start.

The next start paints those replies from it without loading the markdown renderer (markdown-it and the
renderer's modules, ~20 ms); each message view then checks its HTML against a fresh render after the paint
(``MessageView``), so a kept HTML that is out of date shows for a moment at most. Rows belong to their
message (deleted with it) and are replaced at every close, so the table holds one screen of one conversation.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence

from desktop_assistant.core.errors import UserFacingError
from desktop_assistant.core.first_screen import display_part, render_key
from desktop_assistant.core.models import Message, Role
from desktop_assistant.services.store import Store

log = logging.getLogger(__name__)

NEWEST = 8
"""Messages at the end of the conversation whose replies are kept: more than one screen shows at start."""


class FirstScreenCache:
    """Reads the kept HTML before the first paint and replaces it at close."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def load_sync(self) -> dict[int, tuple[bytes, str]]:
        """The kept HTML by message id, with its key (before the event loop runs; a read-only database of an older
        schema, which has no such table, has none)."""
        def select(conn: sqlite3.Connection) -> dict[int, tuple[bytes, str]]:
            rows = conn.execute("SELECT message_id, key, html FROM rendered_html").fetchall()
            return {int(row[0]): (bytes(row[1]), str(row[2])) for row in rows}

        try:
            return self._store.call_sync(lambda: select(self._store.conn))
        except (RuntimeError, sqlite3.Error) as exc:
            log.debug("no kept HTML: %s", exc)
            return {}

    async def save(self, path: Sequence[Message], dark: bool) -> None:
        """Keep the HTML of the replies among the newest :data:`NEWEST` messages of ``path`` (the conversation
        shown) for the ``dark`` or light theme; only replies not kept already as they are now are rendered.

        A cache: a failure (a full disk) is logged, not raised; the next start then renders as usual.
        """
        if self._store.read_only:
            return
        import asyncio  # running, so loaded: not imported before the first paint

        from desktop_assistant.core.render import render_markdown

        wanted = {m.id: display_part(m.text) for m in path[-NEWEST:] if m.role is not Role.USER and m.text.strip()}
        keys = {mid: render_key(shown, dark) for mid, shown in wanted.items()}
        try:
            kept = await self._store.read(lambda conn: dict(conn.execute("SELECT message_id, key FROM rendered_html")))
            todo = {mid: shown for mid, shown in wanted.items() if kept.get(mid) != keys[mid]}
            rendered = await asyncio.to_thread(
                lambda: [(mid, keys[mid], render_markdown(shown, dark=dark)) for mid, shown in todo.items()])

            def replace(conn: sqlite3.Connection) -> None:
                marks = ",".join("?" * len(wanted))
                conn.execute(f"DELETE FROM rendered_html WHERE message_id NOT IN ({marks})", list(wanted))
                conn.executemany("INSERT OR REPLACE INTO rendered_html (message_id, key, html) VALUES (?, ?, ?)",
                                 rendered)
            await self._store.write(replace)
        except (UserFacingError, RuntimeError, sqlite3.Error) as exc:
            log.info("replies' HTML not kept for the next start: %s", exc)
