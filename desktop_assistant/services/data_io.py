"""Export conversations to a file and import them from one, against the store.

Export writes to a temporary file next to the destination and renames it when complete: a full disk or a
cancel leaves nothing under the chosen name. Import reads the file in a worker thread one conversation at a
time (a zip, such as ChatGPT's export, is read from its ``conversations.json`` member without unpacking it),
skips what was imported before (a fingerprint per conversation: title, creation time and first message, kept
in the ``imports`` table, and ChatGPT's own id), adds to those what was written there since
(:mod:`desktop_assistant.services.import_merge`), and reports what it could not read by item or line without stopping.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import io
import json
import os
import sqlite3
import time
import zipfile
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from desktop_assistant.core.errors import ErrorKind, UserFacingError
from desktop_assistant.core.export_format import (
    ConversationRecord,
    MessageRecord,
    to_html,
    to_markdown,
    write_json,
)
from desktop_assistant.core.import_merge import Continuation
from desktop_assistant.core.importers import Item, JsonStream, Problem, detect, read_app, read_chatgpt, read_jsonl
from desktop_assistant.services import import_merge
from desktop_assistant.services.backup import storage_error
from desktop_assistant.services.image_store import ImageStore
from desktop_assistant.services.import_merge import insert_message, remember_keys
from desktop_assistant.services.rows import server_ids
from desktop_assistant.services.store import Store

T = TypeVar("T")
ProgressFn = Callable[[float], None]
FORMATS = ("json", "markdown", "html")
_BATCH = 25


# -- export -------------------------------------------------------------------------------------------------


def load_record(conn: sqlite3.Connection, conversation_id: int) -> ConversationRecord | None:
    """A stored conversation with every message, as the export format holds it (store thread)."""
    c = conn.execute("SELECT * FROM conversations WHERE id=? AND deleted_at IS NULL", (conversation_id,)).fetchone()
    if c is None:
        return None
    messages = []
    for m in conn.execute("SELECT * FROM messages WHERE conversation_id=? ORDER BY id", (conversation_id,)):
        usage = None
        if m["input_tokens"] is not None or m["output_tokens"] is not None:
            usage = {"input_tokens": m["input_tokens"] or 0, "cached_input_tokens": m["cached_input_tokens"] or 0,
                     "output_tokens": m["output_tokens"] or 0, "reasoning_tokens": m["reasoning_tokens"] or 0,
                     "estimated": bool(m["usage_estimated"])}
        messages.append(MessageRecord(m["id"], m["parent_id"], m["role"], json.loads(m["content"]), m["status"],
                                      m["model"], m["created_at"], m["updated_at"], m["finish_reason"], usage,
                                      m["cost_micros"]))
    return ConversationRecord(c["title"], c["model"], messages, c["system_prompt"], c["temperature"],
                              c["max_output_tokens"], c["created_at"], c["updated_at"], bool(c["title_by_user"]),
                              c["current_leaf_id"], server_ids(c["tools"]))


ATTACHMENT = "attachment:"
_MIME_BY_SUFFIX = {".png": "image/png", ".jpg": "image/jpeg"}


def inline_images(record: ConversationRecord, images: ImageStore) -> None:
    """Replace the app's ``attachment:`` image references with ``data:`` URLs (a missing file stays as it is)."""
    for m in record.messages:
        for part in m.parts:
            url = (part.get("image_url") or {}).get("url", "") if part.get("type") == "image_url" else ""
            if not isinstance(url, str) or not url.startswith(ATTACHMENT):
                continue
            name = url[len(ATTACHMENT):]
            digest, dot, suffix = name.partition(".")
            mime = _MIME_BY_SUFFIX.get(dot + suffix, "image/png")
            data = images.get(digest, mime)
            if data is not None:
                part["image_url"]["url"] = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def store_images(record: ConversationRecord, images: ImageStore) -> None:
    """Keep imported ``data:`` PNG and JPEG images as the app's own attachments (content-addressed files)."""
    for m in record.messages:
        for part in m.parts:
            url = (part.get("image_url") or {}).get("url", "") if part.get("type") == "image_url" else ""
            for mime, suffix in (("image/png", ".png"), ("image/jpeg", ".jpg")):
                prefix = f"data:{mime};base64,"
                if isinstance(url, str) and url.startswith(prefix):
                    try:
                        data = base64.b64decode(url[len(prefix):], validate=True)
                    except (binascii.Error, ValueError):
                        break
                    part["image_url"]["url"] = f"{ATTACHMENT}{images.put(data, mime)}{suffix}"


