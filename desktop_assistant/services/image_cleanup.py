"""Removing the stored images nothing refers to any more (at start, after deleted conversations are purged).

An image file is kept while its sha256 appears in any text or blob of any table of the database, of a backup in
``<data>/backups`` (automatic, before an upgrade, before a restore, one the person saved there) or of a damaged
database moved aside (``conversations.sqlite3.damaged-*``); those are read read-only. One of them that cannot be
read stops the clean-up: nothing is deleted that time. A file written or attached again in the last day is kept
too (an image attached in this session may not be in a draft yet). What to delete is decided in
:mod:`desktop_assistant.core.image_cleanup`; this module lists the files, reads the databases and deletes.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from desktop_assistant.core.image_cleanup import MIN_AGE, hashes_in, image_hash, to_delete
from desktop_assistant.services.backup import backup_dir
from desktop_assistant.services.image_store import ImageStore
from desktop_assistant.services.store import Store

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
_DATABASE_SUFFIXES = (".sqlite3", ".sqlite", ".db")
_COMPANIONS = ("-wal", "-shm", "-journal")  # part of the database beside them, read through it
STAMP = ".last-clean-up"
"""In the images folder: its time is when the databases were last read for the clean-up."""


class Unreadable(Exception):
    """A database that may refer to images could not be read: nothing may be deleted."""


class Stopped(Exception):
    """The app is closing: the clean-up stops where it is."""


@dataclass(frozen=True)
class CleanupResult:
    """What a clean-up did: files and empty folders removed, or why it deleted nothing (``stopped_by``)."""

    removed: int = 0
    folders: int = 0
    stopped_by: str | None = None


def kept_databases(database: Path) -> list[Path]:
    """The SQLite files the app keeps beside ``database`` that may refer to images: every database in the
    backups folder (by its name or its first bytes) and every damaged database moved aside."""
    found = [p for p in database.parent.glob(f"{database.name}.damaged-*")
             if not p.name.endswith(_COMPANIONS) and p.is_file()]
    folder = backup_dir(database.parent)
    try:
        entries = sorted(folder.iterdir())
    except FileNotFoundError:
        entries = []
    for path in entries:
        if path.name.startswith(".") or path.name.endswith(_COMPANIONS) or not path.is_file():
            continue  # (a backup being written is a hidden ``.name.partial``)
        if path.name.endswith(_DATABASE_SUFFIXES) or _starts_like_sqlite(path):
            found.append(path)
    return found


def _starts_like_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return True  # unreadable: it may be one (reading it as one will say)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def hashes_in_database(path: Path, candidates: AbstractSet[str], stop: threading.Event | None = None) -> set[str]:
    """The sha256 hashes written anywhere in the database at ``path``: every text and blob value of every table
    (virtual tables are read through the tables that hold their data). Opened read-only; raises
    :class:`Unreadable` when it cannot be read to the end, :class:`Stopped` when ``stop`` is set."""
    found: set[str] = set()
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise Unreadable(f"{path.name}: {exc}") from exc
    try:
        tables = [str(row[0]) for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND COALESCE(sql, '') NOT LIKE 'CREATE VIRTUAL%'")]
        for table in tables:
            for count, row in enumerate(conn.execute(f"SELECT * FROM {_quoted(table)}")):
                if stop is not None and count % 1000 == 0 and stop.is_set():
                    raise Stopped
                for value in row:
                    if isinstance(value, str) and len(value) >= 64:
                        found |= hashes_in(value, candidates)
                    elif isinstance(value, bytes) and len(value) >= 64:
                        found |= hashes_in(value.decode("latin-1"), candidates)
    except sqlite3.Error as exc:
        raise Unreadable(f"{path.name}: {exc}") from exc
    finally:
        conn.close()
    return found


def remove_unreferenced(images: ImageStore, databases: list[Path], now: float | None = None,
                        stop: threading.Event | None = None, *, once_a_day: bool = False) -> CleanupResult:
    """Delete the image files no database in ``databases`` refers to and untouched for a day, then the folders
    left empty (blocking: run on a worker thread). A database that cannot be read stops it before anything is
    deleted; one gone meanwhile (a backup rotated away) refers to nothing any more. With ``once_a_day``, the
    databases are read at most once a day (:data:`STAMP`)."""
    now = time.time() if now is None else now
    files = images.files()
    old = to_delete(files, frozenset(), now)  # what would go if nothing referred to it: the rest need no reading
    if not old:
        return CleanupResult(folders=images.remove_empty_folders())
    if once_a_day:  # reading the databases holds the GIL (~0.1 s per 10 MB): once a day is enough
        stamp = images.root / STAMP
        try:
            if now - stamp.stat().st_mtime < MIN_AGE:
                return CleanupResult(stopped_by="the databases were read for this less than a day ago")
        except FileNotFoundError:
            pass
        stamp.touch()
        os.utime(stamp, (now, now))
    candidates = {h for f in old if (h := image_hash(f.name)) is not None}
    referenced: set[str] = set()
    for database in databases:  # the database first: the copies are read only for what it does not refer to
        if stop is not None and stop.is_set():
            raise Stopped
        if not candidates - referenced:
            break
        try:
            referenced |= hashes_in_database(database, candidates, stop)
        except Unreadable as exc:
            if database.exists():
                log.warning("image clean-up skipped: %s could not be read (%s); no image was deleted",
                            database, exc)
                return CleanupResult(stopped_by=str(exc))
            log.debug("%s is gone (rotated away?): it refers to nothing any more", database)
    removed = 0
    for file in to_delete(old, referenced, now):
        if stop is not None and stop.is_set():
            raise Stopped
        if images.remove(file, lambda modified: now - modified >= MIN_AGE):
            removed += 1
    folders = images.remove_empty_folders()
    log.info("image clean-up: removed %d image files nothing refers to any more (and %d empty folders)",
             removed, folders)
    return CleanupResult(removed, folders)


async def clean_up_images(store: Store, images: ImageStore, now: float | None = None) -> CleanupResult:
    """Delete the stored images nothing refers to any more, on a worker thread (the database is read through its
    own read-only connection: the store's thread stays free). A database open read-only is left as it is."""
    if store.read_only:
        return CleanupResult(stopped_by="the database is open read-only")
    databases = [store.path, *kept_databases(store.path)]
    stop = threading.Event()
    try:
        return await asyncio.to_thread(functools.partial(remove_unreferenced, images, databases, now, stop,
                                                         once_a_day=True))
    except asyncio.CancelledError:
        stop.set()  # the thread stops at its next step
        raise
    except Stopped:
        return CleanupResult(stopped_by="stopped")
    except OSError as exc:  # (a folder not ours to list, a file not ours to delete): housekeeping, not news
        log.warning("image clean-up stopped: %s", exc)
        return CleanupResult(stopped_by=str(exc))
