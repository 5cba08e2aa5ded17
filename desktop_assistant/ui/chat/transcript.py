"""The transcript: messages of the current branch in a centred column of readable width.

Only the newest messages are shown (``PAGE``); older ones come on request ("Show earlier messages"). Views
are built lazily: :meth:`Transcript.set_messages` builds, newest first, just the views that fill the first
screen (so the first paint waits for those only) and the rest in small batches from a zero-interval timer,
each batch stopping after :data:`BATCH_MS`. "Show earlier messages" (or scrolling up to the top) queues its
page the same way. While batches insert views above what is on screen, the topmost visible view keeps its
place, so the message being read does not move. The view follows a streaming reply only while the person is at the
bottom.

A jump to a message far above those shown (Find, a search hit) shows it with the page of messages after it, and
the newest messages stay below a gap: a "Show later messages" button (or scrolling down to it) fills the gap a page
at a time, so nothing between seems to follow on from what is above it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from desktop_assistant.core.models import Message, Role
from desktop_assistant.ui.chat.message_view import MessageView
from desktop_assistant.ui.viewports import own_viewport

COLUMN_WIDTH = 780
PAGE = 60
BATCH_MS = 6.0
"""A background batch stops building views once it has run this long (one view takes a few ms)."""
FIRST_SCREEN_PX = 900
"""Views are built synchronously until their estimated height covers this much (or the viewport if taller)."""
MIN_FIRST = 2
"""At least the newest question and reply are built synchronously."""


def _estimated_height(message: Message, width: int) -> int:
    """A cheap guess at a view's height (no layout): wrapped lines of ~7 px characters, 20 px each."""
    per_line = max(20, width // 7)
    text = message.text
    lines = sum(1 + len(line) // per_line for line in text.split("\n"))
    return 70 + 20 * lines


class Transcript(QScrollArea):
    """Shows a list of messages.

    Signals:
        viewCreated(MessageView): a message view was built (the window connects its actions).
    """

    viewCreated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._viewport = own_viewport(self)
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
        self._gap_button = QPushButton()  # after the views above the gap (hidden, after all views, when none)
        self._gap_button.setObjectName("show_later_button")
        self._gap_button.clicked.connect(self._fill_gap)
        self._gap_button.hide()
        self._layout.addWidget(self._gap_button, 0, Qt.AlignmentFlag.AlignHCenter)
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
        self._gap: tuple[int, int] | None = None  # messages [a, b) between those shown, not shown
        self._follow = True
        self._queue: list[int] = []  # message ids still to build, in build order
        self._last_reply: int | None = None
        self._anchor: tuple[QWidget, int] | None = None  # (view, its top minus the scroll value) to keep
        self._anchoring = True  # False while "Show earlier messages" fills in below the button
        self._pin: tuple[QWidget, int] | None = None  # a message scrolled to (a search hit), held in sight
        self._restoring = False
        self.image_loader: Callable[[str], QImage | None] | None = None  # the app's stored images
        self.kept: dict[int, tuple[bytes, str]] = {}  # replies' HTML rendered for an earlier start (MessageView)
        self._batch = QTimer(self)
        self._batch.setSingleShot(True)
        self._batch.setInterval(0)
        self._batch.timeout.connect(self._build_batch)
        self._held = False
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.verticalScrollBar().rangeChanged.connect(self._on_range)
        self.verticalScrollBar().actionTriggered.connect(self._unpin)

    @property
    def views(self) -> dict[int, MessageView]:
        """The built message views by message id."""
        return self._views

    def set_messages(self, messages: list[Message]) -> None:
        """Show ``messages`` (the current branch), reusing views of messages already shown.

        The newest views (enough to fill the first screen) exist when this returns; older ones are built in
        batches from the event loop (``views`` grows as they come).
        """
        old, self._messages = self._messages, list(messages)
        # the same conversation, on the same path down to the oldest message shown (or the gap's end): what was
        # shown stays shown; else (another conversation, another branch above) the newest page only
        upto = self._gap[1] if self._gap is not None else self._shown_from + 1
        same = bool(old) and len(messages) >= upto and all(
            a.id == b.id for a, b in zip(old[:upto], messages[:upto], strict=True))
        if not same:
            self._gap = None
        start = max(0, len(messages) - PAGE)
        self._shown_from = min(start, self._shown_from) if same else start
        self._anchor = None
        self._anchoring = True
        self._pin = None
        self._rebuild()
        self._follow = True
        self._scroll_to_bottom()

    def _in_gap(self, index: int) -> bool:
        return self._gap is not None and self._gap[0] <= index < self._gap[1]

    def _built_before(self, index: int) -> int:
        """How many views are built of the messages shown before message ``index``."""
        return sum(1 for m in self._messages[self._shown_from:index] if m.id in self._views)

    def _slot(self, index: int) -> int:
        """The layout position of the view of message ``index``: after the "earlier" button, the cut label and the
        views built of the messages before it, and after the gap's button when it is below the gap."""
        return 2 + self._built_before(index) + (1 if self._gap is not None and index >= self._gap[1] else 0)

    def _place_gap(self) -> None:
        """The gap's button under the views above the gap, saying how many messages it holds (hidden, after every
        view, when there is no gap)."""
        button = self._gap_button
        slot = 2 + self._built_before(self._gap[0] if self._gap is not None else len(self._messages))
        if self._layout.indexOf(button) != slot:
            self._layout.removeWidget(button)
            self._layout.insertWidget(slot, button, 0, Qt.AlignmentFlag.AlignHCenter)
        if self._gap is None:
            button.hide()
            return
        n = self._gap[1] - self._gap[0]
        button.setText(f"Show later messages ({n:,} not shown here)" if n != 1 else
                       "Show the later message not shown here")
        button.show()

    def _fill_gap(self) -> None:
        """The next page of the gap's messages, under those above it (the message being read stays in place)."""
        if self._gap is None:
            return
        a, b = self._gap
        end = min(a + PAGE, b)
        self._gap = (end, b) if end < b else None
        self._follow = False
        self._anchoring = True
        self._anchor = self._top_visible()
        self._queue = [m.id for m in self._messages[a:end]] + self._queue
        self._place_gap()
        self._schedule()

    def _drop_views(self, keep: set[int]) -> None:
        """Let go of the views of messages not in ``keep`` (ids)."""
        for mid in [i for i in self._views if i not in keep]:
            gone = self._views.pop(mid)
            self._layout.removeWidget(gone)
            gone.hide()
            gone.deleteLater()

    def _jump(self, index: int) -> None:
        """Show message ``index`` (far above those shown, or in the gap) with the page after it; the newest messages
        stay, below a gap. Views of messages no longer shown are let go."""
        tail = self._gap[1] if self._gap is not None else self._shown_from
        end = min(index + 1 + PAGE, tail)
        keep = {m.id for m in self._messages[index:end]} | {m.id for m in self._messages[tail:]}
        self._drop_views(keep)
        self._shown_from = index
        self._gap = (end, tail) if end < tail else None
        self._queue = [m.id for m in self._messages[index + 1:end]] + [q for q in self._queue if q in keep]
        self._earlier.setVisible(index > 0)
        self._place_gap()
        self._schedule()

    def _rebuild(self) -> None:
        wanted = [m for i, m in enumerate(self._messages[self._shown_from:], self._shown_from)
                  if not self._in_gap(i)]
        keep = {m.id for m in wanted}
        self._drop_views(keep)
        self._last_reply = next((m.id for m in reversed(wanted) if m.role is Role.ASSISTANT), None)
        # newest first: reuse every existing view, build new ones until the first screen is covered
        width = min(COLUMN_WIDTH, max(280, self._viewport.width() - 32)) - 32
        budget = max(FIRST_SCREEN_PX, self._viewport.height())
        covered = 0
        built = 0
        queue: list[int] = []
        for message in reversed(wanted):
            view: MessageView | None = self._views.get(message.id)
            if view is None and (built < MIN_FIRST or covered < budget):
                view = self._new_view(message)
                built += 1
            if view is None:
                queue.append(message.id)
                continue
            if view.message is not message:
                view.update_message(message)
            view.set_latest_reply(message.id == self._last_reply)
            covered += _estimated_height(message, width)
        self._queue = queue
        # lay the built views out in message order, after the "earlier" button and the cut label (and the gap's
        # button between those above and below the gap)
        self._layout.removeWidget(self._gap_button)  # put back in its place once the views are in order
        index = 2
        for message in wanted:
            placed = self._views.get(message.id)
            if placed is None:
                continue
            if self._layout.indexOf(placed) != index:
                self._layout.insertWidget(index, placed)
            index += 1
        self._place_gap()
        self._earlier.setVisible(self._shown_from > 0)
        self.empty.setVisible(not self._messages)
        self._schedule()

    def _new_view(self, message: Message) -> MessageView:
        view = MessageView(message, self._column, self.image_loader, self.kept.pop(message.id, None))
        self._views[message.id] = view
        self.viewCreated.emit(view)
        return view

    def hold_background(self, hold: bool) -> None:
        """While held, views of older messages wait to be built (the window's first paint shows the newest)."""
        self._held = hold
        self._schedule()

    def _schedule(self) -> None:
        if self._queue and not self._held and not self._batch.isActive():
            self._batch.start()

    def _build_batch(self) -> None:
        """Build queued views until :data:`BATCH_MS` has passed, each at its place in message order."""
        if self._anchoring and not self._follow and self._anchor is None:
            self._anchor = self._top_visible()
        deadline = time.perf_counter() + BATCH_MS / 1000.0
        positions = {m.id: i for i, m in enumerate(self._messages)}
        while self._queue:
            mid = self._queue.pop(0)
            index = positions.get(mid)
            if index is None or index < self._shown_from or self._in_gap(index) or mid in self._views:
                continue
            message = self._messages[index]
            slot = self._slot(index)
            view = self._new_view(message)
            view.set_latest_reply(message.id == self._last_reply)
            self._layout.insertWidget(slot, view)
            if time.perf_counter() >= deadline:
                break
        self._schedule()

    def ensure_view(self, message_id: int) -> MessageView | None:
        """The view of a message of the branch, built now if it was not yet (also before "earlier")."""
        view = self._views.get(message_id)
        if view is not None:
            return view
        positions = {m.id: i for i, m in enumerate(self._messages)}
        index = positions.get(message_id)
        if index is None:
            return None
        gap = self._gap
        if index < self._shown_from and self._shown_from - index <= PAGE:
            # the few between come too, in the background: no gap
            self._queue = [m.id for m in self._messages[index + 1:self._shown_from]] + self._queue
            self._shown_from = index
            self._earlier.setVisible(self._shown_from > 0)
            self._schedule()
        elif gap is not None and gap[0] <= index < gap[1] and index - gap[0] <= PAGE:
            # just under the messages above the gap: those between come too
            self._queue = [m.id for m in self._messages[gap[0]:index]] + self._queue
            self._gap = (index + 1, gap[1]) if index + 1 < gap[1] else None
            self._schedule()
        elif index < self._shown_from or self._in_gap(index):
            self._jump(index)
        message = self._messages[index]
        slot = self._slot(index)
        view = self._new_view(message)
        view.set_latest_reply(message.id == self._last_reply)
        self._layout.insertWidget(slot, view)
        self._queue = [q for q in self._queue if q != message_id]
        self._place_gap()
        return view

    def scroll_to(self, view: MessageView, y_in_body: int = 0) -> None:
        """Scroll so that a point of ``view``'s text (``y_in_body`` pixels down its body) is in sight."""
        self._follow = False
        body = self.widget()
        assert body is not None
        body.adjustSize()
        point = view.body.mapTo(body, view.body.rect().topLeft())
        target = max(0, point.y() + y_in_body - self._viewport.height() // 3)
        # kept there while the views around it are laid out and built, until the person scrolls: the scroll range
        # of a conversation just opened is not final yet, and a value clamped to it then followed to the bottom
        self._pin = (view, view.mapTo(body, QPoint(0, 0)).y() - target)
        self._scroll_quietly(target)

    @property
    def pending(self) -> int:
        """How many views are still to be built in the background."""
        return len(self._queue)

    def _show_earlier(self) -> None:
        old = self._shown_from
        self._shown_from = max(0, self._shown_from - PAGE)
        self._follow = False
        self._anchoring = True  # the page goes in above: the message being read stays where it is
        self._anchor = self._top_visible()
        self._queue = [m.id for m in self._messages[self._shown_from:old]] + self._queue
        self._earlier.setVisible(self._shown_from > 0)
        self._schedule()

    def _top_visible(self) -> tuple[QWidget, int] | None:
        value = self.verticalScrollBar().value()
        body = self.widget()
        if body is None:
            return None
        for i in range(self._layout.count()):
            item = self._layout.itemAt(i)
            widget = item.widget() if item is not None else None
            if isinstance(widget, MessageView) and widget.isVisible():
                top = widget.mapTo(body, QPoint(0, 0)).y()
                if top + widget.height() > value:
                    return widget, top - value
        return None

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
        if self._restoring:  # the app scrolling to keep a view in place, not the person
            return
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 24
        self._anchor = None
        if value == bar.minimum() and self._earlier.isVisible() and not self._queue:
            self._show_earlier()  # scrolled up to the top: the next page, as if the button were clicked
        elif self._gap is not None and not self._queue and self._gap_button.isVisible():
            body = self.widget()
            top = self._gap_button.mapTo(body, QPoint(0, 0)).y() if body is not None else value + 10**9
            if value < top + self._gap_button.height() and top < value + self._viewport.height():
                # scrolled to the gap (its button in sight): its next page
                self._fill_gap()

    def _on_range(self, _minimum: int, _maximum: int) -> None:
        if self._pin is not None and self._keep_in_place(self._pin):
            return
        self._pin = None
        if self._follow:
            self._scroll_to_bottom()
        elif self._anchor is not None and not self._keep_in_place(self._anchor):
            self._anchor = None

    def _keep_in_place(self, place: tuple[QWidget, int]) -> bool:
        """Scroll so that the view keeps its distance from the top; False when it is no longer shown."""
        widget, offset = place
        body = self.widget()
        if body is None or widget.parent() is None or widget.isHidden():
            return False
        self._scroll_quietly(widget.mapTo(body, QPoint(0, 0)).y() - offset)
        return True

    def _scroll_quietly(self, value: int) -> None:
        """Scroll to ``value`` as the app, not the person (what follows the person's scrolling is left as it is)."""
        self._restoring = True
        try:
            self.verticalScrollBar().setValue(value)
        finally:
            self._restoring = False

    def _unpin(self, _action: int) -> None:
        """The person scrolled (wheel, keys, the scroll bar): a message scrolled to stays where they put it."""
        self._pin = None

    def _scroll_to_bottom(self) -> None:
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
