"""Tools from MCP servers as the Chat Completions API takes them, and what comes back from a call.

Pure data and rules, no I/O: the service layer (``services/mcp_servers.py``) lists tools into
:class:`ToolSpec` and returns :class:`ToolResult`; the chat side builds the request's ``tools`` with
:func:`build_tool_set`, maps the model's ``tool_calls`` back with :meth:`ToolSet.resolve`, parses their
arguments with :func:`parse_arguments` and turns results into messages with :func:`result_text`.

Function names: the API accepts ``^[a-zA-Z0-9_-]{1,64}$``. A tool's own name is used when it is valid and
unique across the enabled servers; otherwise it is made valid (other characters become ``_``) and, when two
servers offer the same name, every copy is prefixed with its server's id (``files__read``). Whatever is left
ambiguous gets a numeric suffix. The mapping back is exact: the model only ever sees the unique names.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from desktop_assistant.core.tool_arguments import pretty_arguments as pretty_arguments  # re-exported

NAME_LIMIT = 64
_INVALID_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")
_VALID_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
DEFAULT_RESULT_CHARS = 20_000  # about 5,000 tokens: a tool result larger than this is cut
EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True)
class ToolSpec:
    """One tool as a server lists it: name, description and the JSON schema of its input."""

    server_id: str
    name: str
    description: str = ""
    input_schema: Mapping[str, Any] = field(default_factory=lambda: dict(EMPTY_SCHEMA))
    title: str = ""


@dataclass(frozen=True)
class TextPart:
    """Text a tool returned (untrusted: shown as plain text, sent to the model as data)."""

    text: str


@dataclass(frozen=True)
class ImagePart:
    """An image a tool returned: the decoded bytes and their MIME type."""

    data: bytes
    mime_type: str


ResultPart = TextPart | ImagePart


@dataclass(frozen=True)
class ToolResult:
    """What a tool call produced; ``is_error`` when the tool itself reported a failure."""

    parts: tuple[ResultPart, ...]
    is_error: bool = False

    @property
    def images(self) -> tuple[ImagePart, ...]:
        """The image parts, in order."""
        return tuple(p for p in self.parts if isinstance(p, ImagePart))


class ToolCallProblem(ValueError):
    """A tool call from the model that cannot run; ``message`` is fit to send back to the model."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ToolSet:
    """The ``tools`` of a request and the way back from each function name to its server and tool."""

    definitions: list[dict[str, Any]]
    targets: dict[str, ToolSpec]

    def resolve(self, function_name: str) -> ToolSpec:
        """The tool behind ``function_name``; :class:`ToolCallProblem` for a name the model made up."""
        spec = self.targets.get(function_name)
        if spec is None:
            known = ", ".join(sorted(self.targets)) or "none"
            raise ToolCallProblem(f"There is no tool named {function_name!r}. The available tools are: {known}.")
        return spec

    def function_name(self, server_id: str, tool_name: str) -> str | None:
        """The name the model sees for ``tool_name`` of ``server_id`` (None when it is not in the set)."""
        for name, spec in self.targets.items():
            if spec.server_id == server_id and spec.name == tool_name:
                return name
        return None


