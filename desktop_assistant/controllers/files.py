"""Text files in chat: plain text, Markdown, code, CSV and PDF, read off the UI thread and sent delimited.

A file's text goes into the question as its own clearly delimited block (``<file name="…">…</file>``). A PDF
is read with pypdf (text only); a scanned PDF has no text, and its page images are offered instead.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from desktop_assistant.controllers.images import bad_input

MAX_FILE_BYTES = 20 * 1024 * 1024
TEXT_SUFFIXES = {
    ".txt", ".md", ".markdown", ".rst", ".csv", ".tsv", ".json", ".jsonl", ".yaml", ".yml", ".toml", ".ini",
    ".cfg", ".log", ".xml", ".html", ".css", ".py", ".js", ".ts", ".tsx", ".jsx", ".java", ".c", ".h", ".cpp",
    ".hpp", ".cs", ".go", ".rs", ".rb", ".php", ".swift", ".kt", ".sql", ".sh", ".bash", ".ps1", ".r", ".m",
    ".scala", ".lua", ".pl", ".tex", ".env", ".gitignore", ".dockerfile",
}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".heic", ".heif", ".avif", ".tif", ".tiff"}


@dataclass(frozen=True)
class FileAttachment:
    """A text file waiting to go with the next question."""

    key: str  # sha256 of the text
    name: str
    text: str
    kind: str  # "text" or "pdf"
    original_chars: int = 0  # before a cut to fit; equal to len(text) when whole
    pages: int = 0

    @property
    def cut(self) -> bool:
        """Only a part of the file is sent."""
        return len(self.text) < self.original_chars

    def block(self) -> str:
        """The delimited text that goes into the question."""
        note = f' part="first {len(self.text):,} of {self.original_chars:,} characters"' if self.cut else ""
        return f'<file name="{html.escape(self.name, quote=True)}"{note}>\n{self.text}\n</file>'

    def part(self) -> dict[str, Any]:
        """The stored content part: the delimited text, marked as a file for the transcript."""
        return {"type": "text", "text": "\n\n" + self.block(), "file": self.name}

    def shortened(self, chars: int) -> FileAttachment:
        """The file cut to its first ``chars`` characters (at a line end where possible)."""
        if chars >= len(self.text):
            return self
        end = self.text.rfind("\n", 0, chars)
        return replace(self, text=self.text[: end if end > chars // 2 else chars])


def is_text_file(path: Path) -> bool:
    """Whether ``path`` is sent as text (by its name; unknown names are sniffed when read)."""
    return path.suffix.lower() in TEXT_SUFFIXES or path.suffix.lower() == ".pdf"


def read_file(path: Path) -> tuple[FileAttachment | None, list[tuple[bytes, str]], str]:
    """Read ``path`` (off the UI thread): (the text attachment, page images of a scanned PDF, a note)."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise bad_input(f"“{path.name}” is {size / 1024 / 1024:.1f} MB; text files up to "
                        f"{MAX_FILE_BYTES // 1024 // 1024} MB can be attached.")
    data = path.read_bytes()
    if path.suffix.lower() == ".pdf" or data.startswith(b"%PDF-"):
        return _read_pdf(path.name, data)
    if b"\x00" in data[:8192]:
        raise bad_input(f"“{path.name}” is not a text file (it looks binary), so it cannot be sent as text.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # legacy encodings: every byte maps, nothing is lost
    note = (f"“{path.name}” is sent as its text, the drawing's code: the model reads it but does not see the "
            "picture. To show the picture, attach a PNG of it." if path.suffix.lower() == ".svg" else "")
    return _attachment(path.name, text, "text"), [], note


def _attachment(name: str, text: str, kind: str, pages: int = 0) -> FileAttachment:
    import hashlib  # not before the first paint: it starts OpenSSL (~2 ms)

    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return FileAttachment(digest, name, text, kind, len(text), pages)


def _read_pdf(name: str, data: bytes) -> tuple[FileAttachment | None, list[tuple[bytes, str]], str]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise bad_input(f"“{name}” is protected with a password; open it and save an unprotected copy.")
        pages = list(reader.pages)
        texts = [page.extract_text() or "" for page in pages]
    except PdfReadError as exc:
        raise bad_input(f"“{name}” could not be read as a PDF ({exc}).") from exc
    text = "\n\n".join(f"[page {i + 1}]\n{t.strip()}" for i, t in enumerate(texts) if t.strip())
    if text.strip():
        return _attachment(name, text, "pdf", len(pages)), [], ""
    images: list[tuple[bytes, str]] = []
    for number, page in enumerate(pages, start=1):
        jpeg = _page_jpeg(page)  # a scan is one picture per page, nearly always JPEG
        if jpeg is not None:
            images.append((jpeg, f"{name} page {number}.jpg"))
    if not images:
        raise bad_input(f"“{name}” has no text, and its pages are not pictures that can be sent.")
    note = (f"“{name}” has no text (it is a scan): its {len(images)} page image(s) were attached instead, "
            "for a model that sees images.")
    return None, images, note


def _page_jpeg(page: Any) -> bytes | None:
    """The largest JPEG picture on a PDF page, as stored (DCT-encoded image XObjects are JPEG files)."""
    try:
        xobjects = page["/Resources"]["/XObject"].get_object()
    except (KeyError, TypeError, AttributeError):
        return None
    best: bytes | None = None
    for ref in xobjects.values():
        obj = ref.get_object()
        if obj.get("/Subtype") != "/Image":
            continue
        filters = obj.get("/Filter")
        names = [str(f) for f in filters] if isinstance(filters, list) else [str(filters)]
        if names == ["/DCTDecode"]:
            data = bytes(obj._data)  # the raw stream: a complete JPEG file
            if best is None or len(data) > len(best):
                best = data
    return best
