"""The OpenAI gateway: one ``AsyncOpenAI`` client per endpoint, chat streams, model lists.

``openai`` is imported lazily (it costs half a second): nothing here runs before the first paint. The client
gets key, base URL and organization explicitly, so the SDK's own environment look-ups never decide which key
goes where. The SDK's retries (408/409/429/5xx with backoff and Retry-After) and timeouts are configured,
not rewritten. Every SDK error leaves this module as a :class:`UserFacingError`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from desktop_assistant.core.catalog import is_chat_model, lookup
from desktop_assistant.core.errors import ErrorAction, ErrorKind, UserFacingError
from desktop_assistant.core.memory import keep_out_of_full_collections
from desktop_assistant.core.models import Usage, usage_from_api
from desktop_assistant.core.redact import mask_key, redact
from desktop_assistant.core.requests import to_legacy_max_tokens
from desktop_assistant.services.api_errors import map_error
from desktop_assistant.services.endpoint import Endpoint

if TYPE_CHECKING:  # imported with the event loop, after the first paint
    import asyncio

log = logging.getLogger(__name__)

KEYLESS_PLACEHOLDER = "no-key-needed"  # keyless local servers (Ollama, LM Studio) still need a string
REASONING_READ_TIMEOUT = 600.0


@dataclass(frozen=True)
class TextDelta:
    """More text of the reply."""

    text: str


@dataclass(frozen=True)
class RefusalDelta:
    """More text of a refusal."""

    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """More of a tool call the model is making: its position among parallel calls, and the pieces that arrived
    (the id and name come first, then the JSON arguments in fragments)."""

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass(frozen=True)
class Finished:
    """The reply ended with ``reason`` (stop, length, content_filter, ...)."""

    reason: str


@dataclass(frozen=True)
class UsageReport:
    """Tokens the API reports for the request (the last chunk of a stream)."""

    usage: Usage


@dataclass(frozen=True)
class Started:
    """The first chunk arrived: the server is answering."""


ChatEvent = Started | TextDelta | RefusalDelta | ToolCallDelta | Finished | UsageReport


@dataclass(frozen=True)
class StructuredReply:
    """The answer to an extraction call: JSON text (structured outputs) or tool arguments, or a refusal."""

    content: str | None
    refusal: str | None
    arguments: str | None
    finish_reason: str
    usage: Usage


@dataclass(frozen=True)
class BatchInfo:
    """What the Batch API says about a batch."""

    id: str
    status: str
    total: int = 0
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: tuple[str, ...] = ()
    input_file_id: str | None = None


@dataclass(frozen=True)
class Transcript:
    """A transcription: its text, the tokens reported (token-billed models) and the seconds of audio reported
    (duration-billed models such as whisper-1; None otherwise)."""

    text: str
    usage: Usage
    seconds: float | None = None


_AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "mpeg": "audio/mpeg", "mpga": "audio/mpeg",
                "m4a": "audio/mp4", "mp4": "audio/mp4", "ogg": "audio/ogg", "webm": "audio/webm", "flac": "audio/flac"}


def _batch_info(batch: Any) -> BatchInfo:
    counts = getattr(batch, "request_counts", None)
    errors = getattr(getattr(batch, "errors", None), "data", None) or []
    return BatchInfo(
        id=str(batch.id), status=str(batch.status),
        total=int(getattr(counts, "total", 0) or 0), completed=int(getattr(counts, "completed", 0) or 0),
        failed=int(getattr(counts, "failed", 0) or 0),
        output_file_id=getattr(batch, "output_file_id", None), error_file_id=getattr(batch, "error_file_id", None),
        errors=tuple(str(getattr(e, "message", "") or "") for e in errors),
        input_file_id=getattr(batch, "input_file_id", None))


def _usage(raw: Any) -> Usage:
    """The SDK's usage object as :class:`Usage` (read from its dict form, as batch output lines are)."""
    return usage_from_api(raw.model_dump() if hasattr(raw, "model_dump") else raw)


