"""Export and import on real files: JSON round trip, Markdown and HTML that load nothing, ChatGPT exports (JSON
and zip, branching trees), OpenAI JSONL, duplicates, and each kind of bad input."""

from __future__ import annotations

import asyncio
import json
import re
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from desktop_assistant.core.errors import UserFacingError
from desktop_assistant.core.importers import Problem
from desktop_assistant.core.models import Role, text_part
from desktop_assistant.services.data_io import ImportReport, export, import_file, iter_items
from desktop_assistant.services.store import Store
from tests.services.data_helpers import PNG, normalized, records, seed


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = Store(tmp_path / "a" / "conversations.sqlite3")
    s.open()
    yield s
    await s.close()


@pytest.fixture
async def other(tmp_path: Path) -> AsyncIterator[Store]:
    s = Store(tmp_path / "b" / "conversations.sqlite3")
    s.open()
    yield s
    await s.close()


async def test_json_round_trip_equals_the_original(store: Store, other: Store, tmp_path: Path) -> None:
    await seed(store)
    seen: list[float] = []
    dest = tmp_path / "export.json"
    assert await export(store, dest, "json", app_version="9.9", progress=seen.append) == 2
    assert seen == sorted(seen) and seen[-1] == 1.0
    data = json.loads(dest.read_text(encoding="utf-8"))
    assert (data["format"], data["version"], data["app_version"]) == ("desktop-assistant-export", 1, "9.9")
    report = await import_file(other, dest)
    assert (report.fmt, report.conversations, report.messages, report.duplicates) == ("app", 2, 6, 0)
    assert [normalized(r) | {"tools": []} for r in records(other)] == [
        normalized(r) | {"tools": []} for r in records(store)]
    exported = [json.loads(line.rstrip(",")) for line in dest.read_text(encoding="utf-8").splitlines()[1:-1]]
    assert [c["tools"] for c in exported] == [["weather", "notes"], []]  # which tool servers each chat could use
    # ...but an import never turns on this computer's tools for a chat from a file
    assert [r.tools for r in records(other)] == [[], []]
    again = await import_file(other, dest)  # a second import skips what is already there
    assert (again.conversations, again.duplicates) == (0, 2)
    assert "Imported 0 conversations (0 messages). 2 already here" in again.summary()
    assert len(records(other)) == 2
    into_itself = await import_file(store, dest)  # and so does importing into the store it came from
    assert (into_itself.conversations, into_itself.duplicates) == (0, 2)


async def test_export_a_selection(store: Store, tmp_path: Path) -> None:
    ids = await seed(store)
    dest = tmp_path / "one.md"
    assert await export(store, dest, "markdown", [ids[1]]) == 1
    text = dest.read_text(encoding="utf-8")
    assert "Lisbon" not in text and "alert(1)" in text


async def test_markdown_shows_the_branch_shown_last(store: Store, tmp_path: Path) -> None:
    await seed(store)
    await export(store, tmp_path / "all.md", "markdown")
    text = (tmp_path / "all.md").read_text(encoding="utf-8")
    assert "# Trip to Lisbon" in text and "Time Out Market" in text and "**System prompt:** Be brief." in text
    assert "Ramiro" not in text  # the other branch is in the JSON export, not the reading copy
    assert f"![image]({PNG})" in text


