"""Parsers for what can be imported: this app's JSON export, ChatGPT's ``conversations.json``, OpenAI JSONL.

Pure: each reader takes an open text stream and yields :class:`ConversationRecord` items or :class:`Problem`
notes, one at a time, so a 500 MB file is never held in memory at once. JSON arrays are read item by item
with :meth:`json.JSONDecoder.raw_decode` over a buffer that grows only as much as the current item needs.

What "without stopping" means here: an item that is valid JSON but not a conversation is reported (by its
number, or line for JSONL) and skipped; a JSONL line that is not JSON is reported and skipped. A syntax error
inside a JSON array (a truncated or corrupt file) cannot be stepped over reliably, so reading ends there:
everything before it is kept, and the problem says where the file breaks.

ChatGPT's export: a list of conversations, each ``{"title", "create_time", "update_time", "current_node",
"mapping": {node_id: {"id", "message": {"author": {"role"}, "content": {"content_type", "parts"},
"create_time", "metadata": {"model_slug"}} | null, "parent", "children"}}}``. Only the branch ending at
``current_node`` (the one shown last) is imported; tool output, hidden system messages and non-text content
(browsing, code execution results) are left out; images in the export are files outside the JSON, so an image
part becomes the text ``[image]``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from desktop_assistant.core.export_format import (
    ConversationRecord,
    FormatError,
    MessageRecord,
    check_header,
    clean_parts,
    conversation_from_json,
)

CHUNK = 1 << 20  # characters read at a time
MAX_ITEM = 512 << 20  # one item larger than this is refused rather than buffered
_WS = " \t\r\n"


class TextSource(Protocol):
    """What the readers need of a file: ``read(n)`` returning text ("" at the end)."""

    def read(self, n: int = -1, /) -> str:
        """Up to ``n`` characters."""
        ...


@dataclass(frozen=True)
class Problem:
    """Something that could not be read, and where."""

    where: str  # "item 12", "line 7", "file"
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.why}"


Item = ConversationRecord | Problem


class StreamError(ValueError):
    """The JSON text breaks here: it is cut off or damaged."""


class JsonStream:
    """Reads JSON values one at a time from a text stream, keeping only the current value in memory."""

    def __init__(self, source: TextSource, chunk: int = CHUNK) -> None:
        self._source = source
        self._chunk = chunk
        self._buf = ""
        self._pos = 0
        self._dropped = 0
        self._eof = False
        self._decoder = json.JSONDecoder()

    @property
    def position(self) -> int:
        """Characters consumed so far (for progress)."""
        return self._dropped + self._pos

    def _more(self, n: int) -> bool:
        if self._eof:
            return False
        if self._pos > self._chunk:
            self._dropped += self._pos
            self._buf, self._pos = self._buf[self._pos:], 0
        text = self._source.read(n)
        if not text:
            self._eof = True
            return False
        self._buf += text
        return True

    def peek(self) -> str:
        """The next non-blank character ("" at the end)."""
        while True:
            while self._pos < len(self._buf) and self._buf[self._pos] in _WS:
                self._pos += 1
            if self._pos < len(self._buf) or not self._more(self._chunk):
                return self._buf[self._pos:self._pos + 1]

    def expect(self, char: str) -> None:
        """Consume ``char`` (after blanks) or fail."""
        found = self.peek()
        if found != char:
            raise StreamError(f"expected {char!r} but found {found or 'the end of the file'!r}")
        self._pos += 1

    def value(self) -> Any:
        """The next JSON value."""
        self.peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if len(self._buf) - self._pos > MAX_ITEM:
                    raise StreamError("an item is too large to read") from exc
                if not self._more(max(self._chunk, len(self._buf) - self._pos)):
                    if self._pos >= len(self._buf):
                        raise StreamError("the file ends here") from exc
                    raise StreamError(f"{exc.msg} (the file is cut off or damaged here)") from exc
                continue
            if end == len(self._buf) and self._more(self._chunk):  # a number may go on in the next chunk
                continue
            self._pos = end
            return value

    def array(self) -> Iterator[Any]:
        """The items of the array that starts here."""
        self.expect("[")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            yield self.value()
            following = self.peek()
            if following == ",":
                self._pos += 1
            elif following == "]":
                self._pos += 1
                return
            else:
                raise StreamError(f"expected ',' or ']' but found {following or 'the end of the file'!r}")


def detect(head: str) -> str | None:
    """Which format a file's first characters look like: "app", "chatgpt", "jsonl", or None."""
    text = head.lstrip("\ufeff" + _WS)
    if text.startswith("["):
        return "chatgpt"
    if not text.startswith("{"):
        return None
    first_line = text.split("\n", 1)[0]
    try:
        obj = json.loads(first_line)
    except ValueError:
        return "app"
    if isinstance(obj, dict) and ("messages" in obj or "role" in obj):
        return "jsonl"
    return "app"