def _rejects_max_completion_tokens(exc: BaseException) -> bool:
    import openai

    if not isinstance(exc, openai.BadRequestError):
        return False
    return getattr(exc, "param", None) == "max_completion_tokens" or "max_completion_tokens" in str(exc)


def _build_client(ep: Endpoint) -> Any:
    """An ``AsyncOpenAI`` client for ``ep`` (imports the SDK); UserFacingError when a key is needed and missing."""
    import openai

    if not ep.api_key and not ep.is_local:
        raise UserFacingError(ErrorKind.NO_KEY, "Add your API key in Settings (Ctrl+,) first: nothing can be sent "
                              "without it.", ErrorAction.OPEN_SETTINGS)
    http_client = _http_client(ep)
    try:
        client = openai.AsyncOpenAI(
            api_key=ep.api_key or KEYLESS_PLACEHOLDER, base_url=ep.base_url,
            organization=ep.organization or None, timeout=ep.timeout, max_retries=ep.max_retries,
            http_client=http_client)
    except (ValueError, ImportError) as exc:  # the environment's proxy variables name what httpx cannot use
        raise UserFacingError(ErrorKind.BAD_REQUEST, f"The system's proxy setting cannot be used ({redact(str(exc))}). "
                              "Choose another proxy setting in Settings.", ErrorAction.OPEN_SETTINGS) from exc
    # the SDK fills these from OPENAI_ORG_ID / OPENAI_PROJECT_ID when given None: we decide, not it
    client.organization = ep.organization or None
    client.project = None
    return client


def _warm_client(ep: Endpoint) -> Any:
    """:func:`_build_client` with the chat resource and its chunk types loaded too (run off the UI thread).

    The SDK imports its resources and pydantic types lazily on first use; done on the UI thread that is a stall
    of a few hundred milliseconds in the middle of the first reply.
    """
    client = _build_client(ep)
    _ = client.chat.completions
    _ = client.models
    import openai.types.chat.chat_completion
    import openai.types.chat.chat_completion_chunk  # noqa: F401

    return client


