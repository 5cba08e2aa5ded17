"""The export formats: this app's JSON (documented, versioned, importable), Markdown and self-contained HTML.

JSON format, version 1 (``FORMAT`` / ``FORMAT_VERSION``)::

    {"format": "desktop-assistant-export", "version": 1, "exported_at": "2025-01-31T12:00:00Z",
     "app_version": "1.2.3",
     "conversations": [
       {"title": str, "title_by_user": bool, "model": str, "system_prompt": str,
        "temperature": float | null, "max_output_tokens": int | null,
        "created_at": float, "updated_at": float,          # seconds since the epoch (UTC)
        "current_leaf": int | null,                        # the "id" of the message shown last
        "tools": [str],                                    # the tool (MCP) servers the chat could use; for
                                                           # information: an import leaves tools off
        "messages": [                                      # every branch, parents before children
          {"id": int, "parent": int | null,                # ids are local to this conversation
           "role": "system" | "user" | "assistant" | "tool",
           "parts": [{"type": "text", "text": str} |
                     {"type": "tool_call", "id": str, "name": str, "arguments": str, "server": str,
                      "tool": str} |                     # assistant: a call the model made
                     {"type": "tool_result", "tool_call_id": str, "name": str, "text": str,
                      "error": bool, "denied": bool} |   # tool: what the call returned (untrusted)
                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,...", "detail": str},
                      "name": str, "size": [width, height]}],   # images inline; name/size/detail optional
           "status": "complete" | "stopped" | "interrupted" | "error" | "truncated",
           "model": str | null, "created_at": float, "updated_at": float, "finish_reason": str | null,
           "usage": {"input_tokens": int, "cached_input_tokens": int, "output_tokens": int,
                     "reasoning_tokens": int, "estimated": bool} | null,
           "cost_micros": int | null}]}]}

The writer puts ``conversations`` last and one conversation per line, so a reader can stream it; readers
ignore keys they do not know, and refuse a ``version`` newer than theirs. Markdown and HTML show the branch
that was shown last (the active path); HTML is one file with inline CSS, images inline as ``data:`` URLs, no
script and nothing loaded from anywhere else.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from desktop_assistant.core.models import Role, Status, parts_text
from desktop_assistant.core.render import document_css, render_markdown

FORMAT = "desktop-assistant-export"
FORMAT_VERSION = 1
_ROLES = {r.value for r in Role}
_STATUSES = {s.value for s in Status} - {Status.STREAMING.value}
_IMAGE_MIME = ("data:image/png;", "data:image/jpeg;", "data:image/gif;", "data:image/webp;")


@dataclass
class MessageRecord:
    """One message of an exported or imported conversation; ``id``/``parent`` are local to the conversation."""

    id: int
    parent: int | None
    role: str
    parts: list[dict[str, Any]]
    status: str = Status.COMPLETE.value
    model: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    cost_micros: int | None = None

    @property
    def text(self) -> str:
        """The message's text."""
        return parts_text(self.parts)


@dataclass
class ConversationRecord:
    """A conversation with all its messages, as the JSON format holds it."""

    title: str
    model: str
    messages: list[MessageRecord] = field(default_factory=list)
    system_prompt: str = ""
    temperature: float | None = None
    max_output_tokens: int | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    title_by_user: bool = False
    current_leaf: int | None = None
    tools: list[str] = field(default_factory=list)  # ids of the MCP servers whose tools the chat may use
    source_key: str = ""  # identity from the source when it has no creation time (JSONL); not exported
    origin: str = ""  # where the source says it comes from ("chatgpt:<its id>"): the same one next time; not exported
    left_out: int = 0  # messages of the source's other versions (ChatGPT: not the branch shown last); not exported

    def active_path(self) -> list[MessageRecord]:
        """The branch shown last, root first (the newest message's branch if ``current_leaf`` is unknown)."""
        by_id = {m.id: m for m in self.messages}
        if not by_id:
            return []
        node = by_id.get(self.current_leaf if self.current_leaf is not None else -1) or self.messages[-1]
        path: list[MessageRecord] = []
        seen: set[int] = set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            path.append(node)
            node = by_id.get(node.parent) if node.parent is not None else None  # type: ignore[assignment]
        path.reverse()
        return path

    def fingerprint(self) -> str:
        """Identity for duplicate detection: title, creation second and first message (source-independent)."""
        first = next((m.text for m in self.messages if m.parent is None), "")
        when: str | int = self.source_key or int(self.created_at)
        key = json.dumps([self.title.strip(), when, first.strip()], ensure_ascii=False)
        return hashlib.sha256(key.encode("utf-8")).hexdigest()


def fingerprint_of(title: str, created_at: float, first_text: str) -> str:
    """The same fingerprint as :meth:`ConversationRecord.fingerprint`, from its three parts."""
    return ConversationRecord(title, "", [MessageRecord(0, None, "user", [{"type": "text", "text": first_text}])],
                              created_at=created_at).fingerprint()


# -- JSON ---------------------------------------------------------------------------------------------------


