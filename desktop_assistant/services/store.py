"""The SQLite store: conversations, messages and the usage ledger.

One connection, owned by one worker thread; every public method is a coroutine that runs its SQL there, so
the UI thread never waits on the disk. ``call_sync`` exists for the moment before the event loop runs (the
first paint reads the last conversation that way).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from desktop_assistant.core.errors import ErrorAction, ErrorKind, UserFacingError
from desktop_assistant.core.models import Conversation, LedgerEntry, Message, Role, Status, Usage
from desktop_assistant.services.backup import backup_dir, pre_migration_backup
from desktop_assistant.services.migrations import (
    LATEST,
    MigrationFailedError,
    NewerDatabaseError,
    check_version,
    migrate,
    pending,
)
from desktop_assistant.services.rows import conversation_row as _conversation
from desktop_assistant.services.rows import ledger_entry
from desktop_assistant.services.rows import message_row as _message

__all__ = ["Store", "ledger_entry"]

T = TypeVar("T")

_CONVERSATION_COLUMNS = {"title", "title_by_user", "model", "system_prompt", "temperature", "max_output_tokens",
                         "current_leaf_id", "tools"}


class Store:
    """Conversations and usage in one SQLite file (WAL, one writer thread)."""

    def __init__(self, path: Path, *, migrations: list[list[str]] | None = None) -> None:
        self.path = path
        self.migrations = migrations  # None: the app's own list (tests pass one with a failing step)
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self.started_at_version = 0
        self.interrupted_on_open = 0
        self.interrupted: list[tuple[int, int]] = []  # (reply, conversation) a crash cut short, not counted yet
        self.read_only = False  # opened without upgrading after a failed migration
        self.pre_migration_backup: Path | None = None

    @property
    def backups(self) -> Path:
        """The folder holding backups (next to the database)."""
        return backup_dir(self.path.parent)

    # -- thread plumbing ------------------------------------------------------------------------------------

    def open(self) -> None:
        """Open (creating or migrating) the database; blocking, called once before the loop runs."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        try:
            self.call_sync(self._open)
        except BaseException:
            self._executor.shutdown(wait=True)
            self._executor = None
            raise

    def open_or_recover(self) -> Path | None:
        """Open the database; if the file is damaged, move it aside (nothing is deleted) and start afresh.

        Returns where the damaged file was moved, or None when it opened normally. A database from a newer
        version of the app is never touched: :class:`NewerDatabaseError` is raised as it is; so is
        :class:`MigrationFailedError` (the file is untouched: call :meth:`open_read_only`).
        """
        try:
            self.open()
            return None
        except (NewerDatabaseError, MigrationFailedError):
            raise
        except sqlite3.DatabaseError:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            moved = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
            for suffix in ("", "-wal", "-shm"):
                source = Path(str(self.path) + suffix)
                if source.exists():
                    source.replace(Path(str(moved) + suffix))
            self.open()
            return moved

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        conn.row_factory = sqlite3.Row
        try:
            start = check_version(conn)  # before anything writes to a file from a newer app
            backup: Path | None = None
            target = LATEST if self.migrations is None else len(self.migrations)
            if pending(conn, target):
                try:  # an existing database is about to change: copy it first, or do not change it
                    backup = self.pre_migration_backup = pre_migration_backup(conn, self.path.parent, start)
                except UserFacingError as exc:
                    raise MigrationFailedError(start, target, exc, None) from exc
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            try:
                self.started_at_version = migrate(conn, self.migrations)
            except sqlite3.Error as exc:
                raise MigrationFailedError(start, target, exc, str(backup) if backup else None) from exc
            # a reply left `streaming` by a crash: keep what arrived, mark it interrupted (and count it later)
            self.interrupted = [(int(row[0]), int(row[1])) for row in conn.execute(
                "SELECT id, conversation_id FROM messages WHERE status=? AND role=? AND output_tokens IS NULL",
                (Status.STREAMING.value, Role.ASSISTANT.value))]
            cur = conn.execute("UPDATE messages SET status=? WHERE status=?",
                               (Status.INTERRUPTED.value, Status.STREAMING.value))
            self.interrupted_on_open = cur.rowcount
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def open_read_only(self) -> None:
        """Open the database as it is, without upgrading or writing anything (after a failed migration)."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")

        def do() -> None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA query_only=ON")
            self.started_at_version = check_version(conn)
            self._conn = conn
        try:
            self.call_sync(do)
        except BaseException:
            self._executor.shutdown(wait=True)
            self._executor = None
            raise
        self.read_only = True

    def call_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the store thread and wait for it (only before the event loop runs)."""
        executor = self._executor  # read once: close() on the loop may set it to None meanwhile
        if executor is None:
            raise RuntimeError("store is not open")
        return executor.submit(fn, *args).result()

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise RuntimeError("store is not open")
        import asyncio  # running, so loaded: not imported before the first paint

        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection (only to be used on the store thread)."""
        if self._conn is None:
            raise RuntimeError("store is not open")
        return self._conn

    def _tx(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self.conn
        if self.read_only:
            raise UserFacingError(ErrorKind.STORAGE, "Your conversations are open read-only because the database "
                                  "could not be upgraded; nothing can be saved until the app is updated or the "
                                  "database restored from a backup.", ErrorAction.NONE)
        try:
            conn.execute("BEGIN IMMEDIATE")
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:  # SQLite may already have rolled back (a full disk does)
                conn.execute("ROLLBACK")
            mapped = _storage_error(exc) if isinstance(exc, sqlite3.OperationalError) else None
            if mapped is not None:
                raise mapped from exc
            raise
        return result

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read-only query function on the store thread (for query modules such as usage reports)."""
        return await self._run(lambda: fn(self.conn))

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one write transaction on the store thread (for modules such as import)."""
        return await self._run(self._tx, fn)

    async def flush(self) -> None:
        """Wait until every write queued so far is on disk."""
        await self._run(lambda: None)

    async def close(self) -> None:
        """Finish queued writes, checkpoint and close."""
        if self._executor is None:
            return
        await self._run(self._close)
        self._executor.shutdown(wait=True)
        self._executor = None

    def close_sync(self) -> None:
        """Close without an event loop (tests, failed start-up)."""
        if self._executor is None:
            return
        self.call_sync(self._close)
        self._executor.shutdown(wait=True)
        self._executor = None

    def _close(self) -> None:
        if self._conn is not None:
            if not self.read_only:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._conn.close()
            self._conn = None

    # -- conversations --------------------------------------------------------------------------------------

    def list_conversations_sync(self) -> list[Conversation]:
        """Every conversation not deleted, newest activity first, with its cost so far (store thread)."""
        rows = self.conn.execute(
            """SELECT c.*, COALESCE((SELECT SUM(cost_micros) FROM usage_ledger u
                                     WHERE u.conversation_id = c.id), 0) AS cost
               FROM conversations c WHERE deleted_at IS NULL ORDER BY updated_at DESC, id DESC"""
        ).fetchall()
        return [_conversation(r) for r in rows]

    async def list_conversations(self) -> list[Conversation]:
        """Every conversation not deleted, newest activity first."""
        return await self._run(self.list_conversations_sync)

    async def create_conversation(
        self, model: str, *, title: str = "", system_prompt: str = "",
        temperature: float | None = None, max_output_tokens: int | None = None,
    ) -> Conversation:
        """Create an empty conversation."""
        def do(conn: sqlite3.Connection) -> Conversation:
            now = time.time()
            cur = conn.execute(
                """INSERT INTO conversations(title, model, system_prompt, temperature, max_output_tokens,
                   created_at, updated_at) VALUES (?,?,?,?,?,?,?)""",
                (title, model, system_prompt, temperature, max_output_tokens, now, now))
            row = conn.execute("SELECT *, 0 AS cost FROM conversations WHERE id=?", (cur.lastrowid,)).fetchone()
            return _conversation(row)
        return await self._run(self._tx, do)

    def get_conversation_sync(self, conversation_id: int) -> Conversation | None:
        """One conversation (store thread), or None if it does not exist or was deleted."""
        row = self.conn.execute(
            """SELECT c.*, COALESCE((SELECT SUM(cost_micros) FROM usage_ledger u
                                     WHERE u.conversation_id = c.id), 0) AS cost
               FROM conversations c WHERE id=? AND deleted_at IS NULL""", (conversation_id,)).fetchone()
        return _conversation(row) if row else None

    async def get_conversation(self, conversation_id: int) -> Conversation | None:
        """One conversation, or None."""
        return await self._run(self.get_conversation_sync, conversation_id)

    async def update_conversation(self, conversation_id: int, *, touch: bool = False, **fields: Any) -> None:
        """Change the given columns of a conversation (``touch`` also moves it to the top)."""
        unknown = set(fields) - _CONVERSATION_COLUMNS
        if unknown:
            raise ValueError(f"unknown conversation fields: {sorted(unknown)}")

        def do(conn: sqlite3.Connection) -> None:
            sets = [f"{name}=?" for name in fields]
            values = [json.dumps(v) if isinstance(v, list) else v for v in fields.values()]  # tools: JSON
            if touch:
                sets.append("updated_at=?")
                values.append(time.time())
            if sets:
                conn.execute(f"UPDATE conversations SET {', '.join(sets)} WHERE id=?", (*values, conversation_id))
        await self._run(self._tx, do)

    async def delete_conversation(self, conversation_id: int) -> None:
        """Hide a conversation (undoable until :meth:`purge_deleted`)."""
        await self._run(self._tx, lambda c: c.execute(
            "UPDATE conversations SET deleted_at=? WHERE id=?", (time.time(), conversation_id)))

    async def restore_conversation(self, conversation_id: int) -> None:
        """Undo a delete."""
        await self._run(self._tx, lambda c: c.execute(
            "UPDATE conversations SET deleted_at=NULL WHERE id=?", (conversation_id,)))

    async def purge_deleted(self) -> int:
        """Remove deleted conversations for good (their ledger rows stay, unlinked); returns how many."""
        if self.read_only:
            return 0
        return await self._run(self._tx, lambda c: c.execute(
            "DELETE FROM conversations WHERE deleted_at IS NOT NULL").rowcount)

    # -- messages -------------------------------------------------------------------------------------------

    def messages_sync(self, conversation_id: int) -> list[Message]:
        """Every message of a conversation, all branches, oldest first (store thread)."""
        rows = self.conn.execute(
            "SELECT * FROM messages WHERE conversation_id=? ORDER BY id", (conversation_id,)).fetchall()
        return [_message(r) for r in rows]

    async def messages(self, conversation_id: int) -> list[Message]:
        """Every message of a conversation, all branches, oldest first."""
        return await self._run(self.messages_sync, conversation_id)

    async def add_message(
        self, conversation_id: int, parent_id: int | None, role: Role, parts: list[dict[str, Any]],
        *, status: Status = Status.COMPLETE, model: str | None = None,
    ) -> Message:
        """Append a message and make it the conversation's current leaf."""
        def do(conn: sqlite3.Connection) -> Message:
            now = time.time()
            cur = conn.execute(
                """INSERT INTO messages(conversation_id, parent_id, role, content, status, model, created_at,
                   updated_at) VALUES (?,?,?,?,?,?,?,?)""",
                (conversation_id, parent_id, role.value, json.dumps(parts), status.value, model, now, now))
            conn.execute("UPDATE conversations SET current_leaf_id=?, updated_at=? WHERE id=?",
                         (cur.lastrowid, now, conversation_id))
            return _message(conn.execute("SELECT * FROM messages WHERE id=?", (cur.lastrowid,)).fetchone())
        return await self._run(self._tx, do)

    async def update_message(
        self, message_id: int, *, parts: list[dict[str, Any]] | None = None, status: Status | None = None,
        usage: Usage | None = None, cost_micros: int | None = None, finish_reason: str | None = None,
        error: str | None = None, error_action: str | None = None, model: str | None = None,
    ) -> None:
        """Change a message's content, status, usage or error (only the arguments given)."""
        sets: list[str] = ["updated_at=?"]
        values: list[Any] = [time.time()]
        if parts is not None:
            sets.append("content=?")
            values.append(json.dumps(parts))
        if status is not None:
            sets.append("status=?")
            values.append(status.value)
        if usage is not None:
            sets += ["input_tokens=?", "cached_input_tokens=?", "output_tokens=?", "reasoning_tokens=?",
                     "usage_estimated=?"]
            values += [usage.input_tokens, usage.cached_input_tokens, usage.output_tokens,
                       usage.reasoning_tokens, int(usage.estimated)]
        for name, value in (("cost_micros", cost_micros), ("finish_reason", finish_reason), ("error", error),
                            ("error_action", error_action), ("model", model)):
            if value is not None:
                sets.append(f"{name}=?")
                values.append(value)
        await self._run(self._tx, lambda c: c.execute(
            f"UPDATE messages SET {', '.join(sets)} WHERE id=?", (*values, message_id)))

    async def delete_message(self, message_id: int) -> None:
        """Remove a message and its replies (a failed empty reply being retried)."""
        def do(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT conversation_id, parent_id FROM messages WHERE id=?", (message_id,)).fetchone()
            if row is None:
                return
            conn.execute("DELETE FROM messages WHERE id=?", (message_id,))
            conn.execute("UPDATE conversations SET current_leaf_id=? WHERE id=? AND current_leaf_id=?",
                         (row["parent_id"], row["conversation_id"], message_id))
        await self._run(self._tx, do)

    # -- usage ledger ---------------------------------------------------------------------------------------

    async def record_usage(self, entry: LedgerEntry) -> int:
        """Write one ledger row; returns its id."""
        u = entry.usage

        def do(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                """INSERT INTO usage_ledger(created_at, feature, conversation_id, message_id, model,
                   input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, estimated, cost_micros,
                   audio_input_tokens, audio_output_tokens, job, batch)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                (entry.created_at or time.time(), entry.feature, entry.conversation_id, entry.message_id,
                 entry.model, u.input_tokens, u.cached_input_tokens, u.output_tokens, u.reasoning_tokens,
                 int(u.estimated), entry.cost_micros, u.audio_input_tokens, u.audio_output_tokens, entry.job,
                 int(entry.batch)))
            return int(cur.lastrowid or 0)
        return await self._run(self._tx, do)

    async def ledger(self, conversation_id: int | None = None) -> list[LedgerEntry]:
        """Ledger rows, oldest first (of one conversation, if given)."""
        def do() -> list[LedgerEntry]:
            if conversation_id is None:
                rows = self.conn.execute("SELECT * FROM usage_ledger ORDER BY id").fetchall()
            else:
                rows = self.conn.execute("SELECT * FROM usage_ledger WHERE conversation_id=? ORDER BY id",
                                         (conversation_id,)).fetchall()
            return [ledger_entry(r) for r in rows]
        return await self._run(do)

    async def conversation_cost(self, conversation_id: int) -> int:
        """What a conversation has cost so far, in micro-dollars (calls with an unknown price count 0)."""
        return await self._run(lambda: int(self.conn.execute(
            "SELECT COALESCE(SUM(cost_micros), 0) FROM usage_ledger WHERE conversation_id=?",
            (conversation_id,)).fetchone()[0]))


def _storage_error(exc: sqlite3.OperationalError) -> UserFacingError | None:
    """What a person can do about a storage failure (None: not one of those)."""
    text = str(exc).lower()
    if "full" in text:
        return UserFacingError(ErrorKind.STORAGE, "Your disk is full, so this could not be saved. Free some space "
                               "and try again; nothing already saved was lost.", ErrorAction.RETRY, detail=str(exc))
    if "locked" in text or "busy" in text:
        return UserFacingError(ErrorKind.STORAGE, "The conversation database is busy (another program is using "
                               "it). Try again in a moment.", ErrorAction.RETRY, detail=str(exc))
    if "readonly" in text or "read-only" in text:
        return UserFacingError(ErrorKind.STORAGE, "The conversation database cannot be written (the folder is "
                               "read-only). Check its permissions.", ErrorAction.NONE, detail=str(exc))
    return None
