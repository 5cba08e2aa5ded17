"""Which stored image files nothing needs any more (pure: the service lists the files and reads the databases).

The image store keeps every attached image as ``ab/<sha256>.png`` (or ``.jpg``) from the moment it is attached.
A file may be deleted only when its hash appears nowhere the app keeps (the database, its backups, a damaged
database moved aside) and it has not been written or attached again for a day: an image attached in this
session may not be in a draft yet. Deleting a picture someone still needs is far worse than keeping one too long,
so whatever is not clearly an image file of the store's own naming is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

MIN_AGE = 24 * 60 * 60
"""Seconds since a file was last written or attached again before it may be deleted."""

SUFFIXES = (".png", ".jpg", ".bin")
"""The endings the image store gives its files (``services/image_store.py``)."""

_HEX_RUN = re.compile(r"[0-9a-fA-F]{64,}")
_HASH = re.compile(r"[0-9a-f]{64}")
_FOLDER = re.compile(r"[0-9a-f]{2}")


@dataclass(frozen=True)
class ImageFile:
    """A file found in the image store: its path under the store's root (``ab/ab….png``, ``/`` between the
    folder and the name) and its modification time (seconds since the epoch)."""

    name: str
    modified: float


def is_image_folder(name: str) -> bool:
    """Whether ``name`` is one of the store's two-hex-digit folders."""
    return _FOLDER.fullmatch(name) is not None


def image_hash(name: str) -> str | None:
    """The sha256 a stored image file is named by (``ab/<sha256>.png``), or None for any other file."""
    folder, slash, file = name.partition("/")
    stem, dot, suffix = file.partition(".")
    if not slash or not dot or f".{suffix}" not in SUFFIXES or _HASH.fullmatch(stem) is None:
        return None
    return stem if folder == stem[:2] else None


def _is_leftover(name: str) -> bool:
    """A temporary file of an image write that never finished (``ab/.<sha256>.png-XXXX``: a crash, a full disk)."""
    folder, slash, file = name.partition("/")
    if not slash or not file.startswith("."):
        return False
    stem, dash, _rest = file[1:].partition("-")
    return bool(dash) and image_hash(f"{folder}/{stem}") is not None


def hashes_in(text: str, candidates: AbstractSet[str] = frozenset()) -> set[str]:
    """Every sha256 written in ``text`` (64 hexadecimal digits, in either case; returned in lower case).

    A hash written inside a longer run of hexadecimal digits cannot be told from the digits around it: of such
    runs, every one of ``candidates`` (the hashes of the files that might be deleted) found in them is returned.
    """
    found: set[str] = set()
    for match in _HEX_RUN.finditer(text):
        run = match.group().lower()
        if len(run) == 64:
            found.add(run)
        elif candidates:
            found.update(run[i:i + 64] for i in range(len(run) - 63) if run[i:i + 64] in candidates)
    return found


def to_delete(files: Iterable[ImageFile], referenced: AbstractSet[str], now: float,
              min_age: float = MIN_AGE) -> list[ImageFile]:
    """The files to delete: the store's own image files whose hash is not in ``referenced`` and the temporary
    files of writes that never finished, when untouched for ``min_age`` seconds (a time in the future is taken
    as recent). Any other file is kept."""
    doomed = []
    for file in files:
        if now - file.modified < min_age:
            continue
        digest = image_hash(file.name)
        if (digest is not None and digest not in referenced) or _is_leftover(file.name):
            doomed.append(file)
    return doomed