async def test_html_is_self_contained_and_loads_nothing(store: Store, tmp_path: Path) -> None:
    await seed(store)
    await export(store, tmp_path / "all.html", "html")
    page = (tmp_path / "all.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "alert(1)" in page  # the hostile title is escaped text
    assert "&lt;script&gt;" in page and "&lt;img src=http://evil.example/x.png&gt;" in page
    sources = re.findall(r"""<[a-z][^<>]*?\b(?:src|href)\s*=\s*["']?([^"'\s>]+)""", page, flags=re.IGNORECASE)
    sources = [s for s in sources if not s.startswith(("copy-code:", "http://evil.example/y.png"))]
    assert sources == [PNG]  # the one inline image; nothing remote
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page and "Time Out Market" in page


async def test_export_on_a_full_disk_says_so_and_leaves_nothing(store: Store, tmp_path: Path) -> None:
    await seed(store)
    full = Path("/dev/full")
    if not full.exists():
        pytest.skip("needs /dev/full")
    with pytest.raises(UserFacingError, match="disk is full"):
        await export(store, full, "json")
    existing = tmp_path / "keep.json"
    existing.write_text("earlier export", encoding="utf-8")
    assert existing.read_text(encoding="utf-8") == "earlier export"
    assert not list(tmp_path.glob(".*.partial"))


async def test_export_and_backup_hold_nothing_key_shaped(store: Store, tmp_path: Path) -> None:
    await seed(store)
    for fmt in ("json", "markdown", "html"):
        await export(store, tmp_path / f"out.{fmt}", fmt)
        assert "sk-" not in (tmp_path / f"out.{fmt}").read_text(encoding="utf-8")


# -- ChatGPT ------------------------------------------------------------------------------------------------


def chatgpt_node(node_id: str, role: str | None, text: Any, parent: str | None, children: list[str],
                 t: float | None = None, content_type: str = "text", model: str | None = None) -> dict[str, Any]:
    """One node of ChatGPT's ``mapping``, in the documented shape."""
    message = None
    if role is not None:
        content: dict[str, Any] = {"content_type": content_type}
        if content_type == "code":
            content["text"] = text
        else:
            content["parts"] = text if isinstance(text, list) else [text]
        message = {"id": node_id, "author": {"role": role, "name": None, "metadata": {}}, "create_time": t,
                   "update_time": None, "content": content, "status": "finished_successfully",
                   "metadata": {"model_slug": model} if model else {}, "recipient": "all"}
    return {"id": node_id, "message": message, "parent": parent, "children": children}


def chatgpt_conversation(title: str, t: float, n: int = 0) -> dict[str, Any]:
    """A conversation with an edited question: two branches, the second shown last."""
    p = f"c{n}-"
    mapping = {
        p + "root": chatgpt_node(p + "root", None, None, None, [p + "sys"]),
        p + "sys": chatgpt_node(p + "sys", "system", "", p + "root", [p + "u1", p + "u1b"], t),
        p + "u1": chatgpt_node(p + "u1", "user", "First try", p + "sys", [p + "a1"], t + 1),
        p + "a1": chatgpt_node(p + "a1", "assistant", "Old answer", p + "u1", [], t + 2, model="gpt-4o"),
        p + "u1b": chatgpt_node(p + "u1b", "user", ["Edited question", {"asset_pointer": "file-service://x"}],
                                p + "sys", [p + "tool"], t + 3, content_type="multimodal_text"),
        p + "tool": chatgpt_node(p + "tool", "tool", "search results", p + "u1b", [p + "a2"], t + 4),
        p + "a2": chatgpt_node(p + "a2", "assistant", "print(1)", p + "tool", [p + "a3"], t + 5, "code", "gpt-4o"),
        p + "a3": chatgpt_node(p + "a3", "assistant", "New answer", p + "a2", [], t + 6, model="gpt-4o"),
    }
    return {"title": title, "create_time": t, "update_time": t + 6, "mapping": mapping, "current_node": p + "a3",
            "conversation_id": f"id-{n}", "default_model_slug": "gpt-4o", "moderation_results": []}


async def test_chatgpt_export_imports_the_branch_shown_last(other: Store, tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([chatgpt_conversation("Edited chat", 1_700_000_000.0),
                                {"title": "no mapping here"},
                                chatgpt_conversation("Second", 1_700_100_000.0, 1)]), encoding="utf-8")
    preview = await import_file(other, path, dry_run=True)
    assert (preview.fmt, preview.conversations, preview.messages, preview.done) == ("chatgpt", 2, 6, False)
    assert [p.where for p in preview.problems] == ["conversation 2"]
    assert records(other) == []  # a preview writes nothing
    report = await import_file(other, path)
    assert (report.conversations, report.messages, report.done) == (2, 6, True)
    got = records(other)[0]
    assert (got.title, got.model, got.created_at) == ("Edited chat", "gpt-4o", 1_700_000_000.0)
    assert [(m.role, m.text) for m in got.active_path()] == [
        ("user", "Edited question\n[image]"), ("assistant", "```\nprint(1)\n```"), ("assistant", "New answer")]
    assert "Conversations could not" not in report.summary() and "Could not read 1" in report.summary()
    assert report.summary().startswith("ChatGPT export: Imported 2 conversations (6 messages).")
    assert ("the version shown last is imported (4 messages of earlier versions are not)" in report.summary())
    again = await import_file(other, path)
    assert (again.conversations, again.duplicates) == (0, 2)


def continued(conversation: dict[str, Any], *turns: tuple[str, str], title: str | None = None,
              after: str | None = None) -> dict[str, Any]:
    """``conversation`` as a later export has it: questions and answers added after ``after`` (else the node shown
    last), shown last now, and renamed when ``title`` is given."""
    later = json.loads(json.dumps(conversation))
    mapping = later["mapping"]
    parent = after or later["current_node"]
    t = later["update_time"]
    for question, answer in turns:
        for role, text in (("user", question), ("assistant", answer)):
            t += 1
            node = f"{parent}+{len(mapping)}"
            mapping[node] = chatgpt_node(node, role, text, parent, [], t)
            mapping[parent]["children"].append(node)
            parent = node
    later.update(current_node=parent, update_time=t, title=title or later["title"])
    return later


def _write(path: Path, *conversations: dict[str, Any]) -> Path:
    path.write_text(json.dumps(list(conversations)), encoding="utf-8")
    return path


async def test_a_later_chatgpt_export_adds_what_was_written_there_since(other: Store, tmp_path: Path) -> None:
    first = chatgpt_conversation("Trip", 1_700_000_000.0)
    await import_file(other, _write(tmp_path / "v1.json", first))
    later = continued(first, ("And Porto?", "Take the train."), title="Trip to Portugal")
    v2 = _write(tmp_path / "v2.json", later, chatgpt_conversation("New there", 1_700_200_000.0, 2))
    preview = await import_file(other, v2, dry_run=True)
    assert (preview.conversations, preview.updated, preview.added_messages, preview.duplicates) == (1, 1, 2, 0)
    assert "Will add 2 new messages to 1 conversation imported before" in preview.summary()
    assert len(records(other)) == 1  # a preview writes nothing
    report = await import_file(other, v2)
    assert (report.conversations, report.updated, report.added_messages) == (1, 1, 2)
    trip = records(other)[0]
    assert trip.title == "Trip to Portugal"  # renamed there, not here: the new name
    assert [m.text for m in trip.active_path()][-3:] == ["New answer", "And Porto?", "Take the train."]
    assert len(trip.messages) == 5  # what was there is kept once: nothing doubled
    again = await import_file(other, v2)
    assert (again.conversations, again.updated, again.duplicates) == (0, 0, 2)


async def test_what_was_written_in_both_places_is_kept_as_two_versions(other: Store, tmp_path: Path) -> None:
    first = chatgpt_conversation("Trip", 1_700_000_000.0)
    await import_file(other, _write(tmp_path / "v1.json", first))
    here = records(other)[0]
    trip = (await other.list_conversations())[0]
    last = here.active_path()[-1]
    mine = await other.add_message(trip.id, last.id, Role.USER, [text_part("Asked here")])
    await other.update_conversation(trip.id, title="My trip", title_by_user=True)  # renamed here: kept
    report = await import_file(other, _write(tmp_path / "v2.json", continued(first, ("Asked there", "Answered"))))
    assert (report.updated, report.added_messages) == (1, 2)
    after = records(other)[0]
    assert after.title == "My trip"
    assert after.active_path()[-1].text == "Asked here" and after.current_leaf == mine.id  # still on its version
    there = [m for m in after.messages if m.text == "Asked there"]
    assert len(there) == 1 and there[0].parent == last.id  # the other version, one ‹ › away


def regenerated(conversation: dict[str, Any], answer: str) -> dict[str, Any]:
    """``conversation`` as a later export has it after its last answer was regenerated there."""
    later = json.loads(json.dumps(conversation))
    mapping = later["mapping"]
    last = mapping[later["current_node"]]
    question = last["parent"]
    node = f"{question}+again"
    mapping[node] = chatgpt_node(node, "assistant", answer, question, [], later["update_time"] + 1)
    mapping[question]["children"].append(node)
    later.update(current_node=node, update_time=later["update_time"] + 1)
    return later


async def test_a_version_made_there_is_added_once_and_shown(other: Store, tmp_path: Path) -> None:
    first = chatgpt_conversation("Trip", 1_700_000_000.0)
    await import_file(other, _write(tmp_path / "v1.json", first))
    v2 = _write(tmp_path / "v2.json", regenerated(first, "A better answer"))
    for round_ in range(3):  # importing the same file again adds nothing more
        report = await import_file(other, v2)
        assert (report.updated, report.added_messages) == ((1, 1) if round_ == 0 else (0, 0))
        trip = records(other)[0]
        assert len(trip.messages) == 4
        assert trip.active_path()[-1].text == "A better answer"  # the version shown there is shown here


async def test_another_version_chosen_here_is_not_imported_again(other: Store, tmp_path: Path) -> None:
    first = chatgpt_conversation("Trip", 1_700_000_000.0)
    v2 = _write(tmp_path / "v2.json", regenerated(first, "A better answer"))
    await import_file(other, _write(tmp_path / "v1.json", first))
    await import_file(other, v2)
    trip = (await other.list_conversations())[0]
    older = next(m for m in records(other)[0].messages if m.text == "New answer")
    await other.update_conversation(trip.id, current_leaf_id=older.id)  # ‹ back to the first version here
    again = await import_file(other, v2)
    assert (again.updated, again.duplicates) == (0, 1) and len(records(other)[0].messages) == 4
    assert records(other)[0].current_leaf == older.id  # the version chosen here stays shown


async def test_the_same_conversation_twice_in_a_file_is_counted_once(other: Store, tmp_path: Path) -> None:
    first = chatgpt_conversation("Trip", 1_700_000_000.0)
    await import_file(other, _write(tmp_path / "v1.json", first))
    later = continued(first, ("Q", "A"))
    twice = _write(tmp_path / "twice.json", later, later)
    preview = await import_file(other, twice, dry_run=True)
    report = await import_file(other, twice)
    assert (preview.updated, preview.duplicates) == (report.updated, report.duplicates) == (1, 1)


async def test_an_import_that_only_adds_to_earlier_ones_says_just_that(other: Store, tmp_path: Path) -> None:
    first = chatgpt_conversation("Trip", 1_700_000_000.0)
    await import_file(other, _write(tmp_path / "v1.json", first))
    preview = await import_file(other, _write(tmp_path / "v2.json", continued(first, ("Q", "A"))), dry_run=True)
    assert preview.summary() == ("ChatGPT export: Will add 2 new messages to 1 conversation imported before "
                                 "(continued or renamed since).")


async def test_a_conversation_imported_before_ids_were_kept_is_still_known_when_renamed(
        other: Store, tmp_path: Path) -> None:
    first = chatgpt_conversation("Trip", 1_700_000_000.0)
    await import_file(other, _write(tmp_path / "v1.json", first))
    other.call_sync(lambda: other.conn.execute("DELETE FROM imports WHERE fingerprint LIKE 'chatgpt:%'"))
    report = await import_file(other, _write(tmp_path / "v2.json", continued(first, ("Q", "A"), title="Renamed")))
    assert (report.conversations, report.updated, report.added_messages) == (0, 1, 2)
    assert [r.title for r in records(other)] == ["Renamed"]


async def test_a_conversation_deleted_here_is_not_brought_back_by_a_later_export(other: Store, tmp_path: Path) -> None:
    first = chatgpt_conversation("Trip", 1_700_000_000.0)
    await import_file(other, _write(tmp_path / "v1.json", first))
    await other.delete_conversation((await other.list_conversations())[0].id)
    report = await import_file(other, _write(tmp_path / "v2.json", continued(first, ("Q", "A"))))
    assert (report.conversations, report.updated, report.duplicates) == (0, 0, 1)
    assert await other.list_conversations() == []


async def test_chatgpt_zip_is_read_without_unpacking(other: Store, tmp_path: Path) -> None:
    archive = tmp_path / "chatgpt-export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("chat.html", "<html></html>")
        z.writestr("export/conversations.json", json.dumps([chatgpt_conversation("Zipped", 1_700_000_000.0)]))
        z.writestr("user.json", "{}")
    report = await import_file(other, archive)
    assert (report.fmt, report.conversations) == ("chatgpt", 1)
    assert records(other)[0].title == "Zipped"


async def test_a_zip_without_conversations_is_refused(other: Store, tmp_path: Path) -> None:
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.txt", "x")
        z.writestr("b.json", "{}")
        z.writestr("c.json", "{}")
    with pytest.raises(UserFacingError, match=r"no conversations\.json"):
        await import_file(other, archive)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\0" * 50)
    with pytest.raises(UserFacingError, match="zip is damaged"):
        await import_file(other, broken)


# -- JSONL and bad input ------------------------------------------------------------------------------------


async def test_jsonl_reports_bad_lines_and_imports_the_rest(other: Store, tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    lines = [
        json.dumps({"messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"},
                                 {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]}]}),
        '{"messages": [{"role": "user", "content": "cut',
        "",
        json.dumps({"messages": [{"role": "wizard", "content": "?"}]}),
        json.dumps({"messages": [{"role": "user", "content": "Second"}, {"role": "assistant", "content": "Two"}]}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = await import_file(other, path)
    assert (report.fmt, report.conversations, report.messages) == ("jsonl", 2, 4)
    assert [p.where for p in report.problems] == ["line 2", "line 4"]
    first = records(other)[0]
    assert (first.title, first.system_prompt, [m.text for m in first.messages]) == ("Hi", "Be terse.",
                                                                                    ["Hi", "Hello"])
    again = await import_file(other, path)
    assert (again.conversations, again.duplicates) == (0, 2)


async def test_jsonl_of_single_messages_is_one_conversation(other: Store, tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_text('{"role": "user", "content": "Q"}\n{"role": "assistant", "content": "A"}\n', encoding="utf-8")
    report = await import_file(other, path)
    assert (report.conversations, report.messages) == (1, 2)


async def test_a_truncated_export_keeps_what_came_before_and_says_where(store: Store, other: Store,
                                                                       tmp_path: Path) -> None:
    await seed(store)
    full = tmp_path / "full.json"
    await export(store, full, "json")
    text = full.read_text(encoding="utf-8")
    cut = tmp_path / "cut.json"
    cut.write_text(text[: text.index("\n", text.index("\n") + 1) + 40], encoding="utf-8")  # into conversation 2
    report = await import_file(other, cut)
    assert report.conversations == 1
    assert len(report.problems) == 1 and report.problems[0].where == "conversation 2"
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text(text.replace('"role":"user"', '"role":user', 1), encoding="utf-8")
    report = await import_file(other, corrupt)
    assert report.conversations == 0 and "conversation 1" in report.problems[0].where


@pytest.mark.parametrize("content", [b"", b"\x00\x01binary", b"hello world", b"{\"format\": \"something else\"}"])
async def test_files_that_are_not_exports_are_refused(other: Store, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "odd.json"
    path.write_bytes(content)
    try:
        report = await import_file(other, path)
    except UserFacingError as exc:
        assert "cannot be imported" in exc.message
    else:
        assert report.conversations == 0 and report.problems
    assert records(other) == []


async def test_an_export_from_a_newer_version_is_refused(other: Store, tmp_path: Path) -> None:
    path = tmp_path / "future.json"
    path.write_text('{"format": "desktop-assistant-export", "version": 2, "conversations": []}', encoding="utf-8")
    report = await import_file(other, path)
    assert report.conversations == 0 and "newer" in str(report.problems[0])


def _big_chatgpt_file(path: Path, target_mb: int) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write("[")
        while fh.tell() < target_mb << 20:
            conv = chatgpt_conversation(f"Chat {n}", 1_600_000_000.0 + n * 10, n)
            conv["mapping"][f"c{n}-a3"]["message"]["content"]["parts"] = ["x" * 20_000]
            fh.write(("," if n else "") + json.dumps(conv))
            n += 1
        fh.write("]")
    return n


def test_a_large_export_is_streamed(tmp_path: Path) -> None:
    """A ~20 MB file is read item by item: the reader never holds much more than one conversation.

    (A 500 MB export works the same way; generating one is too slow for the test suite.)
    """
    import tracemalloc

    path = tmp_path / "conversations.json"
    count = _big_chatgpt_file(path, 20)
    tracemalloc.start()
    try:
        seen = sum(1 for item, _ in iter_items(path, "chatgpt") if not isinstance(item, Problem))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    assert peak < 8 << 20  # far below the 20 MB file


async def test_a_large_import_reports_progress_and_can_be_cancelled(other: Store, tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    total = _big_chatgpt_file(path, 6)
    seen: list[float] = []
    report = ImportReport(path, "")
    task = asyncio.get_running_loop().create_task(import_file(other, path, progress=seen.append, report=report))
    while not seen:
        await asyncio.sleep(0.001)  # wait-ok: polls for the first progress report
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert report.cancelled and 0 < report.conversations < total
    assert len(records(other)) == report.conversations  # what was imported before the cancel stays
    assert 0 < seen[0] < 1


async def test_attached_images_travel_inline_and_come_back_as_attachments(store: Store, other: Store,
                                                                         tmp_path: Path) -> None:
    from desktop_assistant.services.image_store import ImageStore

    images = ImageStore(tmp_path / "a" / "images")
    conv = await store.create_conversation("gpt-4o", title="Picture")
    digest = images.put(b"\x89PNG fake bytes", "image/png")
    part = {"type": "image_url", "image_url": {"url": f"attachment:{digest}.png", "detail": "auto"},
            "size": [10, 20], "name": "cat.png"}
    await store.add_message(conv.id, None, Role.USER, [text_part("Look"), part])
    await export(store, tmp_path / "pic.html", "html", images=images)
    assert 'src="data:image/png;base64,' in (tmp_path / "pic.html").read_text(encoding="utf-8")
    await export(store, tmp_path / "pic.json", "json", images=images)
    other_images = ImageStore(tmp_path / "b" / "images")
    await import_file(other, tmp_path / "pic.json", images=other_images)
    assert [normalized(r) for r in records(other)] == [normalized(r) for r in records(store)]
    assert other_images.get(digest, "image/png") == b"\x89PNG fake bytes"


def test_the_import_summary_reads_right_for_one(tmp_path: Path) -> None:
    one = ImportReport(tmp_path / "c.json", "chatgpt", conversations=1, messages=1)
    assert one.summary() == "ChatGPT export: Will import 1 conversation (1 message)."
    many = ImportReport(tmp_path / "c.json", "chatgpt", conversations=1200, messages=2, done=True)
    assert many.summary() == "ChatGPT export: Imported 1,200 conversations (2 messages)."
