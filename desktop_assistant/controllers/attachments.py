"""Images and files waiting to go with the next message: added, checked, stored, priced, removed."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage

from desktop_assistant.controllers.files import IMAGE_SUFFIXES, FileAttachment, is_text_file, read_file
from desktop_assistant.controllers.images import (
    ATTACHMENT_SCHEME,
    MAX_FILE_BYTES,
    MAX_IMAGES,
    Attachment,
    bad_input,
    decode,
    normalise,
    too_large,
)
from desktop_assistant.core.errors import UserFacingError
from desktop_assistant.services.fetch import fetch_image
from desktop_assistant.services.image_store import ImageStore

THUMBNAIL = 96
SHOWN_SIDE = 640  # images in the transcript are drawn at most 320 px; 2x for high-density screens


T = TypeVar("T")


async def _in_thread(fn: Callable[..., T], *args: Any) -> T:
    """``asyncio.to_thread``: decoding, scaling and reading files stay off the UI thread."""
    import asyncio  # running, so loaded: not imported before the first paint

    return await asyncio.to_thread(fn, *args)

class AttachmentsController(QObject):
    """The draft's images.

    Signals:
        changed(list): the images (``Attachment``) now waiting.
        filesChanged(list): the text files (``FileAttachment``) now waiting.
        refused(object): a ``UserFacingError`` explaining why something could not be attached.
        noted(str): something the person should know about what was attached (a scanned PDF's pages).
    """

    changed = Signal(list)
    filesChanged = Signal(list)
    refused = Signal(object)
    noted = Signal(str)

    def __init__(self, images: ImageStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.images = images
        self.items: list[Attachment] = []
        self.files: list[FileAttachment] = []
        self.thumbnails: dict[str, QImage] = {}
        self._shown: dict[str, QImage] = {}

    def _prepare(self, data: bytes, name: str) -> tuple[Attachment, QImage]:
        image, note = decode(data, name)
        stored, mime, width, height = normalise(image)
        digest = self.images.put(stored, mime)
        thumb = image.scaled(THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
        return Attachment(digest, mime, width, height, name, note=note), thumb

    async def add_bytes(self, data: bytes, name: str) -> Attachment | None:
        """Attach an image given as bytes (a paste, a capture, a dropped file's content)."""
        if len(self.items) >= MAX_IMAGES:
            self.refused.emit(self._room_error())
            return None
        try:
            attachment, thumb = await _in_thread(self._prepare, data, name)
        except UserFacingError as exc:
            self.refused.emit(exc)
            return None
        if any(a.sha256 == attachment.sha256 for a in self.items):
            return None  # the same picture twice adds nothing
        self.thumbnails[attachment.sha256] = thumb
        self.items.append(attachment)
        self.changed.emit(list(self.items))
        return attachment

    def _room_error(self) -> UserFacingError:
        return bad_input(f"A message can carry up to {MAX_IMAGES} images; the rest were not attached.")

    async def add_files(self, paths: list[Path]) -> None:
        """Attach files: images as images, text, code, CSV and PDF as text (each checked and explained)."""
        for path in paths:
            if path.suffix.lower() not in IMAGE_SUFFIXES and (is_text_file(path) or not _looks_like_image(path)):
                await self.add_text_file(path)
                continue
            if len(self.items) >= MAX_IMAGES:
                self.refused.emit(self._room_error())
                return
            try:
                size = path.stat().st_size
                if size > MAX_FILE_BYTES:
                    self.refused.emit(too_large(path.name, size))
                    continue
                data = await _in_thread(path.read_bytes)
            except OSError as exc:
                self.refused.emit(bad_input(f"“{path.name}” could not be opened ({exc.strerror})."))
                continue
            await self.add_bytes(data, path.name)

    async def add_url(self, url: str) -> None:
        """Fetch an image from a web address the person gave and attach it."""
        try:
            data = await fetch_image(url, MAX_FILE_BYTES)
        except UserFacingError as exc:
            self.refused.emit(exc)
            return
        await self.add_bytes(data, url.rsplit("/", 1)[-1] or url)

    def full_image(self, url: str) -> QImage | None:
        """A stored image by its ``attachment:`` URL, at the size it was sent (None when it is gone)."""
        reference = url.removeprefix(ATTACHMENT_SCHEME)
        sha, _, suffix = reference.partition(".")
        data = self.images.get(sha, "image/jpeg" if suffix == "jpg" else "image/png")
        image = QImage.fromData(data) if data is not None else QImage()
        return None if image.isNull() else image

    def image_for_url(self, url: str) -> QImage | None:
        """A stored image by its ``attachment:`` URL, for showing in the transcript (cached, thumbnail size)."""
        cached = self._shown.get(url)
        if cached is not None:
            return cached
        image = self.full_image(url)
        if image is None:
            return None
        image = image.scaled(SHOWN_SIDE, SHOWN_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
        self._shown[url] = image
        return image

    async def add_text_file(self, path: Path) -> None:
        """Attach a text file (or a PDF's text; a scanned PDF's page images)."""
        try:
            attachment, pages, note = await _in_thread(read_file, path)
        except UserFacingError as exc:
            self.refused.emit(exc)
            return
        except OSError as exc:
            self.refused.emit(bad_input(f"“{path.name}” could not be opened ({exc.strerror})."))
            return
        if attachment is not None and all(f.key != attachment.key for f in self.files):
            self.files.append(attachment)
            self.filesChanged.emit(list(self.files))
        attached = 0
        for data, name in pages:
            attached += await self.add_bytes(data, name) is not None
        if pages and attached < len(pages):  # the note said they were attached: say what was
            note = (f"“{path.name}” has no text (it is a scan), and {attached} of its {len(pages)} page images "
                    "could be attached.")
        if note:
            self.noted.emit(note)

    def shorten_file(self, key: str, chars: int) -> None:
        """Send only the first ``chars`` characters of a file."""
        self.files = [f.shortened(chars) if f.key == key else f for f in self.files]
        self.filesChanged.emit(list(self.files))

    def remove(self, key: str) -> None:
        """Take an image or a file (by its key) off the draft."""
        if any(f.key == key for f in self.files):
            self.files = [f for f in self.files if f.key != key]
            self.filesChanged.emit(list(self.files))
            return
        self.items = [a for a in self.items if a.sha256 != key]
        self.changed.emit(list(self.items))

    def set_detail(self, sha256: str, detail: str) -> None:
        """Choose auto, low or high detail for one image."""
        self.items = [dataclasses.replace(a, detail=detail) if a.sha256 == sha256 else a for a in self.items]
        self.changed.emit(list(self.items))

    def take(self) -> list[Attachment]:
        """The attachments, handed to a message being sent (the draft is emptied of images and files)."""
        items, self.items = self.items, []
        self.changed.emit([])
        if self.files:
            self.files = []
            self.filesChanged.emit([])
        return items

    def kept(self) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
        """The images and files waiting, as the draft keeps them (``services/drafts.py``): each as a plain dict."""
        return (tuple(dataclasses.asdict(a) for a in self.items), tuple(dataclasses.asdict(f) for f in self.files))

    async def bring_back(self, images: tuple[dict[str, Any], ...], files: tuple[dict[str, Any], ...]) -> None:
        """Attach again what a kept draft held (at the start after the one it was written in). An image whose
        stored file is gone, or a description this version cannot read, is left out and said so."""
        lost = 0
        for kept in files:
            try:
                file = FileAttachment(**kept)
            except TypeError:
                lost += 1
                continue
            if all(f.key != file.key for f in self.files):
                self.files.append(file)
        if self.files:
            self.filesChanged.emit(list(self.files))
        for kept in images:
            attachment = _attachment_from(kept)
            thumb = await _in_thread(self._thumbnail_of, attachment) if attachment is not None else None
            if attachment is None or thumb is None:
                lost += 1
                continue
            if len(self.items) < MAX_IMAGES and all(a.sha256 != attachment.sha256 for a in self.items):
                self.thumbnails[attachment.sha256] = thumb
                self.items.append(attachment)
                self.changed.emit(list(self.items))
        if lost:
            what, were = ("One attachment", "it was") if lost == 1 else (f"{lost} attachments", "they were")
            self.noted.emit(f"{what} kept with your draft could not be found, so {were} left out.")

    def _thumbnail_of(self, attachment: Attachment) -> QImage | None:
        try:
            data = self.images.get(attachment.sha256, attachment.mime)
        except OSError:  # unreadable (permissions, a failing disk): left out like a missing one
            data = None
        image = QImage.fromData(data) if data is not None else QImage()
        if image.isNull():
            return None
        return image.scaled(THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio,
                            Qt.TransformationMode.SmoothTransformation)

    def restore(self, items: list[Attachment]) -> None:
        """Put images back on the draft (a send that was refused keeps them)."""
        self.items = items + [a for a in self.items if a not in items]
        self.changed.emit(list(self.items))


def _attachment_from(kept: dict[str, Any]) -> Attachment | None:
    """The image a kept draft describes, if it names one the store can hold: a sha256 in hex, a PNG or a JPEG
    (what the database says is never taken as a path)."""
    try:
        attachment = Attachment(**kept)
    except TypeError:
        return None
    digest = attachment.sha256
    hexadecimal = isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)
    return attachment if hexadecimal and attachment.mime in ("image/png", "image/jpeg") else None


def _looks_like_image(path: Path) -> bool:
    """Whether a file of unknown name starts like a picture (PNG, JPEG, GIF, WebP, BMP)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError:
        return True  # let the image path explain the error
    webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")) or webp