def _items(stream: JsonStream, convert: Any, label: str = "item") -> Iterator[Item]:
    n = 0
    try:
        for raw in stream.array():
            n += 1
            try:
                yield convert(raw)
            except FormatError as exc:
                yield Problem(f"{label} {n}", str(exc))
    except StreamError as exc:
        yield Problem(f"{label} {n + 1}", str(exc))


def read_app(source: TextSource, stream: JsonStream | None = None) -> Iterator[Item]:
    """This app's JSON export (see :mod:`~desktop_assistant.core.export_format`)."""
    stream = stream or JsonStream(source)
    header: dict[str, Any] = {}
    try:
        stream.peek()
        stream.expect("{")
        while stream.peek() not in ("}", ""):
            key = stream.value()
            stream.expect(":")
            if key == "conversations":
                check_header(header)
                yield from _items(stream, conversation_from_json, "conversation")
                return
            header[str(key)] = stream.value()
            if stream.peek() == ",":
                stream.expect(",")
        check_header(header)
        yield Problem("file", "the export holds no conversations list")
    except (StreamError, FormatError) as exc:
        yield Problem("file", str(exc))


def read_chatgpt(source: TextSource, stream: JsonStream | None = None) -> Iterator[Item]:
    """ChatGPT's ``conversations.json``: one conversation per item, the branch shown last of each."""
    stream = stream or JsonStream(source)
    try:
        if stream.peek() != "[":
            raise StreamError("a ChatGPT export is a list of conversations")
    except StreamError as exc:
        yield Problem("file", str(exc))
        return
    yield from _items(stream, chatgpt_conversation, "conversation")


