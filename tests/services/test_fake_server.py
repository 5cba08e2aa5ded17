"""The loopback OpenAI server, driven by the real ``openai`` SDK over HTTP."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai
import pytest

from tests.conftest import until
from tests.fake_openai import DEFAULT_MODELS, FakeOpenAI, Reply, context_length_error, fixture
from tests.fake_openai.fixture import openapi_spec_path
from tests.fake_openai.spec import load_spec

fake_openai = fixture.fake_openai  # makes the fixture available here even without tests/conftest.py

USER = [{"role": "user", "content": "Say hi"}]
needs_spec = pytest.mark.skipif(openapi_spec_path() is None, reason="OpenAI's OpenAPI document is not available")


def client_for(server: FakeOpenAI, api_key: str = "sk-test", **kwargs: Any) -> openai.AsyncOpenAI:
    """A real SDK client pointed at the fake server, without retries unless asked."""
    kwargs.setdefault("max_retries", 0)
    return openai.AsyncOpenAI(api_key=api_key, base_url=server.base_url, **kwargs)


async def collect(stream: AsyncIterator[Any]) -> list[Any]:
    """All chunks of an SDK stream."""
    return [chunk async for chunk in stream]


async def stop_early(stream: openai.AsyncStream[Any]) -> None:
    """Abandon a stream half-way, as a Stop button would.

    ``AsyncStream.close()`` only closes the HTTP response: the SDK's async generators stay suspended, and
    qasync installs no asyncgen hooks, so the garbage collector would later finalise them outside any loop
    ("Exception ignored in: <async_generator PoolByteStream.__aiter__>", an error under pytest). Closing the
    stream's own generator as well finalises the chain inside the loop.
    """
    await stream.close()
    await stream._iterator.aclose()  # type: ignore[attr-defined]


def text_of(chunks: list[Any]) -> str:
    """Reassemble the streamed content."""
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


async def test_stream_with_usage_is_parsed_by_the_sdk(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="Hello there, how are you?"))
    async with client_for(fake_openai) as client:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=USER, stream=True, stream_options={"include_usage": True},
            max_completion_tokens=100,
        )
        chunks = await collect(stream)
    assert text_of(chunks) == "Hello there, how are you?"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].choices[0].delta.content == ""
    assert [c.choices[0].delta.content for c in chunks[1:-2]] == ["Hello ", "there, ", "how ", "are ", "you?"]
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert all(c.usage is None for c in chunks[:-1])
    usage = chunks[-1].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (11, 5, 16)
    assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 0
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 0
    assert {c.model for c in chunks} == {"gpt-4o-mini"}
    assert len({c.id for c in chunks}) == 1


async def test_stream_without_usage_has_no_usage_chunk(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(chunks=["Hel", "lo", "!"], finish_reason="length"))
    async with client_for(fake_openai) as client:
        chunks = await collect(await client.chat.completions.create(model="gpt-4o", messages=USER, stream=True))
    assert text_of(chunks) == "Hello!"
    assert chunks[-1].choices[0].finish_reason == "length"
    assert all(c.usage is None and c.choices for c in chunks)


async def test_raw_sse_wire_format_matches_openai(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="a b"))
    body = {"model": "gpt-4o-mini", "messages": USER, "stream": True, "stream_options": {"include_usage": True}}
    async with httpx2.AsyncClient() as http, http.stream(
        "POST", f"{fake_openai.base_url}/chat/completions", json=body
    ) as response:
        raw = (await response.aread()).decode()
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"].startswith("req_")
    events = raw.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    assert all(event.startswith("data: ") and "\n" not in event for event in events[:-1])
    chunks = [json.loads(event[len("data: "):]) for event in events[:-2]]
    assert [c["choices"][0]["delta"] for c in chunks[:4]] == [
        {"role": "assistant", "content": "", "refusal": None}, {"content": "a "}, {"content": "b"}, {}]
    assert all("usage" in c and c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 13
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk"
        assert set(chunk) >= {"id", "object", "created", "model", "system_fingerprint", "choices"}
        for choice in chunk["choices"]:
            assert choice["logprobs"] is None and choice["index"] == 0
    if (spec_path := openapi_spec_path()) is not None:
        validator = load_spec(spec_path).schema_validator("CreateChatCompletionStreamResponse")
        for chunk in chunks:
            validator.validate(chunk)


async def test_non_streaming_completion(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="Fine, thanks.", usage={"prompt_tokens": 20, "completion_tokens": 3,
                                                           "total_tokens": 23}))
    async with client_for(fake_openai) as client:
        raw = await client.chat.completions.with_raw_response.create(model="gpt-4.1-mini", messages=USER)
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4.1-mini"
    assert completion.choices[0].message.content == "Fine, thanks."
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens == 23
    if (spec_path := openapi_spec_path()) is not None:
        load_spec(spec_path).schema_validator("CreateChatCompletionResponse").validate(raw.http_response.json())


async def test_default_reply_echoes_the_last_user_message(fake_openai: FakeOpenAI) -> None:
    messages: list[Any] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "second "}, {"type": "text", "text": "question"}]},
    ]
    async with client_for(fake_openai) as client:
        completion = await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
        chunks = await collect(await client.chat.completions.create(model="gpt-4o-mini", messages=USER,
                                                                    stream=True))
    assert completion.choices[0].message.content == "Echo: second question"
    assert text_of(chunks) == "Echo: Say hi"


async def test_refusal_is_streamed_as_refusal_deltas(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(refusal="I can't help with that."), Reply(refusal="No."))
    async with client_for(fake_openai) as client:
        chunks = await collect(await client.chat.completions.create(model="gpt-4o", messages=USER, stream=True))
        completion = await client.chat.completions.create(model="gpt-4o", messages=USER)
    assert "".join(c.choices[0].delta.refusal or "" for c in chunks) == "I can't help with that."
    assert text_of(chunks) == ""
    assert completion.choices[0].message.refusal == "No." and completion.choices[0].message.content is None


async def test_requests_are_recorded(fake_openai: FakeOpenAI) -> None:
    async with client_for(fake_openai, api_key="sk-recorded") as client:
        await client.chat.completions.create(model="gpt-4o-mini", messages=USER, temperature=0.5)
    [request] = fake_openai.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer sk-recorded"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {"model": "gpt-4o-mini", "messages": USER, "temperature": 0.5}
    assert request.received <= time.monotonic()
    assert not request.client_disconnected


async def test_wrong_api_key_is_an_authentication_error() -> None:
    with FakeOpenAI(api_key="sk-right") as server:
        async with client_for(server, api_key="sk-wrong-key-123456") as client:
            with pytest.raises(openai.AuthenticationError) as caught:
                await client.models.list()
        assert caught.value.code == "invalid_api_key"
        assert caught.value.request_id is not None and caught.value.request_id.startswith("req_")
        assert "sk-wrong-key-123456" not in str(caught.value)  # masked like OpenAI does
        async with client_for(server, api_key="sk-right") as client:
            models = await client.models.list()
        assert [m.id for m in models.data] == DEFAULT_MODELS
        async with httpx2.AsyncClient() as http:
            response = await http.get(f"{server.base_url}/models")
        assert response.status_code == 401
        assert "You didn't provide an API key" in response.json()["error"]["message"]


async def test_rate_limit_is_retried_then_raised(fake_openai: FakeOpenAI) -> None:
    # retry-after "0" is not honoured by the SDK (it needs 0 < delay): it falls back to ~0.5 s backoff.
    fast = {"retry-after": "0.01"}
    fake_openai.enqueue(Reply(status=429, headers=fast), Reply(status=429, headers=fast))
    async with client_for(fake_openai, max_retries=1) as client:
        with pytest.raises(openai.RateLimitError) as caught:
            await client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        assert caught.value.code == "rate_limit_exceeded"
        assert len(fake_openai.requests) == 2
        fake_openai.enqueue(Reply(status=429, headers=fast), Reply(text="after the wait"))
        completion = await client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert completion.choices[0].message.content == "after the wait"
    assert len(fake_openai.requests) == 4


async def test_context_length_exceeded_is_a_bad_request(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(status=400), Reply(status=400, error=context_length_error(8192, 9000)))
    async with client_for(fake_openai) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
        with pytest.raises(openai.BadRequestError) as second:
            await client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert caught.value.code == "context_length_exceeded"
    assert caught.value.param == "messages"
    assert "maximum context length is 128000 tokens" in caught.value.message
    assert "8192" in second.value.message


async def test_server_error_is_internal_server_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(status=500))
    async with client_for(fake_openai) as client:
        with pytest.raises(openai.InternalServerError) as caught:
            await client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
    assert caught.value.status_code == 500
    assert caught.value.body == {"message": caught.value.body["message"], "type": "server_error",  # type: ignore[index]
                                 "param": None, "code": None}


async def test_unknown_model_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(status=404))
    async with client_for(fake_openai) as client:
        with pytest.raises(openai.NotFoundError) as caught:
            await client.chat.completions.create(model="gpt-9", messages=USER)
    assert caught.value.code == "model_not_found" and "gpt-9" in caught.value.message


async def test_mid_stream_disconnect_raises_connection_error_after_the_chunks(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="one two three four", disconnect_after=2))
    received: list[str] = []
    async with client_for(fake_openai) as client:
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
        with pytest.raises(openai.APIConnectionError) as caught:
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content)
    assert received == ["", "one ", "two "]
    assert not isinstance(caught.value, openai.APITimeoutError)
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)


async def test_hold_keeps_the_stream_open_until_release(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="after release", hold=True))
    async with client_for(fake_openai) as client:
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
        first = await stream.__anext__()
        assert first.choices[0].delta.role == "assistant"
        await until(lambda: fake_openai.holding == 1)
        fake_openai.release()
        rest = await collect(stream)
    assert text_of(rest) == "after release"
    assert fake_openai.holding == 0


async def test_held_stream_ends_when_the_client_goes_away(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(hold=True))
    async with client_for(fake_openai) as client:
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
        await stream.__anext__()
        await until(lambda: fake_openai.holding == 1)
        await stop_early(stream)
        await until(lambda: fake_openai.requests[-1].client_disconnected)
    assert fake_openai.holding == 0


async def test_stalled_stream_times_out(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(hold=True))
    async with client_for(fake_openai, timeout=httpx2.Timeout(5.0, read=0.2)) as client:
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
        chunks: list[Any] = []
        with pytest.raises(openai.APITimeoutError) as caught:
            async for chunk in stream:
                chunks.append(chunk)
    assert len(chunks) == 1
    assert isinstance(caught.value.__cause__, httpx2.ReadTimeout)


async def test_first_byte_delay_times_out(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(first_byte_delay=0.4))
    async with client_for(fake_openai, timeout=httpx2.Timeout(5.0, read=0.1)) as client:
        with pytest.raises(openai.APITimeoutError):
            await client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)


async def test_slow_stream_spaces_out_chunks(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="w1 w2 w3 w4", chunk_delay=0.05))
    arrivals: list[float] = []
    async with client_for(fake_openai) as client:
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
        pieces: list[str] = []
        async for chunk in stream:
            arrivals.append(time.monotonic())
            pieces.append(chunk.choices[0].delta.content or "")
    assert "".join(pieces) == "w1 w2 w3 w4"
    assert arrivals[-1] - arrivals[0] >= 0.05 * 4 * 0.9  # four content chunks + the finish chunk after the first


async def test_legacy_server_rejects_max_completion_tokens(fake_openai: FakeOpenAI) -> None:
    fake_openai.legacy_max_tokens = True
    fake_openai.enqueue(Reply(text="kept for the retry"))
    async with client_for(fake_openai) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(model="gpt-4o-mini", messages=USER, max_completion_tokens=50)
        completion = await client.chat.completions.create(model="gpt-4o-mini", messages=USER, max_tokens=50)
    assert caught.value.param == "max_completion_tokens"
    assert caught.value.code is None
    assert caught.value.body == {
        "message": "Unrecognized request argument supplied: max_completion_tokens",
        "type": "invalid_request_error", "param": "max_completion_tokens", "code": None}
    assert completion.choices[0].message.content == "kept for the retry"


async def test_models_list_and_retrieve(fake_openai: FakeOpenAI) -> None:
    fake_openai.models = ["gpt-4o-mini", "o4-mini"]
    async with client_for(fake_openai) as client:
        raw = await client.models.with_raw_response.list()
        page = raw.parse()
        model = await client.models.retrieve("o4-mini")
        with pytest.raises(openai.NotFoundError) as caught:
            await client.models.retrieve("gpt-nope")
    assert [m.id for m in page.data] == ["gpt-4o-mini", "o4-mini"]
    assert all(m.object == "model" and m.owned_by and m.created for m in page.data)
    assert model.id == "o4-mini"
    assert caught.value.code == "model_not_found"
    if (spec_path := openapi_spec_path()) is not None:
        spec = load_spec(spec_path)
        spec.schema_validator("ListModelsResponse").validate(raw.http_response.json())
        spec.schema_validator("ErrorResponse").validate({"error": caught.value.body})


async def test_unknown_path_is_openai_style_404(fake_openai: FakeOpenAI) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{fake_openai.base_url}/nowhere", json={})
    assert response.status_code == 404
    assert response.json() == {"error": {"message": "Invalid URL (POST /v1/nowhere)",
                                         "type": "invalid_request_error", "param": None, "code": None}}


def test_server_answers_while_the_test_thread_is_blocked(fake_openai: FakeOpenAI) -> None:
    with urllib.request.urlopen(f"{fake_openai.base_url}/models", timeout=5) as response:  # blocking call
        assert json.load(response)["object"] == "list"


async def test_server_answers_while_the_loop_is_blocked(fake_openai: FakeOpenAI) -> None:
    # A blocking call on the test's own (qasync) loop still gets an answer: the server has its own loop.
    with urllib.request.urlopen(f"{fake_openai.base_url}/models/gpt-4o", timeout=5) as response:
        assert json.load(response)["id"] == "gpt-4o"


@needs_spec
async def test_spec_violations_are_recorded() -> None:
    spec_path = openapi_spec_path()
    with FakeOpenAI(spec_path=spec_path) as server:
        async with httpx2.AsyncClient() as http:
            bad = await http.post(f"{server.base_url}/chat/completions",
                                  json={"model": "x", "messages": "not a list"})
            options = await http.post(f"{server.base_url}/chat/completions",
                                      json={"model": "x", "messages": USER, "stream_options": {"include_usage": True}})
            role = await http.post(f"{server.base_url}/chat/completions",
                                   json={"model": "x", "messages": [{"role": "robot", "content": "hi"}]})
            typo = await http.post(f"{server.base_url}/chat/completions",
                                   json={"model": "x", "messages": USER, "max_completions_tokens": 5})
        assert {r.status_code for r in (bad, options, role, typo)} == {200}
        assert len(server.violations) == 4
        assert "messages: 'not a list' is not of type 'array'" in server.violations[0]
        assert "stream_options: only allowed when 'stream' is true" in server.violations[1]
        assert "messages[0]" in server.violations[2]
        assert "max_completions_tokens: unknown parameter" in server.violations[3]
        server.violations.clear()
        async with client_for(server) as client:  # a rich but valid SDK request breaks nothing
            await collect(await client.chat.completions.create(
                model="gpt-5-mini", messages=[{"role": "developer", "content": "Be brief."}, *USER], stream=True,
                stream_options={"include_usage": True}, max_completion_tokens=None, reasoning_effort="low",
                temperature=1, store=False, user="u1"))
        assert server.violations == []
        server.reject_invalid = True
        async with client_for(server) as client:
            with pytest.raises(openai.BadRequestError):
                await client.chat.completions.create(model="x", messages=[])
        assert len(server.violations) == 1


@needs_spec
def test_validators_are_compiled_once_per_spec() -> None:
    spec_path = openapi_spec_path()
    assert spec_path is not None
    assert load_spec(spec_path) is load_spec(spec_path)
    spec = load_spec(spec_path)
    assert spec.request_validator("POST", "/chat/completions") is spec.request_validator("post", "/chat/completions")
    assert spec.request_validator("GET", "/models") is None
    assert spec.request_validator("POST", "/chat/completions/abc") is not None  # templated path
    body = {"model": "gpt-4o-mini", "messages": USER, "stream": True}
    started = time.perf_counter()
    for _ in range(50):
        assert spec.check_request("POST", "/chat/completions", body) == []
    assert time.perf_counter() - started < 1.0
