"""The app's plain data: conversations, messages and usage. No Qt, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """Who wrote a message."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class Status(StrEnum):
    """Where a message stands.

    ``streaming`` is only ever seen while a reply arrives; one left by a crash reads as ``interrupted``.
    """

    COMPLETE = "complete"
    STREAMING = "streaming"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"
    ERROR = "error"
    TRUNCATED = "truncated"


@dataclass(frozen=True)
class Usage:
    """Tokens of one request, as reported by the API (or estimated, when ``estimated``)."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    estimated: bool = False
    audio_input_tokens: int = 0
    audio_output_tokens: int = 0


def added_usage(first: Usage | None, second: Usage | None) -> Usage | None:
    """The tokens of two requests that made one reply (a reply and its continuation); None when neither."""
    if first is None or second is None:
        return first or second
    return Usage(first.input_tokens + second.input_tokens, first.cached_input_tokens + second.cached_input_tokens,
                 first.output_tokens + second.output_tokens, first.reasoning_tokens + second.reasoning_tokens,
                 first.estimated or second.estimated, first.audio_input_tokens + second.audio_input_tokens,
                 first.audio_output_tokens + second.audio_output_tokens)


def usage_from_api(raw: Mapping[str, Any] | None) -> Usage:
    """An API ``usage`` object (as a dict: a stream's last chunk, a completion, a batch output line) as
    :class:`Usage`; no usage at all reads as an estimate of nothing."""
    if not isinstance(raw, Mapping):
        return Usage(estimated=True)
    prompt = raw.get("prompt_tokens_details") or {}
    completion = raw.get("completion_tokens_details") or {}
    return Usage(input_tokens=int(raw.get("prompt_tokens") or 0),
                 cached_input_tokens=int(prompt.get("cached_tokens") or 0),
                 output_tokens=int(raw.get("completion_tokens") or 0),
                 reasoning_tokens=int(completion.get("reasoning_tokens") or 0),
                 audio_input_tokens=int(prompt.get("audio_tokens") or 0),
                 audio_output_tokens=int(completion.get("audio_tokens") or 0))


def text_part(text: str) -> dict[str, Any]:
    """A text content part, as the chat API spells it."""
    return {"type": "text", "text": text}


def parts_text(parts: list[dict[str, Any]]) -> str:
    """The text of a message's content parts, joined."""
    return "".join(str(p.get("text", "")) for p in parts if p.get("type") == "text")


def typed_text(parts: list[dict[str, Any]]) -> str:
    """What the person typed in a question: its text without the text of the files sent with it."""
    return "".join(str(p.get("text", "")) for p in parts if p.get("type") == "text" and not p.get("file"))


def attached_parts(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The files and images sent with a question, in order."""
    return [p for p in parts if p.get("file") or p.get("type") == "image_url"]


def edited_parts(parts: list[dict[str, Any]], text: str,
                 attached: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """A question's parts with its typed text replaced by ``text``: its files and images stay, in order (or
    ``attached`` instead, when some were left out)."""
    kept = attached_parts(parts) if attached is None else attached
    return ([text_part(text)] if text or not kept else []) + kept


def tool_calls(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``tool_call`` parts of an assistant message (id, name, arguments, server, tool), in order."""
    return [p for p in parts if p.get("type") == "tool_call"]


def tool_call_part(call_id: str, name: str, arguments: str, server: str = "", tool: str = "") -> dict[str, Any]:
    """A stored tool call: the function name the model used, its JSON arguments, and the server tool behind it."""
    return {"type": "tool_call", "id": call_id, "name": name, "arguments": arguments, "server": server, "tool": tool}


def tool_result_part(call_id: str, name: str, text: str, *, error: bool = False, denied: bool = False
                     ) -> dict[str, Any]:
    """A stored tool result: the text the model reads (untrusted), and whether it is an error or a refusal."""
    return {"type": "tool_result", "tool_call_id": call_id, "name": name, "text": text, "error": error,
            "denied": denied}


@dataclass
class Message:
    """One message of a conversation; replies form a tree through ``parent_id`` (edits make branches)."""

    id: int
    conversation_id: int
    parent_id: int | None
    role: Role
    parts: list[dict[str, Any]]
    status: Status = Status.COMPLETE
    model: str | None = None
    usage: Usage | None = None
    cost_micros: int | None = None
    finish_reason: str | None = None
    error: str | None = None
    error_action: str | None = None  # an ``ErrorAction`` value: the button offered with the error
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def text(self) -> str:
        """The message's text content."""
        return parts_text(self.parts)


@dataclass
class Conversation:
    """A conversation and its per-conversation request settings."""

    id: int
    title: str
    model: str
    system_prompt: str = ""
    temperature: float | None = None
    max_output_tokens: int | None = None
    current_leaf_id: int | None = None
    title_by_user: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0
    cost_micros: int = 0
    tools: list[str] = field(default_factory=list)  # ids of the MCP servers whose tools this chat may use


@dataclass(frozen=True)
class LedgerEntry:
    """One row of the usage ledger: what one API call cost."""

    feature: str
    model: str
    usage: Usage
    cost_micros: int | None
    conversation_id: int | None = None
    message_id: int | None = None
    created_at: float = 0.0
    id: int | None = None
    job: str | None = None  # a bulk run or batch the call belongs to
    batch: bool = False  # charged at the Batch API price
