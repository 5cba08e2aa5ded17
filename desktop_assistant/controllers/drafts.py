"""Keeps the draft being written, with its images and files: saved a moment after typing stops, and once more at
close; at the next start, what was attached comes back after the first paint. Each conversation has its own
draft: opening another one keeps the box's draft with the conversation it was written in and shows the other's."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, QTimer

from desktop_assistant.controllers.attachments import AttachmentsController
from desktop_assistant.controllers.runner import OperationRunner
from desktop_assistant.core.models import Conversation
from desktop_assistant.services.drafts import DraftStore, KeptDraft

log = logging.getLogger(__name__)

SAVE_AFTER_MS = 800
"""Typing stopped this long: the draft is written (a crash then loses at most this much of it)."""


class Edits(Protocol):
    """The edit of an earlier question in progress (``ui/chat/editing.py``), kept with the conversation's draft."""

    def kept(self) -> tuple[int, str] | None:
        """The question's id and the edit's words, or None."""

    def leave(self) -> None:
        """Leave the edit: the box gets the draft back."""

    def resume(self, message_id: int, text: str) -> None:
        """Take up again an edit of the conversation shown."""


class DraftKeeper(QObject):
    """Saves the draft (``text()``, the words the person is writing, and what ``attachments`` holds) to the
    database when it changes, debounced, as the draft of the conversation shown; ``show(text)`` puts another
    conversation's words in the box. An edit of an earlier question in progress (``edits``) is kept with the draft
    and taken up again when its conversation is shown again (at the next start too)."""

    def __init__(self, drafts: DraftStore, runner: OperationRunner, text: Callable[[], str],
                 attachments: AttachmentsController, show: Callable[[str], None],
                 parent: QObject | None = None, edits: Edits | None = None) -> None:
        super().__init__(parent)
        self._drafts = drafts
        self._edits = edits
        self._runner = runner
        self._text = text
        self._show = show
        self._attachments = attachments
        self._conversation: int | None = None  # whose draft the box holds (None: a new chat)
        self._saved: KeptDraft | None = None  # unknown until the first save: the start's draft is not read twice
        self._waiting = KeptDraft()  # what the start read and has not attached again yet
        self._switching = False  # another conversation's draft is being read: the box is not a draft meanwhile
        self._leaving: tuple[int | None, KeptDraft] | None = None  # the draft of the conversation left, to write
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_AFTER_MS)
        self._timer.timeout.connect(self.save_now)
        attachments.changed.connect(self.changed)
        attachments.filesChanged.connect(self.changed)

    def current(self) -> KeptDraft:
        """The draft as it would be kept now."""
        images, files = self._attachments.kept()
        return KeptDraft(self._text(), images, files, self._edits.kept() if self._edits is not None else None)

    def restored(self, draft: KeptDraft, conversation_id: int | None = None) -> None:
        """``draft`` is what the database holds for the conversation shown at start: it need not be written again.
        Its words are in the box already; :meth:`bring_back` attaches its images and files."""
        self._conversation = conversation_id
        self._saved = draft
        self._waiting = draft

    async def bring_back(self) -> None:
        """Attach again the images and files of the draft read at start, and take up its edit (after the first
        paint: decoding the thumbnails is not for the first paint to wait on)."""
        waiting = self._waiting
        if waiting.images or waiting.files:
            await self._attachments.bring_back(waiting.images, waiting.files)
        if waiting.edit is not None and self._edits is not None:
            self._edits.resume(*waiting.edit)
        if waiting.images or waiting.files or waiting.edit is not None:
            self._waiting = KeptDraft()
            self.changed()  # kept as it now is, if something could not come back

    def opened(self, conversation: Conversation | None) -> None:
        """Another conversation is shown (None: a new chat): the box's draft stays with the one it was written in,
        and the other's draft, if it has one, comes into the box."""
        key = conversation.id if conversation is not None else None
        if key == self._conversation or self._runner.closing:
            return
        draft = self._with_waiting(self.current())
        if draft != self._saved:
            self._leaving = (self._conversation, draft)
        if self._edits is not None:
            self._edits.leave()  # kept with the draft just read: the box gets the draft back, to be cleared
        self._timer.stop()
        self._conversation, self._saved, self._waiting, self._switching = key, None, KeptDraft(), True
        self._show("")
        self._attachments.take()
        self._runner.start("switch drafts", self._switch(key))

    async def _switch(self, key: int | None) -> None:
        try:
            await self._write_leaving()
            kept = await self._drafts.load(key)
            if self._conversation != key:
                return  # yet another conversation was opened meanwhile
            if not self._text() and not self._attachments.items and not self._attachments.files:
                self._show(kept.text)  # (unless the person began writing meanwhile)
                if kept.images or kept.files:
                    await self._attachments.bring_back(kept.images, kept.files)
                if kept.edit is not None and self._edits is not None and self._conversation == key:
                    self._edits.resume(*kept.edit)
                self._saved = kept
        except asyncio.CancelledError:
            raise  # closing: still switching, so the close does not write the half-shown draft over the kept one
        except Exception:
            log.exception("the draft of the conversation opened could not be shown")
        if self._conversation == key:
            self._switching = False
            self.changed()

    async def _write_leaving(self) -> None:
        """Write the draft of the conversation left, if it was not written yet."""
        if self._leaving is not None:
            leaving, self._leaving = self._leaving, None
            if not await self._drafts.save(*leaving):
                log.warning("the draft of the conversation left could not be kept")

    def stored(self, conversation: Conversation) -> None:
        """A new chat was stored (its first message is being sent): its draft is that conversation's now."""
        if self._conversation is None and not self._switching:
            self._conversation, self._saved = conversation.id, None
            if not self._runner.closing:
                self._runner.start("keep draft", self._drafts.save(None, KeptDraft()))

    def forget(self) -> None:
        """The database was replaced (a backup restored): what it holds is unknown, so write the draft again."""
        self._saved = None
        self.changed()

    def changed(self, *_args: object) -> None:
        """The draft changed: write it once typing stops."""
        if not self._runner.closing and not self._switching:
            self._timer.start()

    def save_now(self) -> None:
        """Write the draft without waiting (it was just sent: it is no longer a draft)."""
        if not self._runner.closing and not self._switching:
            self._runner.start("keep draft", self.flush(), key="keep draft")

    def _with_waiting(self, draft: KeptDraft) -> KeptDraft:
        """``draft`` with the start's images, files and edit that have not come back yet (they stay kept)."""
        waiting = self._waiting
        if not (waiting.images or waiting.files or waiting.edit is not None):
            return draft
        images = draft.images + tuple(i for i in waiting.images if i not in draft.images)
        files = draft.files + tuple(f for f in waiting.files if f not in draft.files)
        return dataclasses.replace(draft, images=images, files=files, edit=draft.edit or waiting.edit)

    async def flush(self) -> None:
        """Write the draft now if it changed since it was last written (at close, after the last keystroke)."""
        self._timer.stop()
        await self._write_leaving()
        if self._switching:
            return  # the box is between two conversations' drafts: the one opened is kept as it was
        draft = self._with_waiting(self.current())
        if draft != self._saved and await self._drafts.save(self._conversation, draft):
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