def _inline_all_images(records: list[ConversationRecord], images: ImageStore) -> None:
    for record in records:
        inline_images(record, images)


def _store_all_images(records: list[ConversationRecord], images: ImageStore) -> None:
    for record in records:
        store_images(record, images)


def _ids(conn: sqlite3.Connection, wanted: list[int] | None) -> list[int]:
    rows = conn.execute("SELECT id FROM conversations WHERE deleted_at IS NULL ORDER BY created_at, id").fetchall()
    ids = [int(r[0]) for r in rows]
    return ids if wanted is None else [i for i in ids if i in set(wanted)]


async def _records(store: Store, ids: list[int], progress: ProgressFn | None,
                   images: ImageStore | None) -> list[ConversationRecord]:
    out: list[ConversationRecord] = []
    for start in range(0, len(ids), _BATCH):
        batch = ids[start:start + _BATCH]
        found = await store.read(lambda c, b=batch: [load_record(c, i) for i in b])  # type: ignore[misc]
        records = [r for r in found if r is not None]
        if images is not None:
            await asyncio.to_thread(_inline_all_images, records, images)
        out.extend(records)
        if progress:
            progress(0.5 * min(1.0, (start + len(batch)) / max(1, len(ids))))
    return out


@contextmanager
def _atomic_text(dest: Path) -> Iterator[IO[str]]:
    """A text file that appears under ``dest`` only when complete (a device such as a pipe is written as is)."""
    if dest.exists() and not dest.is_file():
        with open(dest, "w", encoding="utf-8") as fh:
            yield fh
        return
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


async def export(store: Store, dest: Path, fmt: str, ids: list[int] | None = None, *, app_version: str = "",
                 progress: ProgressFn | None = None, images: ImageStore | None = None) -> int:
    """Write conversations (``ids``, or all) to ``dest`` as ``fmt`` (json, markdown, html); returns how many.

    With ``images``, attached images are written inline (``data:`` URLs), so the file stands on its own.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    chosen = await store.read(lambda c: _ids(c, ids))
    records = await _records(store, chosen, progress, images)
    if fmt == "json":
        chunks: Iterator[str] = write_json(records, app_version, time.time())
    elif fmt == "markdown":
        chunks = to_markdown(records)
    else:
        chunks = to_html(records, records[0].title if len(records) == 1 else "Conversations")
    try:
        with _atomic_text(dest) as fh:
            for i, chunk in enumerate(chunks):
                await asyncio.to_thread(fh.write, chunk)
                if progress:
                    progress(0.5 + 0.5 * min(1.0, (i + 1) / (len(records) + 2)))
    except OSError as exc:
        raise storage_error("The export could not be written", exc) from exc
    if progress:
        progress(1.0)
    return len(records)


# -- import -------------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import found (a preview) or did."""

    path: Path
    fmt: str
    conversations: int = 0  # new ones (imported, or that would be)
    messages: int = 0
    duplicates: int = 0
    updated: int = 0  # imported before and continued (or renamed) since: what is new is added
    added_messages: int = 0  # the messages added to those
    left_out: int = 0  # messages of other versions (edited questions, regenerated answers) not imported
    updated_ids: list[int] = field(default_factory=list)  # the conversations ``updated`` counts
    problems: list[Problem] = field(default_factory=list)
    cancelled: bool = False
    done: bool = False  # False: a preview, nothing written

    def summary(self) -> str:
        """A few lines for the person."""
        names = {"app": "Desktop Assistant export", "chatgpt": "ChatGPT export", "jsonl": "JSONL messages"}
        verb = "Imported" if self.done else "Will import"
        text = f"{names.get(self.fmt, self.fmt)}:"
        if self.conversations or not self.updated:  # ("Imported 0 conversations" only when nothing else was done)
            text += f" {verb} {_count(self.conversations, 'conversation')} ({_count(self.messages, 'message')})."
        if self.updated:
            added = "Added" if self.done else "Will add"
            text += (f" {added} {_count(self.added_messages, 'new message')} to {_count(self.updated, 'conversation')}"
                     " imported before (continued or renamed since).")
        if self.duplicates:
            text += f" {self.duplicates} already here, skipped."
        if self.left_out:
            text += (f" Of questions edited and answers regenerated there, the version shown last is imported "
                     f"({_count(self.left_out, 'message')} of earlier versions {'is' if self.left_out == 1 else 'are'}"
                     " not).")
        if self.cancelled:
            text += " Stopped before the end; what was imported is kept."
        if self.problems:
            shown = "; ".join(str(p) for p in self.problems[:5])
            more = f" and {len(self.problems) - 5} more" if len(self.problems) > 5 else ""
            text += f" Could not read {len(self.problems)}: {shown}{more}."
        return text


