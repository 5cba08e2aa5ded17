"""Keeps the draft being written: saved a moment after typing stops, and once more at close."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from desktop_assistant.controllers.runner import OperationRunner
from desktop_assistant.services.drafts import DraftStore

SAVE_AFTER_MS = 800
"""Typing stopped this long: the draft is written (a crash then loses at most this much of it)."""


class DraftKeeper(QObject):
    """Saves ``current()`` (the words the person is writing) to the database when they change, debounced."""

    def __init__(self, drafts: DraftStore, runner: OperationRunner, current: Callable[[], str],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._drafts = drafts
        self._runner = runner
        self._current = current
        self._saved: str | None = None  # unknown until the first save: the start's draft is not read twice
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_AFTER_MS)
        self._timer.timeout.connect(self.save_now)

    def restored(self, text: str) -> None:
        """``text`` is the draft the database holds (read at start): it need not be written again."""
        self._saved = text

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
        text = self._current()
        if text != self._saved and await self._drafts.save(text):
            self._saved = text
