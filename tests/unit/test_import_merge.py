"""What a later export of a conversation adds to it here."""

from __future__ import annotations

from desktop_assistant.core.export_format import ConversationRecord, MessageRecord
from desktop_assistant.core.import_merge import StoredMessage, continuation


def record(title: str, *turns: tuple[str, str]) -> ConversationRecord:
    messages = [MessageRecord(i + 1, i or None, role, [{"type": "text", "text": text}])
                for i, (role, text) in enumerate(turns)]
    return ConversationRecord(title, "gpt-4o", messages, current_leaf=len(messages))


HERE: list[StoredMessage] = [(10, None, "user", "Hi"), (11, 10, "assistant", "Hello"),
                             (12, 10, "assistant", "Hello again")]  # a regenerated answer: two versions


def test_the_messages_after_the_part_found_here_are_added_after_its_last_one() -> None:
    later = record("Chat", ("user", "Hi"), ("assistant", "Hello "), ("user", "More?"), ("assistant", "Sure."))
    added = continuation(HERE, "Chat", False, later)
    assert added is not None and added.after == 11 and added.title is None and added.found == (10, 11)
    assert [m.text for m in added.added] == ["More?", "Sure."]


def test_any_version_here_counts_as_found() -> None:
    assert continuation(HERE, "Chat", False, record("Chat", ("user", "Hi"), ("assistant", "Hello again"))) is None
    assert continuation(HERE, "Chat", False, record("Chat", ("user", "Hi"), ("assistant", "Hello"))) is None


def test_nothing_new_is_nothing_and_a_new_name_alone_is_a_rename() -> None:
    renamed = continuation(HERE, "Chat", False, record("Greetings", ("user", "Hi"), ("assistant", "Hello")))
    assert renamed is not None and renamed.added == () and renamed.title == "Greetings"
    assert continuation(HERE, "Mine", True, record("Greetings", ("user", "Hi"), ("assistant", "Hello"))) is None


def test_a_first_question_edited_there_starts_another_version_from_the_start() -> None:
    added = continuation(HERE, "Chat", False, record("Chat", ("user", "Hey"), ("assistant", "Yo")))
    assert added is not None and added.after is None and len(added.added) == 2 and added.found == ()