def _bad_file(path: Path, why: str) -> UserFacingError:
    return UserFacingError(ErrorKind.BAD_INPUT, f"{path.name} cannot be imported: {why}. Nothing was changed.",
                           detail=why)


@contextmanager
def open_text(path: Path) -> Iterator[tuple[io.TextIOBase, int]]:
    """The file as text and its size in bytes; a zip is read from its ``conversations.json`` (or only JSON)."""
    try:
        with open(path, "rb") as raw:
            magic = raw.read(4)
            if magic != b"PK\x03\x04":
                raw.seek(0)
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
                yield text, os.fstat(raw.fileno()).st_size
                return
        with zipfile.ZipFile(path) as archive:
            names = [i for i in archive.infolist() if i.filename.lower().endswith((".json", ".jsonl"))]
            member = next((i for i in names if i.filename.rsplit("/", 1)[-1] == "conversations.json"), None)
            if member is None and len(names) == 1:
                member = names[0]
            if member is None:
                raise _bad_file(path, "the zip holds no conversations.json")
            with archive.open(member) as inner:
                yield io.TextIOWrapper(inner, encoding="utf-8-sig", errors="replace", newline=""), member.file_size
    except FileNotFoundError as exc:
        raise _bad_file(path, "the file does not exist") from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise _bad_file(path, f"the zip is damaged ({exc})") from exc
    except OSError as exc:
        raise _bad_file(path, str(exc)) from exc


def sniff(path: Path) -> str:
    """The import format of ``path`` ("app", "chatgpt", "jsonl"), or a :class:`UserFacingError`."""
    with open_text(path) as (text, _size):
        fmt = detect(text.read(64 * 1024))
    if fmt is None:
        raise _bad_file(path, "it is not a JSON or JSONL file this app knows")
    return fmt


def iter_items(path: Path, fmt: str) -> Generator[tuple[Item, float], None, None]:
    """Each conversation or problem in the file, with how far through the file it is (0..1)."""
    with open_text(path) as (text, size):
        total = max(1, size)
        if fmt == "jsonl":
            consumed = 0

            def lines() -> Iterator[str]:
                nonlocal consumed
                for line in text:
                    consumed += len(line)
                    yield line
            for item in read_jsonl(lines()):
                yield item, min(1.0, consumed / total)
            return
        stream = JsonStream(text)
        reader = read_app if fmt == "app" else read_chatgpt
        for item in reader(text, stream):
            yield item, min(1.0, stream.position / total)


def insert_record(conn: sqlite3.Connection, rec: ConversationRecord, keys: list[str], source: str) -> int:
    """Store one imported conversation (inside the caller's transaction), known from now on by ``keys`` (its
    fingerprint, and where it came from when the file says); returns its id."""
    now = time.time()
    created = rec.created_at or now
    cur = conn.execute(
        """INSERT INTO conversations(title, title_by_user, model, system_prompt, temperature, max_output_tokens,
           created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)""",
        (rec.title, int(rec.title_by_user), rec.model or "", rec.system_prompt, rec.temperature,
         rec.max_output_tokens, created, rec.updated_at or created))
    # rec.tools is not applied: a file from elsewhere never turns on this computer's tools (MCP servers) for a
    # chat whose history someone else may have written; the person enables them in the chat
    conversation_id = int(cur.lastrowid or 0)
    new_ids: dict[int, int] = {}
    for m in rec.messages:
        parent = new_ids.get(m.parent) if m.parent is not None else None
        new_ids[m.id] = insert_message(conn, conversation_id, m, parent, created)
    leaf = new_ids.get(rec.current_leaf) if rec.current_leaf is not None else None
    if leaf is None and new_ids:
        leaf = max(new_ids.values())
    conn.execute("UPDATE conversations SET current_leaf_id=? WHERE id=?", (leaf, conversation_id))
    remember_keys(conn, conversation_id, keys, source, now)
    return conversation_id