class Gateway:
    """Talks to one OpenAI-compatible endpoint."""

    def __init__(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint
        self._client: Any = None
        self._retired: list[Any] = []  # clients of endpoints switched away from, their connections still open
        self._warming: asyncio.Future[Any] | None = None
        self._warming_for: Endpoint | None = None

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint requests go to."""
        return self._endpoint

    def configure(self, endpoint: Endpoint) -> None:
        """Switch to ``endpoint`` (a new client is built on the next request)."""
        if endpoint != self._endpoint:
            self._endpoint = endpoint
            if self._client is not None:  # closed by the next request or by close(), on the loop
                self._retired.append(self._client)
            self._client = None

    def client(self) -> Any:
        """The ``AsyncOpenAI`` client for the endpoint (built on first use)."""
        if self._client is None:
            self._client = _build_client(self._endpoint)
        return self._client

    async def ready(self) -> None:
        """Build the client off the UI thread when it is not built yet (the SDK's imports take ~0.5 s, which
        on the UI thread would freeze the window at the first request).

        Requests made meanwhile all wait for the one build and then go on in the order they were made. A build
        that fails (no key, a proxy setting the HTTP stack refuses) leaves nothing built: the request's own
        ``client()`` call then raises the error again, where it is explained to the person.
        """
        await self._close_retired()
        if self._client is not None:
            return
        import asyncio  # running, so loaded: not imported before the first paint

        endpoint = self._endpoint
        if self._warming is None or self._warming.done() or self._warming_for is not endpoint:
            self._warming = asyncio.ensure_future(asyncio.to_thread(_warm_client, endpoint))
            self._warming_for = endpoint
        warming = self._warming
        try:
            client = await asyncio.shield(warming)  # a cancelled request does not cancel the build others await
        except Exception:
            log.debug("building the client failed; the request will say why", exc_info=True)
            return
        # stored here, on the loop: configure() (also on the loop) may have switched endpoints meanwhile
        if self._client is None and self._endpoint is endpoint:
            self._client = client
            keep_out_of_full_collections()  # the SDK's modules and models stay for good

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._close_retired()
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _close_retired(self) -> None:
        while self._retired:
            client = self._retired.pop()
            try:
                await client.close()
            except Exception:  # a connection that is already broken: nothing left to release
                log.debug("closing a previous endpoint's client failed", exc_info=True)

    async def complete(self, body: dict[str, Any]) -> tuple[str, Usage]:
        """A non-streamed chat completion: its text and usage (small requests such as titles)."""
        model = str(body.get("model", ""))
        if self._endpoint.legacy_max_tokens:
            body = to_legacy_max_tokens(body)
        await self.ready()
        try:
            result = await self.client().chat.completions.create(**body)
        except Exception as exc:
            raise self._mapped(exc, model=model) from exc
        text = (result.choices[0].message.content or "") if result.choices else ""
        usage = _usage(result.usage) if result.usage is not None else Usage(estimated=True)
        return text, usage

    async def structured(self, body: dict[str, Any]) -> StructuredReply:
        """A non-streamed extraction call (``response_format`` or forced ``tools``): the raw answer, unparsed.

        The answer is not parsed here: the caller validates it against its own schema, so a server that ignores
        the schema gives validation errors, not an exception.
        """
        model = str(body.get("model", ""))
        if self._endpoint.legacy_max_tokens:
            body = to_legacy_max_tokens(body)
        await self.ready()
        try:
            try:
                result = await self.client().chat.completions.create(**body)
            except Exception as exc:
                if self._endpoint.legacy_max_tokens or not _rejects_max_completion_tokens(exc):
                    raise
                self._endpoint = replace(self._endpoint, legacy_max_tokens=True)
                result = await self.client().chat.completions.create(**to_legacy_max_tokens(body))
        except UserFacingError:
            raise
        except Exception as exc:
            raise self._mapped(exc, model=model) from exc
        usage = _usage(result.usage) if getattr(result, "usage", None) is not None else Usage(estimated=True)
        if not result.choices:
            return StructuredReply(None, None, None, "", usage)
        choice = result.choices[0]
        message = choice.message
        calls = getattr(message, "tool_calls", None) or []
        arguments = next((c.function.arguments for c in calls if getattr(c, "function", None) is not None), None)
        return StructuredReply(message.content, getattr(message, "refusal", None), arguments,
                               str(choice.finish_reason or ""), usage)

    async def embed(self, model: str, inputs: list[str], dimensions: int | None = None) -> tuple[list[Any], Usage]:
        """Embeddings of ``inputs`` in order: each a base64 string of little-endian float32 (what we ask for)
        or a list of floats (servers that ignore ``encoding_format``); and the usage."""
        extra: dict[str, Any] = {"dimensions": dimensions} if dimensions else {}
        await self.ready()
        try:
            result = await self.client().embeddings.create(model=model, input=inputs, encoding_format="base64",
                                                           **extra)
        except Exception as exc:
            raise self._mapped(exc, model=model) from exc
        ordered = sorted(result.data, key=lambda item: item.index)
        prompt = getattr(result.usage, "prompt_tokens", None) if result.usage is not None else None
        usage = Usage(input_tokens=int(prompt)) if prompt is not None else Usage(estimated=True)
        return [item.embedding for item in ordered], usage

    async def upload_file(self, name: str, data: bytes, purpose: str = "batch") -> str:
        """Upload ``data`` as a file (multipart); returns its id."""
        await self.ready()
        try:
            created = await self.client().files.create(file=(name, data, "application/jsonl"), purpose=purpose)
        except Exception as exc:
            raise self._mapped(exc) from exc
        return str(created.id)

    async def delete_file(self, file_id: str) -> None:
        """Delete an uploaded (or a batch's generated) file from the server."""
        await self.ready()
        try:
            await self.client().files.delete(file_id)
        except Exception as exc:
            raise self._mapped(exc) from exc

    async def discard_files(self, file_ids: Iterable[str | None]) -> None:
        """Delete these files from the server, as housekeeping: one that cannot be deleted (already gone, the
        network down) is logged and left."""
        for file_id in file_ids:
            if not file_id:
                continue
            try:
                await self.delete_file(file_id)
            except UserFacingError as exc:
                log.info("file %s was not deleted from the server: %s", file_id, exc.message)

    async def create_batch(self, input_file_id: str, metadata: dict[str, str] | None = None) -> BatchInfo:
        """Start a chat-completions batch over an uploaded file (24 h window)."""
        await self.ready()
        try:
            batch = await self.client().batches.create(
                input_file_id=input_file_id, endpoint="/v1/chat/completions", completion_window="24h",
                **({"metadata": metadata} if metadata else {}))
        except Exception as exc:
            raise self._mapped(exc) from exc
        return _batch_info(batch)

    async def retrieve_batch(self, batch_id: str) -> BatchInfo:
        """The batch's status, request counts and output files."""
        await self.ready()
        try:
            batch = await self.client().batches.retrieve(batch_id)
        except Exception as exc:
            raise self._mapped(exc) from exc
        return _batch_info(batch)

    async def cancel_batch(self, batch_id: str) -> BatchInfo:
        """Ask the server to cancel the batch."""
        await self.ready()
        try:
            batch = await self.client().batches.cancel(batch_id)
        except Exception as exc:
            raise self._mapped(exc) from exc
        return _batch_info(batch)

    async def file_content(self, file_id: str) -> str:
        """The text of a file (a batch's output or error JSONL)."""
        await self.ready()
        try:
            content = await self.client().files.content(file_id)
            return str(content.text)
        except Exception as exc:
            raise self._mapped(exc) from exc

    async def transcribe(self, model: str, name: str, data: bytes) -> Transcript:
        """Speech to text: ``data`` (an audio file named ``name``) uploaded as multipart to
        ``/audio/transcriptions``; the text with the usage the API reports (tokens, or seconds of audio)."""
        await self.ready()
        try:
            result = await self.client().audio.transcriptions.create(
                model=model, file=(name, data, _AUDIO_TYPES.get(name.rsplit(".", 1)[-1].lower(), "audio/wav")),
                response_format="json")
        except Exception as exc:
            raise self._mapped(exc, model=model) from exc
        raw = getattr(result, "usage", None)
        usage, seconds = Usage(estimated=True), None
        if raw is not None and getattr(raw, "type", "") == "duration":
            seconds = float(raw.seconds)
        elif raw is not None and getattr(raw, "type", "") == "tokens":
            details = getattr(raw, "input_token_details", None)
            usage = Usage(input_tokens=int(raw.input_tokens), output_tokens=int(raw.output_tokens),
                          audio_input_tokens=int(getattr(details, "audio_tokens", 0) or 0))
        return Transcript(str(result.text), usage, seconds)

    async def speak(self, model: str, voice: str, text: str) -> bytes:
        """Text to speech (``/audio/speech``): MP3 bytes of ``text`` (at most 4,096 characters) in ``voice``."""
        await self.ready()
        try:
            response = await self.client().audio.speech.create(model=model, voice=voice, input=text,
                                                               response_format="mp3")
            return bytes(await response.aread())
        except Exception as exc:
            raise self._mapped(exc, model=model) from exc

    async def list_models(self) -> list[str]:
        """The endpoint's chat model ids, sorted (``models.list()``)."""
        await self.ready()
        try:
            page = await self.client().models.list()
            ids = [m.id async for m in page]
        except Exception as exc:
            raise self._mapped(exc) from exc
        return sorted(i for i in ids if is_chat_model(i))

    async def stream_chat(self, body: dict[str, Any]) -> AsyncIterator[ChatEvent]:
        """Stream a chat completion for ``body`` (built by ``core.requests``), as events.

        The stream is always closed (``async with``), also when the consumer is cancelled (Stop). An endpoint
        that refuses ``max_completion_tokens`` is retried once with ``max_tokens`` and remembered.
        """
        model = str(body.get("model", ""))
        if self._endpoint.legacy_max_tokens:
            body = to_legacy_max_tokens(body)
        timeout = max(self._endpoint.timeout, REASONING_READ_TIMEOUT) if lookup(model).reasoning else None
        options: dict[str, Any] = {"timeout": timeout} if timeout else {}
        started = False
        await self.ready()
        try:
            try:
                stream = await self.client().chat.completions.create(**body, **options)
            except Exception as exc:
                if self._endpoint.legacy_max_tokens or not _rejects_max_completion_tokens(exc):
                    raise
                log.info("endpoint %s knows only max_tokens; remembering", self._endpoint.base_url)
                self._endpoint = replace(self._endpoint, legacy_max_tokens=True)
                stream = await self.client().chat.completions.create(**to_legacy_max_tokens(body), **options)
            try:
                async with stream:
                    started = True
                    yield Started()
                    async for chunk in stream:
                        for event in _events(chunk):
                            yield event
            finally:
                # closing the response leaves the SDK's half-read generator to be finalised outside any
                # loop (qasync installs no async-generator hooks); close it here, on the loop
                iterator = getattr(stream, "_iterator", None)
                if iterator is not None:
                    await iterator.aclose()
        except UserFacingError:
            raise
        except Exception as exc:
            raise self._mapped(exc, model=model, streaming=started) from exc

    def _mapped(self, exc: BaseException, *, model: str = "", streaming: bool = False) -> UserFacingError:
        """``exc`` as a user-facing error, with the key masked wherever the server may have echoed it."""
        error = map_error(exc, model=model, base_url=self._endpoint.base_url, streaming=streaming)
        secrets = [self._endpoint.api_key or ""]
        if error.kind is ErrorKind.BAD_KEY and self._endpoint.api_key:
            error = replace(error, message=f"The API key {mask_key(self._endpoint.api_key)} was not accepted by "
                                           f"{self._endpoint.base_url}. Check it in Settings.")
        elif error.kind is ErrorKind.BAD_KEY:  # a local server sent no key, or one kept only for a session
            error = replace(error, message=f"{self._endpoint.base_url} asks for an API key, and none is set for "
                                           "it. Add it in Settings.")
        return replace(error, message=redact(error.message, secrets),
                       detail=redact(error.detail, secrets) if error.detail else None)


def _http_client(ep: Endpoint) -> Any:
    """The HTTP client for ``ep``'s proxy choice (None: the SDK's default, which honours the environment).

    Certificates are verified against the operating system's store in every case (the SDK's HTTP stack
    uses truststore), so a company's own certificate authority works once the OS trusts it.
    """
    import openai

    if ep.proxy_mode == "none":
        return openai.DefaultAsyncHttpxClient(trust_env=False)
    proxy = ep.proxy_url.strip()
    if ep.proxy_mode == "manual" and proxy:
        if "://" not in proxy:  # "proxy.example.com:8080", as browsers accept it
            proxy = "http://" + proxy
        try:
            return openai.DefaultAsyncHttpxClient(proxy=proxy, trust_env=False)
        except (ValueError, ImportError) as exc:  # a scheme the HTTP stack does not know, SOCKS without socksio
            raise UserFacingError(ErrorKind.BAD_REQUEST, f"The proxy {redact(proxy)} cannot be used ({exc}). "
                                  "Check it in Settings.", ErrorAction.OPEN_SETTINGS) from exc
    return None


def _events(chunk: Any) -> list[ChatEvent]:
    events: list[ChatEvent] = []
    for choice in chunk.choices or []:
        delta = choice.delta
        if delta is not None:
            if delta.content:
                events.append(TextDelta(delta.content))
            refusal = getattr(delta, "refusal", None)
            if refusal:
                events.append(RefusalDelta(refusal))
            for call in getattr(delta, "tool_calls", None) or []:
                function = getattr(call, "function", None)
                events.append(ToolCallDelta(int(call.index or 0), call.id or "",
                                            (function.name or "") if function else "",
                                            (function.arguments or "") if function else ""))
        if choice.finish_reason:
            events.append(Finished(str(choice.finish_reason)))
    if getattr(chunk, "usage", None) is not None:
        events.append(UsageReport(_usage(chunk.usage)))
    return events
