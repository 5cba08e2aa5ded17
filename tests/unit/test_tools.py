"""Tool definitions from MCP listings, arguments, results, and the token rule for tool definitions."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from desktop_assistant.core.tokens import estimate_prompt_tokens, estimate_tool_definitions
from desktop_assistant.core.tools import (
    ImagePart,
    TextPart,
    ToolCallProblem,
    ToolResult,
    ToolSpec,
    build_tool_set,
    images_message,
    is_valid_function_name,
    parameters_schema,
    parse_arguments,
    pretty_arguments,
    result_text,
    tool_message,
    truncate_text,
)

ADD_SCHEMA = {"type": "object", "title": "addArguments", "required": ["a", "b"],
              "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}


def test_definitions_have_the_chat_completions_shape() -> None:
    tool_set = build_tool_set([ToolSpec("calc", "add", "Add two integers.", ADD_SCHEMA)])
    assert tool_set.definitions == [{
        "type": "function",
        "function": {"name": "add", "description": "Add two integers.",
                     "parameters": {"type": "object", "required": ["a", "b"],
                                    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}},
    }]
    assert tool_set.resolve("add") == ToolSpec("calc", "add", "Add two integers.", ADD_SCHEMA)


def test_name_collisions_across_servers_are_made_unique_and_mapped_back() -> None:
    tools = [ToolSpec("files", "read"), ToolSpec("web", "read"), ToolSpec("web", "fetch")]
    tool_set = build_tool_set(tools)
    names = [d["function"]["name"] for d in tool_set.definitions]
    assert names == ["files__read", "web__read", "fetch"]
    assert tool_set.resolve("files__read").server_id == "files"
    assert tool_set.resolve("web__read") == tools[1]
    assert tool_set.function_name("web", "read") == "web__read"
    assert tool_set.function_name("web", "nope") is None


def test_invalid_and_long_names_become_valid_and_stay_unique() -> None:
    long = "x" * 80
    tools = [ToolSpec("a", "search.web"), ToolSpec("a", "search web"), ToolSpec("a", long), ToolSpec("b", long),
             ToolSpec("a", "")]
    tool_set = build_tool_set(tools)
    names = [d["function"]["name"] for d in tool_set.definitions]
    assert len(set(names)) == len(names)
    assert all(is_valid_function_name(n) for n in names)
    assert names[0] == "search_web" and names[1] == "search_web_2"
    for name, spec in zip(names, tools, strict=True):
        assert tool_set.resolve(name) is spec


def test_unknown_function_name_is_a_problem_for_the_model() -> None:
    tool_set = build_tool_set([ToolSpec("s", "echo"), ToolSpec("s", "add")])
    with pytest.raises(ToolCallProblem) as caught:
        tool_set.resolve("rm_rf")
    assert "'rm_rf'" in caught.value.message and "add, echo" in caught.value.message


def test_parameters_are_always_an_object_schema() -> None:
    assert parameters_schema(None) == {"type": "object", "properties": {}}
    assert parameters_schema({"type": "string"}) == {"type": "object", "properties": {}}
    assert parameters_schema({"properties": {"q": {"type": "string"}}}) == {
        "type": "object", "properties": {"q": {"type": "string"}}}
    described = build_tool_set([ToolSpec("s", "t", "", {}, title="A title")]).definitions[0]["function"]
    assert described["description"] == "A title"
    assert "description" not in build_tool_set([ToolSpec("s", "t")]).definitions[0]["function"]


@pytest.mark.parametrize(("raw", "expected"), [
    ('{"a": 1, "b": [2]}', {"a": 1, "b": [2]}),
    ("", {}),
    ("  ", {}),
    (None, {}),
    ('{"text": "h\\u00e9"}', {"text": "hé"}),
])
def test_arguments_parse(raw: str | None, expected: dict[str, Any]) -> None:
    assert parse_arguments(raw) == expected


@pytest.mark.parametrize(("raw", "words"), [
    ('{"a": 1,', "not valid JSON"),
    ("{'a': 1}", "line 1, column 2"),
    ("[1, 2]", "not an array"),
    ('"text"', "not a string"),
    ("3", "not a number"),
    ("null", "not null"),
])
def test_malformed_arguments_say_what_is_wrong(raw: str, words: str) -> None:
    with pytest.raises(ToolCallProblem) as caught:
        parse_arguments(raw)
    assert words in caught.value.message
    assert "JSON object" in caught.value.message


def test_pretty_arguments_keep_unicode_and_indent() -> None:
    assert pretty_arguments({"q": "café", "n": 1}) == '{\n  "q": "café",\n  "n": 1\n}'


def test_truncation_keeps_the_start_and_says_how_much_was_cut() -> None:
    assert truncate_text("short", 10) == "short"
    text = truncate_text("a" * 25_000, 1_000)
    assert text.startswith("a" * 1_000) and not text.startswith("a" * 1_001)
    assert "25,000 characters" in text and "first 1,000" in text


def test_result_text_of_text_images_errors_and_nothing() -> None:
    result = ToolResult((TextPart("line"), ImagePart(b"\x89PNG....", "image/png")))
    assert result_text(result) == "line\n\n[The tool returned an image (image/png, 8 bytes).]"
    assert result.images == (ImagePart(b"\x89PNG....", "image/png"),)
    assert result_text(ToolResult((TextPart("boom"),), is_error=True)) == "The tool reported an error:\nboom"
    assert result_text(ToolResult(())) == "[The tool returned no content.]"
    assert "truncated" in result_text(ToolResult((TextPart("y" * 50),)), limit=10)


def test_tool_message_shape() -> None:
    assert tool_message("call_1", "42") == {"role": "tool", "tool_call_id": "call_1", "content": "42"}


# --- the token rule for tool definitions, against usage that api.openai.com reported ------------------------

REPO_ROOT = Path(__file__).resolve().parents[2]
CASES_FILE = Path(os.environ.get("DA_SHARED_DIR", REPO_ROOT.parent / "shared")) / "data" / "openai-usage" / "cases.json"


def _tool_cases() -> list[Any]:
    if not CASES_FILE.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"reference usage data not found at {CASES_FILE}"))]
    cases = json.loads(CASES_FILE.read_text(encoding="utf-8"))
    return [pytest.param(c, id=f"{i}-{c['model']}") for i, c in enumerate(cases)
            if c["body"].get("tools") and not {"image_url", "input_audio"} & set(c["features"])
            and (c["body"].get("response_format") or {}).get("type") != "json_schema"]


@pytest.mark.parametrize("case", _tool_cases())
def test_tool_definitions_cost_what_openai_billed_for_them(case: dict[str, Any]) -> None:
    """Billed prompt tokens minus the (exact) text estimate of the messages is what the tools cost; the rule
    is within one token of that on every real case (gpt-3.5/4/4o/4o-mini/4.1-mini/5-mini), and says it is
    an estimate."""
    body = case["body"]
    messages = body["messages"]
    without_tools = estimate_prompt_tokens(messages, case["model"], response_format=body.get("response_format"))
    merged = messages[0]["role"] in ("system", "developer")
    tools = estimate_tool_definitions(body["tools"], case["model"], merged_into_system=merged)
    assert not tools.exact
    billed_for_tools = case["usage"]["prompt_tokens"] - without_tools.tokens
    assert abs(billed_for_tools - tools.tokens) <= 1, (billed_for_tools, tools.tokens)
    with_tools = estimate_prompt_tokens(messages, case["model"], tools=body["tools"],
                                        response_format=body.get("response_format"))
    assert abs(with_tools.tokens - without_tools.tokens - tools.tokens) <= 1  # the two rules agree


def test_tool_definitions_of_a_tool_set_are_counted() -> None:
    tool_set = build_tool_set([ToolSpec("calc", "add", "Add two integers.", ADD_SCHEMA)])
    alone = estimate_tool_definitions(tool_set.definitions, "gpt-4o", merged_into_system=False)
    merged = estimate_tool_definitions(tool_set.definitions, "gpt-4o")
    assert 20 < merged.tokens < alone.tokens < 60
    assert estimate_tool_definitions(tool_set.definitions, "gpt-5-mini").tokens > merged.tokens + 70  # preamble
    assert estimate_tool_definitions([], "gpt-4o").tokens == 0


def test_tool_images_go_to_the_model_in_one_user_message() -> None:
    png = ImagePart(b"\x89PNG", "image/png")
    message = images_message([("shot", ToolResult((TextPart("t"), png))), ("echo", ToolResult((TextPart("x"),)))])
    assert message == {"role": "user", "content": [
        {"type": "text", "text": "Image returned by the tool shot:"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}},
    ]}
    assert images_message([("echo", ToolResult((TextPart("x"),)))]) is None
