"""Tool calls streamed by the loopback server arrive as ``ToolCallDelta`` events that merge into whole calls."""

from __future__ import annotations

from typing import Any

from desktop_assistant.core.requests import chat_body
from desktop_assistant.core.tool_calls import ToolCallMerger
from desktop_assistant.core.tools import parse_arguments
from desktop_assistant.services.gateway import Finished, TextDelta, ToolCallDelta
from tests.fake_openai import FakeOpenAI, Reply, fixture
from tests.services.test_gateway import open_gateway

fake_openai = fixture.fake_openai

TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                      "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                     "required": ["city"]}}},
    {"type": "function", "function": {"name": "get_time", "description": "Local time",
                                      "parameters": {"type": "object", "properties": {}}}},
]


async def test_parallel_tool_calls_stream_in_fragments(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="", tool_calls=[("get_weather", '{"city": "Reykjavik"}'), ("get_time", "{}")]))
    body = chat_body("gpt-4o-mini", [{"role": "user", "content": "Weather and time?"}], max_output_tokens=100)
    body["tools"] = TOOLS
    merger = ToolCallMerger()
    finished: list[str] = []
    texts: list[str] = []
    async with open_gateway(fake_openai.base_url) as gateway:
        async for event in gateway.stream_chat(body):
            if isinstance(event, ToolCallDelta):
                merger.add(event.index, event.id, event.name, event.arguments)
            elif isinstance(event, Finished):
                finished.append(event.reason)
            elif isinstance(event, TextDelta):
                texts.append(event.text)
    calls = merger.ordered()
    assert [(c.name, parse_arguments(c.arguments)) for c in calls] == [("get_weather", {"city": "Reykjavik"}),
                                                                        ("get_time", {})]
    assert all(c.id.startswith("call_") for c in calls) and calls[0].id != calls[1].id
    assert finished == ["tool_calls"] and texts == []


async def test_the_answer_to_a_tool_result_is_spec_valid(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="It is 3 degrees."))
    messages = [{"role": "user", "content": "Weather?"},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "3 degrees, cloudy"}]
    body = chat_body("gpt-4o-mini", messages, max_output_tokens=100)
    body["tools"] = TOOLS
    async with open_gateway(fake_openai.base_url) as gateway:
        text = "".join([e.text async for e in gateway.stream_chat(body) if isinstance(e, TextDelta)])
    assert text == "It is 3 degrees."
    assert fake_openai.requests[-1].json["messages"][2]["role"] == "tool"
