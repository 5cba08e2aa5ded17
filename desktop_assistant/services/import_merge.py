"""How an import knows a conversation it brought before, and adds to it what a later export holds (store thread).

A conversation is known by the keys kept in the ``imports`` table when it was imported (its fingerprint: title,
creation time and first message; and where it came from, such as ChatGPT's id for it) and by the fingerprint of
every conversation here, with and without its title. What a later export adds is worked out by
:func:`desktop_assistant.core.import_merge.continuation`.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass

from desktop_assistant.core.export_format import ConversationRecord, MessageRecord, fingerprint_of
from desktop_assistant.core.import_merge import Continuation, StoredMessage, continuation, untitled_fingerprint
from desktop_assistant.core.models import parts_text


@dataclass(frozen=True)
class Match:
    """Who a conversation of the file is here."""

    found: bool  # it is here already (or was met earlier in the same file)
    conversation_id: int | None  # the conversation here (None: new, or met earlier in the same file)
    keys: list[str]  # what it is known by from now on
    looked: list[str]  # every key it may be known by here, the surest first


def known_conversations(conn: sqlite3.Connection) -> dict[str, int | None]:
    """Every key a conversation here is known by, and its id (store thread)."""
    known: dict[str, int | None] = {str(key): cid for key, cid in conn.execute(
        "SELECT fingerprint, conversation_id FROM imports")}
    rows = conn.execute("""SELECT c.id, c.title, c.created_at, (SELECT content FROM messages m
                           WHERE m.conversation_id = c.id AND m.parent_id IS NULL ORDER BY m.id LIMIT 1)
                           FROM conversations c WHERE deleted_at IS NULL""")
    for cid, title, created, content in rows:
        first = parts_text(json.loads(content)) if content else ""
        known.setdefault(fingerprint_of(title, created, first), cid)
        known.setdefault(untitled_fingerprint(created, first), cid)
    return known


def _untitled(record: ConversationRecord) -> str:
    first = next((m.text for m in record.messages if m.parent is None), "")
    return untitled_fingerprint(record.created_at, first)


def match(record: ConversationRecord, known: dict[str, int | None]) -> Match:
    """The conversation here that ``record`` is: by where it came from, else its fingerprint, else, for a record
    that says where it came from, its fingerprint without the title (renamed there)."""
    fingerprint = record.fingerprint()
    keys = [fingerprint, *([record.origin] if record.origin else [])]
    looked = [record.origin, fingerprint, _untitled(record)] if record.origin else [fingerprint]
    found = next((key for key in looked if key in known), None)
    return Match(found is not None, known[found] if found is not None else None, keys, looked)


def remember(met: Match, known: dict[str, int | None]) -> None:
    """Note a conversation of the file as met: a second copy in the same file is skipped."""
    for key in met.looked:
        known[key] = None


@dataclass(frozen=True)
class _Here:
    """A conversation here, as the merge needs it."""

    messages: list[StoredMessage]  # every message, of every version
    title: str
    title_by_user: bool
    leaf: int | None  # the message shown last
    written_since: bool  # the message shown last was written here after the conversation was last imported


def _stored(conn: sqlite3.Connection, conversation_id: int) -> _Here | None:
    row = conn.execute("SELECT title, title_by_user, current_leaf_id, deleted_at FROM conversations WHERE id=?",
                       (conversation_id,)).fetchone()
    if row is None or row[3] is not None:  # deleted here: not brought back by an import
        return None
    messages: list[StoredMessage] = []
    created: dict[int, float] = {}
    for message_id, parent, role, content, when in conn.execute(
            "SELECT id, parent_id, role, content, created_at FROM messages WHERE conversation_id=? ORDER BY id",
            (conversation_id,)):
        messages.append((int(message_id), parent, str(role), parts_text(json.loads(content))))
        created[int(message_id)] = float(when)
    imported = conn.execute("SELECT MAX(imported_at) FROM imports WHERE conversation_id=?",
                            (conversation_id,)).fetchone()[0]
    leaf = row[2]
    since = leaf in created and (imported is None or created[leaf] > float(imported))
    return _Here(messages, str(row[0]), bool(row[1]), leaf, since)


def plan(conn: sqlite3.Connection, conversation_id: int, record: ConversationRecord) -> Continuation | None:
    """What ``record`` would add to the conversation here (None: nothing; it is skipped)."""
    here = _stored(conn, conversation_id)
    return None if here is None else continuation(here.messages, here.title, here.title_by_user, record)


def continue_conversation(conn: sqlite3.Connection, conversation_id: int, record: ConversationRecord,
                          keys: list[str], source: str) -> Continuation | None:
    """Add what ``record`` adds to the conversation here (inside the caller's transaction) and know it by ``keys``
    from now on; returns what was added (None: nothing).

    The version added is the one shown, unless the one shown here was written here since the last import (then
    the added one is a ‹ › away)."""
    here = _stored(conn, conversation_id)
    if here is None:
        return None
    added = continuation(here.messages, here.title, here.title_by_user, record)
    now = time.time()
    if added is None:
        remember_keys(conn, conversation_id, keys, source, now)
        return None
    parent = added.after
    for message in added.added:
        parent = insert_message(conn, conversation_id, message, parent, now)
    sets: list[str] = ["updated_at=MAX(updated_at, ?)"]
    values: list[object] = [record.updated_at or now]
    if added.added and (here.leaf is None or here.leaf in added.found or not here.written_since):
        sets.append("current_leaf_id=?")
        values.append(parent)
    if added.title is not None:
        sets.append("title=?")
        values.append(added.title)
    conn.execute(f"UPDATE conversations SET {', '.join(sets)} WHERE id=?", (*values, conversation_id))
    remember_keys(conn, conversation_id, keys, source, now)  # (after: "written since" is read from the last one)
    return added


def insert_message(conn: sqlite3.Connection, conversation_id: int, m: MessageRecord, parent: int | None,
                   created: float) -> int:
    """Store one imported message under ``parent`` (inside the caller's transaction); returns its id."""
    u = m.usage or {}
    has_usage = bool(m.usage)
    cur = conn.execute(
        """INSERT INTO messages(conversation_id, parent_id, role, content, status, model, input_tokens,
           cached_input_tokens, output_tokens, reasoning_tokens, usage_estimated, cost_micros, finish_reason,
           created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        (conversation_id, parent, m.role, json.dumps(m.parts), m.status, m.model,
         u.get("input_tokens") if has_usage else None, u.get("cached_input_tokens") if has_usage else None,
         u.get("output_tokens") if has_usage else None, u.get("reasoning_tokens") if has_usage else None,
         int(bool(u.get("estimated"))), m.cost_micros, m.finish_reason, m.created_at or created,
         m.updated_at or m.created_at or created))
    return int(cur.lastrowid or 0)


def remember_keys(conn: sqlite3.Connection, conversation_id: int, keys: list[str], source: str, now: float) -> None:
    """Know the conversation by ``keys`` at the next import (inside the caller's transaction)."""
    conn.executemany("INSERT OR IGNORE INTO imports(fingerprint, conversation_id, source, imported_at) "
                     "VALUES (?,?,?,?)", [(key, conversation_id, source, now) for key in keys])
