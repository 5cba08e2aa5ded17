"""Keeps the draft being written, with its images and files: saved a moment after typing stops, and once more at
close; at the next start, what was attached comes back after the first paint."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from desktop_assistant.controllers.attachments import AttachmentsController
from desktop_assistant.controllers.runner import OperationRunner
from desktop_assistant.services.drafts import DraftStore, KeptDraft

SAVE_AFTER_MS = 800
"""Typing stopped this long: the draft is written (a crash then loses at most this much of it)."""


class DraftKeeper(QObject):
    """Saves the draft (``text()``, the words the person is writing, and what ``attachments`` holds) to the
    database when it changes, debounced."""

    def __init__(self, drafts: DraftStore, runner: OperationRunner, text: Callable[[], str],
                 attachments: AttachmentsController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._drafts = drafts
        self._runner = runner
        self._text = text
        self._attachments = attachments
        self._saved: KeptDraft | None = None  # unknown until the first save: the start's draft is not read twice
        self._waiting = KeptDraft()  # what the start read and has not attached again yet
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_AFTER_MS)
        self._timer.timeout.connect(self.save_now)
        attachments.changed.connect(self.changed)
        attachments.filesChanged.connect(self.changed)

    def current(self) -> KeptDraft:
        """The draft as it would be kept now."""
        images, files = self._attachments.kept()
        return KeptDraft(self._text(), images, files)

    def restored(self, draft: KeptDraft) -> None:
        """``draft`` is what the database holds (read at start): it need not be written again. Its words are in
        the box already; :meth:`bring_back` attaches its images and files."""
        self._saved = draft
        self._waiting = draft

    async def bring_back(self) -> None:
        """Attach again the images and files of the draft read at start (after the first paint: decoding the
        thumbnails is not for the first paint to wait on)."""
        if self._waiting.images or self._waiting.files:
            await self._attachments.bring_back(self._waiting.images, self._waiting.files)
            self._waiting = KeptDraft()
            self.changed()  # kept as it now is, if something could not come back

    def forget(self) -> None:
        """The database was replaced (a backup restored): what it holds is unknown, so write the draft again."""
        self._saved = None
        self.changed()

    def changed(self, *_args: object) -> None:
        """The draft changed: write it once typing stops."""
        if not self._runner.closing:
            self._timer.start()

    def save_now(self) -> None:
        """Write the draft without waiting (it was just sent: it is no longer a draft)."""
        if not self._runner.closing:
            self._runner.start("keep draft", self.flush(), key="keep draft")

    async def flush(self) -> None:
        """Write the draft now if it changed since it was last written (at close, after the last keystroke)."""
        self._timer.stop()
        draft = self.current()
        if self._waiting.images or self._waiting.files:  # closed before they came back: they stay kept
            images = draft.images + tuple(i for i in self._waiting.images if i not in draft.images)
            files = draft.files + tuple(f for f in self._waiting.files if f not in draft.files)
            draft = KeptDraft(draft.text, images, files)
        if draft != self._saved and await self._drafts.save(draft):
            self._saved = draft


class TextKeeper(QObject):
    """Keeps other texts being written (by name: Extract's instructions and input) as the draft is kept: a
    moment after typing stops, and at close."""

    def __init__(self, drafts: DraftStore, runner: OperationRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._drafts, self._runner = drafts, runner
        self._sources: dict[str, Callable[[], str]] = {}
        self._changed: set[str] = set()  # names whose text changed since it was last written
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_AFTER_MS)
        self._timer.timeout.connect(self._save_soon)

    async def kept(self) -> dict[str, str]:
        """The texts kept by the last session, by name."""
        return await self._drafts.texts()

    def follow(self, name: str, text: Callable[[], str]) -> Callable[..., None]:
        """A slot for a text's change signal: the text is kept under ``name`` once typing stops."""
        self._sources[name] = text

        def changed(*_args: object) -> None:
            self._changed.add(name)  # read when written (a form filled in steps is read once it is done)
            if not self._runner.closing:
                self._timer.start()
        return changed

    def _save_soon(self) -> None:
        if not self._runner.closing:
            self._runner.start("keep texts", self.flush(), key="keep texts")

    async def flush(self) -> None:
        """Write the texts that changed (at close, after the last keystroke)."""
        self._timer.stop()
        for name in list(self._changed):
            text = self._sources[name]()
            if await self._drafts.keep_text(name, text) and self._sources[name]() == text:
                self._changed.discard(name)  # written as it is now (else written again next time)