def header(app_version: str, now: float) -> str:
    """The opening of an export file, up to the ``conversations`` array."""
    stamp = _dt.datetime.fromtimestamp(now, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = json.dumps({"format": FORMAT, "version": FORMAT_VERSION, "exported_at": stamp,
                       "app_version": app_version})
    return head[:-1] + ', "conversations": [\n'


FOOTER = "\n]}\n"


def conversation_json(record: ConversationRecord) -> str:
    """One conversation as one line of JSON."""
    data = {k: v for k, v in record.__dict__.items() if k not in ("messages", "source_key", "origin", "left_out")}
    data["messages"] = [m.__dict__ for m in record.messages]
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def write_json(records: Iterable[ConversationRecord], app_version: str, now: float) -> Iterator[str]:
    """The whole export as chunks of text."""
    yield header(app_version, now)
    for i, record in enumerate(records):
        yield (",\n" if i else "") + conversation_json(record)
    yield FOOTER


class FormatError(ValueError):
    """An item that is not what the format says (the message says what is wrong)."""


def _num(value: Any, default: float = 0.0) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def clean_parts(value: Any) -> list[dict[str, Any]]:
    """Content as a parts list: a string, or text and ``data:`` image parts (anything else is dropped)."""
    if isinstance(value, str):
        return [{"type": "text", "text": value}]
    if not isinstance(value, list):
        raise FormatError("content is neither text nor a list of parts")
    parts: list[dict[str, Any]] = []
    for part in value:
        if isinstance(part, str):
            parts.append({"type": "text", "text": part})
        elif isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
            parts.append({"type": "text", "text": part["text"]})
        elif isinstance(part, dict) and part.get("type") == "image_url" and isinstance(part.get("image_url"), dict):
            url = part["image_url"].get("url")
            if isinstance(url, str) and url.startswith(_IMAGE_MIME):
                image: dict[str, Any] = {"url": url}
                if part["image_url"].get("detail") in ("auto", "low", "high"):
                    image["detail"] = part["image_url"]["detail"]
                clean: dict[str, Any] = {"type": "image_url", "image_url": image}
                if isinstance(part.get("name"), str):
                    clean["name"] = part["name"]
                size = part.get("size")
                if isinstance(size, list) and len(size) == 2 and all(_opt_int(v) is not None for v in size):
                    clean["size"] = size
                parts.append(clean)
        elif isinstance(part, dict) and part.get("type") in ("tool_call", "tool_result"):
            parts.append(_tool_part(part))
    return parts


_TOOL_FIELDS = {"tool_call": ("id", "name", "arguments", "server", "tool"),
                "tool_result": ("tool_call_id", "name", "text")}


def _tool_part(part: dict[str, Any]) -> dict[str, Any]:
    """A tool call or result part with only its known fields, each of its type."""
    kind = str(part["type"])
    clean: dict[str, Any] = {"type": kind}
    for key in _TOOL_FIELDS[kind]:
        clean[key] = part[key] if isinstance(part.get(key), str) else ""
    if kind == "tool_result":
        clean["error"] = part.get("error") is True
        clean["denied"] = part.get("denied") is True
    return clean


def tool_text(parts: list[dict[str, Any]]) -> str:
    """The tool calls and results of a message as plain text (for Markdown and HTML exports)."""
    lines: list[str] = []
    for p in parts:
        if p.get("type") == "tool_call":
            lines.append(f"Tool call: {p.get('name', '')} {p.get('arguments', '')}".rstrip())
        elif p.get("type") == "tool_result":
            label = "denied" if p.get("denied") else "error" if p.get("error") else "result"
            lines.append(f"Tool {label} ({p.get('name', '')}):\n{p.get('text', '')}")
    return "\n\n".join(lines)


def conversation_from_json(data: Any) -> ConversationRecord:
    """A conversation of the JSON format; raises :class:`FormatError` when it is not one."""
    if not isinstance(data, dict):
        raise FormatError("not a conversation object")
    raw_messages = data.get("messages")
    if not isinstance(raw_messages, list):
        raise FormatError("no messages list")
    messages: list[MessageRecord] = []
    ids: set[int] = set()
    for i, m in enumerate(raw_messages):
        if not isinstance(m, dict) or _opt_int(m.get("id")) is None or m.get("role") not in _ROLES:
            raise FormatError(f"message {i + 1} has no id or role")
        parent = _opt_int(m.get("parent"))
        if parent is not None and parent not in ids:
            parent = None  # a dangling parent: keep the message as a root rather than lose it
        usage = m.get("usage") if isinstance(m.get("usage"), dict) else None
        status = str(m["status"]) if m.get("status") in _STATUSES else Status.COMPLETE.value
        messages.append(MessageRecord(
            m["id"], parent, m["role"], clean_parts(m.get("parts", [])), status,
            m.get("model") if isinstance(m.get("model"), str) else None, _num(m.get("created_at")),
            _num(m.get("updated_at")), m.get("finish_reason") if isinstance(m.get("finish_reason"), str) else None,
            usage, _opt_int(m.get("cost_micros"))))
        ids.add(m["id"])
    title = data.get("title")
    return ConversationRecord(
        title=title if isinstance(title, str) else "", model=str(data.get("model") or ""), messages=messages,
        system_prompt=str(data.get("system_prompt") or ""),
        temperature=_num(data["temperature"]) if isinstance(data.get("temperature"), int | float) else None,
        max_output_tokens=_opt_int(data.get("max_output_tokens")), created_at=_num(data.get("created_at")),
        updated_at=_num(data.get("updated_at")), title_by_user=data.get("title_by_user") is True,
        current_leaf=_opt_int(data.get("current_leaf")), tools=_strings(data.get("tools")))


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str) and v] if isinstance(value, list) else []


