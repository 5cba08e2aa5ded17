"""Stored images nothing refers to any more are removed at start, on real files and a real SQLite database: one
only in a purged conversation goes; one in a message, a draft, a kept edit, a backup or a damaged database moved
aside stays, as does one attached less than a day ago; a backup that cannot be read stops the clean-up."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_assistant.core.models import Role
from desktop_assistant.services import backup, image_cleanup
from desktop_assistant.services.drafts import DraftStore, KeptDraft
from desktop_assistant.services.image_cleanup import (
    CleanupResult,
    clean_up_images,
    hashes_in_database,
    kept_databases,
    remove_unreferenced,
)
from desktop_assistant.services.image_store import ImageStore
from desktop_assistant.services.migrations import MIGRATIONS, MigrationFailedError
from desktop_assistant.services.store import Store

DAY = 24 * 60 * 60


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def store(data: Path) -> Iterator[Store]:
    """The app's database, where the app keeps it: ``<data>/conversations.sqlite3``."""
    s = Store(data / "conversations.sqlite3")
    s.open()
    yield s
    s.close_sync()


@pytest.fixture
def images(data: Path) -> ImageStore:
    return ImageStore(data / "images")


def picture(images: ImageStore, label: str, *, age: float = 2 * DAY) -> str:
    """Store an image (its bytes: ``label``) as if written ``age`` seconds ago; returns its sha256."""
    digest = images.put(f"not really a png: {label}".encode(), "image/png")
    set_age(images, digest, age)
    return digest


def set_age(images: ImageStore, digest: str, age: float) -> None:
    then = time.time() - age
    os.utime(images.path_for(digest, "image/png"), (then, then))


def on_disk(images: ImageStore, digest: str) -> bool:
    return images.path_for(digest, "image/png").exists()


async def cleaned(store: Store, images: ImageStore) -> CleanupResult:
    """The clean-up as the app runs it, as if the last one were a day ago (it reads the databases once a day)."""
    (images.root / image_cleanup.STAMP).unlink(missing_ok=True)
    return await clean_up_images(store, images)


def image_part(digest: str) -> dict[str, object]:
    return {"type": "image_url", "image_url": {"url": f"attachment:{digest}.png", "detail": "auto"}, "size": [4, 3]}


def draft_image(digest: str) -> dict[str, object]:
    return {"sha256": digest, "mime": "image/png", "width": 4, "height": 3, "name": "shot.png", "detail": "auto",
            "note": ""}


async def conversation_with(store: Store, digest: str, words: str = "what is this?") -> int:
    conversation = await store.create_conversation("gpt-4o")
    await store.add_message(conversation.id, None, Role.USER, [{"type": "text", "text": words}, image_part(digest)])
    return conversation.id


async def delete_and_purge(store: Store, conversation_id: int) -> None:
    await store.delete_conversation(conversation_id)
    assert await store.purge_deleted() == 1


async def test_an_image_only_in_a_purged_conversation_goes_and_every_one_still_needed_stays(
        store: Store, images: ImageStore) -> None:
    purged = picture(images, "only in a deleted conversation")
    in_message = picture(images, "in a message")
    in_draft = picture(images, "in a new chat's draft")
    in_edit = picture(images, "in a kept edit")
    recent = picture(images, "attached an hour ago, in no draft yet", age=60 * 60)
    await delete_and_purge(store, await conversation_with(store, purged))
    kept = await conversation_with(store, in_message)
    message_id = (await store.messages(kept))[0].id
    drafts = DraftStore(store)
    assert await drafts.save(None, KeptDraft("look", (draft_image(in_draft),)))
    assert await drafts.save(kept, KeptDraft("", (draft_image(in_edit),), edit=(message_id, "look again")))

    result = await cleaned(store, images)

    assert not on_disk(images, purged)
    assert all(on_disk(images, d) for d in (in_message, in_draft, in_edit, recent))
    assert result.removed == 1 and result.stopped_by is None


async def test_an_image_in_a_backup_or_a_damaged_database_stays(store: Store, images: ImageStore, data: Path) -> None:
    in_backup = picture(images, "in a backup")
    in_damaged = picture(images, "in a damaged database moved aside")
    before_upgrade = picture(images, "in a copy made before an upgrade")
    for digest, name in ((in_backup, f"{backup.AUTO_PREFIX}20250101-120000.sqlite3"),
                         (before_upgrade, "conversations-before-v14-from-v13-20250101-120000.sqlite3")):
        conversation = await conversation_with(store, digest)
        await store.read(lambda conn, n=name: backup.copy_database(conn, backup.backup_dir(data) / n))
        await delete_and_purge(store, conversation)
    conversation = await conversation_with(store, in_damaged)
    await store.read(lambda conn: backup.copy_database(conn, data / "conversations.sqlite3.damaged-20250101-120000"))
    await delete_and_purge(store, conversation)
    assert len(kept_databases(store.path)) == 3

    result = await cleaned(store, images)

    assert all(on_disk(images, d) for d in (in_backup, in_damaged, before_upgrade))
    assert result.removed == 0 and result.stopped_by is None
    for path in kept_databases(store.path):
        path.unlink()
    assert (await cleaned(store, images)).removed == 3  # once no copy refers to them


