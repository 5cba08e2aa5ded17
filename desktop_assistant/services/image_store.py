"""Sent images, stored content-addressed (sha256) in the data folder, so a conversation restores them.

A file stays as long as something refers to it; one nothing refers to any more is removed at a later start
(:mod:`desktop_assistant.services.image_cleanup`), once it has not been written or attached again for a day.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from desktop_assistant.core.image_cleanup import ImageFile, is_image_folder
from desktop_assistant.services.atomic import write_atomically

log = logging.getLogger(__name__)

SUFFIXES = {"image/png": ".png", "image/jpeg": ".jpg"}


class ImageStore:
    """Files named by the sha256 of their bytes under ``root`` (``ab/abcdef….png``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # put() and the clean-up's deletions, one at a time: an image attached again while the clean-up runs is
        # either seen as just attached (and kept) or written anew after it was removed
        self._lock = threading.Lock()

    def path_for(self, sha256: str, mime: str) -> Path:
        """Where the image with this hash lives."""
        return self.root / sha256[:2] / f"{sha256}{SUFFIXES.get(mime, '.bin')}"

    def put(self, data: bytes, mime: str) -> str:
        """Store ``data`` (once) and return its sha256. An image already stored is marked as just written, so
        that attaching an old picture again keeps it from the clean-up as a new one is."""
        import hashlib  # not before the first paint: it starts OpenSSL (~2 ms)

        digest = hashlib.sha256(data).hexdigest()
        path = self.path_for(digest, mime)
        with self._lock:
            if path.exists():
                try:
                    os.utime(path)
                    return digest
                except OSError as exc:  # not ours to touch (permissions): written anew, which also dates it now
                    log.debug("could not refresh %s: %s", path.name, exc)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, data)
        return digest

    def get(self, sha256: str, mime: str) -> bytes | None:
        """The stored bytes, or None when the file is gone."""
        try:
            return self.path_for(sha256, mime).read_bytes()
        except FileNotFoundError:
            return None

    def files(self) -> list[ImageFile]:
        """Every file in the store's two-letter folders, with its modification time (blocking: a worker thread)."""
        found: list[ImageFile] = []
        for folder in self._folders():
            try:
                entries = list(os.scandir(folder))
            except FileNotFoundError:
                continue
            for entry in entries:
                try:
                    if entry.is_file(follow_symlinks=False):
                        modified = entry.stat(follow_symlinks=False).st_mtime
                        found.append(ImageFile(f"{folder.name}/{entry.name}", modified))
                except FileNotFoundError:
                    continue
        return found

    def _folders(self) -> list[Path]:
        """The store's two-letter folders (none while nothing was ever stored)."""
        try:
            return [f for f in self.root.iterdir() if is_image_folder(f.name) and f.is_dir()]
        except FileNotFoundError:
            return []

    def remove(self, file: ImageFile, still_unused: Callable[[float], bool]) -> bool:
        """Delete ``file`` if ``still_unused(its modification time now)`` holds (checked under the lock put() takes,
        so an image attached again meanwhile is kept); True when it was deleted."""
        path = self.root / file.name
        with self._lock:
            try:
                if not still_unused(path.stat().st_mtime):
                    return False
                path.unlink()
            except FileNotFoundError:
                return False
        return True

    def remove_empty_folders(self) -> int:
        """Remove the two-letter folders left empty; returns how many."""
        removed = 0
        for folder in self._folders():
            with self._lock:  # (put() makes the folder and writes into it under the lock)
                try:
                    folder.rmdir()  # only when empty
                except OSError:
                    continue
            removed += 1
        return removed
