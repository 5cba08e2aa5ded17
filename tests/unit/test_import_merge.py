"""What a later export of a conversation adds to it here."""

from __future__ import annotations

from desktop_assistant.core.export_format import ConversationRecord, MessageRecord
from desktop_assistant.core.import_merge import continuation


def record(title: str, *turns: tuple[str, str]) -> ConversationRecord:
    messages = [MessageRecord(i + 1, i or None, role, [{"type": "text", "text": text}])
                for i, (role, text) in enumerate(turns)]
    return ConversationRecord(title, "gpt-4o", messages, current_leaf=len(messages))


def test_the_messages_after_the_common_part_are_added_after_its_last_one() -> None:
    stored = [(10, "user", "Hi"), (11, "assistant", "Hello")]
    later = record("Chat", ("user", "Hi"), ("assistant", "Hello "), ("user", "More?"), ("assistant", "Sure."))
    added = continuation(stored, "Chat", False, later)
    assert added is not None and added.after == 11 and added.title is None
    assert [m.text for m in added.added] == ["More?", "Sure."]


def test_nothing_new_is_nothing_and_a_new_name_alone_is_a_rename() -> None:
    stored = [(10, "user", "Hi"), (11, "assistant", "Hello")]
    assert continuation(stored, "Chat", False, record("Chat", ("user", "Hi"), ("assistant", "Hello"))) is None
    renamed = continuation(stored, "Chat", False, record("Greetings", ("user", "Hi"), ("assistant", "Hello")))
    assert renamed is not None and renamed.added == () and renamed.title == "Greetings"
    assert continuation(stored, "Mine", True, record("Greetings", ("user", "Hi"), ("assistant", "Hello"))) is None


def test_a_first_question_edited_there_starts_another_version_from_the_start() -> None:
    stored = [(10, "user", "Hi"), (11, "assistant", "Hello")]
    added = continuation(stored, "Chat", False, record("Chat", ("user", "Hey"), ("assistant", "Yo")))
    assert added is not None and added.after is None and len(added.added) == 2
