"""Images in: drop, paste, pick, capture; priced before sending; sent scaled; stored; bad input explained."""

from __future__ import annotations

import base64
import os
import socket
import time
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from desktop_assistant.app import IMAGE_CLEANUP
from desktop_assistant.controllers.images import encoded
from desktop_assistant.core.errors import ErrorAction, ErrorKind
from desktop_assistant.core.images import upload_size
from desktop_assistant.core.models import Status
from desktop_assistant.ui.chat.capture_overlay import HINT
from desktop_assistant.ui.status_line import image_cost_texts
from tests.conftest import ended, until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start

fake_openai = fixture.fake_openai

# a 1 x 1, two-frame animated GIF, written byte by byte
ANIMATED_GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
                b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
                + (b"\x21\xf9\x04\x00\x0a\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00") * 2
                + b"\x3b")


def screenshot(width: int, height: int, color: str = "#3366cc") -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.fillRect(0, 0, width // 2, height // 3, QColor(color))
    painter.drawText(20, 40, "Error: something went wrong")
    painter.end()
    return image


def png_file(folder: Path, name: str, width: int, height: int, color: str = "#3366cc") -> Path:
    path = folder / name
    path.write_bytes(encoded(screenshot(width, height, color)))
    return path


def image_parts(server: FakeOpenAI) -> list[dict]:  # type: ignore[type-arg]
    body = [r for r in server.requests if r.path.endswith("/chat/completions")][-1].json
    return [p for m in body["messages"] if isinstance(m["content"], list) for p in m["content"]
            if p["type"] == "image_url"]


def decoded_size(part: dict) -> tuple[int, int]:  # type: ignore[type-arg]
    url = part["image_url"]["url"]
    assert url.startswith("data:image/")
    image = QImage.fromData(base64.b64decode(url.split(",", 1)[1]))
    return image.width(), image.height()


def drop(widget: QWidget, mime: QMimeData) -> None:
    """A drag entering ``widget`` and dropping ``mime`` there, as Qt delivers a real drop."""
    enter = QDragEnterEvent(QPoint(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), "the window refused the drag"
    event = QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


async def test_dropped_screenshot_is_priced_scaled_sent_and_stored(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    shot = png_file(tmp_path, "screenshot.png", 3008, 2000)
    fake_openai.enqueue(Reply(text="The dialog says something went wrong."), Reply(text="Still there."))
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.set_model("gpt-4o")
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(shot))])
        drop(parts.window, mime)
        bar = parts.window.composer.attachments
        await until(lambda: len(bar.chips) == 1 and bar.chips[0].cost.text() != "")
        assert bar.chips[0].cost.text().startswith("~1,105 tok")  # 85 + 170 x 6 tiles for gpt-4o
        bar.chips[0].detail.setCurrentIndex(bar.chips[0].detail.findData("high"))
        await until(lambda: parts.attachments.items[0].detail == "high")
        parts.window.composer.set_text("What is wrong here?")
        parts.window.composer.send_button.click()
        await until(lambda: len(parts.chat.path) == 2 and parts.chat.path[-1].status is Status.COMPLETE
                    and not parts.chat.streaming)
        (part,) = image_parts(fake_openai)
        assert part["image_url"]["detail"] == "high"
        stored = next(p for p in parts.chat.path[0].parts if p["type"] == "image_url")
        assert stored["size"] == [2048, 1361]  # kept at most 2048 px (never more than the API uses)
        assert decoded_size(part) == upload_size(2048, 1361, "high", "gpt-4o") == (1156, 768)  # the API's own size
        assert set(part) == {"type", "image_url"} and set(part["image_url"]) == {"url", "detail"}
        assert parts.attachments.items == [] and not bar.isVisibleTo(parts.window)
        assert stored["image_url"]["url"].startswith("attachment:")
        files = list((tmp_path / "home" / "data" / "images").rglob("*.png"))
        assert len(files) == 1
        question_view = parts.window.transcript.views[parts.chat.path[0].id]
        assert question_view.body.requested == [stored["image_url"]["url"]]  # drawn from the app's own store
        conv_id = parts.chat.path[0].conversation_id
    async with built_app(tmp_path / "home", fake_openai.base_url) as again:
        await start(again)
        assert again.chat.conversation is not None and again.chat.conversation.id == conv_id
        shown = again.window.transcript.views[again.chat.path[0].id]
        shown.body.document().size()  # lay it out: images are loaded as the document is laid out
        assert shown.body.requested and shown.body.requested[0].startswith("attachment:")
        assert again.attachments.image_for_url(shown.body.requested[0]) is not None
        await again.chat.send("And now?")
        await until(lambda: len(again.chat.path) == 4 and not again.chat.streaming)
        assert len(image_parts(fake_openai)) == 1  # the earlier image is sent again with the history
        again.endpoint.update_settings(images_in_history=False)
        fake_openai.enqueue(Reply(text="without it"))
        await again.chat.send("Once more, cheaper")
        await until(lambda: len(again.chat.path) == 6 and not again.chat.streaming)
        assert image_parts(fake_openai) == []  # older turns' images are left out


