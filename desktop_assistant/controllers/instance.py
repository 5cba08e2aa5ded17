"""One app per data folder: a second start raises the first window instead of opening the database twice.

The claim is a lock on a file in the data folder, which the system releases when the process ends, however it
ends. The first instance then listens on a local socket (:meth:`InstanceGuard.listen`, after the first paint:
QtNetwork is not needed to paint), where a later start asks it to come forward.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from PySide6.QtCore import QObject, Signal

from desktop_assistant import APP_ID

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)
CONNECT_MS = 500
ANSWER_WAIT_S = 3.0
"""How long a second start keeps asking a first one that holds the lock but is not listening yet (starting)."""
RAISE = b"raise\n"
LOCK_FILE = "instance.lock"


def server_name(data_folder: Path) -> str:
    """The local socket name for the app using ``data_folder`` (one per user and folder)."""
    import hashlib  # not before the first paint: it starts OpenSSL (~2 ms)

    digest = hashlib.sha256(str(data_folder.resolve()).encode()).hexdigest()[:16]
    return f"{APP_ID}-{digest}"


def _lock(handle: BinaryIO) -> bool:
    """Take the exclusive lock on ``handle`` without waiting; False when another open file holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class InstanceGuard(QObject):
    """Claims the data folder for this process.

    Signals:
        raiseRequested(): another start of the app asked this one to show its window.
    """

    raiseRequested = Signal()

    def __init__(self, data_folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._data_folder = data_folder
        self._lock_file = data_folder / LOCK_FILE
        self._held: BinaryIO | None = None
        self._server: QLocalServer | None = None
        self._clients: list[QLocalSocket] = []

    @property
    def name(self) -> str:
        """The local socket this instance listens on, or a later start looks for."""
        return server_name(self._data_folder)

    def claim(self) -> bool:
        """True if this is the only instance; False if another runs (it has been asked to come forward)."""
        try:
            self._lock_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # the data folder, private
            handle = open(self._lock_file, "a+b")  # noqa: SIM115  (held open until release)
        except OSError as exc:
            log.warning("single-instance guard unavailable: %s", exc)
            return True
        if not _lock(handle):
            handle.close()
            if not self._ask_to_raise():
                log.warning("another instance holds %s but did not answer", self._lock_file)
            return False
        self._held = handle
        return True

    def listen(self) -> None:
        """Answer later starts of the app (call once the window is up; a no-op unless :meth:`claim` succeeded)."""
        if self._held is None or self._server is not None:
            return
        from PySide6.QtNetwork import QLocalServer

        QLocalServer.removeServer(self.name)  # a socket file left by a crashed instance
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            log.warning("later starts cannot reach this window: %s", server.errorString())
            return
        server.newConnection.connect(self._on_connection)
        self._server = server

    def _ask_to_raise(self) -> bool:
        """Ask the instance holding the lock to come forward; waits while it starts and is not listening yet."""
        from PySide6.QtNetwork import QLocalSocket

        deadline = time.monotonic() + ANSWER_WAIT_S
        while True:
            socket = QLocalSocket()
            socket.connectToServer(self.name)
            if socket.waitForConnected(CONNECT_MS):
                socket.write(RAISE)
                socket.waitForBytesWritten(CONNECT_MS)
                socket.disconnectFromServer()
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def _on_connection(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            self._clients.append(socket)
            socket.readyRead.connect(lambda s=socket: self._on_message(s))
            socket.disconnected.connect(lambda s=socket: self._forget(s))

    def _on_message(self, socket: QLocalSocket) -> None:
        if bytes(socket.readAll().data()).startswith(RAISE.strip()):
            self.raiseRequested.emit()

    def _forget(self, socket: QLocalSocket) -> None:
        if socket in self._clients:
            self._clients.remove(socket)
            socket.deleteLater()

    def release(self) -> None:
        """Stop listening and give the data folder up (on quit)."""
        for socket in self._clients:
            socket.readyRead.disconnect()
            socket.disconnected.disconnect()
            socket.abort()
            socket.deleteLater()
        self._clients.clear()
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()
            self._server = None
        if self._held is not None:
            self._held.close()
            self._held = None