async def test_a_backup_that_cannot_be_read_stops_the_clean_up(store: Store, images: ImageStore, data: Path) -> None:
    purged = picture(images, "only in a deleted conversation")
    await delete_and_purge(store, await conversation_with(store, purged))
    broken = backup.backup_dir(data) / f"{backup.AUTO_PREFIX}20250101-120000.sqlite3"
    broken.parent.mkdir()
    broken.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))  # the start of one, and then noise

    result = await cleaned(store, images)

    assert on_disk(images, purged) and result.removed == 0
    assert result.stopped_by is not None and broken.name in result.stopped_by
    broken.unlink()
    assert (await cleaned(store, images)).removed == 1


async def test_a_file_in_the_backups_folder_that_is_a_database_by_its_first_bytes_is_read(
        store: Store, images: ImageStore, data: Path) -> None:
    kept = picture(images, "in a backup the person saved under a name of their own")
    conversation = await conversation_with(store, kept)
    await store.read(lambda conn: backup.copy_database(conn, backup.backup_dir(data) / "before my trip"))
    (backup.backup_dir(data) / "notes.txt").write_text("not a database, and not read as one")
    await delete_and_purge(store, conversation)

    assert (await cleaned(store, images)).stopped_by is None
    assert on_disk(images, kept)


async def test_a_database_open_read_only_is_left_as_it_is(data: Path, images: ImageStore) -> None:
    store = Store(data / "conversations.sqlite3")
    store.open()
    purged = picture(images, "only in a deleted conversation")
    await delete_and_purge(store, await conversation_with(store, purged))
    await store.close()
    store = Store(data / "conversations.sqlite3", migrations=[*MIGRATIONS, ["THIS IS NOT SQL"]])
    with pytest.raises(MigrationFailedError):  # (the app then opens it read-only, as it is)
        store.open()
    store.open_read_only()
    try:
        result = await cleaned(store, images)
    finally:
        store.close_sync()
    assert on_disk(images, purged) and result.removed == 0


async def test_a_hash_is_found_in_any_table_in_either_case_and_inside_longer_hex(
        store: Store, images: ImageStore) -> None:
    upper = picture(images, "named in capitals by an extraction row")
    inside = picture(images, "named within a longer run of hex digits")
    blob = picture(images, "named in a blob")
    await store.write(lambda conn: conn.execute("CREATE TABLE someday (note TEXT, data BLOB)"))
    await store.write(lambda conn: conn.executemany("INSERT INTO someday VALUES (?, ?)", [
        (f"see {upper.upper()}", None), (f"0a{inside}ff", None), (None, f"[{blob}]".encode())]))

    assert (await cleaned(store, images)).removed == 0
    assert all(on_disk(images, d) for d in (upper, inside, blob))


async def test_empty_folders_and_unfinished_writes_are_removed_other_files_kept(
        store: Store, images: ImageStore) -> None:
    purged = picture(images, "only in a deleted conversation")
    await delete_and_purge(store, await conversation_with(store, purged))
    folder = images.root / purged[:2]
    unfinished = folder / f".{purged}.png-x1y2z3"
    unfinished.write_bytes(b"half an image")
    fresh_unfinished = folder / f".{purged}.png-a1b2c3"  # (a write under way right now)
    fresh_unfinished.write_bytes(b"an image being written")
    strangers = [images.root / "README.txt", images.root / "zz" / "photo.png", folder / "holiday.png"]
    for path in strangers:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"not the store's")
    (images.root / "0f").mkdir()  # left empty by an earlier clean-up
    then = time.time() - 2 * DAY
    for path in [unfinished, *strangers]:
        os.utime(path, (then, then))

    result = await cleaned(store, images)

    assert not on_disk(images, purged) and not unfinished.exists() and fresh_unfinished.exists()
    assert all(path.exists() for path in strangers)
    assert not (images.root / "0f").exists() and folder.exists()
    assert result.removed == 2 and result.folders == 1
    fresh_unfinished.unlink()
    (folder / "holiday.png").unlink()
    assert (await cleaned(store, images)).folders == 1 and not folder.exists()


def test_attaching_a_stored_image_again_dates_it_now(images: ImageStore) -> None:
    digest = picture(images, "attached last month", age=30 * DAY)
    assert images.put(b"not really a png: attached last month", "image/png") == digest
    assert time.time() - images.path_for(digest, "image/png").stat().st_mtime < 60


