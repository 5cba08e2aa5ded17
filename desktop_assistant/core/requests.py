"""The one place a chat request body is built.

The token estimate, the history plan and the gateway all use what this module returns, so what is counted is
exactly what is sent. Parameters are chosen per model family here and nowhere else:
- ``max_completion_tokens`` always (``max_tokens`` is deprecated and refused by reasoning models); an
  endpoint found to know only ``max_tokens`` gets that instead (see :func:`to_legacy_max_tokens`);
- no ``temperature`` for reasoning models (they accept only the default);
- streaming always asks for the final usage chunk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from desktop_assistant.core.catalog import lookup
from desktop_assistant.core.models import Message, Role, Status, tool_calls

WireMessage = dict[str, Any]
REASONING_EFFORTS = ("minimal", "low", "medium", "high")  # "" leaves the model's default


def wire_message(message: Message) -> WireMessage:
    """A stored message as the chat API takes it (plain string content when it is text only).

    An assistant message that called tools carries ``tool_calls`` (content None when it has no text); a tool
    result is a ``tool`` message with the result's text (its images travel separately, see :func:`wire_messages`).
    """
    if message.role is Role.TOOL:
        result = next((p for p in message.parts if p.get("type") == "tool_result"), {})
        return {"role": Role.TOOL.value, "tool_call_id": str(result.get("tool_call_id", "")),
                "content": str(result.get("text", "")) or "[The tool returned no content.]"}
    calls = tool_calls(message.parts)
    if calls:
        text = message.text
        return {"role": message.role.value, "content": text if text.strip() else None,
                "tool_calls": [{"id": c["id"], "type": "function",
                                "function": {"name": c["name"], "arguments": c.get("arguments", "")}}
                               for c in calls]}
    if all(p.get("type") == "text" for p in message.parts):
        return {"role": message.role.value, "content": message.text}
    return {"role": message.role.value, "content": [dict(p) for p in message.parts]}


NO_RESULT = "[No result: the call did not run.]"


TOOL_IMAGES_INTRO = "Image returned by the tool "


def is_tool_images(message: WireMessage) -> bool:
    """Whether ``message`` is the user message that carries the images tool results returned (made by
    :func:`wire_messages` right after the results): part of the turn of the question that led to the calls."""
    content = message.get("content")
    if message.get("role") != Role.USER.value or not isinstance(content, list) or not content:
        return False
    kinds = {part.get("type") for part in content if isinstance(part, dict)}
    texts = [part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"]
    return "image_url" in kinds and kinds <= {"text", "image_url"} and bool(texts) and all(
        isinstance(text, str) and text.startswith(TOOL_IMAGES_INTRO) for text in texts)


def _tool_images(results: list[Message]) -> WireMessage | None:
    """One user message with the images that tool results returned (None when there are none)."""
    content: list[dict[str, Any]] = []
    for m in results:
        images = [dict(p) for p in m.parts if p.get("type") == "image_url"]
        if images:
            name = next((str(p.get("name", "")) for p in m.parts if p.get("type") == "tool_result"), "")
            content.append({"type": "text", "text": f"{TOOL_IMAGES_INTRO}{name}:"})
            content.extend(images)
    return {"role": Role.USER.value, "content": content} if content else None


def _unanswered(reply: Message) -> bool:
    """Whether ``reply`` is an assistant message that ended with nothing in it (failed or stopped at once); one
    still arriving has not ended (what the next request would send counts its question while it streams)."""
    return (reply.role is Role.ASSISTANT and reply.status is not Status.STREAMING and not reply.text.strip()
            and not tool_calls(reply.parts))


def wire_messages(system_prompt: str, path: Iterable[Message], *, tool_images: bool = True) -> list[WireMessage]:
    """The system prompt (if any) and the messages of a branch, as sent. A reply that failed (or was stopped)
    before any text arrived is left out, with the question it failed to answer: a later message does not carry
    (nor pay for) a question that got no answer; Retry asks it again.

    Tool calls and their results always travel together: every call of an assistant message gets a ``tool``
    message (a note when its result is missing, e.g. after a crash), results with no call are left out, and
    images that tools returned follow the results as one user message when ``tool_images`` (vision models).
    """
    out: list[WireMessage] = []
    if system_prompt.strip():
        out.append({"role": Role.SYSTEM.value, "content": system_prompt})
    messages = list(path)
    i = 0
    while i < len(messages):
        m = messages[i]
        i += 1
        if m.role is Role.TOOL:
            continue  # a result whose call is not on this branch
        calls = tool_calls(m.parts) if m.role is Role.ASSISTANT else []
        if m.role is Role.ASSISTANT and not calls and not m.text.strip():
            continue  # a reply that failed before any text arrived is not part of the exchange
        if m.role is Role.USER and i < len(messages) and _unanswered(messages[i]):
            continue  # nor is the question it did not answer
        out.append(wire_message(m))
        if not calls:
            continue
        results: list[Message] = []
        while i < len(messages) and messages[i].role is Role.TOOL:
            results.append(messages[i])
            i += 1
        answered: dict[str, WireMessage] = {}
        for r in results:
            wire = wire_message(r)
            answered.setdefault(wire["tool_call_id"], wire)
        for c in calls:
            out.append(answered.get(c["id"]) or {"role": Role.TOOL.value, "tool_call_id": c["id"],
                                                  "content": NO_RESULT})
        images = _tool_images(results) if tool_images else None
        if images is not None:
            out.append(images)
    return out


def chat_body(
    model: str,
    messages: list[WireMessage],
    *,
    max_output_tokens: int,
    temperature: float | None = None,
    legacy_max_tokens: bool = False,
    stream: bool = True,
    reasoning_effort: str = "",
) -> dict[str, Any]:
    """The JSON body of a chat completion request for ``model``."""
    info = lookup(model)
    body: dict[str, Any] = {"model": model, "messages": messages}
    body["max_tokens" if legacy_max_tokens else "max_completion_tokens"] = max_output_tokens
    if temperature is not None and not info.reasoning:
        body["temperature"] = temperature
    if reasoning_effort in REASONING_EFFORTS and info.reasoning:
        body["reasoning_effort"] = reasoning_effort
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def to_legacy_max_tokens(body: dict[str, Any]) -> dict[str, Any]:
    """The same body for a server that knows only ``max_tokens``."""
    out = dict(body)
    if "max_completion_tokens" in out:
        out["max_tokens"] = out.pop("max_completion_tokens")
    return out


def continue_messages(messages: list[WireMessage], partial_reply: str) -> list[WireMessage]:
    """Messages asking the model to go on with a reply that was cut off by the output limit."""
    return [*messages, {"role": Role.ASSISTANT.value, "content": partial_reply},
            {"role": Role.USER.value, "content": "Continue exactly where you stopped, without repeating anything."}]


IMAGE_PLACEHOLDER = "[image not sent]"


def drop_images(messages: list[WireMessage], *, keep_last_question: bool) -> list[WireMessage]:
    """``messages`` with image parts replaced by a short note (all of them, or all but the newest question's)."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    out: list[WireMessage] = []
    for i, m in enumerate(messages):
        content = m.get("content")
        if not isinstance(content, list) or (keep_last_question and i == last_user):
            out.append(m)
            continue
        parts = [p if p.get("type") != "image_url" else {"type": "text", "text": IMAGE_PLACEHOLDER} for p in content]
        out.append({**m, "content": parts})
    return out


def has_images(messages: list[WireMessage]) -> bool:
    """Whether any message carries an image part."""
    return any(isinstance(m.get("content"), list) and any(p.get("type") == "image_url" for p in m["content"])
               for m in messages)


TITLE_PROMPT = ("Write a short title (at most six words, no quotes, no final period) for a conversation that "
                "starts like this. Answer with the title only.")


def title_messages(question: str, answer: str) -> list[WireMessage]:
    """The request for a conversation's title from its first exchange (both cut to keep it cheap)."""
    return [{"role": "system", "content": TITLE_PROMPT},
            {"role": "user", "content": f"User: {question[:1500]}\n\nAssistant: {answer[:1500]}"}]


def clean_title(text: str) -> str:
    """A model's title answer made tidy: one line, no quotes or final period, at most 60 characters."""
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    line = line.strip("\"'“”‘’*#` ").removeprefix("Title:").strip().rstrip(".")
    line = " ".join(re.sub(r"\*\*|__|`", "", line).split())  # markdown emphasis or code inside the title
    return line[:60]


# --- structured extraction -----------------------------------------------------------------------------

EXTRACTION_PROMPT = ("Extract the requested fields from the user's input. Use only what the input says; when a "
                     "field is not mentioned, use null if it may be null, else the closest faithful value.")
EXTRACTION_MAX_OUTPUT = 2048
FUNCTION_NAME = "record_extraction"


def extraction_messages(text: str, image_url: str | None = None, instructions: str = "") -> list[WireMessage]:
    """The system instructions and the input (text, and an image as a data URL for a vision model)."""
    system = EXTRACTION_PROMPT + (f"\n\n{instructions.strip()}" if instructions.strip() else "")
    user: WireMessage
    if image_url:
        parts: list[dict[str, Any]] = []
        if text.strip():
            parts.append({"type": "text", "text": text})
        parts.append({"type": "image_url", "image_url": {"url": image_url}})
        user = {"role": Role.USER.value, "content": parts}
    else:
        user = {"role": Role.USER.value, "content": text}
    return [{"role": Role.SYSTEM.value, "content": system}, user]


def response_format(schema: dict[str, Any], name: str, description: str = "") -> dict[str, Any]:
    """A strict ``json_schema`` response format (Structured Outputs)."""
    spec: dict[str, Any] = {"name": name, "schema": schema, "strict": True}
    if description:
        spec["description"] = description
    return {"type": "json_schema", "json_schema": spec}


def extraction_tool(schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """The one strict function whose arguments are the extracted fields."""
    function: dict[str, Any] = {"name": FUNCTION_NAME, "parameters": schema, "strict": True,
                                "description": description or "Record the fields extracted from the input."}
    return {"type": "function", "function": function}


def extraction_body(
    model: str,
    messages: list[WireMessage],
    schema: dict[str, Any],
    *,
    mode: str = "structured",
    name: str = "extraction",
    description: str = "",
    max_output_tokens: int = EXTRACTION_MAX_OUTPUT,
    temperature: float | None = 0.0,
    legacy_max_tokens: bool = False,
) -> dict[str, Any]:
    """A non-streamed extraction request: ``mode`` ``structured`` (``response_format``) or ``function``
    (``tools`` with a forced ``tool_choice``); max tokens always set, temperature 0 unless told."""
    body = chat_body(model, messages, max_output_tokens=max_output_tokens, temperature=temperature,
                     legacy_max_tokens=legacy_max_tokens, stream=False)
    if mode == "function":
        body["tools"] = [extraction_tool(schema, description)]
        body["tool_choice"] = {"type": "function", "function": {"name": FUNCTION_NAME}}
        if not lookup(model).reasoning:
            body["parallel_tool_calls"] = False
    else:
        body["response_format"] = response_format(schema, name, description)
    return body


def batch_line(custom_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """One line of a Batch API input file for ``POST /v1/chat/completions``."""
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}
