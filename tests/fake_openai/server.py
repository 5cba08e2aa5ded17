"""A loopback OpenAI-compatible HTTP server for tests, running on its own asyncio loop in a thread.

Real HTTP on 127.0.0.1 (ephemeral port) with aiohttp.web, so the app's real ``openai`` client, its retries,
timeouts and SSE parsing are all exercised. The server keeps answering while the test's own (qasync) loop is
busy, because it lives on a separate loop in a background thread.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email.parser
import email.policy
import gc
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from .audio import FakeAudio
from .batches import FakeBatches
from .embeddings import FakeEmbeddings
from .spec import OpenAPISpec, load_spec
from .wire import (
    CompletionWriter,
    Reply,
    invalid_key_error,
    last_user_text,
    missing_key_error,
    new_id,
    openai_error,
)

DEFAULT_MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-5-mini", "o4-mini"]
_START_TIMEOUT = 10.0


@dataclass
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str  # e.g. "/v1/chat/completions" (no query string)
    headers: dict[str, str]  # lower-case names
    json: Any  # the parsed JSON body, or None (no body, or not JSON)
    received: float  # time.monotonic() when the request arrived
    query: dict[str, str]
    client_disconnected: bool = False  # the client went away before the answer was complete


class FakeOpenAI:
    """An OpenAI-compatible server on 127.0.0.1 answering scripted chat completions (see ``enqueue``).

    ``api_key=None`` accepts any or no Authorization header; otherwise anything but ``Bearer <api_key>``
    gets OpenAI's 401. With ``spec_path`` every JSON request body is validated against OpenAI's OpenAPI
    document; problems are collected in ``violations`` (the request is still answered normally unless
    ``reject_invalid`` is set, then it gets a 400 as OpenAI would send).
    """

    def __init__(self, spec_path: Path | None = None, api_key: str | None = None) -> None:
        self.spec_path = spec_path
        self.api_key = api_key
        self.models: list[str] = list(DEFAULT_MODELS)
        self.models_delay = 0.0  # seconds GET /models waits before answering (a slow endpoint)
        self.speech_delay = 0.0  # seconds POST /audio/speech waits before answering
        # replies chosen by the request, not by arrival order (parallel requests arrive in any order): the first
        # entry whose text occurs in the last user message answers it, once
        self.answers: dict[str, Reply] = {}
        self.legacy_max_tokens = False
        self.reject_invalid = False
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.holding = 0  # streams currently waiting at the hold gate
        self.base_url = ""
        self._spec: OpenAPISpec | None = load_spec(spec_path) if spec_path is not None else None
        self._queue: collections.deque[Reply] = collections.deque()
        self._queue_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._gate: asyncio.Event | None = None
        self._released = False
        self.batches = FakeBatches(self._batch_answer, self._check_batch_body)
        self.batches.violations = self.violations  # batch input lines break the spec like any request
        self.embeddings = FakeEmbeddings()
        self.audio = FakeAudio()

    # ----------------------------------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Start serving (blocks until the port is bound); sets ``base_url``."""
        if self._thread is not None:
            raise RuntimeError("FakeOpenAI already started")
        # Collect garbage here, on the caller's (Qt) thread: Python's cyclic GC runs on whichever thread
        # happens to allocate, and a closed qasync loop of an earlier test collected on the server thread
        # destroys its timer QObject off the GUI thread, leaving a dangling Qt timer (segfault later).
        gc.collect()
        loop = asyncio.new_event_loop()
        self._loop = loop
        ready: threading.Event = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # reported to start()
                failure.append(exc)
                loop.close()
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="FakeOpenAI", daemon=True)
        self._thread.start()
        if not ready.wait(_START_TIMEOUT):
            raise RuntimeError("FakeOpenAI did not start in time")
        if failure:
            self._loop = self._thread = None
            raise RuntimeError("FakeOpenAI failed to start") from failure[0]

    async def _serve(self) -> None:
        self._gate = asyncio.Event()
        if self._released:
            self._gate.set()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def stop(self) -> None:
        """Open the hold gate, close all connections and stop the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self.release()
        if self._runner is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(_START_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_START_TIMEOUT)
        self._loop = self._thread = self._runner = None

    def __enter__(self) -> FakeOpenAI:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------------ scripting
    def enqueue(self, *replies: Reply) -> None:
        """Queue scripted answers for ``POST /v1/chat/completions``, used in order (thread-safe).

        Queueing a reply with ``hold=True`` closes the hold gate again (if an earlier ``release`` opened it).
        """
        with self._queue_lock:
            self._queue.extend(replies)
        if any(reply.hold for reply in replies):
            self._released = False
            self._call_on_loop(lambda gate: gate.clear())

    def release(self) -> None:
        """Open the gate that replies with ``hold=True`` wait on after their first chunk (thread-safe)."""
        self._released = True
        self._call_on_loop(lambda gate: gate.set())

    def _call_on_loop(self, action: Callable[[asyncio.Event], None]) -> None:
        loop, gate = self._loop, self._gate
        if loop is not None and gate is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(action, gate)

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._queue_lock:
            asked = last_user_text(body)
            for text, reply in list(self.answers.items()):
                if text in asked:
                    del self.answers[text]
                    return reply
            if self._queue:
                return self._queue.popleft()
        return Reply(text=f"Echo: {last_user_text(body)}")

    # ------------------------------------------------------------------------------------------- handling
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body: Any = None
        problems: list[str] = []
        form: dict[str, tuple[str | None, bytes]] | None = None
        if request.content_type == "multipart/form-data":
            form = parse_multipart(request.headers.get("Content-Type", ""), raw)
        elif raw:
            try:
                body = json.loads(raw)
            except ValueError as exc:
                if request.content_type == "application/json":
                    problems.append(f"(body): not valid JSON: {exc}")
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            json=body,
            received=time.monotonic(),
            query=dict(request.query),
        )
        self.requests.append(record)
        api_path = request.path[3:] if request.path.startswith("/v1/") else None
        if self._spec is not None and body is not None and api_path is not None:
            problems.extend(self._spec.check_request(request.method, api_path, body))
        if self._spec is not None and form is not None and api_path is not None:
            problems.extend(self._spec.check_multipart(request.method, api_path,
                                                       {k: v[1].decode("utf-8", "replace") for k, v in form.items()}))
        if problems:
            self.violations.append(f"{request.method} {request.path}: " + "; ".join(problems))

        auth_error = self._check_auth(request)
        if auth_error is not None:
            return self._json(401, auth_error)
        if problems and self.reject_invalid:
            return self._json(400, openai_error(problems[0]))
        try:
            if request.method == "GET" and api_path == "/models":
                if self.models_delay:
                    await asyncio.sleep(self.models_delay)
                return self._json(200, {"object": "list", "data": [self._model(m) for m in self.models]})
            if request.method == "GET" and api_path is not None and api_path.startswith("/models/"):
                model_id = api_path[len("/models/"):]
                if model_id in self.models:
                    return self._json(200, self._model(model_id))
                return self._json(404, openai_error(f"The model '{model_id}' does not exist", param="model",
                                                    code="model_not_found"))
            if request.method == "POST" and api_path == "/embeddings":
                return self._json(*self.embeddings.answer(body))
            if request.method == "POST" and api_path == "/audio/transcriptions":
                return self._json(*self.audio.transcribe(form))
            if request.method == "POST" and api_path == "/audio/speech":
                if self.speech_delay:
                    await asyncio.sleep(self.speech_delay)
                status, audio = self.audio.speech(body)
                if isinstance(audio, dict):
                    return self._json(status, audio)
                return web.Response(body=audio, content_type="audio/mpeg", headers=self._headers())
            files_or_batches = self._files_and_batches(request.method, api_path or "", body, form)
            if files_or_batches is not None:
                return files_or_batches
            if request.method == "POST" and api_path == "/chat/completions" and isinstance(body, dict):
                return await self._chat_completion(request, record, body)
            if request.method == "POST" and api_path == "/chat/completions":
                return self._json(400, openai_error(
                    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
                    "sent was not valid JSON."))
        except asyncio.CancelledError:  # the client went away (aiohttp's handler_cancellation)
            record.client_disconnected = True
            raise
        except ConnectionError:  # a write failed: the client went away; aiohttp ignores the failed write_eof
            record.client_disconnected = True
            return web.StreamResponse()
        return self._json(404, openai_error(f"Invalid URL ({request.method} {request.path})"))

    def _files_and_batches(self, method: str, api_path: str, body: Any,
                           form: dict[str, tuple[str | None, bytes]] | None) -> web.Response | None:
        """``/files`` and ``/batches`` (see :mod:`.batches`); None for any other path."""
        b = self.batches
        parts = api_path.strip("/").split("/")
        if method == "POST" and api_path == "/files":
            if form is None or "file" not in form or "purpose" not in form:
                return self._json(400, openai_error("Expected a multipart body with 'file' and 'purpose'."))
            filename, data = form["file"]
            return self._json(*b.upload(filename or "upload", form["purpose"][1].decode(), data))
        if method == "GET" and len(parts) == 3 and parts[0] == "files" and parts[2] == "content":
            content = b.content(parts[1])
            if content is None:
                return self._json(404, openai_error(f"No such File object: {parts[1]}", param="id"))
            return web.Response(body=content, content_type="application/octet-stream", headers=self._headers())
        if method == "GET" and len(parts) == 2 and parts[0] == "files":
            found = b.file(parts[1])
            return self._json(200, found) if found else self._json(404, openai_error(
                f"No such File object: {parts[1]}", param="id"))
        if method == "DELETE" and len(parts) == 2 and parts[0] == "files":
            return self._json(*b.delete(parts[1]))
        if method == "POST" and api_path == "/batches" and isinstance(body, dict):
            return self._json(*b.create(body))
        if method == "GET" and len(parts) == 2 and parts[0] == "batches":
            return self._json(*b.retrieve(parts[1]))
        if method == "POST" and len(parts) == 3 and parts[0] == "batches" and parts[2] == "cancel":
            return self._json(*b.cancel(parts[1]))
        return None

    def _batch_answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """How one batch line is answered: the next scripted reply, as a whole completion."""
        reply = self._next_reply(body)
        model = str(body.get("model", ""))
        if reply.status != 200:
            return reply.status, reply.error_body(model)
        return 200, CompletionWriter(model, include_usage=False).completion(reply, reply.pieces(), body)

    def _check_batch_body(self, body: Any) -> list[str]:
        if self._spec is None:
            return []
        return self._spec.check_request("POST", "/chat/completions", body)

    def _check_auth(self, request: web.Request) -> dict[str, Any] | None:
        if self.api_key is None:
            return None
        header = request.headers.get("Authorization")
        if not header:
            return missing_key_error()
        if header != f"Bearer {self.api_key}":
            return invalid_key_error(header.removeprefix("Bearer ").strip())
        return None

    @staticmethod
    def _model(model_id: str) -> dict[str, Any]:
        return {"id": model_id, "object": "model", "created": 1715367049, "owned_by": "system"}

    @staticmethod
    def _headers(extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"x-request-id": new_id("req_"), "openai-version": "2020-10-01", "openai-processing-ms": "7"}
        headers.update(extra or {})
        return headers

    def _json(self, status: int, payload: dict[str, Any], extra_headers: dict[str, str] | None = None,
              ) -> web.Response:
        return web.json_response(payload, status=status, headers=self._headers(extra_headers))

    async def _wait_at_gate(self) -> None:
        assert self._gate is not None
        self.holding += 1
        try:
            await self._gate.wait()
        finally:
            self.holding -= 1

    async def _chat_completion(self, request: web.Request, record: RecordedRequest,
                               body: dict[str, Any]) -> web.StreamResponse:
        if self.legacy_max_tokens and "max_completion_tokens" in body:
            return self._json(400, openai_error("Unrecognized request argument supplied: max_completion_tokens",
                                                param="max_completion_tokens"))
        reply = self._next_reply(body)
        model = str(body.get("model", ""))
        if reply.first_byte_delay:
            await asyncio.sleep(reply.first_byte_delay)
        if reply.status != 200:
            return self._json(reply.status, reply.error_body(model), reply.headers)
        pieces = reply.pieces()
        stream_options = body.get("stream_options")
        include_usage = isinstance(stream_options, dict) and stream_options.get("include_usage") is True
        writer = CompletionWriter(model, include_usage=include_usage and body.get("stream") is True)
        if body.get("stream") is not True:
            if reply.hold:
                await self._wait_at_gate()
            if reply.disconnect_after is not None:
                return self._drop(request)
            return self._json(200, writer.completion(reply, pieces, body), reply.headers)

        response = web.StreamResponse(status=200, headers=self._headers({
            "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", **reply.headers}))
        await response.prepare(request)
        first, content, closing = writer.stream(reply, pieces)
        await self._send(response, first)
        for raw in reply.raw_events:  # verbatim SSE text after the first chunk (malformed lines, odd chunks)
            await response.write(raw.encode())
        if reply.hold:
            await self._wait_at_gate()
        for index, chunk in enumerate(content):
            if reply.disconnect_after is not None and index >= reply.disconnect_after:
                return self._drop(request, response)
            if reply.chunk_delay:
                await asyncio.sleep(reply.chunk_delay)
            await self._send(response, chunk)
        if reply.disconnect_after is not None:
            return self._drop(request, response)
        for chunk in closing:
            if reply.chunk_delay:
                await asyncio.sleep(reply.chunk_delay)
            await self._send(response, chunk)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    @staticmethod
    async def _send(response: web.StreamResponse, chunk: dict[str, Any]) -> None:
        await response.write(b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n")

    @staticmethod
    def _drop(request: web.Request, response: web.StreamResponse | None = None) -> web.StreamResponse:
        """Close the TCP connection mid-answer (after flushing what was sent); aiohttp then ignores the
        failed end of the response as a premature disconnection."""
        if request.transport is not None:
            request.transport.close()
        return response if response is not None else web.StreamResponse()


def parse_multipart(content_type: str, raw: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The fields of a ``multipart/form-data`` body: name -> (file name or None, bytes)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name is None:
            continue
        payload = part.get_payload(decode=True)
        fields[str(name)] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return fields
