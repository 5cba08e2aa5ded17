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


def close_on_terminate(close: Callable[[], object], parent: QObject) -> None:
    """Make SIGTERM (a logout, ``kill``, a service manager stopping the session) close the app as its close button
    does, keeping what is kept at close (the last second of the draft, the window's place); it ended the process at
    once. POSIX only: Windows sends no SIGTERM to a window.

    Python runs a signal handler only between bytecodes, and an idle Qt loop runs none: the signal's number is
    written to a socket (``signal.set_wakeup_fd``) that the loop watches.
    """
    import signal
    import socket
    import sys

    if sys.platform == "win32":
        return
    from PySide6.QtCore import QSocketNotifier

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    signal.signal(signal.SIGTERM, lambda _number, _frame: None)  # a Python handler, so the number is written
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, parent)

    def woke() -> None:
        try:
            numbers = reader.recv(256)
        except OSError:
            return
        if signal.SIGTERM in numbers:
            log.info("asked to terminate: closing as the window's close button does")
            close()
    notifier.activated.connect(woke)
    _kept.append((reader, writer, notifier))


_kept: list[object] = []  # the socket pair and its notifier live as long as the app
