"""Sent images, stored content-addressed (sha256) in the data folder, so a conversation restores them."""

from __future__ import annotations

from pathlib import Path

from desktop_assistant.services.atomic import write_atomically

SUFFIXES = {"image/png": ".png", "image/jpeg": ".jpg"}


class ImageStore:
    """Files named by the sha256 of their bytes under ``root`` (``ab/abcdef….png``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str, mime: str) -> Path:
        """Where the image with this hash lives."""
        return self.root / sha256[:2] / f"{sha256}{SUFFIXES.get(mime, '.bin')}"

    def put(self, data: bytes, mime: str) -> str:
        """Store ``data`` (once) and return its sha256."""
        import hashlib  # not before the first paint: it starts OpenSSL (~2 ms)

        digest = hashlib.sha256(data).hexdigest()
        path = self.path_for(digest, mime)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, data)
        return digest

    def get(self, sha256: str, mime: str) -> bytes | None:
        """The stored bytes, or None when the file is gone."""
        try:
            return self.path_for(sha256, mime).read_bytes()
        except FileNotFoundError:
            return None