def _merge(again: list[tuple[ConversationRecord, int, list[str]]], source: str, dry_run: bool,
           conn: sqlite3.Connection) -> list[Continuation | None]:
    """What the records met before add to their conversations here: worked out (``dry_run``), or added."""
    if dry_run:
        return [import_merge.plan(conn, cid, record) for record, cid, _keys in again]
    return [import_merge.continue_conversation(conn, cid, record, keys, source) for record, cid, keys in again]


def _take(it: Iterator[T], n: int) -> list[T]:
    out: list[T] = []
    for item in it:
        out.append(item)
        if len(out) >= n:
            break
    return out


async def _next_batch(it: Iterator[T], n: int) -> list[T]:
    """The next items, read on a worker thread; a cancel waits for the read under way before it is raised."""
    future = asyncio.get_running_loop().run_in_executor(None, _take, it, n)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with suppress(Exception):
            await asyncio.wait([future])
        raise


async def import_file(store: Store, path: Path, *, dry_run: bool = False, progress: ProgressFn | None = None,
                      report: ImportReport | None = None, images: ImageStore | None = None) -> ImportReport:
    """Import (or with ``dry_run`` only count) the conversations in ``path``.

    A cancel keeps what was imported and is re-raised; pass ``report`` to read what was done up to then.
    """
    fmt = await asyncio.to_thread(sniff, path)
    if report is None:
        report = ImportReport(path, fmt)
    report.path, report.fmt, report.done = path, fmt, not dry_run
    known = await store.read(import_merge.known_conversations)
    items = iter_items(path, fmt)
    try:
        while batch := await _next_batch(items, _BATCH):
            fresh: list[tuple[ConversationRecord, list[str]]] = []
            again: list[tuple[ConversationRecord, int, list[str]]] = []  # imported before: continued since?
            for item, _fraction in batch:
                if isinstance(item, Problem):
                    report.problems.append(item)
                    continue
                met = import_merge.match(item, known)
                import_merge.remember(met, known)
                if not met.found:
                    fresh.append((item, met.keys))
                elif met.conversation_id is None:
                    report.duplicates += 1
                else:
                    again.append((item, met.conversation_id, met.keys))
            if (fresh or again) and not dry_run and images is not None:
                records = [r for r, _ in fresh] + [r for r, _, _ in again]
                await asyncio.to_thread(_store_all_images, records, images)
            if fresh and not dry_run:
                await store.write(lambda c, f=fresh: [insert_record(c, r, k, fmt) for r, k in f])  # type: ignore[misc]
            if again:
                merge = functools.partial(_merge, again, fmt, dry_run)
                plans = await (store.read(merge) if dry_run else store.write(merge))
                for (_record, conversation_id, _keys), plan in zip(again, plans, strict=True):
                    if plan is None:
                        report.duplicates += 1
                    else:
                        report.updated += 1
                        report.added_messages += len(plan.added)
                        report.updated_ids.append(conversation_id)
            report.conversations += len(fresh)
            report.messages += sum(len(r.messages) for r, _ in fresh)
            report.left_out += sum(r.left_out for r, _ in fresh)
            if progress:
                progress(batch[-1][1])
    except asyncio.CancelledError:
        report.cancelled = True
        raise
    finally:
        await asyncio.to_thread(items.close)
    if progress:
        progress(1.0)
    return report


def parse_only(path: Path) -> list[Any]:
    """Every item of ``path`` (tests and tools; reads the whole file)."""
    return [item for item, _ in iter_items(path, sniff(path))]


def _count(n: int, thing: str) -> str:
    """``n`` things, in words that read right for one too."""
    return f"{n:,} {thing}{'' if n == 1 else 's'}"