async def test_an_old_image_attached_again_is_kept(store: Store, images: ImageStore) -> None:
    digest = picture(images, "attached last month, in nothing kept", age=30 * DAY)
    images.put(b"not really a png: attached last month, in nothing kept", "image/png")
    assert (await cleaned(store, images)).removed == 0 and on_disk(images, digest)


def test_an_image_whose_date_cannot_be_changed_is_written_again(images: ImageStore, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    digest = picture(images, "on a file system that refuses utime", age=30 * DAY)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError("not yours")
    monkeypatch.setattr(os, "utime", refuse)
    images.put(b"not really a png: on a file system that refuses utime", "image/png")
    path = images.path_for(digest, "image/png")
    assert time.time() - path.stat().st_mtime < 60
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_the_damaged_database_s_companions_are_read_through_it(data: Path) -> None:
    main = data / "conversations.sqlite3"
    for name in ("conversations.sqlite3.damaged-20250101-120000", "conversations.sqlite3.damaged-20250101-120000-wal",
                 "conversations.sqlite3.damaged-20250101-120000-shm", "settings.damaged.json"):
        (data / name).write_bytes(b"")
    assert kept_databases(main) == [data / "conversations.sqlite3.damaged-20250101-120000"]


def test_a_database_is_only_read(data: Path, images: ImageStore) -> None:
    path = data / "backups" / "conversations-auto-20250101-120000.sqlite3"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.commit()
    conn.close()
    path.chmod(0o400)
    before = path.stat().st_mtime_ns

    assert hashes_in_database(path, set()) == set()
    assert path.stat().st_mtime_ns == before


def test_a_backup_rotated_away_meanwhile_is_not_made_again_and_stops_nothing(
        data: Path, images: ImageStore) -> None:
    digest = picture(images, "in nothing kept")
    vanished = data / "backups" / "conversations-auto-20250101-120000.sqlite3"

    result = remove_unreferenced(images, [vanished])

    assert result.removed == 1 and not on_disk(images, digest) and not vanished.exists()


def test_an_image_attached_again_while_the_databases_are_read_is_kept(
        data: Path, images: ImageStore, monkeypatch: pytest.MonkeyPatch) -> None:
    digest = picture(images, "in nothing kept, until attached again")
    database = data / "conversations.sqlite3"
    sqlite3.connect(database).close()

    def read_while_attached_again(path: Path, candidates: set[str], stop: object = None) -> set[str]:
        images.put(b"not really a png: in nothing kept, until attached again", "image/png")  # (the person, meanwhile)
        return set()
    monkeypatch.setattr(image_cleanup, "hashes_in_database", read_while_attached_again)

    assert remove_unreferenced(images, [database]).removed == 0 and on_disk(images, digest)


def test_a_clean_up_told_to_stop_deletes_nothing_more(data: Path, images: ImageStore) -> None:
    digest = picture(images, "in nothing kept")
    database = data / "conversations.sqlite3"
    sqlite3.connect(database).close()
    stop = threading.Event()
    stop.set()  # (the app is closing)

    with pytest.raises(image_cleanup.Stopped):
        remove_unreferenced(images, [database], stop=stop)
    assert on_disk(images, digest)


async def test_the_copies_are_not_read_when_the_database_refers_to_every_old_image(
        store: Store, images: ImageStore, data: Path) -> None:
    in_message = picture(images, "in a message")
    await conversation_with(store, in_message)
    broken = backup.backup_dir(data) / f"{backup.AUTO_PREFIX}20250101-120000.sqlite3"
    broken.parent.mkdir()
    broken.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))

    assert await cleaned(store, images) == CleanupResult()  # (nothing to delete, so nothing to stop)
    assert on_disk(images, in_message)


async def test_a_store_that_cannot_be_listed_is_logged_not_shown(store: Store, images: ImageStore,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    def refuse() -> list[object]:
        raise PermissionError(13, "Permission denied", str(images.root))
    monkeypatch.setattr(images, "files", refuse)

    result = await cleaned(store, images)

    assert result.removed == 0 and result.stopped_by is not None and "Permission denied" in caplog.text


def test_the_databases_are_read_for_it_once_a_day_at_most(data: Path, store: Store, images: ImageStore) -> None:
    gone = picture(images, "deleted a while ago")
    assert remove_unreferenced(images, [store.path], once_a_day=True).removed == 1 and not on_disk(images, gone)
    later = picture(images, "deleted since")
    skipped = remove_unreferenced(images, [store.path], once_a_day=True)  # the same day: nothing is read
    assert skipped.removed == 0 and "less than a day ago" in (skipped.stopped_by or "") and on_disk(images, later)
    assert remove_unreferenced(images, [store.path], time.time() + DAY, once_a_day=True).removed == 1
    assert not on_disk(images, later)