def _clean_name(name: str) -> str:
    cleaned = _INVALID_NAME_CHARS.sub("_", name) or "tool"
    return cleaned[:NAME_LIMIT]


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    number = 2
    while True:
        suffix = f"_{number}"
        candidate = name[: NAME_LIMIT - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        number += 1


def parameters_schema(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """An MCP input schema as a function's ``parameters``: always an object schema (top-level title dropped)."""
    if not isinstance(schema, Mapping) or schema.get("type", "object") != "object":
        return dict(EMPTY_SCHEMA)
    out = {k: v for k, v in schema.items() if k != "title"}
    out["type"] = "object"
    if not isinstance(out.get("properties"), Mapping):
        out["properties"] = {}
    return out


def build_tool_set(tools: Sequence[ToolSpec]) -> ToolSet:
    """The request's ``tools`` (Chat Completions shape) for ``tools``, with names unique and valid."""
    servers_per_name: dict[str, set[str]] = {}
    for spec in tools:
        servers_per_name.setdefault(_clean_name(spec.name), set()).add(spec.server_id)
    taken: set[str] = set()
    definitions: list[dict[str, Any]] = []
    targets: dict[str, ToolSpec] = {}
    for spec in tools:
        base = _clean_name(spec.name)
        if len(servers_per_name[base]) > 1:  # offered by two servers: say whose
            base = _clean_name(f"{spec.server_id}__{spec.name}")
        name = _unique(base, taken)
        taken.add(name)
        targets[name] = spec
        function: dict[str, Any] = {"name": name, "parameters": parameters_schema(spec.input_schema)}
        description = spec.description.strip() or spec.title.strip()
        if description:
            function["description"] = description
        definitions.append({"type": "function", "function": function})
    return ToolSet(definitions=definitions, targets=targets)


def is_valid_function_name(name: str) -> bool:
    """Whether the API accepts ``name`` as a function name."""
    return bool(_VALID_NAME.match(name))


def parse_arguments(raw: str | None) -> dict[str, Any]:
    """The arguments of a tool call as a dict; :class:`ToolCallProblem` (for the model) when malformed.

    An empty string means no arguments (some models send ``""`` for a tool without parameters).
    """
    if raw is None or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ToolCallProblem(
            f"The arguments are not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}). "
            "Send the arguments again as one JSON object."
        ) from exc
    if not isinstance(value, dict):
        raise ToolCallProblem(
            f"The arguments must be a JSON object, not {_json_kind(value)}. Send them again as one JSON object."
        )
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"


def truncate_text(text: str, limit: int = DEFAULT_RESULT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, with a note saying how much was left out."""
    if len(text) <= limit:
        return text
    kept = text[:limit]
    return (f"{kept}\n\n[The tool result was truncated: {len(text):,} characters in all, only the first "
            f"{limit:,} are shown.]")


IMAGE_NOTE = "[The tool returned an image ({mime}, {size:,} bytes).]"


def result_text(result: ToolResult, limit: int = DEFAULT_RESULT_CHARS) -> str:
    """The text of a tool message for ``result``: its text parts, a note per image, cut to ``limit``.

    A result with no content says so, so the model never sees an empty tool message.
    """
    pieces: list[str] = []
    for part in result.parts:
        if isinstance(part, TextPart):
            pieces.append(part.text)
        else:
            pieces.append(IMAGE_NOTE.format(mime=part.mime_type, size=len(part.data)))
    text = "\n\n".join(pieces) if pieces else "[The tool returned no content.]"
    if result.is_error:
        text = "The tool reported an error:\n" + text
    return truncate_text(text, limit)


def tool_message(call_id: str, text: str) -> dict[str, Any]:
    """A ``tool`` message answering the call ``call_id``."""
    return {"role": "tool", "tool_call_id": call_id, "content": text}


def images_message(results: Sequence[tuple[str, ToolResult]]) -> dict[str, Any] | None:
    """A user message carrying the images that tool calls returned, for a vision model (None when there are none).

    A ``tool`` message takes text only (OpenAI's spec: ``ChatCompletionRequestToolMessageContentPart`` is a
    text part), so images go in one user message right after the tool messages, each introduced by the
    function name that returned it (``results`` are pairs of function name and result).
    """
    content: list[dict[str, Any]] = []
    for name, result in results:
        for image in result.images:
            content.append({"type": "text", "text": f"Image returned by the tool {name}:"})
            url = f"data:{image.mime_type};base64,{base64.b64encode(image.data).decode('ascii')}"
            content.append({"type": "image_url", "image_url": {"url": url}})
    return {"role": "user", "content": content} if content else None
