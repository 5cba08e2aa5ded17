"""The one channel for user-facing notices.

Controllers and the operation runner say what happened here; the window decides how it shows. Notices posted
before a view is connected are kept and replayed on connect, so nothing said during start-up is lost.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from desktop_assistant.core.errors import ErrorAction, ErrorKind, UserFacingError

if TYPE_CHECKING:  # the event loop is made after the first paint
    import asyncio

log = logging.getLogger(__name__)


class Level(Enum):
    """How loud a notice is."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Notice:
    """One message for the person, with an optional action."""

    level: Level
    text: str
    action: ErrorAction = ErrorAction.NONE
    kind: ErrorKind | None = None
    detail: str | None = None
    context: dict[str, Any] = field(default_factory=dict)


class NoticeBus(QObject):
    """Collects notices and publishes them through :attr:`posted`.

    Signals:
        posted(Notice): a notice for the person.
    """

    posted = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: list[Notice] = []
        self._listeners = 0
        self.history: list[Notice] = []

    def subscribe(self, slot: Callable[[Notice], None]) -> None:
        """Connect ``slot`` and replay what was posted before anyone listened."""
        self.posted.connect(slot)
        self._listeners += 1
        pending, self._pending = self._pending, []
        for notice in pending:
            slot(notice)

    def post(self, notice: Notice) -> None:
        """Publish ``notice`` (kept until a listener connects)."""
        self.history.append(notice)
        del self.history[:-200]
        if notice.level is Level.ERROR:
            log.warning("notice: %s (%s)", notice.text, notice.detail or "")
        if self._listeners == 0:
            self._pending.append(notice)
        else:
            self.posted.emit(notice)

    def info(self, text: str) -> None:
        """Post an informational notice."""
        self.post(Notice(Level.INFO, text))

    def warning(self, text: str, action: ErrorAction = ErrorAction.NONE, kind: ErrorKind | None = None) -> None:
        """Post a warning (``kind``: what it is about, when a listener acts on that)."""
        self.post(Notice(Level.WARNING, text, action, kind))

    def error(self, error: BaseException, context: dict[str, Any] | None = None) -> None:
        """Post an error: a :class:`UserFacingError` as it is, anything else as an internal error. A ``context``
        naming ``what`` failed (work the person did not just ask for, such as indexing) says it first."""
        ctx = context or {}
        if isinstance(error, UserFacingError):
            said = f"{ctx['what']}: {error.message}" if ctx.get("what") else error.message
            self.post(Notice(Level.ERROR, said, error.action, error.kind, error.detail, ctx))
            return
        detail = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        log.error("unexpected error\n%s", detail)
        text = f"Something went wrong inside the app ({type(error).__name__}: {error}). Your text is kept."
        self.post(Notice(Level.ERROR, text, ErrorAction.NONE, ErrorKind.INTERNAL, detail, ctx))


def install_exception_hooks(bus: NoticeBus, loop: asyncio.AbstractEventLoop) -> None:
    """Send uncaught exceptions (Qt slots, callbacks, tasks) to ``bus`` instead of a traceback.

    Called by ``app.py`` only: tests keep pytest's own hooks.
    """

    def excepthook(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        bus.error(exc.with_traceback(tb))

    def loop_handler(_loop: asyncio.AbstractEventLoop, ctx: dict[str, Any]) -> None:
        exc = ctx.get("exception")
        if isinstance(exc, BaseException):
            bus.error(exc)
        else:
            bus.error(RuntimeError(str(ctx.get("message", "unknown event-loop error"))))

    sys.excepthook = excepthook
    loop.set_exception_handler(loop_handler)
