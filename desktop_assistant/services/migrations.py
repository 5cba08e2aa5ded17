"""Schema migrations, one list of statements per version, applied by ``PRAGMA user_version``.

All pending migrations run in one explicit transaction on the store's own thread (never ``executescript``,
which commits first): if any step fails, the file is left exactly as it was (schema version included). A
database from a newer version of the app is refused, never migrated down. The store copies the file to
``backups/`` before migrating an existing database (see :mod:`desktop_assistant.services.backup`).
"""

from __future__ import annotations

import sqlite3

# The searchable text of a message: its text parts (not images, files or refusals), one per line.
_TEXT_OF = ("(SELECT group_concat(json_extract(part.value, '$.text'), char(10)) FROM json_each({content}) AS part "
            "WHERE json_extract(part.value, '$.type') = 'text')")

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
    # 2: audio tokens, the job (bulk run, batch) a call belongs to, and whether it was billed at batch price
    [
        "ALTER TABLE usage_ledger ADD COLUMN audio_input_tokens INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE usage_ledger ADD COLUMN audio_output_tokens INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE usage_ledger ADD COLUMN job TEXT",
        "ALTER TABLE usage_ledger ADD COLUMN batch INTEGER NOT NULL DEFAULT 0",
    ],
    # 3: a daily roll-up of the ledger kept by a trigger, so the usage panel reads thousands of rows, not millions
    [
        """CREATE TABLE usage_daily (
            day TEXT NOT NULL,
            feature TEXT NOT NULL,
            model TEXT NOT NULL,
            calls INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            cached_input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_micros INTEGER NOT NULL DEFAULT 0,
            unpriced_calls INTEGER NOT NULL DEFAULT 0,
            estimated_calls INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, feature, model)
        ) WITHOUT ROWID""",
        """CREATE TRIGGER usage_daily_add AFTER INSERT ON usage_ledger BEGIN
            INSERT INTO usage_daily(day, feature, model, calls, input_tokens, cached_input_tokens, output_tokens,
                                    cost_micros, unpriced_calls, estimated_calls)
            VALUES (date(NEW.created_at, 'unixepoch', 'localtime'), NEW.feature, NEW.model, 1, NEW.input_tokens,
                    NEW.cached_input_tokens, NEW.output_tokens, COALESCE(NEW.cost_micros, 0),
                    NEW.cost_micros IS NULL, NEW.estimated)
            ON CONFLICT(day, feature, model) DO UPDATE SET
                calls = calls + 1,
                input_tokens = input_tokens + excluded.input_tokens,
                cached_input_tokens = cached_input_tokens + excluded.cached_input_tokens,
                output_tokens = output_tokens + excluded.output_tokens,
                cost_micros = cost_micros + excluded.cost_micros,
                unpriced_calls = unpriced_calls + excluded.unpriced_calls,
                estimated_calls = estimated_calls + excluded.estimated_calls;
        END""",
        """INSERT INTO usage_daily(day, feature, model, calls, input_tokens, cached_input_tokens, output_tokens,
                                  cost_micros, unpriced_calls, estimated_calls)
           SELECT date(created_at, 'unixepoch', 'localtime'), feature, model, COUNT(*), SUM(input_tokens),
                  SUM(cached_input_tokens), SUM(output_tokens), COALESCE(SUM(cost_micros), 0),
                  SUM(cost_micros IS NULL), SUM(estimated)
           FROM usage_ledger GROUP BY 1, 2, 3""",
    ],
    # 4: what was imported (a fingerprint per conversation), so a second import of the same file skips it
    [
        """CREATE TABLE imports (
            fingerprint TEXT PRIMARY KEY,
            conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
            source TEXT NOT NULL,
            imported_at REAL NOT NULL
        )""",
        "CREATE INDEX imports_by_conversation ON imports(conversation_id)",
    ],
    # 5: extraction: the person's own schemas, and Batch API jobs (so a restarted app picks a batch up again)
    [
        """CREATE TABLE extraction_schemas (
            name TEXT PRIMARY KEY,
            schema TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE batch_jobs (
            id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            model TEXT NOT NULL,
            mode TEXT NOT NULL,
            schema_name TEXT NOT NULL,
            schema TEXT NOT NULL,
            inputs TEXT NOT NULL,
            input_file_id TEXT NOT NULL,
            status TEXT NOT NULL,
            total INTEGER NOT NULL DEFAULT 0,
            completed INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            output_file_id TEXT,
            error_file_id TEXT,
            results TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            collected_at REAL
        )""",
        "CREATE INDEX batch_jobs_open ON batch_jobs(collected_at)",
    ],
    # 6: search. A full-text index of every message's text parts, kept by triggers (the text is read from the
    # message itself through a view, so it is not stored twice), and embeddings for search by meaning
    [
        f"CREATE VIEW message_text(id, text) AS SELECT id, {_TEXT_OF.format(content='content')} FROM messages",
        """CREATE VIRTUAL TABLE message_search USING fts5(text, content='message_text', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2', prefix='2 3')""",
        f"""CREATE TRIGGER message_search_add AFTER INSERT ON messages BEGIN
            INSERT INTO message_search(rowid, text) VALUES (NEW.id, {_TEXT_OF.format(content='NEW.content')});
        END""",
        f"""CREATE TRIGGER message_search_drop AFTER DELETE ON messages BEGIN
            INSERT INTO message_search(message_search, rowid, text)
            VALUES ('delete', OLD.id, {_TEXT_OF.format(content='OLD.content')});
        END""",
        f"""CREATE TRIGGER message_search_change AFTER UPDATE OF content ON messages BEGIN
            INSERT INTO message_search(message_search, rowid, text)
            VALUES ('delete', OLD.id, {_TEXT_OF.format(content='OLD.content')});
            INSERT INTO message_search(rowid, text) VALUES (NEW.id, {_TEXT_OF.format(content='NEW.content')});
            DELETE FROM message_embeddings WHERE message_id = NEW.id;
        END""",
        "INSERT INTO message_search(rowid, text) SELECT id, text FROM message_text",
        """CREATE TABLE message_embeddings (
            message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            dimensions INTEGER NOT NULL,
            vector BLOB NOT NULL
        )""",
    ],
    # 7: prompt lab. Named prompts with immutable versions, test sets (cases as JSON), and runs with their cells
    # (a run keeps a copy of its cases, so it reopens and compares as it ran even after the set is edited)
    [
        """CREATE TABLE lab_prompts (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE lab_prompt_versions (
            prompt_id INTEGER NOT NULL REFERENCES lab_prompts(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            system_prompt TEXT NOT NULL,
            user_template TEXT NOT NULL,
            model TEXT NOT NULL,
            temperature REAL,
            max_output_tokens INTEGER NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            PRIMARY KEY (prompt_id, version)
        )""",
        """CREATE TRIGGER lab_prompt_versions_immutable BEFORE UPDATE ON lab_prompt_versions BEGIN
            SELECT RAISE(ABORT, 'a prompt version cannot be changed; save a new version');
        END""",
        """CREATE TABLE lab_test_sets (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            cases TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE lab_runs (
            id INTEGER PRIMARY KEY,
            set_name TEXT NOT NULL,
            cases TEXT NOT NULL,
            columns TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX lab_runs_by_set ON lab_runs(set_name, created_at)",
        """CREATE TABLE lab_cells (
            run_id INTEGER NOT NULL REFERENCES lab_runs(id) ON DELETE CASCADE,
            column_index INTEGER NOT NULL,
            case_index INTEGER NOT NULL,
            output TEXT NOT NULL,
            checks TEXT NOT NULL,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_micros INTEGER,
            latency_ms INTEGER,
            error TEXT,
            created_at REAL NOT NULL,
            PRIMARY KEY (run_id, column_index, case_index)
        )""",
        """CREATE TABLE lab_batch_jobs (
            id TEXT PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES lab_runs(id) ON DELETE CASCADE,
            input_file_id TEXT NOT NULL,
            status TEXT NOT NULL,
            output_file_id TEXT,
            error_file_id TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            collected_at REAL
        )""",
    ],
    # 8: tools in chat. The MCP servers whose tools a conversation may use (a JSON list of server ids)
    [
        "ALTER TABLE conversations ADD COLUMN tools TEXT NOT NULL DEFAULT '[]'",
    ],
    # 9: token counts remembered by a digest of their encoding and text (core/token_counts.py), so that a
    # conversation shown again is counted without loading the tokenizer; the oldest rows go first
    [
        """CREATE TABLE token_counts (
            id INTEGER PRIMARY KEY,
            key BLOB NOT NULL UNIQUE,
            tokens INTEGER NOT NULL
        )""",
    ],
    # 10: the HTML of the replies shown first when the app last closed (core/first_screen.py), so that the next
    # start paints them without loading the markdown renderer; replaced at each close
    [
        """CREATE TABLE rendered_html (
            message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
            key BLOB NOT NULL,
            html TEXT NOT NULL
        )""",
    ],
    # 11: the words being written in the box and not sent yet (services/drafts.py), so that closing the app, a
    # crash or a power cut does not lose them
    [
        """CREATE TABLE draft (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            text TEXT NOT NULL
        )""",
    ],
    # 12: the images and files attached to the draft (JSON, services/drafts.py): a screenshot waiting with its
    # question survives closing the app as the words do
    [
        "ALTER TABLE draft ADD COLUMN attachments TEXT NOT NULL DEFAULT '{}'",
    ],
    # 13: other words being written and not sent yet, by name (services/drafts.py): Extract's instructions and
    # input, so that closing the app does not lose them either
    [
        """CREATE TABLE kept_text (
            name TEXT PRIMARY KEY,
            text TEXT NOT NULL
        )""",
    ],
    # 14: a draft for each conversation (services/drafts.py; 0: a new chat not stored yet), so that words written
    # in one chat never follow into another; the one draft of before goes to the conversation shown at start
    [
        """CREATE TABLE drafts (
            conversation_id INTEGER PRIMARY KEY,
            text TEXT NOT NULL,
            attachments TEXT NOT NULL DEFAULT '{}'
        )""",
        """INSERT INTO drafts (conversation_id, text, attachments)
            SELECT COALESCE((SELECT id FROM conversations WHERE deleted_at IS NULL
                             ORDER BY updated_at DESC, id DESC LIMIT 1), 0), text, attachments FROM draft""",
        "DROP TABLE draft",
    ],
    # 15: why a batch failed (the API's words, services/extraction_store.py), so that the status line still says it
    # after a restart
    [
        "ALTER TABLE batch_jobs ADD COLUMN errors TEXT NOT NULL DEFAULT '[]'",
    ],
]

LATEST = len(MIGRATIONS)


class NewerDatabaseError(RuntimeError):
    """The database was written by a newer version of the app."""


class MigrationFailedError(RuntimeError):
    """A schema upgrade failed and was rolled back: the file is exactly as it was before."""

    def __init__(self, from_version: int, to_version: int, cause: BaseException, backup: str | None) -> None:
        self.from_version = from_version
        self.to_version = to_version
        self.cause = cause
        self.backup = backup
        where = f" A copy made before the upgrade is at {backup}." if backup else ""
        super().__init__(
            f"Your conversation database could not be upgraded (schema {from_version} to {to_version}: {cause}). "
            f"Nothing was changed: the app opened it read-only, so you can read and export your conversations."
            f"{where}")


def pending(conn: sqlite3.Connection, target: int = LATEST) -> bool:
    """True when ``conn`` holds data at an older schema (a migration would change an existing database)."""
    version = check_version(conn)
    if version >= target:
        return False
    return version > 0 or conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] > 0


def check_version(conn: sqlite3.Connection) -> int:
    """The schema version of ``conn``; raises :class:`NewerDatabaseError` for one this app does not know."""
    start = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if start > LATEST:
        raise NewerDatabaseError(
            f"This conversation database was written by a newer version of the app (schema {start}; this "
            f"version knows {LATEST}). Update the app to open it; nothing was changed."
        )
    return start


def migrate(conn: sqlite3.Connection, migrations: list[list[str]] | None = None) -> int:
    """Bring ``conn`` (autocommit mode) to the latest schema in one transaction; returns the starting version.

    ``migrations`` replaces :data:`MIGRATIONS` (tests use it to make a step fail).
    """
    steps = MIGRATIONS if migrations is None else migrations
    start = check_version(conn)
    if start >= len(steps):
        return start
    conn.execute("BEGIN IMMEDIATE")
    try:
        for version in range(start + 1, len(steps) + 1):
            for statement in steps[version - 1]:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {len(steps)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return start
