"""Branches of a conversation: messages form a tree (an edit or a regenerate adds a sibling)."""

from __future__ import annotations

from collections.abc import Iterable

from desktop_assistant.core.models import Message


def active_path(messages: Iterable[Message], leaf_id: int | None) -> list[Message]:
    """The messages from the root down to ``leaf_id``, oldest first (the newest leaf if ``leaf_id`` is unknown)."""
    by_id = {m.id: m for m in messages}
    if not by_id:
        return []
    if leaf_id not in by_id:
        leaf_id = max(by_id)
    path: list[Message] = []
    node: Message | None = by_id.get(leaf_id) if leaf_id is not None else None
    seen: set[int] = set()
    while node is not None and node.id not in seen:
        seen.add(node.id)
        path.append(node)
        node = by_id.get(node.parent_id) if node.parent_id is not None else None
    path.reverse()
    return path


def siblings(messages: Iterable[Message], message: Message) -> list[Message]:
    """The alternatives of ``message`` (same parent and role), oldest first, itself included."""
    return sorted(
        (m for m in messages if m.parent_id == message.parent_id and m.role == message.role),
        key=lambda m: m.id,
    )


def alternative_position(messages: Iterable[Message], message: Message) -> tuple[int, int]:
    """(position, count) of ``message`` among its alternatives, 1-based."""
    alts = siblings(messages, message)
    return alts.index(message) + 1 if message in alts else 1, len(alts)


def newest_leaf_under(messages: Iterable[Message], root_id: int) -> int:
    """The newest message in the subtree of ``root_id`` (following the newest child at each step)."""
    children: dict[int | None, list[int]] = {}
    for m in messages:
        children.setdefault(m.parent_id, []).append(m.id)
    node, seen = root_id, {root_id}
    while children.get(node):
        child = max(children[node])
        if child in seen:  # corrupt parent links: stop rather than loop
            break
        seen.add(child)
        node = child
    return node
