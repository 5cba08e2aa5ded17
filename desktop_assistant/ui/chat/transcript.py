"""The transcript: messages of the current branch in a centred column of readable width.

Only the newest messages are built (``PAGE``); older ones come on request. The view follows a streaming
reply only while the person is at the bottom.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from desktop_assistant.core.models import Message, Role
from desktop_assistant.ui.chat.message_view import MessageView

COLUMN_WIDTH = 780
PAGE = 60


class Transcript(QScrollArea):
    """Shows a list of messages.

    Signals:
        viewCreated(MessageView): a message view was built (the window connects its actions).
    """

    viewCreated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setAccessibleName("Conversation")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body.setObjectName("transcript_body")
        outer = QHBoxLayout(body)
        outer.setContentsMargins(16, 16, 16, 16)
        outer.addStretch(1)
        self._column = QWidget()
        self._column.setMaximumWidth(COLUMN_WIDTH)
        self._column.setMinimumWidth(280)
        outer.addWidget(self._column, 100)
        outer.addStretch(1)
        self._layout = QVBoxLayout(self._column)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(12)
        self._earlier = QPushButton("Show earlier messages")
        self._earlier.setObjectName("show_earlier_button")
        self._earlier.clicked.connect(self._show_earlier)
        self._layout.addWidget(self._earlier, 0, Qt.AlignmentFlag.AlignHCenter)
        self.cut_label = QLabel()
        self.cut_label.setObjectName("history_cut")
        self.cut_label.setProperty("muted", True)
        self.cut_label.setTextFormat(Qt.TextFormat.PlainText)
        self.cut_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cut_label.setWordWrap(True)
        self._layout.addWidget(self.cut_label)
        self.empty = QLabel(
            "Ask anything. Enter sends, Shift+Enter starts a new line.\n"
            "Try: “Explain this error message”, “Draft a polite reply to…”, or paste some code to review."
        )
        self.empty.setObjectName("empty_state")
        self.empty.setProperty("muted", True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self._layout.addWidget(self.empty)
        self._layout.addStretch(1)
        self.setWidget(body)
        self._messages: list[Message] = []
        self._views: dict[int, MessageView] = {}
        self._shown_from = 0
        self._follow = True
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.verticalScrollBar().rangeChanged.connect(self._on_range)

    @property
    def views(self) -> dict[int, MessageView]:
        """The built message views by message id."""
        return self._views

    def set_messages(self, messages: list[Message]) -> None:
        """Show ``messages`` (the current branch), reusing views of messages already shown."""
        self._messages = list(messages)
        start = max(0, len(messages) - PAGE)
        if self._shown_from and self._shown_from < start:
            start = self._shown_from
        self._shown_from = start
        self._rebuild()
        self._follow = True
        self._scroll_to_bottom()

    def _rebuild(self) -> None:
        wanted = self._messages[self._shown_from:]
        keep = {m.id for m in wanted}
        for mid in [i for i in self._views if i not in keep]:
            view = self._views.pop(mid)
            self._layout.removeWidget(view)
            view.deleteLater()
        base = 2  # after the "earlier" button and the cut label
        last_reply = next((m.id for m in reversed(wanted) if m.role is Role.ASSISTANT), None)
        for index, message in enumerate(wanted):
            existing = self._views.get(message.id)
            if existing is None:
                view = MessageView(message, self._column)
                self._views[message.id] = view
                self.viewCreated.emit(view)
            else:
                view = existing
                if view.message is not message:
                    view.update_message(message)
            self._layout.insertWidget(base + index, view)
            view.set_latest_reply(message.id == last_reply)
        self._earlier.setVisible(self._shown_from > 0)
        self.empty.setVisible(not self._messages)

    def _show_earlier(self) -> None:
        self._shown_from = max(0, self._shown_from - PAGE)
        self._follow = False
        self._rebuild()

    def update_message(self, message: Message) -> None:
        """Refresh one message's view."""
        for i, m in enumerate(self._messages):
            if m.id == message.id:
                self._messages[i] = message
        view = self._views.get(message.id)
        if view is not None:
            view.update_message(message)

    def set_streaming_text(self, message_id: int, text: str) -> None:
        """Show the streaming reply's text so far."""
        view = self._views.get(message_id)
        if view is not None:
            view.set_streaming_text(text)

    def set_history_cut(self, dropped: int) -> None:
        """Say that the oldest ``dropped`` messages were left out of the last request."""
        self.cut_label.setText(
            f"The {dropped:,} oldest messages were left out of the last request to fit the model's context."
            if dropped else "")
        self.cut_label.setVisible(bool(dropped))

    def _on_scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 24

    def _on_range(self, _minimum: int, _maximum: int) -> None:
        if self._follow:
            self._scroll_to_bottom()

    def _scroll_to_bottom(self) -> None:
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
