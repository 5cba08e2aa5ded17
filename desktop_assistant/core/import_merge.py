"""A conversation imported again, from a later export: what was added to it since, to add here too.

A later export of a conversation imported before holds the same beginning and, when it was continued there, more
messages after it. Those are added after the last message found here on the path shown there (any version of
it: a message is never added twice); when it was continued here as well, the added messages become another
version of the reply (a branch), and nothing written here is replaced. Pure: the store is read and written elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_assistant.core.export_format import ConversationRecord, MessageRecord, fingerprint_of

StoredMessage = tuple[int, int | None, str, str]
"""A message here: its id, its parent's id, role and text."""


@dataclass(frozen=True)
class Continuation:
    """What a later export adds to a conversation here."""

    after: int | None  # the message here the added ones follow (None: a new first question)
    added: tuple[MessageRecord, ...]  # the record's messages after the part found here, in order
    title: str | None  # the title there, when it changed and was not given here
    found: tuple[int, ...] = ()  # the messages here that the record's path runs through, first first


def untitled_fingerprint(created_at: float, first_text: str) -> str:
    """The identity of a conversation without its title (a conversation renamed there is still the same one)."""
    return fingerprint_of("", created_at, first_text)


def continuation(stored: list[StoredMessage], stored_title: str, title_by_user: bool,
                 record: ConversationRecord) -> Continuation | None:
    """What ``record`` (the conversation as exported again) adds to ``stored`` (every message here, of every
    version); None when it adds nothing.

    The record's path (the version shown there) is followed down the messages here, version by version: what is
    found is not added again, whichever version is shown here; the rest follows the last message found.
    """
    children: dict[int | None, list[StoredMessage]] = {}
    for here in stored:
        children.setdefault(here[1], []).append(here)
    path = record.active_path()
    found: list[int] = []
    parent: int | None = None
    for message in path:
        text = message.text.strip()
        twin = next((m for m in children.get(parent, []) if m[2] == message.role and m[3].strip() == text), None)
        if twin is None:
            break
        found.append(twin[0])
        parent = twin[0]
    added = tuple(path[len(found):])
    title = record.title.strip()
    renamed = title if title and title != stored_title and not title_by_user else None
    if not added and renamed is None:
        return None
    return Continuation(parent, added, renamed, tuple(found))