def _ts(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else default


def _chatgpt_text(content: Any) -> str | None:
    if not isinstance(content, dict):
        return None
    kind = content.get("content_type")
    if kind in ("text", "multimodal_text"):
        parts = content.get("parts")
        if not isinstance(parts, list):
            return None
        texts = [p if isinstance(p, str) else "[image]" if isinstance(p, dict) else "" for p in parts]
        return "\n".join(t for t in texts if t)
    if kind == "code" and isinstance(content.get("text"), str):
        return f"```\n{content['text']}\n```"
    return None  # browsing, execution output, thoughts...: not part of the visible chat


def chatgpt_conversation(data: Any) -> ConversationRecord:
    """One item of ChatGPT's ``conversations.json`` as a record; raises :class:`FormatError`."""
    if not isinstance(data, dict) or not isinstance(data.get("mapping"), dict):
        raise FormatError("not a ChatGPT conversation (no message mapping)")
    mapping: dict[str, Any] = data["mapping"]
    created = _ts(data.get("create_time"), 0.0)
    leaf = data.get("current_node")
    if leaf not in mapping:  # no current node: the newest leaf
        leaves = [k for k, n in mapping.items() if isinstance(n, dict) and not n.get("children")]
        leaf = max(leaves, key=lambda k: _ts((mapping[k].get("message") or {}).get("create_time"), 0.0),
                   default=None)
    chain: list[dict[str, Any]] = []
    seen: set[str] = set()
    while isinstance(leaf, str) and leaf in mapping and leaf not in seen:
        seen.add(leaf)
        node = mapping[leaf]
        if not isinstance(node, dict):
            break
        chain.append(node)
        leaf = node.get("parent")
    chain.reverse()
    record = ConversationRecord(title=str(data.get("title") or ""), model=str(data.get("default_model_slug") or ""),
                                created_at=created, updated_at=_ts(data.get("update_time"), created))
    origin = data.get("conversation_id") or data.get("id")
    if isinstance(origin, str) and origin.strip():
        record.origin = f"chatgpt:{origin.strip()}"
    for node in chain:
        message = node.get("message")
        if not isinstance(message, dict):
            continue
        role = (message.get("author") or {}).get("role") if isinstance(message.get("author"), dict) else None
        text = _chatgpt_text(message.get("content"))
        if role not in ("user", "assistant", "system") or not text:
            continue
        if role == "system":
            record.system_prompt = record.system_prompt or text
            continue
        meta: dict[str, Any] = message["metadata"] if isinstance(message.get("metadata"), dict) else {}
        model = meta.get("model_slug") if isinstance(meta.get("model_slug"), str) else None
        when = _ts(message.get("create_time"), created)
        parent = record.messages[-1].id if record.messages else None
        record.messages.append(MessageRecord(len(record.messages) + 1, parent, role,
                                             [{"type": "text", "text": text}], model=model or None,
                                             created_at=when, updated_at=when))
        if model and role == "assistant":
            record.model = model
    if not record.messages:
        raise FormatError("no messages that can be shown")
    record.current_leaf = record.messages[-1].id
    on_path = {id(node) for node in chain}
    record.left_out = sum(1 for node in mapping.values() if isinstance(node, dict) and id(node) not in on_path
                          and _spoken(node.get("message")))
    if not record.created_at:
        record.created_at = record.messages[0].created_at
    return record


def _spoken(message: Any) -> bool:
    """A question or an answer with something to show (not a system, tool or empty node)."""
    if not isinstance(message, dict) or not isinstance(message.get("author"), dict):
        return False
    return message["author"].get("role") in ("user", "assistant") and bool(_chatgpt_text(message.get("content")))


def _openai_messages(raw: Any, where: str) -> list[tuple[str, list[dict[str, Any]]]]:
    if not isinstance(raw, list):
        raise FormatError(f"{where}: \"messages\" is not a list")
    out = []
    for m in raw:
        if not isinstance(m, dict) or m.get("role") not in ("system", "developer", "user", "assistant", "tool"):
            raise FormatError(f"{where}: a message has no known role")
        out.append((str(m["role"]), clean_parts(m.get("content") or "")))
    return out


def _jsonl_record(messages: list[tuple[str, list[dict[str, Any]]]], title: str, key: str) -> ConversationRecord:
    record = ConversationRecord(title=title, model="")
    record.source_key = key
    for role, parts in messages:
        if role in ("system", "developer"):
            record.system_prompt = record.system_prompt or "".join(p.get("text", "") for p in parts)
        elif role in ("user", "assistant") and parts:
            parent = record.messages[-1].id if record.messages else None
            record.messages.append(MessageRecord(len(record.messages) + 1, parent, role, parts))
    if not record.messages:
        raise FormatError("no user or assistant messages")
    record.current_leaf = record.messages[-1].id
    if not record.title:
        record.title = " ".join(record.messages[0].text.split())[:60]
    return record


def read_jsonl(lines: Iterable[str]) -> Iterator[Item]:
    """OpenAI-format JSONL: each line ``{"messages": [...]}`` is a conversation; lines that are single
    messages (``{"role": ..., "content": ...}``) together make one conversation."""
    loose: list[tuple[str, list[dict[str, Any]]]] = []
    digest = hashlib.sha256()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise FormatError("not a JSON object")
            if "messages" in obj:
                title = str(obj["title"]) if isinstance(obj.get("title"), str) else ""
                key = hashlib.sha256(line.strip().encode("utf-8")).hexdigest()
                yield _jsonl_record(_openai_messages(obj["messages"], where), title, key)
            else:
                loose.extend(_openai_messages([obj], where))
                digest.update(line.strip().encode("utf-8"))
        except ValueError as exc:  # JSONDecodeError and FormatError
            yield Problem(where, exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc))
    if loose:
        try:
            yield _jsonl_record(loose, "", digest.hexdigest())
        except FormatError as exc:
            yield Problem("file", str(exc))
