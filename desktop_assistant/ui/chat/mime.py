"""What a drop or a paste carries: image files, image bytes (a screenshot), or image addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QImage

from desktop_assistant.controllers.images import encoded

IMAGE_URL = re.compile(r"^https?://\S+\.(png|jpe?g|gif|webp|bmp)(\?\S*)?$", re.IGNORECASE)


@dataclass
class Dropped:
    """The images found in a drop or paste."""

    files: list[Path] = field(default_factory=list)
    data: list[tuple[bytes, str]] = field(default_factory=list)  # (bytes, a name for messages)
    urls: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing image-like was found."""
        return not (self.files or self.data or self.urls)


def images_in(mime: QMimeData) -> Dropped:
    """Files, image data and image addresses in ``mime`` (text that is not an image address is left alone)."""
    found = Dropped()
    if mime.hasUrls():
        for url in mime.urls():
            if url.isLocalFile():
                found.files.append(Path(url.toLocalFile()))
            elif url.scheme() in ("http", "https"):
                found.urls.append(url.toString())
    if not found.files and mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            found.data.append((encoded(image), "pasted image.png"))
    if found.empty and mime.hasText() and IMAGE_URL.match(mime.text().strip()):
        found.urls.append(mime.text().strip())
    return found
