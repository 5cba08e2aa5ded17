"""A banner for notices that belong to no message: plain text, an action button, a close button."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from desktop_assistant.controllers.notices import Notice
from desktop_assistant.core.errors import ErrorAction, ErrorKind

ACTION_LABELS = {ErrorAction.OPEN_SETTINGS: "Open settings", ErrorAction.RETRY: "Retry",
                 ErrorAction.CHOOSE_MODEL: "Choose model", ErrorAction.TRIM_AND_RETRY: "Retry",
                 ErrorAction.SWITCH_TO_VISION: "Switch to a model that sees images"}


class NoticeBanner(QFrame):
    """Shows the latest warning or error.

    Signals:
        actionRequested(object): the ``ErrorAction`` chosen.
    """

    actionRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notice_banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        self.label = QLabel()
        self.label.setObjectName("notice_text")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.action = QPushButton()
        self.action.setObjectName("notice_action")
        self.action.clicked.connect(self._on_action)
        layout.addWidget(self.action)
        close = QToolButton()
        close.setText("✕")
        close.setAccessibleName("Dismiss")
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout.addWidget(close)
        self._action = ErrorAction.NONE
        self.kind: ErrorKind | None = None  # what the notice shown is about (where its action leads)
        self._undo: Callable[[], None] | None = None
        self.hide()

    def _on_action(self) -> None:
        if self._undo is not None:
            self._undo()
        else:
            self.actionRequested.emit(self._action)
        self.hide()

    def show_notice(self, notice: Notice) -> None:
        """Show ``notice`` (the window sends short infos to the status bar instead)."""
        self.label.setText(notice.text)
        self._action, self._undo, self.kind = notice.action, None, notice.kind
        label = ACTION_LABELS.get(notice.action, "")
        self.action.setText(label)
        self.action.setVisible(bool(label))
        self.show()

    def offers(self, act: Callable[[], None]) -> bool:
        """Whether the banner is showing, with ``act`` behind its button."""
        return self.isVisible() and self._undo == act  # (== : a bound method is made anew at each access)

    def show_undo(self, text: str, on_undo: Callable[[], None]) -> None:
        """Offer an Undo for something just done."""
        self.show_offer(text, "Undo", on_undo)

    def show_offer(self, text: str, label: str, act: Callable[[], None]) -> None:
        """Say ``text`` with a button ``label`` that does ``act``."""
        self.label.setText(text)
        self._undo, self.kind = act, None
        self.action.setText(label)
        self.action.setVisible(True)
        self.show()
