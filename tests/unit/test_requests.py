"""The chat request body: wire messages, per-family parameters, legacy max_tokens, continuation."""

from __future__ import annotations

from typing import Any

import pytest

from desktop_assistant.core.models import Message, Role, Status, text_part
from desktop_assistant.core.requests import (
    WireMessage,
    chat_body,
    clean_title,
    continue_messages,
    to_legacy_max_tokens,
    wire_message,
    wire_messages,
)

IMAGE_PART: dict[str, Any] = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}


def msg(
    mid: int,
    role: Role,
    *parts: dict[str, Any] | str,
    parent_id: int | None = None,
    status: Status = Status.COMPLETE,
) -> Message:
    """A message whose string parts become text parts."""
    built = [text_part(p) if isinstance(p, str) else p for p in parts]
    return Message(id=mid, conversation_id=1, parent_id=parent_id, role=role, parts=built, status=status)


# --- wire_message ---------------------------------------------------------------------------------------


def test_wire_message_text_only_is_plain_string() -> None:
    assert wire_message(msg(1, Role.USER, "Hello")) == {"role": "user", "content": "Hello"}


def test_wire_message_several_text_parts_are_joined() -> None:
    assert wire_message(msg(1, Role.ASSISTANT, "Hel", "lo")) == {"role": "assistant", "content": "Hello"}


def test_wire_message_no_parts_is_empty_string() -> None:
    assert wire_message(msg(1, Role.USER)) == {"role": "user", "content": ""}


def test_wire_message_with_image_keeps_parts_list() -> None:
    message = msg(1, Role.USER, "What is this?", IMAGE_PART)
    wire = wire_message(message)
    assert wire == {"role": "user", "content": [text_part("What is this?"), IMAGE_PART]}
    assert isinstance(wire["content"], list)


def test_wire_message_parts_are_copies() -> None:
    message = msg(1, Role.USER, "look", IMAGE_PART)
    wire = wire_message(message)
    wire["content"][0]["text"] = "changed"
    assert message.parts[0]["text"] == "look"


def test_wire_message_role_is_plain_str_value() -> None:
    wire = wire_message(msg(1, Role.SYSTEM, "Be brief."))
    assert wire["role"] == "system"
    assert type(wire["role"]) is str


# --- wire_messages --------------------------------------------------------------------------------------


def test_wire_messages_system_prompt_first() -> None:
    path = [msg(1, Role.USER, "Hi"), msg(2, Role.ASSISTANT, "Hello!", parent_id=1)]
    assert wire_messages("Be brief.", path) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
    ]


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t "])
def test_wire_messages_blank_system_prompt_left_out(prompt: str) -> None:
    assert wire_messages(prompt, [msg(1, Role.USER, "Hi")]) == [{"role": "user", "content": "Hi"}]


def test_wire_messages_system_prompt_sent_as_written() -> None:
    assert wire_messages("  Be brief.\n", [])[0] == {"role": "system", "content": "  Be brief.\n"}


def test_wire_messages_empty_path() -> None:
    assert wire_messages("", []) == []
    assert wire_messages("S", []) == [{"role": "system", "content": "S"}]


@pytest.mark.parametrize("text", ["", "  ", "\n"])
def test_wire_messages_leave_out_empty_assistant_replies_and_the_questions_they_failed(text: str) -> None:
    parts = (text,) if text else ()
    path = [
        msg(1, Role.USER, "Q1"),
        msg(2, Role.ASSISTANT, *parts, parent_id=1, status=Status.ERROR),
        msg(3, Role.USER, "Q2", parent_id=2),
    ]
    # Q1 got no answer: later requests do not carry it (nor pay for it); Retry on its reply asks it again
    assert wire_messages("", path) == [{"role": "user", "content": "Q2"}]
    assert wire_messages("", path[:1]) == [{"role": "user", "content": "Q1"}]  # Retry: the question alone


def test_a_question_whose_reply_is_still_arriving_is_counted() -> None:
    """Not a question left unanswered: what the next request will carry includes it (the figure under the box
    read 3 tokens while the first reply of a chat streamed)."""
    path = [msg(1, Role.USER, "Q1"), msg(2, Role.ASSISTANT, "", parent_id=1, status=Status.STREAMING)]
    assert wire_messages("", path) == [{"role": "user", "content": "Q1"}]


def test_wire_messages_keep_empty_user_messages() -> None:
    assert wire_messages("", [msg(1, Role.USER, "")]) == [{"role": "user", "content": ""}]


def test_wire_messages_keep_partial_assistant_reply() -> None:
    path = [msg(1, Role.USER, "Q"), msg(2, Role.ASSISTANT, "Half an ans", parent_id=1, status=Status.STOPPED)]
    assert wire_messages("", path)[-1] == {"role": "assistant", "content": "Half an ans"}


def test_wire_messages_accepts_any_iterable() -> None:
    path = (m for m in [msg(1, Role.USER, "a"), msg(2, Role.USER, "b")])
    assert [w["content"] for w in wire_messages("", path)] == ["a", "b"]


# --- chat_body ------------------------------------------------------------------------------------------

MESSAGES: list[WireMessage] = [{"role": "user", "content": "Hi"}]


