"""Connects the composer's ways in for images (drop, paste, file dialog, screen capture) to the controller."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop_assistant.controllers.attachments import AttachmentsController
from desktop_assistant.controllers.images import Attachment, encoded
from desktop_assistant.core.errors import UserFacingError
from desktop_assistant.core.pricing import format_usd
from desktop_assistant.ui.chat.capture_overlay import CaptureOverlay, grab_screens
from desktop_assistant.ui.chat.composer import Composer
from desktop_assistant.ui.chat.mime import Dropped

IMAGE_FILTER = ("Images, text and audio files (*.png *.jpg *.jpeg *.webp *.gif *.bmp *.txt *.md *.csv *.pdf *.py "
                "*.json *.mp3 *.m4a *.wav *.ogg *.flac *.webm);;All files (*)")
HIDE_BEFORE_CAPTURE_MS = 250
SAY_TOGETHER_S = 3.0  # messages about attaching this close together are shown together
LARGE_SHARE = 0.5  # a file taking more than half the room for the prompt offers "Send part"
SHORTEN_TO_SHARE = 0.3  # time for the window to leave the screen before it is photographed


class AttachWiring(QObject):
    """The glue between the composer's image affordances and :class:`AttachmentsController`."""

    def __init__(self, window: QWidget, composer: Composer, attachments: AttachmentsController,
                 run: Callable[[str, Coroutine[Any, Any, Any]], None]) -> None:
        super().__init__(window)
        self._window, self._composer, self._attachments, self._run = window, composer, attachments, run
        self.file_dialog: QFileDialog | None = None
        self.overlay: CaptureOverlay | None = None
        # takes audio files picked (to transcribe them into the draft, as a drop does); False: none of them is audio
        self.take_audio: Callable[[list[Path]], bool] = lambda paths: False
        composer.imagesGiven.connect(self.attach)
        composer.attachRequested.connect(self.choose_files)
        composer.captureRequested.connect(self.capture_region)
        composer.attachments.removeRequested.connect(attachments.remove)
        composer.attachments.detailChosen.connect(attachments.set_detail)
        composer.attachments.shortenRequested.connect(self._shorten)
        attachments.changed.connect(self._on_changed)
        attachments.filesChanged.connect(composer.attachments.set_files)
        attachments.refused.connect(self._on_refused)
        attachments.noted.connect(self._say)
        self.last_estimate: Any = None
        self._said: list[str] = []  # what attaching said lately: a drop of several files is told about together
        self._said_at = 0.0
        self._noted: set[str] = set()  # the images whose note was said (said once, not at each change)

    def attach(self, found: Dropped) -> None:
        """Attach what a drop or paste carried."""
        async def work() -> None:
            await self._attachments.add_files(found.files)
            for data, name in found.data:
                await self._attachments.add_bytes(data, name)
            for url in found.urls:
                await self._attachments.add_url(url)
        self._run("attach", work())

    def choose_files(self) -> None:
        """Pick image files (a non-blocking dialog)."""
        dialog = QFileDialog(self._window, "Attach images or files", str(Path.home()), IMAGE_FILTER)
        dialog.setObjectName("attach_dialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(lambda paths: self.picked([Path(p) for p in paths]))
        self.file_dialog = dialog
        dialog.open()

    def picked(self, paths: list[Path]) -> None:
        """Files chosen with the attach button: audio is transcribed into the draft (as when dropped: it was refused
        as a binary file, so only a drag could transcribe one), the rest attached."""
        from desktop_assistant.core.audio import UPLOAD_EXTENSIONS  # (not needed for the first paint)

        audio = [p for p in paths if p.suffix.lower().lstrip(".") in UPLOAD_EXTENSIONS]
        if audio and self.take_audio(audio):
            paths = [p for p in paths if p not in audio]
        if paths:
            self.attach(Dropped(files=paths))

    def capture_region(self) -> None:
        """Hide the window, freeze the screen, let the person pick a region."""
        self._window.hide()
        QTimer.singleShot(HIDE_BEFORE_CAPTURE_MS, self._show_overlay)

    def _show_overlay(self) -> None:
        screenshot = grab_screens()
        if screenshot is None:
            self._window.show()
            self._composer.show_refusal("The screen cannot be captured here (on Wayland, use your desktop's "
                                        "screenshot tool and paste the picture with Ctrl+V).")
            return
        self.start_capture(screenshot)

    def start_capture(self, screenshot: Any) -> CaptureOverlay:
        """Show the capture overlay over ``screenshot`` (a QPixmap); returns it (tests drive it)."""
        overlay = CaptureOverlay(screenshot)
        overlay.captured.connect(self._on_captured)
        overlay.cancelled.connect(self._window.show)
        self.overlay = overlay
        overlay.showFullScreen()
        return overlay

    def _on_captured(self, image: QImage) -> None:
        self._window.show()
        self._run("capture", self._attachments.add_bytes(encoded(image), "screen capture.png"))

    def _on_changed(self, items: list[Attachment]) -> None:
        self._composer.attachments.set_items(items, self._attachments.thumbnails)
        notes = [f"{a.name}: {a.note}" for a in items if a.note and a.sha256 not in self._noted]
        self._noted = {a.sha256 for a in items if a.note}
        for note in notes:
            self._say(note)
        if not notes and time.monotonic() - self._said_at > SAY_TOGETHER_S:
            self._said = []
            self._composer.show_refusal("")  # what was said is old news

    def _say(self, text: str) -> None:
        """Show what attaching found; what one attaching says (a refused file, a scan's pages, a scaled image)
        is shown together instead of each replacing the one before."""
        now = time.monotonic()
        if now - self._said_at > SAY_TOGETHER_S:
            self._said = []
        self._said_at = now
        if text and text not in self._said:
            self._said.append(text)
        self._composer.show_refusal(" ".join(self._said))

    def show_file_costs(self, estimate: Any) -> None:
        """Each file's token count, cost and share of the prompt budget (from a ``DraftEstimate``)."""
        self.last_estimate = estimate
        texts: dict[str, tuple[str, bool]] = {}
        for key, (tokens, cost) in estimate.files.items():
            share = tokens / estimate.budget if estimate.budget else 1.0
            money = format_usd(cost) if cost is not None else "price unknown"
            texts[key] = (f"{tokens:,} tok · {money} · {share:.0%} of what a message may hold", share > LARGE_SHARE)
        self._composer.attachments.set_file_costs(texts)

    def _shorten(self, key: str) -> None:
        estimate = self.last_estimate
        file = next((f for f in self._attachments.files if f.key == key), None)
        if file is None or estimate is None or key not in estimate.files:
            return
        tokens = max(estimate.files[key][0], 1)
        target = int(estimate.budget * SHORTEN_TO_SHARE)
        self._attachments.shorten_file(key, max(1000, int(len(file.text) * target / tokens)))

    def _on_refused(self, error: UserFacingError) -> None:
        self._say(error.message)
