"""Tool calls and results as stored and as sent: the wire format, what is counted, history cuts, exports."""

from __future__ import annotations

import json

from desktop_assistant.core.export_format import (
    ConversationRecord,
    MessageRecord,
    conversation_from_json,
    conversation_json,
    to_html,
    to_markdown,
)
from desktop_assistant.core.history import plan_history
from desktop_assistant.core.models import Message, Role, text_part, tool_call_part, tool_result_part
from desktop_assistant.core.requests import NO_RESULT, is_tool_images, wire_messages
from desktop_assistant.core.tokens import estimate_prompt_tokens

MODEL = "gpt-4o-mini"


def msg(mid: int, role: Role, parts: list[dict[str, object]]) -> Message:
    return Message(mid, 1, mid - 1 or None, role, parts)  # type: ignore[arg-type]


def exchange() -> list[Message]:
    return [
        msg(1, Role.USER, [text_part("What is 2+3?")]),
        msg(2, Role.ASSISTANT, [text_part(""), tool_call_part("call_a", "add", '{"a": 2, "b": 3}', "local", "add"),
                                tool_call_part("call_b", "echo", '{"text": "hi"}', "local", "echo")]),
        msg(3, Role.TOOL, [tool_result_part("call_a", "add", "5")]),
        msg(4, Role.TOOL, [tool_result_part("call_b", "echo", "hi"),
                           {"type": "image_url", "image_url": {"url": "attachment:abc.png", "detail": "auto"},
                            "size": [1, 1], "name": "echo-1"}]),
        msg(5, Role.ASSISTANT, [text_part("5")]),
    ]


def test_assistant_calls_and_tool_results_on_the_wire() -> None:
    wire = wire_messages("Be brief.", exchange())
    assert [m["role"] for m in wire] == ["system", "user", "assistant", "tool", "tool", "user", "assistant"]
    assert wire[2] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_a", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'}},
        {"id": "call_b", "type": "function", "function": {"name": "echo", "arguments": '{"text": "hi"}'}}]}
    assert wire[3] == {"role": "tool", "tool_call_id": "call_a", "content": "5"}
    assert wire[5]["content"][0] == {"type": "text", "text": "Image returned by the tool echo:"}
    assert wire[5]["content"][1]["image_url"]["url"] == "attachment:abc.png"
    assert [is_tool_images(m) for m in wire] == [False] * 5 + [True, False]  # the question is not such a message
    without = wire_messages("", exchange(), tool_images=False)  # a model that cannot see
    assert [m["role"] for m in without] == ["user", "assistant", "tool", "tool", "assistant"]


def test_calls_without_results_get_a_note_and_stray_results_are_left_out() -> None:
    path = exchange()
    crashed = [path[0], path[1], path[2]]  # the app stopped before the second result was stored
    wire = wire_messages("", crashed)
    assert wire[-1] == {"role": "tool", "tool_call_id": "call_b", "content": NO_RESULT}
    stray = [path[0], path[3], path[4]]  # a result whose call is on another branch
    assert [m["role"] for m in wire_messages("", stray)] == ["user", "assistant"]


def test_tool_messages_and_calls_are_counted_as_estimates() -> None:
    wire = wire_messages("", exchange(), tool_images=False)
    plain = [m for m in wire if m["role"] in ("user",)] + [wire[-1]]
    with_tools = estimate_prompt_tokens(wire, MODEL)
    assert with_tools.tokens > estimate_prompt_tokens(plain, MODEL).tokens + 20
    assert not with_tools.exact


def test_history_cut_keeps_calls_with_their_results() -> None:
    long = [msg(1, Role.USER, [text_part("old question " * 3000)]), msg(2, Role.ASSISTANT, [text_part("old")])]
    path = long + [msg(m.id + 2, m.role, m.parts) for m in exchange()]
    wire = wire_messages("", path, tool_images=False)
    plan = plan_history(MODEL, wire, max_output_tokens=1000, budget_fraction=0.0001 * 30)
    roles = [m["role"] for m in plan.messages]
    assert roles[0] == "user" and plan.dropped >= 2
    for i, m in enumerate(plan.messages):  # every tool message follows its call
        if m["role"] == "tool":
            calls = [c["id"] for prev in plan.messages[:i] for c in prev.get("tool_calls", [])]
            assert m["tool_call_id"] in calls


def test_export_and_import_keep_tool_parts_and_render_them_as_text() -> None:
    record = ConversationRecord("Sums", MODEL, [
        MessageRecord(m.id, m.parent_id, m.role.value, m.parts) for m in exchange()], current_leaf=5)
    back = conversation_from_json(json.loads(conversation_json(record)))
    assert back.messages[1].parts[1] == tool_call_part("call_a", "add", '{"a": 2, "b": 3}', "local", "add")
    assert back.messages[2].parts == [tool_result_part("call_a", "add", "5")]
    assert back.messages[2].role == "tool"
    markdown = "".join(to_markdown([record]))
    assert "Tool call: add" in markdown and "Tool result (add):\n5" in markdown
    hostile = ConversationRecord("X", MODEL, [MessageRecord(1, None, "tool", [
        tool_result_part("c", "echo", "<script>alert(1)</script>")])], current_leaf=1)
    page = "".join(to_html([hostile]))
    assert "<script>alert" not in page and "&lt;script&gt;" in page
