"""The gateway against the loopback OpenAI server: events, errors as a person sees them, request bodies."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from desktop_assistant.core.errors import ErrorAction, ErrorKind, UserFacingError
from desktop_assistant.core.models import Usage
from desktop_assistant.core.requests import chat_body
from desktop_assistant.services.api_errors import wait_in_words
from desktop_assistant.services.gateway import (
    ChatEvent,
    Endpoint,
    Finished,
    Gateway,
    Started,
    TextDelta,
    UsageReport,
)
from tests.conftest import until
from tests.fake_openai import (
    DEFAULT_MODELS,
    FakeOpenAI,
    RecordedRequest,
    Reply,
    context_length_error,
    fixture,
    insufficient_quota_error,
    make_usage,
    openai_error,
)

fake_openai = fixture.fake_openai  # the loopback server; fails the test if a request body breaks OpenAI's spec

USER: list[dict[str, Any]] = [{"role": "user", "content": "Say hi"}]
KEY = "sk-test"


@asynccontextmanager
async def open_gateway(base_url: str, *, api_key: str | None = KEY, max_retries: int = 0, timeout: float = 10.0,
                       organization: str = "") -> AsyncIterator[Gateway]:
    """A gateway for ``base_url``, closed afterwards."""
    gateway = Gateway(Endpoint(base_url=base_url, api_key=api_key, organization=organization, timeout=timeout,
                               max_retries=max_retries))
    try:
        yield gateway
    finally:
        await gateway.close()


def body_for(model: str = "gpt-4o-mini", **kwargs: Any) -> dict[str, Any]:
    """A streamed chat body as the app builds it."""
    kwargs.setdefault("max_output_tokens", 256)
    return chat_body(model, list(USER), **kwargs)


async def run(gateway: Gateway, body: dict[str, Any]) -> tuple[list[ChatEvent], UserFacingError | None]:
    """The events of one ``stream_chat`` and the error that ended it (None when it finished)."""
    events: list[ChatEvent] = []
    try:
        async for event in gateway.stream_chat(body):
            events.append(event)
    except UserFacingError as error:
        return events, error
    return events, None


async def failure(gateway: Gateway, body: dict[str, Any] | None = None) -> UserFacingError:
    """The error ``stream_chat`` ends with (the test fails if it ends without one)."""
    _, error = await run(gateway, body if body is not None else body_for())
    assert error is not None, "expected the stream to fail"
    return error


def assert_plain(error: UserFacingError) -> None:
    """The message is one plain sentence or two: no traceback, exception names, JSON or key."""
    message = error.message
    assert str(error) == message
    assert message[:1].isupper() and message.endswith("."), message
    assert "\n" not in message and "Traceback" not in message and 'File "' not in message, message
    assert "{" not in message and re.search(r"\w+(Error|Exception)\b", message) is None, message
    assert "openai." not in message and "httpx" not in message and KEY not in message, message
    assert error.detail  # the technical detail is kept apart from the message


def chat_requests(server: FakeOpenAI) -> list[RecordedRequest]:
    """The chat completion requests the server received."""
    return [r for r in server.requests if r.path == "/v1/chat/completions"]


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, read, closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# ------------------------------------------------------------------------------------------------ streaming
async def test_normal_stream_yields_events_in_order(fake_openai: FakeOpenAI) -> None:
    usage = make_usage(20, 7, cached_tokens=5, reasoning_tokens=3)
    fake_openai.enqueue(Reply(text="Hello there, friend.", usage=usage))
    body = body_for()
    async with open_gateway(fake_openai.base_url) as gateway:
        events, error = await run(gateway, body)
    assert error is None
    assert events == [
        Started(), TextDelta("Hello "), TextDelta("there, "), TextDelta("friend."), Finished("stop"),
        UsageReport(Usage(input_tokens=20, cached_input_tokens=5, output_tokens=7, reasoning_tokens=3)),
    ]
    [request] = fake_openai.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.json == body
    assert request.json["max_completion_tokens"] == 256 and "max_tokens" not in request.json
    assert request.json["stream"] is True
    assert request.json["stream_options"] == {"include_usage": True}
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert not request.client_disconnected


async def test_finish_reason_length_is_reported(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(chunks=["cut ", "off"], finish_reason="length"))
    async with open_gateway(fake_openai.base_url) as gateway:
        events, error = await run(gateway, body_for())
    assert error is None
    assert events[:4] == [Started(), TextDelta("cut "), TextDelta("off"), Finished("length")]
    assert isinstance(events[-1], UsageReport) and events[-1].usage.output_tokens == 2


# ------------------------------------------------------------------------------------------- HTTP errors
@pytest.mark.parametrize(("status", "kind", "action"), [
    (401, ErrorKind.BAD_KEY, ErrorAction.OPEN_SETTINGS),
    (403, ErrorKind.PERMISSION, ErrorAction.OPEN_SETTINGS),
    (404, ErrorKind.MODEL_UNAVAILABLE, ErrorAction.CHOOSE_MODEL),
    (500, ErrorKind.SERVER, ErrorAction.RETRY),
    (502, ErrorKind.SERVER, ErrorAction.RETRY),
    (503, ErrorKind.SERVER, ErrorAction.RETRY),
])
async def test_http_errors_map_to_user_facing_errors(fake_openai: FakeOpenAI, status: int, kind: ErrorKind,
                                                     action: ErrorAction) -> None:
    fake_openai.enqueue(Reply(status=status))
    async with open_gateway(fake_openai.base_url, max_retries=0) as gateway:
        events, error = await run(gateway, body_for("gpt-4o-mini"))
    assert events == []
    assert error is not None
    assert (error.kind, error.action) == (kind, action)
    assert_plain(error)
    assert error.request_id is not None and error.request_id.startswith("req_")
    assert len(chat_requests(fake_openai)) == 1
    if status == 404:
        assert "gpt-4o-mini" in error.message
    if status >= 500:
        assert str(status) in error.message


async def test_a_local_server_that_wants_a_key_says_so_when_none_is_set() -> None:
    with FakeOpenAI(api_key="sk-right") as server:  # on 127.0.0.1: local, so no key is required to try it
        async with open_gateway(server.base_url, api_key=None) as gateway:
            error = await failure(gateway)
    assert (error.kind, error.action) == (ErrorKind.BAD_KEY, ErrorAction.OPEN_SETTINGS)
    assert error.message == f"{server.base_url} asks for an API key, and none is set for it. Add it in Settings."


async def test_wrong_key_rejected_by_the_server_is_bad_key() -> None:
    with FakeOpenAI(api_key="sk-right") as server:
        async with open_gateway(server.base_url, api_key="sk-wrong-0123456789") as gateway:
            error = await failure(gateway)
            with pytest.raises(UserFacingError) as listing:
                await gateway.list_models()
    assert (error.kind, error.action) == (ErrorKind.BAD_KEY, ErrorAction.OPEN_SETTINGS)
    assert listing.value.kind is ErrorKind.BAD_KEY
    assert_plain(error)
    assert "sk-wrong-0123456789" not in error.message


async def test_context_too_long(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(status=400, error=context_length_error(8192, 9000)))
    async with open_gateway(fake_openai.base_url) as gateway:
        error = await failure(gateway)
    assert (error.kind, error.action) == (ErrorKind.CONTEXT_TOO_LONG, ErrorAction.TRIM_AND_RETRY)
    assert_plain(error)
    assert "8192" not in error.message  # the server's wording stays in the detail
    assert error.detail is not None and "8192" in error.detail


@pytest.mark.parametrize(("status", "said"), [(400, "The file is too large."), (422, "Unknown parameter: 'x'.")])
async def test_a_refused_request_says_the_server_s_words_not_the_sdk_s(fake_openai: FakeOpenAI, status: int,
                                                                      said: str) -> None:
    fake_openai.enqueue(Reply(status=status, error=openai_error(said)))
    async with open_gateway(fake_openai.base_url) as gateway:
        error = await failure(gateway)
    assert error.kind is ErrorKind.BAD_REQUEST
    assert error.message.startswith("The server refused the request") and error.message.endswith(said)
    assert "Error code" not in error.message and "{" not in error.message  # not the SDK's wrapping


@pytest.mark.parametrize(("headers", "retry_after"), [
    ({"retry-after-ms": "10"}, 0.01),
    ({"retry-after": "0.01"}, 0.01),
])
async def test_rate_limit_is_retried_once_then_reported(fake_openai: FakeOpenAI, headers: dict[str, str],
                                                        retry_after: float | None) -> None:
    fake_openai.enqueue(Reply(status=429, headers=headers), Reply(status=429, headers=headers))
    body = body_for()
    async with open_gateway(fake_openai.base_url, max_retries=1) as gateway:
        events, error = await run(gateway, body)
    assert events == []
    assert error is not None
    assert (error.kind, error.action) == (ErrorKind.RATE_LIMITED, ErrorAction.RETRY)
    assert error.retry_after == retry_after
    assert_plain(error)
    requests = chat_requests(fake_openai)
    assert len(requests) == 2
    assert requests[0].json == requests[1].json == body


async def test_a_rate_limit_without_a_header_takes_the_wait_from_the_server_s_words(fake_openai: FakeOpenAI) -> None:
    said = openai_error("Rate limit reached for gpt-4o-mini on tokens per min (TPM): Limit 30000, Used 29000, "
                        "Requested 2000. Please try again in 4.2s.", type="tokens", code="rate_limit_exceeded")
    fake_openai.enqueue(Reply(status=429, error=said))
    async with open_gateway(fake_openai.base_url, max_retries=0) as gateway:
        error = await failure(gateway)
    assert error.kind is ErrorKind.RATE_LIMITED and error.retry_after == 4.2
    assert "Wait about 4 s and try again." in error.message


@pytest.mark.parametrize(("words", "seconds"), [("Please try again in 1.4s.", 1.4), ("try again in 20ms", 0.02),
                                                ("Please try again in 6m0s.", 360.0), ("try again later", None)])
def test_the_wait_a_rate_limit_names(words: str, seconds: float | None) -> None:
    assert wait_in_words(words) == seconds


async def test_rate_limit_then_success_streams_normally(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(status=429, headers={"retry-after-ms": "10"}), Reply(text="after the wait"))
    async with open_gateway(fake_openai.base_url, max_retries=1) as gateway:
        events, error = await run(gateway, body_for())
    assert error is None
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "after the wait"
    assert len(chat_requests(fake_openai)) == 2


async def test_insufficient_quota(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(status=429, error=insufficient_quota_error()))
    async with open_gateway(fake_openai.base_url, max_retries=0) as gateway:
        error = await failure(gateway)
    assert error.kind is ErrorKind.QUOTA
    assert error.action is ErrorAction.NONE  # retrying cannot help until credit is added
    assert "credit" in error.message
    assert_plain(error)


# ------------------------------------------------------------------------------------ transport failures
async def test_connection_refused_is_network() -> None:
    base_url = f"http://127.0.0.1:{closed_port()}/v1"
    async with open_gateway(base_url, max_retries=0, timeout=5.0) as gateway:
        error = await failure(gateway)
    assert (error.kind, error.action) == (ErrorKind.NETWORK, ErrorAction.RETRY)
    assert base_url in error.message
    assert_plain(error)


async def test_unresolvable_host_is_network() -> None:
    base_url = "http://nonexistent.invalid/v1"
    async with open_gateway(base_url, max_retries=0, timeout=5.0) as gateway:
        error = await failure(gateway)
        with pytest.raises(UserFacingError) as listing:
            await gateway.list_models()
    assert (error.kind, error.action) == (ErrorKind.NETWORK, ErrorAction.RETRY)
    assert (listing.value.kind, listing.value.action) == (ErrorKind.NETWORK, ErrorAction.RETRY)
    assert base_url in error.message
    assert_plain(error)


async def test_no_first_byte_before_the_timeout(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(first_byte_delay=2.0))
    loop = asyncio.get_running_loop()
    async with open_gateway(fake_openai.base_url, max_retries=0, timeout=0.5) as gateway:
        started = loop.time()
        events, error = await run(gateway, body_for("gpt-4o-mini"))
        elapsed = loop.time() - started
    assert events == []
    assert error is not None
    assert (error.kind, error.action) == (ErrorKind.TIMEOUT, ErrorAction.RETRY)
    assert_plain(error)
    assert elapsed < 1.9  # the client gave up, not the server


async def test_disconnect_mid_stream_keeps_what_arrived(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="one two three four", disconnect_after=2))
    async with open_gateway(fake_openai.base_url, max_retries=0) as gateway:
        events, error = await run(gateway, body_for())
    assert events == [Started(), TextDelta("one "), TextDelta("two ")]
    assert error is not None
    # the SDK raises APIConnectionError mid-stream; once the reply started it is a broken stream, not "no network"
    assert error.kind is ErrorKind.STREAM_BROKEN
    assert "kept" in error.message
    assert error.action is ErrorAction.RETRY
    assert error.detail is not None and "APIConnectionError" in error.detail
    assert_plain(error)


# ------------------------------------------------------------------------------------ max_tokens fallback
async def test_legacy_max_tokens_endpoint_is_retried_and_remembered(fake_openai: FakeOpenAI) -> None:
    fake_openai.legacy_max_tokens = True
    fake_openai.enqueue(Reply(text="first answer"), Reply(text="second answer"))
    async with open_gateway(fake_openai.base_url) as gateway:
        assert gateway.endpoint.legacy_max_tokens is False
        events, error = await run(gateway, body_for(max_output_tokens=300))
        assert error is None
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "first answer"
        assert gateway.endpoint.legacy_max_tokens is True
        requests = chat_requests(fake_openai)
        assert len(requests) == 2
        assert requests[0].json["max_completion_tokens"] == 300 and "max_tokens" not in requests[0].json
        assert requests[1].json["max_tokens"] == 300 and "max_completion_tokens" not in requests[1].json

        events, error = await run(gateway, body_for(max_output_tokens=400))
    assert error is None
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "second answer"
    requests = chat_requests(fake_openai)
    assert len(requests) == 3  # sent as max_tokens straight away
    assert requests[2].json["max_tokens"] == 400 and "max_completion_tokens" not in requests[2].json


async def test_other_bad_request_is_not_taken_for_legacy(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(status=400))  # context length: no max_tokens retry
    async with open_gateway(fake_openai.base_url) as gateway:
        error = await failure(gateway)
        assert gateway.endpoint.legacy_max_tokens is False
    assert error.kind is ErrorKind.CONTEXT_TOO_LONG
    assert len(chat_requests(fake_openai)) == 1


# ------------------------------------------------------------------------------------ per-model parameters
@pytest.mark.parametrize(("model", "has_temperature"), [
    ("o4-mini", False),
    ("gpt-5-mini", False),
    ("gpt-4o-mini", True),
    ("gpt-4.1-mini", True),
])
async def test_temperature_only_for_non_reasoning_models(fake_openai: FakeOpenAI, model: str,
                                                         has_temperature: bool) -> None:
    body = body_for(model, temperature=0.5)
    assert ("temperature" in body) is has_temperature
    async with open_gateway(fake_openai.base_url) as gateway:
        _, error = await run(gateway, body)
    assert error is None
    [request] = chat_requests(fake_openai)
    assert request.json["model"] == model
    if has_temperature:
        assert request.json["temperature"] == 0.5
    else:
        assert "temperature" not in request.json
    assert request.json["max_completion_tokens"] == 256


# ----------------------------------------------------------------------------------------- models & keys
async def test_list_models_returns_sorted_chat_models(fake_openai: FakeOpenAI) -> None:
    async with open_gateway(fake_openai.base_url) as gateway:
        assert await gateway.list_models() == sorted(DEFAULT_MODELS)
        fake_openai.models = ["whisper-1", "gpt-4o", "text-embedding-3-small", "dall-e-3", "gpt-4.1-mini",
                              "tts-1", "omni-moderation-latest"]
        assert await gateway.list_models() == ["gpt-4.1-mini", "gpt-4o"]
    assert [r.path for r in fake_openai.requests] == ["/v1/models", "/v1/models"]


async def test_no_key_for_a_remote_endpoint() -> None:
    async with open_gateway("https://api.openai.com/v1", api_key=None) as gateway:
        with pytest.raises(UserFacingError) as direct:
            gateway.client()
        with pytest.raises(UserFacingError) as listing:
            await gateway.list_models()
        error = await failure(gateway)
    for caught in (direct.value, listing.value, error):
        assert (caught.kind, caught.action) == (ErrorKind.NO_KEY, ErrorAction.OPEN_SETTINGS)
    assert str(direct.value) == direct.value.message and "Settings (Ctrl+,)" in direct.value.message
    assert "chatting" not in direct.value.message  # Extract and the Lab say it too


async def test_keyless_local_server_works(fake_openai: FakeOpenAI) -> None:
    assert fake_openai.base_url.startswith("http://127.0.0.1:")
    async with open_gateway(fake_openai.base_url, api_key=None) as gateway:
        assert gateway.endpoint.is_local
        assert await gateway.list_models() == sorted(DEFAULT_MODELS)
        events, error = await run(gateway, body_for())
    assert error is None
    assert Finished("stop") in events
    assert all(r.headers.get("authorization", "").startswith("Bearer ") for r in fake_openai.requests)


async def test_key_and_organization_come_from_the_endpoint_not_the_environment(
        fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-environment")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-from-environment")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-from-environment")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    async with open_gateway(fake_openai.base_url) as gateway:
        _, error = await run(gateway, body_for())
        await gateway.list_models()
    assert error is None
    assert len(fake_openai.requests) == 2
    for request in fake_openai.requests:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        assert "openai-organization" not in request.headers
        assert "openai-project" not in request.headers

    async with open_gateway(fake_openai.base_url, organization="org-mine") as gateway:
        await gateway.list_models()
    assert fake_openai.requests[-1].headers["openai-organization"] == "org-mine"
    assert fake_openai.requests[-1].headers["authorization"] == f"Bearer {KEY}"


# ------------------------------------------------------------------------------------------- cancellation
async def test_cancelling_the_consumer_closes_the_stream(fake_openai: FakeOpenAI) -> None:
    words = " ".join(f"w{i}" for i in range(200))
    fake_openai.enqueue(Reply(text=words, chunk_delay=0.05), Reply(text="still fine"))
    events: list[ChatEvent] = []

    async def consume(gateway: Gateway) -> None:
        async for event in gateway.stream_chat(body_for()):
            events.append(event)

    async with open_gateway(fake_openai.base_url) as gateway:
        task = asyncio.ensure_future(consume(gateway))
        await until(lambda: sum(isinstance(e, TextDelta) for e in events) >= 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled()
        await until(lambda: chat_requests(fake_openai)[0].client_disconnected)
        assert not any(isinstance(e, Finished | UsageReport) for e in events)

        # the gateway is still usable after a Stop
        after, error = await run(gateway, body_for())
    assert error is None
    assert "".join(e.text for e in after if isinstance(e, TextDelta)) == "still fine"
    assert not chat_requests(fake_openai)[1].client_disconnected


async def test_requests_made_while_the_client_is_built_wait_for_that_one_client(fake_openai: FakeOpenAI) -> None:
    questions = [f"question {n}" for n in range(6)]
    for n in range(6):
        fake_openai.enqueue(Reply(text=f"answer {n}"))
    async with open_gateway(fake_openai.base_url) as gateway:
        assert gateway._client is None  # built off the UI thread by the first request; the others wait for it
        bodies = [{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": q}]} for q in questions]
        answers = await asyncio.gather(*(gateway.complete(body) for body in bodies))
        client = gateway.client()
        fake_openai.enqueue(Reply(text="again"))
        assert (await gateway.complete(bodies[0]))[0] == "again"
        assert gateway.client() is client  # one client for them all
    assert sorted(text for text, _usage in answers) == [f"answer {n}" for n in range(6)]
    assert sorted(r.json["messages"][0]["content"] for r in fake_openai.requests[:6]) == questions


async def test_a_cancelled_first_request_does_not_stop_the_others(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="still answered"))
    async with open_gateway(fake_openai.base_url) as gateway:
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        first = asyncio.ensure_future(gateway.complete(body))
        second = asyncio.ensure_future(gateway.complete(body))
        await until(lambda: gateway._warming is not None)  # the client is being built; both requests wait for it
        first.cancel()
        text, _usage = await second
    assert text == "still answered" and first.cancelled()


async def test_a_client_that_cannot_be_built_is_explained_at_the_request(fake_openai: FakeOpenAI) -> None:
    # a proxy whose scheme the HTTP stack does not know: refused when the client is built, off the UI thread
    gateway = Gateway(Endpoint(base_url=fake_openai.base_url, api_key=KEY, organization="", timeout=10.0,
                               max_retries=0, proxy_mode="manual", proxy_url="ftp://proxy.example.com:21"))
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(UserFacingError) as refused:
        await gateway.complete(body)
    assert refused.value.action is ErrorAction.OPEN_SETTINGS and "proxy" in refused.value.message
    with pytest.raises(UserFacingError):
        await gateway.list_models()
    assert fake_openai.requests == []
    await gateway.close()


async def test_switching_endpoints_closes_the_previous_clients_connections(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="first"))
    async with open_gateway(fake_openai.base_url) as gateway:
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        assert (await gateway.complete(body))[0] == "first"
        previous = gateway.client()
        gateway.configure(Endpoint(base_url=fake_openai.base_url, api_key="sk-other", organization="",
                                   timeout=10.0, max_retries=0))
        assert not previous.is_closed()  # configure() runs anywhere; the closing waits for the loop
        fake_openai.enqueue(Reply(text="second"))
        assert (await gateway.complete(body))[0] == "second"
        assert previous.is_closed() and gateway.client() is not previous
        assert fake_openai.requests[-1].headers.get("authorization") == "Bearer sk-other"
        gateway.configure(Endpoint(base_url=fake_openai.base_url, api_key=KEY, organization="", timeout=10.0,
                                   max_retries=0))
        last = gateway._retired[-1]
    assert last.is_closed()  # close() closes a retired client too


async def test_a_base_url_without_its_v1_is_pointed_out_not_blamed_on_the_model(fake_openai: FakeOpenAI) -> None:
    root = fake_openai.base_url.removesuffix("/v1")  # the usual mistake with Ollama and LM Studio
    async with open_gateway(root) as gateway:
        error = await failure(gateway)
    assert (error.kind, error.action) == (ErrorKind.NETWORK, ErrorAction.OPEN_SETTINGS)
    assert "No OpenAI-compatible API answered at" in error.message
    assert f"did you mean {root}/v1?" in error.message and "model" not in error.message
    assert_plain(error)
    async with open_gateway(root) as gateway:  # Test connection asks for the models first (GET /models)
        with pytest.raises(UserFacingError) as listed:
            await gateway.list_models()
    assert listed.value.kind is ErrorKind.NETWORK and f"did you mean {root}/v1?" in listed.value.message
