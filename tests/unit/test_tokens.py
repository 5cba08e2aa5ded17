"""Token counting: the bundled encodings and the prompt-estimate rule."""

from __future__ import annotations

import base64
import threading
from typing import Any

import pytest
import tiktoken
import tiktoken.load
import tiktoken_ext.openai_public as openai_public

from desktop_assistant.core import tokens
from desktop_assistant.core.tokens import (
    PromptEstimate,
    count_text,
    encoding_for,
    estimate_completion_tokens,
    estimate_prompt_tokens,
    get_encoding,
    render_tools,
)


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> dict[str, tiktoken.Encoding]:
    """An empty encoding cache for this test only (the module-wide one is left as it was)."""
    cache: dict[str, tiktoken.Encoding] = {}
    monkeypatch.setattr(tokens, "_encodings", cache)
    return cache


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_constants_match_tiktokens_own(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", lambda *args, **kwargs: {})
    theirs = openai_public.ENCODING_CONSTRUCTORS[name]()
    ours = get_encoding(name)
    assert ours.name == name
    assert ours._pat_str == theirs["pat_str"]
    assert ours._special_tokens == theirs["special_tokens"]


def test_loading_never_touches_network_or_tiktoken_cache(
    fresh_cache: dict[str, tiktoken.Encoding], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("tiktoken's loader must not be used")

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(tiktoken.load, "read_file", forbidden)
    monkeypatch.setattr(tiktoken.load, "read_file_cached", forbidden)
    monkeypatch.setattr(tiktoken.load, "load_tiktoken_bpe", forbidden)
    monkeypatch.setattr(tiktoken, "get_encoding", forbidden)
    assert get_encoding("o200k_base").encode("hello world") == [24912, 2375]
    assert get_encoding("cl100k_base").encode("hello world") == [15339, 1917]
    assert get_encoding("o200k_base").n_vocab == 200_019
    assert get_encoding("cl100k_base").n_vocab == 100_277
    assert list(tmp_path.iterdir()) == []


def test_a_corrupt_vocabulary_is_refused(
    fresh_cache: dict[str, tiktoken.Encoding], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "_read_vocabulary", lambda name: b"aGVsbG8= 0\n")
    with pytest.raises(ValueError, match="corrupt"):
        get_encoding("o200k_base")
    assert fresh_cache == {}


def test_unknown_encoding_name() -> None:
    with pytest.raises(ValueError, match="no bundled encoding"):
        get_encoding("p50k_base")


def test_loaded_once_across_threads(fresh_cache: dict[str, tiktoken.Encoding], monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_load = tokens._load

    def counting_load(name: str) -> tiktoken.Encoding:
        calls.append(name)
        return real_load(name)

    monkeypatch.setattr(tokens, "_load", counting_load)
    start = threading.Barrier(8)
    results: list[tiktoken.Encoding] = []

    def worker() -> None:
        start.wait()
        results.append(get_encoding("cl100k_base"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == ["cl100k_base"]
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_encoding_for_models() -> None:
    assert encoding_for("gpt-4o-2024-08-06").name == "o200k_base"
    assert encoding_for("gpt-4").name == "cl100k_base"
    assert encoding_for("llama3.1:8b").name == "o200k_base"
    assert encoding_for("gpt-4o") is encoding_for("o3")


def test_count_text() -> None:
    assert count_text("", "gpt-4o") == 0
    assert count_text("hello world", "gpt-4o") == 2
    assert count_text("hello world", "gpt-3.5-turbo") == 2
    # special-token text in user input is ordinary text, never a control token (and never an error)
    assert count_text("<|endoftext|>", "gpt-4o") > 1
    assert estimate_completion_tokens("hello world", "gpt-4o") == 2


def _n(text: str, model: str = "gpt-4o") -> int:
    return count_text(text, model)


def test_text_rule_by_hand() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi there", "name": "ann"},
    ]
    expected = (3 + _n("system") + _n("Be brief.")) + (3 + _n("user") + _n("Hi there") + _n("ann") + 1) + 3
    assert estimate_prompt_tokens(messages, "gpt-4o") == PromptEstimate(expected, True)
    # reasoning models prime the reply with one token less
    assert estimate_prompt_tokens(messages, "o3-mini") == PromptEstimate(expected - 1, True)
    assert estimate_prompt_tokens(messages, "gpt-5-2025-08-07") == PromptEstimate(expected - 1, True)


def test_text_parts_are_concatenated() -> None:
    as_string = [{"role": "user", "content": "Hello, world"}]
    as_parts = [{"role": "user", "content": [{"type": "text", "text": "Hello, "}, {"type": "text", "text": "world"}]}]
    assert estimate_prompt_tokens(as_parts, "gpt-4o") == estimate_prompt_tokens(as_string, "gpt-4o")
    assert estimate_prompt_tokens(as_parts, "gpt-4o").exact


def test_empty_request_is_just_the_priming() -> None:
    assert estimate_prompt_tokens([], "gpt-4o") == PromptEstimate(3, True)


def test_images_are_approximate() -> None:
    text = [{"role": "user", "content": [{"type": "text", "text": "What is this?"}]}]
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}}
    with_image = [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, image]}]
    plain, estimated = estimate_prompt_tokens(text, "gpt-4o"), estimate_prompt_tokens(with_image, "gpt-4o")
    assert plain.exact and not estimated.exact
    assert estimated.tokens == plain.tokens  # image math is added elsewhere


