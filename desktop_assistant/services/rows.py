"""Rows of the store's tables as the app's plain data."""

from __future__ import annotations

import json
import sqlite3

from desktop_assistant.core.models import Conversation, LedgerEntry, Message, Role, Status, Usage


def conversation_row(row: sqlite3.Row) -> Conversation:
    """A conversations row (with its ``cost``) as a :class:`Conversation`."""
    return Conversation(
        id=row["id"], title=row["title"], model=row["model"], system_prompt=row["system_prompt"],
        temperature=row["temperature"], max_output_tokens=row["max_output_tokens"],
        current_leaf_id=row["current_leaf_id"], title_by_user=bool(row["title_by_user"]),
        created_at=row["created_at"], updated_at=row["updated_at"], cost_micros=int(row["cost"] or 0),
        tools=server_ids(row["tools"] if "tools" in row.keys() else None))  # noqa: SIM118 (Row: in checks values)


def server_ids(raw: str | None) -> list[str]:
    """The enabled tool servers of a conversation (a damaged value reads as none)."""
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def message_row(row: sqlite3.Row) -> Message:
    """A messages row as a :class:`Message`."""
    usage = None
    if row["input_tokens"] is not None or row["output_tokens"] is not None:
        usage = Usage(row["input_tokens"] or 0, row["cached_input_tokens"] or 0, row["output_tokens"] or 0,
                      row["reasoning_tokens"] or 0, bool(row["usage_estimated"]))
    return Message(
        id=row["id"], conversation_id=row["conversation_id"], parent_id=row["parent_id"], role=Role(row["role"]),
        parts=json.loads(row["content"]), status=Status(row["status"]), model=row["model"], usage=usage,
        cost_micros=row["cost_micros"], finish_reason=row["finish_reason"], error=row["error"],
        error_action=row["error_action"], created_at=row["created_at"], updated_at=row["updated_at"])


def ledger_entry(row: sqlite3.Row) -> LedgerEntry:
    """A ledger row as a :class:`LedgerEntry`."""
    usage = Usage(row["input_tokens"], row["cached_input_tokens"], row["output_tokens"], row["reasoning_tokens"],
                  bool(row["estimated"]), row["audio_input_tokens"], row["audio_output_tokens"])
    return LedgerEntry(feature=row["feature"], model=row["model"], usage=usage, cost_micros=row["cost_micros"],
                       conversation_id=row["conversation_id"], message_id=row["message_id"],
                       created_at=row["created_at"], id=row["id"], job=row["job"], batch=bool(row["batch"]))
