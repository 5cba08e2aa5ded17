"""Backups of the open store: back up now, automatic daily backups with rotation, restore with a preview.

Everything that touches the live connection runs on the store's own thread (through :meth:`Store.read`);
reading a backup file for its preview runs on a worker thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from desktop_assistant.core.errors import ErrorKind, UserFacingError
from desktop_assistant.core.models import Status
from desktop_assistant.core.restore_loss import RestoreLoss, restore_loss
from desktop_assistant.services import backup
from desktop_assistant.services.backup import BackupInfo
from desktop_assistant.services.migrations import migrate
from desktop_assistant.services.store import Store


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did."""

    restored: BackupInfo
    kept_current_at: Path  # the database as it was before the restore
    started_at_version: int  # the backup's schema version (migrated to the latest if older)
    spending_kept: int = 0  # calls recorded after the backup was made, carried over (the limits count them)
    drafts_kept: int = 0  # unsent drafts carried over (of a new chat, and of the conversations the backup has)


class StoreBackups:
    """Backups of one :class:`Store`."""

    def __init__(self, store: Store, folder: Path | None = None) -> None:
        self.store = store
        self.folder = folder or store.backups

    async def back_up_to(self, dest: Path) -> Path:
        """Copy the database to ``dest`` now (a file the person chose)."""
        return await self.store.read(lambda conn: backup.copy_database(conn, dest))

    async def auto_backup_if_due(self, keep: int, now: float | None = None) -> Path | None:
        """Write the daily automatic backup when one is due (``keep`` 0: automatic backups are off)."""
        if keep <= 0 or not await asyncio.to_thread(backup.auto_backup_due, self.folder, now):
            return None
        return await self.store.read(lambda conn: backup.auto_backup(conn, self.folder, keep, now))

    async def inspect(self, path: Path) -> BackupInfo:
        """What ``path`` holds (conversations, messages, date), read without changing it."""
        return await asyncio.to_thread(backup.inspect, path)

    async def preview(self, path: Path) -> tuple[BackupInfo, RestoreLoss]:
        """What ``path`` holds, and what restoring it would take away from the conversations there are now."""
        info = await self.inspect(path)
        current = await self.store.list_conversations()
        return info, restore_loss((((c.id, c.created_at), c.title, c.updated_at) for c in current), info.updated)

    async def restore(self, path: Path) -> RestoreResult:
        """Replace the database with the backup at ``path``; the current database is kept as a backup first."""
        if self.store.read_only:
            raise UserFacingError(ErrorKind.STORAGE, "The database is open read-only (its upgrade failed), so a "
                                  "backup cannot be restored into it by this version of the app.")
        return await self.store.read(lambda conn: self._restore(conn, path))

    def _restore(self, conn: sqlite3.Connection, path: Path) -> RestoreResult:
        info = backup.inspect(path)
        kept = backup.restore_into(conn, path, self.folder)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            started = migrate(conn, self.store.migrations)
        except sqlite3.Error as exc:  # put the database back as it was
            src = sqlite3.connect(kept)
            try:
                src.backup(conn)
            finally:
                src.close()
            raise UserFacingError(ErrorKind.STORAGE, f"The backup could not be brought up to date ({exc}); your "
                                  "database was put back as it was.", detail=str(exc)) from exc
        conn.execute("UPDATE messages SET status=? WHERE status=?", (Status.INTERRUPTED.value, Status.STREAMING.value))
        conn.execute("ATTACH DATABASE ? AS before_restore", (str(kept),))
        # a plain path: a URI is read as one only where SQLite was built to (else a new file named "file:…" is made)
        try:
            return RestoreResult(info, kept, started, _carry_over_spending(conn), _carry_over_drafts(conn))
        finally:
            conn.execute("DETACH DATABASE before_restore")


def _carry_over_drafts(conn: sqlite3.Connection) -> int:
    """Copy into the restored database the words being written and not sent yet (attached ``before_restore``):
    the new chat's draft, the drafts of the conversations the backup has too (the words now replace the backup's
    older ones), and Extract's inputs. A restore replaced them with the backup's without a word. The drafts of
    conversations the backup does not have stay with them in the copy kept of the database. Returns how many
    drafts were carried over."""
    # what was written since wins, an emptied box too; a conversation back from the backup keeps its draft
    conn.execute("""DELETE FROM main.drafts WHERE conversation_id = 0
                    OR conversation_id IN (SELECT id FROM before_restore.conversations)""")
    cursor = conn.execute(
        """INSERT INTO main.drafts (conversation_id, text, attachments)
            SELECT conversation_id, text, attachments FROM before_restore.drafts
            WHERE conversation_id = 0 OR conversation_id IN (SELECT id FROM main.conversations)""")
    conn.execute("DELETE FROM main.kept_text")
    conn.execute("INSERT INTO main.kept_text (name, text) SELECT name, text FROM before_restore.kept_text")
    return max(cursor.rowcount, 0)


def _carry_over_spending(conn: sqlite3.Connection) -> int:
    """Copy into the restored database the calls the database replaced (attached ``before_restore``) recorded after
    the backup's last one: what was spent since is still spent (a restore wiped it, and with it what the spending
    limits count). A call keeps its conversation only when the restored database has it. Returns how many calls
    were carried over."""
    columns = [row[1] for row in conn.execute("PRAGMA table_info(usage_ledger)") if row[1] != "id"]
    linked = {"conversation_id": "conversations", "message_id": "messages"}
    picked = ", ".join(f"CASE WHEN b.{c} IN (SELECT id FROM main.{linked[c]}) THEN b.{c} END" if c in linked
                       else f"b.{c}" for c in columns)
    known = {row[1] for row in conn.execute("PRAGMA before_restore.table_info(usage_ledger)")}
    if not set(columns) <= known:
        return 0  # (the copy is of this app's schema: it always has them)
    cursor = conn.execute(
        f"""INSERT INTO main.usage_ledger ({", ".join(columns)})
            SELECT {picked} FROM before_restore.usage_ledger AS b
            WHERE b.created_at > (SELECT COALESCE(MAX(created_at), 0) FROM main.usage_ledger)
            ORDER BY b.id""")
    return max(cursor.rowcount, 0)