def test_unknown_models_are_approximate() -> None:
    messages = [{"role": "user", "content": "Hi"}]
    local = estimate_prompt_tokens(messages, "llama3.1:8b")
    assert not local.exact
    assert local.tokens == estimate_prompt_tokens(messages, "gpt-4o").tokens


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}


def test_tools_render_like_openais_namespace() -> None:
    text, with_params = render_tools([WEATHER_TOOL, {"type": "function", "function": {"name": "now"}}])
    assert with_params == 1
    assert text == (
        "# Tools\n\n## functions\n\nnamespace functions {\n\n"
        "// Get the current weather in a given location\n"
        "type get_current_weather = (_: {\n"
        "// The city and state, e.g. San Francisco, CA\n"
        "location: string,\n"
        'unit?: "celsius" | "fahrenheit",\n'
        "}) => any;\n\n"
        "type now = () => any;\n\n"
        "} // namespace functions"
    )


def test_tools_are_counted_and_approximate() -> None:
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    plain = estimate_prompt_tokens(messages, "gpt-4o")
    with_tools = estimate_prompt_tokens(messages, "gpt-4o", tools=[WEATHER_TOOL])
    assert not with_tools.exact
    assert with_tools.tokens > plain.tokens + 30
    gpt5 = estimate_prompt_tokens(messages, "gpt-5-mini", tools=[WEATHER_TOOL])
    assert gpt5.tokens == with_tools.tokens - 1 + tokens.GPT5_TOOLS_PREAMBLE
    # merged into an existing system message instead of a new one
    with_system = [{"role": "system", "content": "Be brief."}, *messages]
    merged = estimate_prompt_tokens(with_system, "gpt-4o", tools=[WEATHER_TOOL])
    assert merged.tokens < with_tools.tokens + estimate_prompt_tokens(with_system[:1], "gpt-4o").tokens


def test_tool_calls_in_history_are_approximate() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    estimate = estimate_prompt_tokens(messages, "gpt-4o")
    assert not estimate.exact
    assert estimate.tokens > 3 * 3 + 3


def test_response_formats() -> None:
    messages = [{"role": "user", "content": "Largest city?"}]
    plain = estimate_prompt_tokens(messages, "gpt-4o")
    json_object = estimate_prompt_tokens(messages, "gpt-4o", response_format={"type": "json_object"})
    assert json_object == plain  # json_object adds nothing
    assert estimate_prompt_tokens(messages, "gpt-4o", response_format={"type": "text"}) == plain
    schema = {
        "type": "json_schema",
        "json_schema": {
            "name": "result",
            "schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
    structured = estimate_prompt_tokens(messages, "gpt-4o", response_format=schema)
    assert not structured.exact
    assert structured.tokens > plain.tokens + 10


def test_loaded_encoding_drops_the_python_vocabulary(fresh_cache: dict[str, tiktoken.Encoding]) -> None:
    encoding = get_encoding("o200k_base")
    assert not hasattr(encoding, "_mergeable_ranks")  # the Rust CoreBPE keeps its own copy
    spec = tokens._SPECS["o200k_base"]
    ranks = {
        base64.b64decode(token): int(rank)
        for token, rank in (line.split() for line in tokens._read_vocabulary("o200k_base").splitlines() if line)
    }
    reference = tiktoken.Encoding("reference", pat_str=spec.pat_str, mergeable_ranks=ranks,
                                  special_tokens=dict(spec.special_tokens))
    text = "Hello, wörld! <|endoftext|> def f(x):\n    return x ** 2  # 你好"
    assert encoding.encode_ordinary(text) == reference.encode_ordinary(text)
    assert encoding.encode(text, disallowed_special=()) == reference.encode(text, disallowed_special=())
    assert encoding.encode(text, allowed_special="all") == reference.encode(text, allowed_special="all")
    assert encoding.decode(encoding.encode(text, allowed_special="all")) == text
    assert encoding.n_vocab == reference.n_vocab and encoding.eot_token == reference.eot_token
    tokens._malloc_trim()  # harmless to call again
