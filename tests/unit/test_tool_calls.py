"""Streamed tool-call fragments merged into whole calls (their arguments are checked in tests/unit/test_tools.py)."""

from __future__ import annotations

from desktop_assistant.core.tool_calls import ToolCallMerger
from desktop_assistant.core.tools import parse_arguments


def test_fragments_merge_by_index_in_the_order_of_the_calls() -> None:
    merger = ToolCallMerger()
    merger.add(0, "call_a", "get_weather")
    merger.add(0, arguments='{"city": ')
    merger.add(1, "call_b", "get_time", "")
    merger.add(0, arguments='"Oslo"}')
    merger.add(1, arguments="{}")
    first, second = merger.ordered()
    assert (first.id, first.name, parse_arguments(first.arguments)) == ("call_a", "get_weather", {"city": "Oslo"})
    assert (second.id, second.name, parse_arguments(second.arguments)) == ("call_b", "get_time", {})
    assert (first.index, first.arguments) == (0, '{"city": "Oslo"}')


def test_a_name_repeated_in_every_fragment_is_not_doubled() -> None:
    merger = ToolCallMerger()
    for _ in range(3):
        merger.add(0, "call_x", "search")
    assert merger.ordered()[0].name == "search"


def test_a_stopped_stream_keeps_the_calls_seen_so_far() -> None:
    merger = ToolCallMerger()
    merger.add(0, "call_a", "add", '{"a": 1, ')
    (call,) = merger.ordered()
    assert (call.id, call.name, call.arguments) == ("call_a", "add", '{"a": 1, ')
