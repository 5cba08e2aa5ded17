"""Branches of a conversation: the active path, siblings and the newest leaf of a subtree."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from desktop_assistant.core.branches import active_path, newest_leaf_under, siblings
from desktop_assistant.core.models import Message, Role, text_part


def msg(mid: int, parent_id: int | None, role: Role, text: str = "") -> Message:
    return Message(id=mid, conversation_id=1, parent_id=parent_id, role=role, parts=[text_part(text or f"m{mid}")])


def ids(messages: list[Message]) -> list[int]:
    return [m.id for m in messages]


@pytest.fixture
def tree() -> list[Message]:
    """A conversation with an edited question and a regenerated reply.

    1 user
    ├── 2 assistant
    │   └── 3 user
    │       ├── 4 assistant
    │       └── 6 assistant (regenerated)
    │           └── 8 user
    └── 5 assistant (regenerated)
    7 user (edit of 1: a second root)
    └── 9 assistant
    """
    return [
        msg(1, None, Role.USER),
        msg(2, 1, Role.ASSISTANT),
        msg(3, 2, Role.USER),
        msg(4, 3, Role.ASSISTANT),
        msg(5, 1, Role.ASSISTANT),
        msg(6, 3, Role.ASSISTANT),
        msg(7, None, Role.USER),
        msg(8, 6, Role.USER),
        msg(9, 7, Role.ASSISTANT),
    ]


# --- active_path ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        (1, [1]),
        (2, [1, 2]),
        (4, [1, 2, 3, 4]),
        (6, [1, 2, 3, 6]),
        (8, [1, 2, 3, 6, 8]),
        (5, [1, 5]),
        (7, [7]),
        (9, [7, 9]),
    ],
)
def test_active_path_root_to_leaf(tree: list[Message], leaf: int, expected: list[int]) -> None:
    assert ids(active_path(tree, leaf)) == expected


def test_active_path_returns_the_message_objects(tree: list[Message]) -> None:
    path = active_path(tree, 4)
    by_id = {m.id: m for m in tree}
    assert all(m is by_id[m.id] for m in path)


@pytest.mark.parametrize("leaf", [None, 999, -1, 0])
def test_active_path_unknown_leaf_is_newest_messages_path(tree: list[Message], leaf: int | None) -> None:
    assert ids(active_path(tree, leaf)) == [7, 9]


def test_active_path_unknown_leaf_newest_deep(tree: list[Message]) -> None:
    without_second_root = [m for m in tree if m.id not in (7, 9)]
    assert ids(active_path(without_second_root, None)) == [1, 2, 3, 6, 8]


def test_active_path_order_of_input_does_not_matter(tree: list[Message]) -> None:
    assert ids(active_path(list(reversed(tree)), 8)) == [1, 2, 3, 6, 8]


def test_active_path_accepts_iterator(tree: list[Message]) -> None:
    assert ids(active_path(iter(tree), 6)) == [1, 2, 3, 6]


@pytest.mark.parametrize("leaf", [None, 1, 5])
def test_active_path_empty(leaf: int | None) -> None:
    assert active_path([], leaf) == []


def test_active_path_single_message() -> None:
    assert ids(active_path([msg(1, None, Role.USER)], None)) == [1]


def test_active_path_missing_parent_stops_at_orphan() -> None:
    messages = [msg(5, 3, Role.USER), msg(6, 5, Role.ASSISTANT)]  # 3 was deleted
    assert ids(active_path(messages, 6)) == [5, 6]


def test_active_path_cycle_is_safe() -> None:
    messages = [msg(1, 3, Role.USER), msg(2, 1, Role.ASSISTANT), msg(3, 2, Role.USER)]
    path = active_path(messages, 3)
    assert sorted(ids(path)) == [1, 2, 3]
    assert ids(path)[-1] == 3


def test_active_path_self_parent_is_safe() -> None:
    assert ids(active_path([msg(1, 1, Role.USER)], 1)) == [1]


def test_active_path_cycle_above_leaf_is_safe() -> None:
    messages = [msg(1, 2, Role.USER), msg(2, 1, Role.ASSISTANT), msg(3, 2, Role.USER)]
    path = active_path(messages, 3)
    assert ids(path)[-1] == 3
    assert len(ids(path)) == len(set(ids(path))) == 3


# --- siblings -------------------------------------------------------------------------------------------


def test_siblings_of_regenerated_reply(tree: list[Message]) -> None:
    by_id = {m.id: m for m in tree}
    assert ids(siblings(tree, by_id[4])) == [4, 6]
    assert ids(siblings(tree, by_id[6])) == [4, 6]
    assert ids(siblings(tree, by_id[2])) == [2, 5]


def test_siblings_of_edited_root_question(tree: list[Message]) -> None:
    by_id = {m.id: m for m in tree}
    assert ids(siblings(tree, by_id[1])) == [1, 7]
    assert ids(siblings(tree, by_id[7])) == [1, 7]


def test_siblings_only_child_is_itself(tree: list[Message]) -> None:
    by_id = {m.id: m for m in tree}
    assert ids(siblings(tree, by_id[8])) == [8]
    assert ids(siblings(tree, by_id[3])) == [3]


def test_siblings_same_role_only() -> None:
    messages = [
        msg(1, None, Role.USER),
        msg(2, 1, Role.ASSISTANT),
        msg(3, 1, Role.USER),  # a follow-up sent after a failed reply: same parent, other role
        msg(4, 1, Role.ASSISTANT),
    ]
    by_id = {m.id: m for m in messages}
    assert ids(siblings(messages, by_id[2])) == [2, 4]
    assert ids(siblings(messages, by_id[3])) == [3]


def test_siblings_sorted_by_id(tree: list[Message]) -> None:
    by_id = {m.id: m for m in tree}
    assert ids(siblings(list(reversed(tree)), by_id[6])) == [4, 6]


def test_siblings_message_not_in_list() -> None:
    outsider = msg(10, 1, Role.ASSISTANT)
    messages = [msg(1, None, Role.USER), msg(2, 1, Role.ASSISTANT)]
    assert ids(siblings(messages, outsider)) == [2]


# --- newest_leaf_under ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        (1, 5),  # the newest child at each step: 1 -> 5, not the newest leaf overall (8)
        (2, 8),
        (3, 8),
        (4, 4),
        (5, 5),
        (6, 8),
        (7, 9),
        (8, 8),
        (9, 9),
    ],
)
def test_newest_leaf_under(tree: list[Message], root: int, expected: int) -> None:
    assert newest_leaf_under(tree, root) == expected


def test_newest_leaf_under_follows_newest_child_each_step() -> None:
    messages = [
        msg(1, None, Role.USER),
        msg(2, 1, Role.ASSISTANT),
        msg(3, 1, Role.ASSISTANT),
        msg(4, 2, Role.USER),
        msg(5, 3, Role.USER),
        msg(6, 4, Role.ASSISTANT),
    ]
    # 1 -> 3 (newest child) -> 5; the newer message 6 under the older child 2 is not taken
    assert newest_leaf_under(messages, 1) == 5


def test_newest_leaf_under_unknown_root_is_itself(tree: list[Message]) -> None:
    assert newest_leaf_under(tree, 999) == 999


def test_newest_leaf_under_empty() -> None:
    assert newest_leaf_under([], 1) == 1


def test_newest_leaf_under_accepts_iterator(tree: list[Message]) -> None:
    assert newest_leaf_under(iter(tree), 3) == 8


def test_newest_leaf_then_active_path(tree: list[Message]) -> None:
    """Switching to a sibling shows its branch down to the newest leaf below it."""
    by_id = {m.id: m for m in tree}
    sibling = siblings(tree, by_id[4])[-1]
    assert ids(active_path(tree, newest_leaf_under(tree, sibling.id))) == [1, 2, 3, 6, 8]


def test_newest_leaf_under_cycle_is_safe() -> None:
    code = textwrap.dedent(
        """
        from desktop_assistant.core.branches import newest_leaf_under
        from desktop_assistant.core.models import Message, Role
        messages = [Message(1, 1, 2, Role.USER, []), Message(2, 1, 1, Role.ASSISTANT, [])]
        print(newest_leaf_under(messages, 1))
        """
    )
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail("newest_leaf_under did not return on a parent cycle")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in {"1", "2"}
