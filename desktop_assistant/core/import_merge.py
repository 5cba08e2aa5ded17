"""A conversation imported again, from a later export: what was added to it since, to add here too.

A later export of a conversation imported before holds the same beginning and, when it was continued there, more
messages after it. Those are added after the last message the two have in common, on the path shown there;
when it was continued here as well, the added messages become another version of the reply (a branch), and
nothing written here is replaced. Pure: the store is read and written elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_assistant.core.export_format import ConversationRecord, MessageRecord, fingerprint_of

StoredMessage = tuple[int, str, str]
"""A message here on the path shown: its id, role and text."""


@dataclass(frozen=True)
class Continuation:
    """What a later export adds to a conversation here."""

    after: int | None  # the message here the added ones follow (None: a new first question)
    added: tuple[MessageRecord, ...]  # the record's messages after the common part, in order
    title: str | None  # the title there, when it changed and was not given here


def untitled_fingerprint(created_at: float, first_text: str) -> str:
    """The identity of a conversation without its title (a conversation renamed there is still the same one)."""
    return fingerprint_of("", created_at, first_text)


def continuation(stored: list[StoredMessage], stored_title: str, title_by_user: bool,
                 record: ConversationRecord) -> Continuation | None:
    """What ``record`` (the conversation as exported again) adds to ``stored`` (its path shown here, first message
    first); None when it adds nothing."""
    path = record.active_path()
    common = 0
    for (_id, role, text), message in zip(stored, path, strict=False):
        if role != message.role or text.strip() != message.text.strip():
            break
        common += 1
    added = tuple(path[common:])
    title = record.title.strip()
    renamed = title if title and title != stored_title and not title_by_user else None
    if not added and renamed is None:
        return None
    return Continuation(stored[common - 1][0] if common else None, added, renamed)
