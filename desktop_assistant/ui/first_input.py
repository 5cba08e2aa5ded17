"""The person's first key or mouse press anywhere in the app, for work worth starting only once someone is there."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Signal

_INPUT = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel,
                    QEvent.Type.InputMethod, QEvent.Type.Drop})  # text from an input method; a file dropped


class FirstInput(QObject):
    """Watches the application's events until the first key press, mouse press, wheel turn, input-method text or
    drop.

    Signals:
        happened(): emitted once; the watch is removed before it is emitted.
    """

    happened = Signal()

    def __init__(self, app: QCoreApplication, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app: QCoreApplication | None = app
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Note the first input; never consumes an event."""
        if self._app is not None and event.type() in _INPUT:
            self.stop()
            self.happened.emit()
        return False

    def stop(self) -> None:
        """Stop watching (also when the work was started some other way)."""
        if self._app is not None:
            self._app.removeEventFilter(self)
            self._app = None
