"""Streamed tool-call fragments merged into whole calls."""

from __future__ import annotations

import pytest

from desktop_assistant.core.tool_calls import ToolCall, ToolCallMerger


def test_fragments_merge_by_index_in_the_order_of_the_calls() -> None:
    merger = ToolCallMerger()
    merger.add(0, "call_a", "get_weather")
    merger.add(0, arguments='{"city": ')
    merger.add(1, "call_b", "get_time", "")
    merger.add(0, arguments='"Oslo"}')
    merger.add(1, arguments="{}")
    first, second = merger.ordered()
    assert (first.id, first.name, first.parsed()) == ("call_a", "get_weather", {"city": "Oslo"})
    assert (second.id, second.name, second.parsed()) == ("call_b", "get_time", {})
    assert first.wire() == {"id": "call_a", "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}


def test_a_name_repeated_in_every_fragment_is_not_doubled() -> None:
    merger = ToolCallMerger()
    for _ in range(3):
        merger.add(0, "call_x", "search")
    assert merger.ordered()[0].name == "search"


@pytest.mark.parametrize(("arguments", "reason"), [
    ('{"city": "Os', "not valid JSON"), ("[1, 2]", "not a JSON object"), ("nul", "not valid JSON"),
])
def test_malformed_arguments_give_a_plain_reason(arguments: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        ToolCall(0, "c", "f", arguments).parsed()
    assert ToolCall(0, "c", "f", "").parsed() == {}