def test_chat_body_default_shape() -> None:
    body = chat_body("gpt-4o-mini", MESSAGES, max_output_tokens=1000, temperature=0.5)
    assert body == {
        "model": "gpt-4o-mini",
        "messages": MESSAGES,
        "max_completion_tokens": 1000,
        "temperature": 0.5,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert "max_tokens" not in body


def test_chat_body_messages_are_the_same_object() -> None:
    assert chat_body("gpt-4o-mini", MESSAGES, max_output_tokens=10)["messages"] is MESSAGES


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4o", "gpt-4.1", "o4-mini", "gpt-5", "llama3:8b"])
def test_chat_body_uses_max_completion_tokens(model: str) -> None:
    body = chat_body(model, MESSAGES, max_output_tokens=321)
    assert body["max_completion_tokens"] == 321
    assert "max_tokens" not in body


@pytest.mark.parametrize("model", ["gpt-4o-mini", "o4-mini", "llama3:8b"])
def test_chat_body_legacy_max_tokens(model: str) -> None:
    body = chat_body(model, MESSAGES, max_output_tokens=321, legacy_max_tokens=True)
    assert body["max_tokens"] == 321
    assert "max_completion_tokens" not in body


@pytest.mark.parametrize(
    "model", ["o4-mini", "gpt-5", "o3-mini", "gpt-5-mini", "o3", "o1", "gpt-5-2025-08-07", "o4-mini-2025-04-16"]
)
def test_chat_body_no_temperature_for_reasoning_models(model: str) -> None:
    body = chat_body(model, MESSAGES, max_output_tokens=100, temperature=0.2)
    assert "temperature" not in body


@pytest.mark.parametrize(
    "model", ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-3.5-turbo", "gpt-4o-mini-2024-07-18", "llama3:8b"]
)
def test_chat_body_keeps_temperature_for_other_models(model: str) -> None:
    body = chat_body(model, MESSAGES, max_output_tokens=100, temperature=0.2)
    assert body["temperature"] == 0.2


def test_chat_body_zero_temperature_is_kept() -> None:
    assert chat_body("gpt-4o-mini", MESSAGES, max_output_tokens=100, temperature=0.0)["temperature"] == 0.0


@pytest.mark.parametrize("model", ["gpt-4o-mini", "o4-mini"])
def test_chat_body_temperature_none_omitted(model: str) -> None:
    assert "temperature" not in chat_body(model, MESSAGES, max_output_tokens=100, temperature=None)
    assert "temperature" not in chat_body(model, MESSAGES, max_output_tokens=100)


def test_chat_body_stream_false_has_no_stream_keys() -> None:
    body = chat_body("gpt-4o-mini", MESSAGES, max_output_tokens=100, stream=False)
    assert "stream" not in body
    assert "stream_options" not in body
    assert body == {"model": "gpt-4o-mini", "messages": MESSAGES, "max_completion_tokens": 100}


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-5"])
def test_chat_body_stream_asks_for_usage(model: str) -> None:
    body = chat_body(model, MESSAGES, max_output_tokens=100)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


# --- to_legacy_max_tokens -------------------------------------------------------------------------------


def test_to_legacy_max_tokens_renames_key() -> None:
    body = chat_body("gpt-4o-mini", MESSAGES, max_output_tokens=777, temperature=0.3)
    legacy = to_legacy_max_tokens(body)
    assert legacy["max_tokens"] == 777
    assert "max_completion_tokens" not in legacy
    expected = dict(body)
    expected["max_tokens"] = expected.pop("max_completion_tokens")
    assert legacy == expected


def test_to_legacy_max_tokens_does_not_mutate_input() -> None:
    body = chat_body("gpt-4o-mini", MESSAGES, max_output_tokens=777)
    before = dict(body)
    legacy = to_legacy_max_tokens(body)
    assert body == before
    assert legacy is not body


def test_to_legacy_max_tokens_equals_legacy_body() -> None:
    body = chat_body("gpt-4o-mini", MESSAGES, max_output_tokens=50, temperature=1.0)
    assert to_legacy_max_tokens(body) == chat_body(
        "gpt-4o-mini", MESSAGES, max_output_tokens=50, temperature=1.0, legacy_max_tokens=True
    )


def test_to_legacy_max_tokens_idempotent_and_without_key() -> None:
    legacy = chat_body("gpt-4o-mini", MESSAGES, max_output_tokens=50, legacy_max_tokens=True)
    assert to_legacy_max_tokens(legacy) == legacy
    assert to_legacy_max_tokens({"model": "m"}) == {"model": "m"}


# --- continue_messages ----------------------------------------------------------------------------------


def test_continue_messages_appends_partial_reply_and_request() -> None:
    messages: list[WireMessage] = [{"role": "system", "content": "S"}, {"role": "user", "content": "Write"}]
    out = continue_messages(messages, "Once upon a")
    assert out[:2] == messages
    assert out[2] == {"role": "assistant", "content": "Once upon a"}
    assert out[3]["role"] == "user"
    assert isinstance(out[3]["content"], str)
    assert "continue" in out[3]["content"].lower()
    assert len(out) == 4


def test_continue_messages_does_not_mutate_input() -> None:
    messages: list[WireMessage] = [{"role": "user", "content": "Write"}]
    out = continue_messages(messages, "partial")
    assert messages == [{"role": "user", "content": "Write"}]
    assert out is not messages


def test_continue_messages_roles_are_plain_strings() -> None:
    out = continue_messages([], "x")
    assert [type(m["role"]) for m in out] == [str, str]
    assert [m["role"] for m in out] == ["assistant", "user"]


def test_a_title_answer_is_made_tidy() -> None:
    assert clean_title('"Printing in **Python**."\nMore text') == "Printing in Python"
    assert clean_title("Title: `print` and __format__ strings") == "print and format strings"
    assert clean_title("**Bold title**") == "Bold title"
    assert clean_title("   ") == ""
    assert len(clean_title("word " * 40)) <= 60
