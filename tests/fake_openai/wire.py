"""What the fake server says: scripted replies, OpenAI's error bodies and chat completion objects."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    """One scripted answer to ``POST /v1/chat/completions`` (see ``FakeOpenAI.enqueue``)."""

    text: str = "Hello!"
    chunks: list[str] | None = None
    finish_reason: str = "stop"
    usage: dict[str, Any] | None = None
    status: int = 200
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunk_delay: float = 0.0
    first_byte_delay: float = 0.0
    disconnect_after: int | None = None
    hold: bool = False
    refusal: str | None = None
    raw_events: list[str] = field(default_factory=list)  # verbatim SSE text sent after the first chunk
    tool_arguments: str | None = None  # answer with one call of the request's (forced) function instead of text
    # answer with these calls (name, JSON arguments), parallel calls in order, instead of (or after) the text;
    # streamed as the API does: each call's id and name first, then its arguments in pieces
    tool_calls: list[tuple[str, str]] | None = None

    def pieces(self) -> list[str]:
        """The streamed pieces: ``chunks`` if given, else the text (or refusal) split into words with spaces."""
        if self.chunks is not None:
            return list(self.chunks)
        return split_words(self.refusal if self.refusal is not None else self.text)

    def usage_body(self, pieces: list[str]) -> dict[str, Any]:
        """The ``usage`` object: the scripted one, or 11 prompt tokens and one completion token per piece."""
        if self.usage is not None:
            return self.usage
        return make_usage(11, len(pieces))

    def error_body(self, model: str) -> dict[str, Any]:
        """The ``{"error": {...}}`` body for a non-200 reply."""
        return self.error if self.error is not None else default_error(self.status, model)


def split_words(text: str) -> list[str]:
    """Split into words keeping the whitespace, so that ``"".join(split_words(t)) == t``."""
    pieces = re.findall(r"\s*\S+\s*", text)
    return pieces if pieces or not text else [text]


def make_usage(prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0,
               reasoning_tokens: int = 0) -> dict[str, Any]:
    """A ``usage`` object shaped like OpenAI's."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def openai_error(message: str, type: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None) -> dict[str, Any]:
    """An error body exactly as OpenAI shapes it: ``{"error": {message, type, param, code}}``."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def context_length_error(limit: int = 128000, used: int = 130000) -> dict[str, Any]:
    """OpenAI's 400 for a conversation that no longer fits the model's context window."""
    return openai_error(
        f"This model's maximum context length is {limit} tokens. However, your messages resulted in {used} "
        "tokens. Please reduce the length of the messages.",
        param="messages",
        code="context_length_exceeded",
    )


def insufficient_quota_error() -> dict[str, Any]:
    """OpenAI's 429 for an account without credit (not retryable, unlike a rate limit)."""
    return openai_error(
        "You exceeded your current quota, please check your plan and billing details. For more information on "
        "this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        type="insufficient_quota",
        code="insufficient_quota",
    )


