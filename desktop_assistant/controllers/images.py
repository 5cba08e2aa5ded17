"""Images a person attaches: checked, decoded and scaled off the UI thread, stored by content.

Everything here works on ``QImage`` (thread-safe, unlike ``QPixmap``), so it runs in worker threads.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, cast

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QImage, QImageReader

from desktop_assistant.core.errors import ErrorAction, ErrorKind, UserFacingError
from desktop_assistant.core.images import MAX_SIDE, image_tokens, upload_size
from desktop_assistant.core.requests import IMAGE_PLACEHOLDER
from desktop_assistant.services.image_store import ImageStore

MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 100_000_000  # a larger picture is a decompression bomb, not a screenshot
MAX_IMAGES = 20  # per message
SUPPORTED = {"png", "jpeg", "jpg", "webp", "gif", "bmp"}
JPEG_QUALITY = 90
PNG_IS_TOO_BIG = 1_500_000  # a photo saved as PNG: send it as JPEG instead (no alpha only)
ATTACHMENT_SCHEME = "attachment:"


@dataclass(frozen=True)
class Attachment:
    """An image ready to go with a message: stored by hash, with its size and detail setting."""

    sha256: str
    mime: str
    width: int
    height: int
    name: str
    detail: str = "auto"
    note: str = ""  # e.g. "only the first frame of this animation is sent"

    @property
    def url(self) -> str:
        """The app's own reference to the stored file."""
        return f"{ATTACHMENT_SCHEME}{self.sha256}{'.jpg' if self.mime == 'image/jpeg' else '.png'}"

    def tokens(self, model: str) -> int:
        """Prompt tokens this image costs with ``model``."""
        return image_tokens(self.width, self.height, self.detail, model)

    def part(self) -> dict[str, Any]:
        """The stored content part (the URL is turned into a data URL only when a request is built)."""
        return {"type": "image_url", "image_url": {"url": self.url, "detail": self.detail},
                "size": [self.width, self.height], "name": self.name}


def bad_input(message: str) -> UserFacingError:
    """A clear refusal of an attachment."""
    return UserFacingError(ErrorKind.BAD_INPUT, message, ErrorAction.NONE)


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def too_large(name: str, size: int) -> UserFacingError:
    """The refusal of a file over the size limit."""
    return bad_input(f"“{name}” is {_megabytes(size)}; images up to {_megabytes(MAX_FILE_BYTES)} can be attached. "
                     "Save a smaller copy or a screenshot of the part that matters.")


def decode(data: bytes, name: str) -> tuple[QImage, str]:
    """Check and decode ``data``; returns the image (first frame) and a note for the person (or "")."""
    if len(data) > MAX_FILE_BYTES:
        raise too_large(name, len(data))
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setDecideFormatFromContent(True)
    fmt = bytes(reader.format().data()).decode().lower()
    lowered = name.lower()
    if not fmt:
        if lowered.endswith((".heic", ".heif", ".avif", ".tif", ".tiff", ".svg")):
            raise bad_input(f"“{name}” is in a format that cannot be sent. Convert it to PNG or JPEG first.")
        raise bad_input(f"“{name}” is not an image (PNG, JPEG, WebP, GIF or BMP).")
    if fmt not in SUPPORTED:
        raise bad_input(f"“{name}” is a {fmt.upper()} image, which cannot be sent. Convert it to PNG or JPEG.")
    size = reader.size()
    if size.isValid() and size.width() * size.height() > MAX_PIXELS:
        raise bad_input(f"“{name}” is {size.width():,} x {size.height():,} pixels, too large to attach.")
    frames = reader.imageCount()
    image = reader.read()
    if image.isNull():
        raise bad_input(f"“{name}” could not be read: the file is damaged or incomplete ({reader.errorString()}).")
    note = "Only the first frame of this animation is sent." if frames > 1 else ""
    return image, note


def encoded(image: QImage, fmt: str = "PNG", quality: int = -1) -> bytes:
    """``image`` saved as ``fmt`` (PNG by default) into bytes."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    cast(Any, image).save(buffer, fmt, quality)  # the stubs say bytes; the binding takes the format as str
    return bytes(buffer.data().data())


def _encode(image: QImage) -> tuple[bytes, str]:
    data = encoded(image)
    if len(data) > PNG_IS_TOO_BIG and not image.hasAlphaChannel():
        return encoded(image.convertToFormat(QImage.Format.Format_RGB32), "JPEG", JPEG_QUALITY), "image/jpeg"
    return data, "image/png"


def normalise(image: QImage) -> tuple[bytes, str, int, int]:
    """The image as kept: fitted in 2048 x 2048 (never more than the API uses), PNG or JPEG."""
    if max(image.width(), image.height()) > MAX_SIDE:
        image = image.scaled(QSize(MAX_SIDE, MAX_SIDE), Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    data, mime = _encode(image)
    return data, mime, image.width(), image.height()


def data_url(stored: bytes, width: int, height: int, detail: str, model: str) -> tuple[str, int, int]:
    """A base64 data URL of the image scaled to what ``model`` uses at ``detail``, and that size."""
    target_w, target_h = upload_size(width, height, detail, model)
    image = QImage.fromData(stored)
    if image.isNull():
        raise bad_input("A stored image could not be read; remove it and attach it again.")
    if (target_w, target_h) != (image.width(), image.height()):
        image = image.scaled(QSize(target_w, target_h), Qt.AspectRatioMode.IgnoreAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    data, mime = _encode(image)
    return f"data:{mime};base64,{base64.b64encode(data).decode()}", image.width(), image.height()


def with_image_data(messages: list[dict[str, Any]], model: str, images: ImageStore) -> list[dict[str, Any]]:
    """Stored image parts turned into what the API takes: base64 data URLs at the size ``model`` uses."""
    out: list[dict[str, Any]] = []
    for m in messages:
        content = m.get("content")
        if not isinstance(content, list):
            out.append(m)
            continue
        parts = []
        for p in content:
            if p.get("type") == "image_url" and str(p["image_url"]["url"]).startswith(ATTACHMENT_SCHEME):
                parts.append(_image_part(p, model, images))
            else:
                parts.append({k: v for k, v in p.items() if k in ("type", "text", "image_url")})
        out.append({**m, "content": parts})
    return out


def _image_part(part: dict[str, Any], model: str, images: ImageStore) -> dict[str, Any]:
    reference = str(part["image_url"]["url"])[len(ATTACHMENT_SCHEME):]
    sha, _, suffix = reference.partition(".")
    stored = images.get(sha, "image/jpeg" if suffix == "jpg" else "image/png")
    detail = str(part["image_url"].get("detail", "auto"))
    if stored is None:
        return {"type": "text", "text": IMAGE_PLACEHOLDER}
    width, height = part.get("size", [0, 0])
    url, _w, _h = data_url(stored, int(width), int(height), detail, model)
    return {"type": "image_url", "image_url": {"url": url, "detail": detail}}
