"""The MCP SDK's tool listings and call results as the app's plain data (``core/tools.py``).

Kept apart from the manager so the mapping is easy to read and test; it touches the SDK's types only by
attribute, so importing this module never imports ``mcp``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from desktop_assistant.core.tools import EMPTY_SCHEMA, ImagePart, ResultPart, TextPart, ToolResult, ToolSpec


def tool_spec(server_id: str, tool: Any) -> ToolSpec:
    """One listed SDK ``Tool`` as a :class:`ToolSpec`."""
    schema = getattr(tool, "input_schema", None)
    return ToolSpec(
        server_id=server_id,
        name=str(tool.name),
        description=str(getattr(tool, "description", None) or ""),
        input_schema=dict(schema) if isinstance(schema, dict) else dict(EMPTY_SCHEMA),
        title=str(getattr(tool, "title", None) or ""),
    )


def _decode(data: str) -> bytes | None:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def _part(block: Any) -> ResultPart:
    kind = getattr(block, "type", None)
    if kind == "text":
        return TextPart(str(block.text))
    if kind == "image":
        data = _decode(str(block.data))
        if data is None:
            return TextPart("[The tool returned an image that could not be decoded.]")
        return ImagePart(data=data, mime_type=str(block.mime_type))
    if kind == "audio":
        return TextPart(f"[The tool returned audio ({block.mime_type}), which is not shown.]")
    if kind == "resource_link":
        return TextPart(f"[Resource: {block.uri}]")
    if kind == "resource":
        resource = block.resource
        text = getattr(resource, "text", None)
        if isinstance(text, str):
            return TextPart(text)
        mime = str(getattr(resource, "mime_type", None) or "")
        blob = getattr(resource, "blob", None)
        data = _decode(str(blob)) if blob is not None else None
        if data is not None and mime.startswith("image/"):
            return ImagePart(data=data, mime_type=mime)
        return TextPart(f"[The tool returned a file ({mime or 'unknown type'}) at {resource.uri}, which is not shown.]")
    return TextPart(f"[The tool returned content of an unknown kind ({kind}).]")


def tool_result(result: Any) -> ToolResult:
    """An SDK ``CallToolResult`` as a :class:`ToolResult` (structured content is used when there is no other)."""
    parts = [_part(block) for block in (getattr(result, "content", None) or [])]
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(TextPart(json.dumps(structured, ensure_ascii=False)))
    return ToolResult(parts=tuple(parts), is_error=bool(getattr(result, "is_error", False)))
