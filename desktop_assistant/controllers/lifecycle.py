"""Closing the app without losing anything: cancel and await pending work, flush the store, then quit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from PySide6.QtCore import QObject, Signal

from desktop_assistant.controllers.runner import OperationRunner

log = logging.getLogger(__name__)


class Lifecycle(QObject):
    """Runs the shutdown sequence once.

    Args:
        runner: the operation runner whose tasks are cancelled and awaited.
        quit: what ends the app (``QApplication.quit`` in the app; anything in tests).
        flushers: awaited after the runner, in order (the store's last flush and close).

    Signals:
        closed(): the shutdown sequence has finished and ``quit`` was called.
    """

    closed = Signal()

    def __init__(
        self,
        runner: OperationRunner,
        quit: Callable[[], None],
        flushers: list[Callable[[], Awaitable[None]]] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._quit = quit
        self._flushers = list(flushers or [])
        self.closing = False
        self.done = False

    def add_flusher(self, flusher: Callable[[], Awaitable[None]]) -> None:
        """Await ``flusher`` on shutdown, after pending work has stopped."""
        self._flushers.append(flusher)

    async def shutdown(self) -> None:
        """Cancel and await pending work, run the flushers, then quit (once)."""
        if self.closing:
            return
        self.closing = True
        try:
            await self._runner.shutdown()
            for flush in self._flushers:
                try:
                    await flush()
                except Exception:
                    log.exception("a flush on close failed")
        finally:
            self.done = True
            self._quit()
            self.closed.emit()