def check_header(data: dict[str, Any]) -> None:
    """Refuse a file that is not this format, or a version newer than this app reads."""
    if data.get("format") != FORMAT:
        raise FormatError("this is not a Desktop Assistant export")
    version = data.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise FormatError(f"the export is format version {version}, newer than this app reads ({FORMAT_VERSION}); "
                          "update the app to import it")


# -- Markdown and HTML --------------------------------------------------------------------------------------

_SPEAKERS = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}


def _date(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else ""


def _images(parts: list[dict[str, Any]]) -> list[str]:
    urls = [(p.get("image_url") or {}).get("url", "") for p in parts if p.get("type") == "image_url"]
    return [u for u in urls if isinstance(u, str) and u.startswith(_IMAGE_MIME)]


_FENCE_LINE = re.compile(r"^\s*(```|~~~)")
_HEADING_LINE = re.compile(r"^(#{1,6})(?=\s)")


def nested_headings(text: str) -> str:
    """A message's Markdown headings two levels down (at most six), so that they sit under the "## You" or
    "## Assistant" of its message, not beside it; lines in code blocks are left as they are."""
    lines, fence = [], ""
    for line in text.split("\n"):
        opened = _FENCE_LINE.match(line)
        if opened and (not fence or opened.group(1) == fence):
            fence = "" if fence else opened.group(1)
        elif not fence and (heading := _HEADING_LINE.match(line)):
            line = "#" * min(len(heading.group(1)) + 2, 6) + line[heading.end():]
        lines.append(line)
    return "\n".join(lines)


def to_markdown(records: Iterable[ConversationRecord]) -> Iterator[str]:
    """Conversations as Markdown (the branch shown last of each), one chunk per conversation."""
    for i, record in enumerate(records):
        out = ["\n---\n\n" if i else "", f"# {record.title or 'Untitled'}\n\n"]
        out.append(f"_{record.model} · {_date(record.created_at)}_\n\n")
        if record.system_prompt:
            out.append(f"**System prompt:** {record.system_prompt}\n\n")
        for m in record.active_path():
            out.append(f"## {_SPEAKERS.get(m.role, m.role)}\n\n{nested_headings(m.text)}\n\n")
            if tool_text(m.parts):
                out.append(f"~~~~text\n{tool_text(m.parts)}\n~~~~\n\n")
            out.extend(f"![image]({url})\n\n" for url in _images(m.parts))
        yield "".join(out)


HTML_HEAD = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
    "style-src 'unsafe-inline'\">\n<title>{title}</title>\n<style>\n"
    "body {{ font-family: sans-serif; max-width: 50em; margin: 2em auto; padding: 0 1em; line-height: 1.45; }}\n"
    ".meta {{ color: #666; }} .msg {{ margin: 1em 0; padding: 0.6em 1em; border-radius: 8px; }}\n"
    ".user {{ background: #eef3fb; }} .assistant {{ background: #f6f6f6; }} .system {{ background: #fff7e0; }}\n"
    ".who {{ font-weight: bold; margin-bottom: 0.3em; }} img {{ max-width: 100%; }}\n"
    "pre {{ overflow-x: auto; }}\n{css}</style></head><body>\n"
)


def to_html(records: Iterable[ConversationRecord], title: str = "Conversations") -> Iterator[str]:
    """Conversations as one self-contained HTML page (inline CSS and images, no script, nothing remote)."""
    yield HTML_HEAD.format(title=html.escape(title), css=document_css())
    for record in records:
        out = [f"<article><h1>{html.escape(record.title or 'Untitled')}</h1>\n",
               f'<p class="meta">{html.escape(record.model)} · {html.escape(_date(record.created_at))}</p>\n']
        if record.system_prompt:
            out.append(f'<div class="msg system"><div class="who">System prompt</div>'
                       f"{html.escape(record.system_prompt)}</div>\n")
        for m in record.active_path():
            role = m.role if m.role in _ROLES else "system"
            out.append(f'<div class="msg {role}"><div class="who">{html.escape(_SPEAKERS.get(role, role))}</div>\n')
            out.append(render_markdown(m.text))
            if tool_text(m.parts):
                out.append(f"<pre>{html.escape(tool_text(m.parts))}</pre>")
            out.extend(f'<p><img alt="image" src="{html.escape(url, quote=True)}"></p>' for url in _images(m.parts))
            out.append("</div>\n")
        out.append("</article>\n")
        yield "".join(out)
    yield "</body></html>\n"