async def test_paste_a_screenshot_and_a_url(tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        mime = QMimeData()
        mime.setImageData(screenshot(800, 600))
        parts.window.composer.edit.insertFromMimeData(mime)  # what Ctrl+V does
        await until(lambda: len(parts.attachments.items) == 1)
        assert parts.attachments.items[0].name == "pasted image.png"
        assert parts.window.composer.text == ""  # not pasted as text
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        text = QMimeData()
        text.setText(f"http://127.0.0.1:{port}/missing.png")
        parts.window.composer.edit.insertFromMimeData(text)
        composer = parts.window.composer
        await until(lambda: "could not be fetched" in composer.refusal.text())
        assert len(parts.attachments.items) == 1


async def test_bad_images_are_explained_and_nothing_is_lost(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "data.bin").write_bytes(bytes(range(256)) * 40)
    (files / "photo.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100)
    (files / "broken.png").write_bytes(encoded(screenshot(400, 300))[:200])
    (files / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * (50 * 1024 * 1024))
    (files / "animated.gif").write_bytes(ANIMATED_GIF)
    cases = [("data.bin", "not a text file"), ("photo.heic", "cannot be sent"), ("broken.png", "could not be read"),
             ("huge.png", "50.0 MB")]
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        composer = parts.window.composer
        composer.set_text("my words stay")
        for name, words in cases:
            await parts.attachments.add_files([files / name])
            await until(lambda w=words: w in composer.refusal.text())
            assert composer.text == "my words stay" and parts.attachments.items == []
        await parts.attachments.add_files([files / "animated.gif"])
        assert len(parts.attachments.items) == 1 and "first frame" in parts.attachments.items[0].note
        await until(lambda: "first frame" in composer.refusal.text())
        composer.show_refusal("")  # read
        await parts.attachments.add_files([png_file(files, "next.png", 64, 64)])
        assert len(parts.attachments.items) == 2
        assert "first frame" not in composer.refusal.text()  # said once, not again at each image added
        many = [png_file(files, f"shot{i}.png", 64, 64, f"#{i:02x}{i:02x}80") for i in range(40)]
        await parts.attachments.add_files(many)
        assert len(parts.attachments.items) == 20
        assert "up to 20 images" in composer.refusal.text()


async def test_a_model_without_vision_says_so_and_offers_to_switch(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="I see it"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.set_model("gpt-3.5-turbo")
        await parts.attachments.add_bytes(encoded(screenshot(300, 200)), "a.png")
        parts.window.composer.set_text("look")
        # said before Send, where the image's price would be
        await until(lambda: "gpt-3.5-turbo cannot see images" in parts.window.composer.token_count.text())
        last = parts.estimates.last
        assert last is not None and list(image_cost_texts(last).values()) == ["this model cannot see it"]
        refused: list[object] = []
        parts.chat.sendRefused.connect(refused.append)
        await parts.chat.send("look")
        assert refused and refused[0].kind is ErrorKind.NO_VISION  # type: ignore[attr-defined]
        banner = parts.window.banner
        assert banner.isVisibleTo(parts.window) and banner._action is ErrorAction.SWITCH_TO_VISION
        assert "picks the model that can and makes this message cheapest" in banner.label.text()
        assert parts.chat.vision_choice(20_000) == "gpt-4o-mini"  # with a long history, cheaper text wins
        banner.action.click()
        # a 300 x 200 image and a word: gpt-4.1-mini (its patches) is cheapest of the models the server offers;
        # gpt-4o-mini would count 2,833 + 5,667 tokens for the image alone
        await until(lambda: parts.chat.model == "gpt-4.1-mini")
        assert parts.window.composer.text == "look" and len(parts.attachments.items) == 1  # nothing lost
        await parts.chat.send("look")
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        assert len(image_parts(fake_openai)) == 1
        # back to a model without vision for a follow-up: its line says the earlier picture is not sent
        await parts.chat.set_model("gpt-3.5-turbo")
        parts.window.composer.set_text("and now?")
        await until(lambda: "gpt-3.5-turbo cannot see images: the earlier image is not sent"
                    in parts.window.composer.token_count.text())


async def test_capture_a_region_of_a_synthetic_screen(tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        screen = QPixmap.fromImage(screenshot(1280, 800))
        overlay = parts.window.attach_wiring.start_capture(screen)
        assert overlay.accessibleName() == HINT
        before = overlay.grab().toImage()  # what to do is written on the frozen screen until a drag starts
        qtbot.mousePress(overlay, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
        qtbot.mouseMove(overlay, QPoint(110, 110))
        during = overlay.grab().toImage()
        hint_row = [QPoint(x, 60) for x in range(540, 740, 4)]
        assert any(before.pixel(p) != during.pixel(p) for p in hint_row)
        qtbot.mouseMove(overlay, QPoint(400, 300))
        qtbot.mouseRelease(overlay, Qt.MouseButton.LeftButton, pos=QPoint(400, 300))
        await until(lambda: len(parts.attachments.items) == 1)
        item = parts.attachments.items[0]
        assert (item.width, item.height) == (300, 200) and item.name == "screen capture.png"
        assert parts.window.isVisible()


async def test_a_click_on_an_image_in_the_transcript_shows_it_large(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                    qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="A screen."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.set_model("gpt-4o")
        await parts.attachments.add_bytes(encoded(screenshot(1200, 800)), "wide.png")
        await parts.chat.send("What is this?")
        await until(lambda: not parts.chat.streaming and len(parts.chat.path) == 2)
        view = parts.window.transcript.views[parts.chat.path[0].id]
        layout = view.body.document().documentLayout()
        spot = next(QPoint(x, y) for y in range(0, view.body.height(), 8) for x in range(0, view.body.width(), 8)
                    if layout.imageAt(QPoint(x, y).toPointF()).startswith("attachment:"))
        qtbot.mouseClick(view.body.viewport(), Qt.MouseButton.LeftButton, pos=spot)
        viewer = parts.window.image_viewer
        assert viewer is not None and viewer.isVisible()
        pixmap = viewer.picture.pixmap()
        assert (pixmap.width(), pixmap.height()) == (1200, 800) or pixmap.width() > 640  # larger than in the chat
        viewer.close()


async def test_a_deleted_conversation_s_screenshot_is_gone_at_a_later_start(tmp_path: Path,
                                                                          fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="A blue box."), Reply(text="A red box."))
    images = tmp_path / "home" / "data" / "images"
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.set_model("gpt-4o")
        sent = []
        for color in ("#3366cc", "#cc3333"):
            parts.chat.new_conversation()
            attached = await parts.attachments.add_bytes(encoded(screenshot(320, 200, color)), "shot.png")
            assert attached is not None
            await parts.chat.send("What is this?")
            await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
            sent.append((parts.chat.path[0].conversation_id, images / attached.sha256[:2] / f"{attached.sha256}.png"))
        (deleted, deleted_file), (_kept, kept_file) = sent
        await parts.chat.delete(deleted)
    assert deleted_file.exists() and kept_file.exists()
    async with built_app(tmp_path / "home", fake_openai.base_url) as again:  # within a day: kept a while yet
        await start(again)
        await until(lambda: ended(again.runner, IMAGE_CLEANUP))
        assert deleted_file.exists()
    two_days_ago = time.time() - 2 * 24 * 60 * 60
    for path in (deleted_file, kept_file):
        os.utime(path, (two_days_ago, two_days_ago))
    async with built_app(tmp_path / "home", fake_openai.base_url) as last:
        await start(last)
        await until(lambda: not deleted_file.exists())
        await until(lambda: ended(last.runner, IMAGE_CLEANUP))
        assert kept_file.exists() and sorted(p.name for p in images.rglob("[!.]*")) == [kept_file.parent.name,
                                                                                      kept_file.name]


async def test_a_message_too_long_for_its_images_says_first_to_lower_their_detail(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        for i, color in enumerate(("#3366cc", "#cc3366", "#66cc33", "#cccc33")):  # ~37,000 tokens each on high
            await parts.attachments.add_bytes(encoded(screenshot(1200, 800, color)), f"shot{i}.png")
        assert len(parts.attachments.items) == 4
        asked = len(fake_openai.requests)
        await parts.chat.send("What differs between these?")
        refusal = parts.window.composer.refusal.text()
        assert refusal.startswith("This message is too long for gpt-4o-mini: it needs ")
        assert refusal.endswith(" are available. Set its images to low detail (the detail box under each image: "
                                "low costs a small, fixed amount) or remove some; or shorten it, send only part of "
                                "a long file (its “Send part” button), or choose a model with a larger context.")
        assert len(fake_openai.requests) == asked and len(parts.attachments.items) == 4  # nothing sent, all kept
