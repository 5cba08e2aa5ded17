"""Schema migrations, one list of statements per version, applied by ``PRAGMA user_version``.

Each migration runs in one explicit transaction on the store's own thread (never ``executescript``, which
commits first). A database from a newer version of the app is refused, never migrated down.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: list[list[str]] = [
    # 1: conversations, messages as a tree of content parts, the usage ledger
    [
        """CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',
            title_by_user INTEGER NOT NULL DEFAULT 0,
            model TEXT NOT NULL,
            system_prompt TEXT NOT NULL DEFAULT '',
            temperature REAL,
            max_output_tokens INTEGER,
            current_leaf_id INTEGER,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            deleted_at REAL
        )""",
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            parent_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,
            role TEXT NOT NULL,
            content TEXT NOT NULL,
            status TEXT NOT NULL,
            model TEXT,
            input_tokens INTEGER,
            cached_input_tokens INTEGER,
            output_tokens INTEGER,
            reasoning_tokens INTEGER,
            usage_estimated INTEGER NOT NULL DEFAULT 0,
            cost_micros INTEGER,
            finish_reason TEXT,
            error TEXT,
            error_action TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX messages_by_conversation ON messages(conversation_id, id)",
        """CREATE TABLE usage_ledger (
            id INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            feature TEXT NOT NULL,
            conversation_id INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
            message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
            model TEXT NOT NULL,
            input_tokens INTEGER NOT NULL,
            cached_input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL DEFAULT 0,
            estimated INTEGER NOT NULL DEFAULT 0,
            cost_micros INTEGER
        )""",
        "CREATE INDEX usage_by_conversation ON usage_ledger(conversation_id)",
        "CREATE INDEX usage_by_time ON usage_ledger(created_at)",
    ],
]

LATEST = len(MIGRATIONS)


class NewerDatabaseError(RuntimeError):
    """The database was written by a newer version of the app."""


def check_version(conn: sqlite3.Connection) -> int:
    """The schema version of ``conn``; raises :class:`NewerDatabaseError` for one this app does not know."""
    start = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if start > LATEST:
        raise NewerDatabaseError(
            f"This conversation database was written by a newer version of the app (schema {start}; this "
            f"version knows {LATEST}). Update the app to open it; nothing was changed."
        )
    return start


def migrate(conn: sqlite3.Connection) -> int:
    """Bring ``conn`` (autocommit mode) to the latest schema; returns the version it started at."""
    start = check_version(conn)
    for version in range(start + 1, LATEST + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return start
