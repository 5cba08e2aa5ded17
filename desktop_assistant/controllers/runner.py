"""The one operation runner every controller uses.

An operation is an asyncio task started for a user intent. The runner keeps a reference to it (no task is
ever garbage-collected mid-flight), cancels it on request (the coroutine keeps its partial result in its own
``except CancelledError`` / ``finally`` and re-raises), sends every failure to the notice channel, and is
awaited on close so nothing pending is lost. Questions to the person are asked without nested event loops:
dialogs are opened with ``open()`` and their result awaited as a future.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog

from desktop_assistant.controllers.notices import NoticeBus

log = logging.getLogger(__name__)


class BusyCount:
    """How many parts of a workflow are in flight (a single run, a bulk run, retries); ``changed(bool)`` is
    called when it goes from none to some, or back."""

    def __init__(self, changed: Callable[[bool], None]) -> None:
        self._count = 0
        self._changed = changed

    def add(self, delta: int) -> None:
        """``delta`` parts started (positive) or ended (negative)."""
        before = self._count > 0
        self._count += delta
        if before != (self._count > 0):
            self._changed(self._count > 0)

    @property
    def active(self) -> bool:
        """Something is in flight."""
        return self._count > 0


@dataclass
class Operation:
    """A running user intent."""

    id: int
    name: str
    task: asyncio.Task[Any]
    key: str | None = None
    context: dict[str, Any] = field(default_factory=dict)

    def cancel(self) -> None:
        """Ask the operation to stop; it keeps what it has."""
        self.task.cancel()

    @property
    def done(self) -> bool:
        """True once the task has finished, failed or been cancelled."""
        return self.task.done()


class OperationRunner(QObject):
    """Starts, tracks, cancels and awaits every asyncio task of the app.

    Signals:
        started(str): an operation with this name started.
        finished(str): an operation with this name ended (any way).
        busyChanged(bool): whether any operation is running.
    """

    started = Signal(str)
    finished = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, notices: NoticeBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._notices = notices
        self._ops: dict[int, Operation] = {}
        self._ids = itertools.count(1)
        self._closing = False

    @property
    def closing(self) -> bool:
        """The app is shutting down: no new work starts."""
        return self._closing

    @property
    def operations(self) -> list[Operation]:
        """The operations still running."""
        return list(self._ops.values())

    def find(self, key: str) -> Operation | None:
        """The running operation started with ``key``, if any."""
        return next((op for op in self._ops.values() if op.key == key and not op.done), None)

    def start(
        self,
        name: str,
        coro: Coroutine[Any, Any, Any],
        *,
        key: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> Operation:
        """Run ``coro`` as a tracked task and return its :class:`Operation`.

        Errors reach the notice channel; cancellation is quiet (the coroutine already kept its partial work).
        """
        if self._closing:
            coro.close()
            raise RuntimeError("the app is closing; no new work is started")
        task = asyncio.get_event_loop().create_task(coro, name=name)
        op = Operation(next(self._ids), name, task, key, context or {})
        was_busy = bool(self._ops)
        self._ops[op.id] = op
        task.add_done_callback(functools.partial(self._on_done, op))
        self.started.emit(name)
        if not was_busy:
            self.busyChanged.emit(True)
        return op

    def start_unless_closing(self, name: str, coro: Coroutine[Any, Any, Any], *, key: str | None = None,
                             context: dict[str, Any] | None = None) -> Operation | None:
        """:meth:`start` ``coro``, unless the app is closing: then it is closed unstarted and None is returned (an
        intent or a timer that arrives during the close starts nothing, and raises nothing)."""
        if self._closing:
            coro.close()
            return None
        return self.start(name, coro, key=key, context=context)

    def cancel(self, key: str) -> bool:
        """Cancel the operation started with ``key``; True if there was one."""
        op = self.find(key)
        if op is None:
            return False
        op.cancel()
        return True

    def _on_done(self, op: Operation, _task: asyncio.Task[Any] | None = None) -> None:
        self._ops.pop(op.id, None)
        if not op.task.cancelled():
            exc = op.task.exception()
            if exc is not None:
                self._notices.error(exc, op.context)
        self.finished.emit(op.name)
        if not self._ops:
            self.busyChanged.emit(False)

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel every operation and wait for each to save what it has (bounded by ``timeout``)."""
        self._closing = True
        ops = list(self._ops.values())
        for op in ops:
            op.cancel()
        if ops:
            _done, pending = await asyncio.wait([op.task for op in ops], timeout=timeout)
            for task in pending:
                log.warning("operation %s did not finish within %ss of closing", task.get_name(), timeout)

    async def ask(self, dialog: QDialog) -> int:
        """Open ``dialog`` window-modally and return its result code, without a nested event loop."""
        loop = asyncio.get_event_loop()
        future: asyncio.Future[int] = loop.create_future()

        def on_finished(code: int) -> None:
            if not future.done():
                future.set_result(code)

        dialog.finished.connect(on_finished)
        dialog.open()
        try:
            return await future
        finally:
            dialog.finished.disconnect(on_finished)
