"""Text, code, CSV and PDF files in chat: priced before sending, sent as delimited text, shown by name."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QImage

from desktop_assistant.controllers.images import encoded
from tests.conftest import until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start
from tests.ui.test_vision import png_file

fake_openai = fixture.fake_openai


def pdf(objects: list[bytes]) -> bytes:
    """A well-formed PDF from its numbered objects (1 = catalog), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def text_pdf(text: str) -> bytes:
    stream = b"BT /F1 18 Tf 72 700 Td (" + text.encode() + b") Tj ET"
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def scanned_pdf() -> bytes:
    picture = QImage(200, 100, QImage.Format.Format_RGB32)
    picture.fill(QColor("#888888"))
    jpeg = encoded(picture, "JPEG", 80)
    draw = b"q 200 0 0 100 72 600 cm /Im1 Do Q"
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /XObject << /Im1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(draw) + draw + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width 200 /Height 100 /ColorSpace /DeviceRGB /BitsPerComponent 8 "
        b"/Filter /DCTDecode /Length %d >>\nstream\n" % len(jpeg) + jpeg + b"\nendstream",
    ])


def last_user_content(server: FakeOpenAI) -> str:
    body = [r for r in server.requests if r.path.endswith("/chat/completions")][-1].json
    content = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


async def test_code_csv_and_pdf_are_sent_as_delimited_text(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "script.py").write_text("def add(a, b):\n    return a + b\n")
    (folder / "table.csv").write_text("name,amount\nAda,3\nGrace,5\n")
    (folder / "invoice.pdf").write_bytes(text_pdf("Invoice 42: total 99 EUR"))
    fake_openai.enqueue(Reply(text="Looks fine."))
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        await parts.attachments.add_files(sorted(folder.iterdir()))
        bar = parts.window.composer.attachments
        assert [c.attachment.name for c in bar.file_chips] == ["invoice.pdf", "script.py", "table.csv"]
        await until(lambda: all(c.cost.text().endswith("of what a message may hold") for c in bar.file_chips))
        assert bar.file_chips[0].attachment.kind == "pdf" and bar.file_chips[0].attachment.pages == 1
        await parts.chat.send("Check these")
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        sent = last_user_content(fake_openai)
        assert sent.startswith("Check these")
        assert '<file name="script.py">\ndef add(a, b):' in sent and '<file name="table.csv">' in sent
        assert "Invoice 42: total 99 EUR" in sent and "[page 1]" in sent
        shown = parts.window.transcript.views[parts.chat.path[0].id].body.toPlainText()
        assert "File: script.py (" in shown and "def add" not in shown  # shown by name, sent in full
        assert parts.attachments.files == [] and not bar.file_chips


async def test_a_drawing_attached_as_its_code_is_said_to_be_text(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    """An SVG goes as text: the person is told the model reads its code and does not see the picture."""
    svg = tmp_path / "logo.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle r="4"/></svg>')
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        notes = []
        parts.attachments.noted.connect(notes.append)
        await parts.attachments.add_files([svg])
        assert [f.name for f in parts.attachments.files] == ["logo.svg"] and parts.attachments.items == []
        assert notes == ["“logo.svg” is sent as its text, the drawing's code: the model reads it but does not see "
                         "the picture. To show the picture, attach a PNG of it."]
        await until(lambda: "does not see the picture" in parts.window.composer.refusal.text())


async def test_large_file_offers_to_send_a_part(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    big = tmp_path / "log.txt"
    big.write_text("".join(f"line {i}: something happened in the system\n" for i in range(60_000)))
    fake_openai.enqueue(Reply(text="ok"))
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        await parts.attachments.add_files([big])
        chip = parts.window.composer.attachments.file_chips[0]
        await until(lambda: chip.shorten.isVisibleTo(chip))
        refused: list[object] = []
        parts.chat.sendRefused.connect(refused.append)
        await parts.chat.send("summarise")
        assert refused and "Send part" in refused[0].message  # type: ignore[attr-defined]
        chip.shorten.click()
        await until(lambda: parts.attachments.files[0].cut)
        await parts.chat.send("summarise")
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        assert 'part="first ' in last_user_content(fake_openai)


async def test_scanned_pdf_becomes_page_images_and_binaries_are_refused(tmp_path: Path,
                                                                      fake_openai: FakeOpenAI) -> None:
    (tmp_path / "scan.pdf").write_bytes(scanned_pdf())
    (tmp_path / "blob.dat").write_bytes(bytes(range(256)) * 10)
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        composer = parts.window.composer
        await parts.attachments.add_files([tmp_path / "scan.pdf"])
        assert parts.attachments.files == [] and len(parts.attachments.items) == 1
        assert "has no text" in composer.refusal.text()
        await parts.attachments.add_files([tmp_path / "blob.dat"])
        assert "not a text file" in composer.refusal.text()


async def test_what_attaching_says_is_shown_together_and_a_scan_s_pages_not_attached_are_said(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    (tmp_path / "scan.pdf").write_bytes(scanned_pdf())
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x01" * 64)
    many = [png_file(tmp_path, f"shot{i}.png", 64, 64, f"#{i:02x}{i:02x}80") for i in range(20)]
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        composer = parts.window.composer
        # a drop of a broken image and a good one: the refusal is not wiped by the good one's arrival
        await parts.attachments.add_files([tmp_path / "broken.png", many[0]])
        assert "could not be read" in composer.refusal.text() and len(parts.attachments.items) == 1
        await parts.attachments.add_files(many[1:])
        assert len(parts.attachments.items) == 20
        await parts.attachments.add_files([tmp_path / "scan.pdf"])  # no room left for its page
        said = composer.refusal.text()
        assert "up to 20 images" in said and "0 of its 1 page images could be attached" in said