def invalid_key_error(key: str) -> dict[str, Any]:
    """OpenAI's 401 for a wrong key (the key is masked like OpenAI does)."""
    masked = f"{key[:3]}*{key[-4:]}" if len(key) > 8 else "*" * len(key)
    return openai_error(
        f"Incorrect API key provided: {masked}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


def missing_key_error() -> dict[str, Any]:
    """OpenAI's 401 when no Authorization header is sent."""
    return openai_error(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using "
        "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if "
        "you're accessing the API from your browser and are prompted for a username and password. You can "
        "obtain an API key from https://platform.openai.com/account/api-keys."
    )


def default_error(status: int, model: str) -> dict[str, Any]:
    """A plausible OpenAI error body for ``status``."""
    if status == 400:
        return context_length_error()
    if status == 401:
        return invalid_key_error("sk-fake-invalid-key-0000")
    if status == 403:
        return openai_error("Country, region, or territory not supported", type="request_forbidden",
                            code="unsupported_country_region_territory")
    if status == 404:
        return openai_error(f"The model `{model}` does not exist or you do not have access to it.",
                            code="model_not_found")
    if status == 429:
        return openai_error(
            f"Rate limit reached for {model} in organization org-fake on tokens per min (TPM): Limit 30000, "
            "Used 29500, Requested 1200. Please try again in 1.4s. Visit "
            "https://platform.openai.com/account/rate-limits to learn more.",
            type="tokens",
            code="rate_limit_exceeded",
        )
    if status >= 500:
        return openai_error(
            "The server had an error while processing your request. Sorry about that!", type="server_error"
        )
    return openai_error(f"HTTP {status}")


def new_id(prefix: str) -> str:
    """A random identifier like OpenAI's (``chatcmpl-…``, ``req_…``)."""
    return prefix + secrets.token_hex(12)


class CompletionWriter:
    """Builds the ``chat.completion`` / ``chat.completion.chunk`` objects of one answer."""

    def __init__(self, model: str, include_usage: bool) -> None:
        self.id = new_id("chatcmpl-")
        self.created = int(time.time())
        self.model = model
        self.include_usage = include_usage
        self.fingerprint = "fp_fake0000"

    def _chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "service_tier": "default",
            "system_fingerprint": self.fingerprint,
            "choices": choices,
        }
        if self.include_usage:
            chunk["usage"] = None
        return chunk

    def delta_chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        """A chunk with one choice carrying ``delta``."""
        return self._chunk([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}])

    def usage_chunk(self, usage: dict[str, Any]) -> dict[str, Any]:
        """The last chunk when ``include_usage`` is set: no choices, just usage."""
        chunk = self._chunk([])
        chunk["usage"] = usage
        return chunk

    def stream(self, reply: Reply, pieces: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]],
                                                              list[dict[str, Any]]]:
        """(first chunk, content chunks, closing chunks) of a streamed reply."""
        if reply.refusal is not None:
            first = self.delta_chunk({"role": "assistant", "content": None, "refusal": ""})
            content = [self.delta_chunk({"refusal": piece}) for piece in pieces]
        else:
            first = self.delta_chunk({"role": "assistant", "content": "", "refusal": None})
            content = [self.delta_chunk({"content": piece}) for piece in pieces]
        finish_reason = reply.finish_reason
        if reply.tool_calls:
            if not reply.text:
                first = self.delta_chunk({"role": "assistant", "content": None, "refusal": None})
                content = []
            content += self._tool_call_chunks(reply.tool_calls)
            finish_reason = "tool_calls" if finish_reason == "stop" else finish_reason
        closing = [self.delta_chunk({}, finish_reason)]
        if self.include_usage:
            closing.append(self.usage_chunk(reply.usage_body(pieces)))
        return first, content, closing

    def _tool_call_chunks(self, calls: list[tuple[str, str]]) -> list[dict[str, Any]]:
        chunks = []
        for index, (name, arguments) in enumerate(calls):
            chunks.append(self.delta_chunk({"tool_calls": [{"index": index, "id": new_id("call_"), "type": "function",
                                                            "function": {"name": name, "arguments": ""}}]}))
            for start in range(0, len(arguments), 8):
                chunks.append(self.delta_chunk({"tool_calls": [{"index": index, "function": {
                    "arguments": arguments[start:start + 8]}}]}))
        return chunks

    def completion(self, reply: Reply, pieces: list[str], body: dict[str, Any] | None = None) -> dict[str, Any]:
        """A whole (non-streamed) ``chat.completion`` object."""
        text = "".join(pieces)
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if reply.refusal is not None else text,
            "refusal": text if reply.refusal is not None else None,
            "annotations": [],
        }
        finish_reason = reply.finish_reason
        if reply.tool_calls:
            message["content"] = text or None
            message["tool_calls"] = [{"id": new_id("call_"), "type": "function",
                                      "function": {"name": name, "arguments": arguments}}
                                     for name, arguments in reply.tool_calls]
            finish_reason = "tool_calls" if finish_reason == "stop" else finish_reason
        elif reply.tool_arguments is not None and reply.refusal is None:
            message["content"] = None
            message["tool_calls"] = [{"id": new_id("call_"), "type": "function",
                                      "function": {"name": function_name(body), "arguments": reply.tool_arguments}}]
            finish_reason = "tool_calls" if finish_reason == "stop" else finish_reason
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
            "usage": reply.usage_body(pieces),
            "service_tier": "default",
            "system_fingerprint": self.fingerprint,
        }


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the last user message (text parts joined), or ``""``."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "".join(
                    part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"
                )
            return ""
    return ""


def function_name(body: dict[str, Any] | None) -> str:
    """The function a request forces with ``tool_choice`` (else its first tool's name, else ``"function"``)."""
    body = body or {}
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return str(choice["function"].get("name", "function"))
    tools = body.get("tools")
    if isinstance(tools, list) and tools and isinstance(tools[0], dict):
        return str((tools[0].get("function") or {}).get("name", "function"))
    return "function"
