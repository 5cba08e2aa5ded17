"""Find in a conversation (Ctrl+F): every match highlighted, Enter / Shift+Enter (or the arrows) to step."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QLineEdit, QTextEdit, QToolButton, QWidget

from desktop_assistant.core.models import Message
from desktop_assistant.ui import theme
from desktop_assistant.ui.chat.message_view import MessageView
from desktop_assistant.ui.chat.transcript import Transcript


def match_format() -> QTextCharFormat:
    """How a found word is marked in a message (find in the conversation, and search hits)."""
    found = QTextCharFormat()
    found.setBackground(QColor("#fff2a8" if not theme.colors().dark else "#5c5020"))
    return found


@dataclass
class Match:
    """One occurrence: the view it is in, its cursor there, and which message found holds it."""

    view: MessageView
    cursor: QTextCursor
    hit: int = 0


class FindField(QLineEdit):
    """Enter: next; Shift+Enter: previous; Esc: close.

    Signals:
        step(int): +1 or -1.
        closeRequested(): Esc.
    """

    step = Signal(int)
    closeRequested = Signal()

    def event(self, event: QEvent) -> bool:
        """Esc belongs to the find field while it has focus (not to the window's Stop shortcut)."""
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and event.key() == Qt.Key.Key_Escape:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Handle Enter, Shift+Enter and Esc."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.step.emit(-1 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1)
        elif event.key() == Qt.Key.Key_Escape:
            self.closeRequested.emit()
        else:
            super().keyPressEvent(event)


class FindBar(QWidget):
    """Searches the transcript's messages as shown (rendered text, not the markdown source).

    A long conversation is not rendered whole to search it (building a view for each of 2,000 messages froze the
    window for minutes and took a gigabyte): the messages holding the words are found in their text, and only
    the one a step goes to is built; the matches of the views already built are marked. Counts come from the
    text until a message is shown, then from what it shows.

    Signals:
        closedFromKeyboard(): closed while the person was in it (the focus is given back where they write).
    """

    closedFromKeyboard = Signal()

    def __init__(self, transcript: Transcript, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("find_bar")
        self._transcript = transcript
        self._messages: list[Message] = []
        self._folded: list[str] | None = None  # the messages' texts, casefolded once per opening
        self._needle = ""
        self._hits: list[Message] = []  # the messages whose text holds the words, in branch order
        self._counts: list[int] = []  # occurrences in each one's text, or in its view once built
        self._at = (0, -1)  # the current occurrence: (which hit, which of its occurrences)
        self.matches: list[Match] = []  # the occurrences in the views built, in order
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 4, 16, 4)
        self.field = FindField()
        self.field.setObjectName("find_field")
        self.field.setAccessibleName("Find in this conversation")
        self.field.setPlaceholderText("Find in this conversation")
        self.field.setClearButtonEnabled(True)
        self.field.textChanged.connect(self.search)
        self.field.step.connect(self.step)
        self.field.closeRequested.connect(self.close_bar)
        layout.addWidget(self.field, 1)
        self.count = QLabel()
        self.count.setObjectName("find_count")
        self.count.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.count)
        for text, tip, step in (("↑", "Previous match (Shift+Enter)", -1), ("↓", "Next match (Enter)", 1)):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setAccessibleName(tip)
            button.clicked.connect(lambda _c=False, s=step: self.step(s))
            layout.addWidget(button)
        close = QToolButton()
        close.setText("✕")
        close.setAccessibleName("Close find")
        close.clicked.connect(self.close_bar)
        layout.addWidget(close)
        self.hide()

    def open_bar(self, messages: list[Message]) -> None:
        """Show the bar over ``messages`` (the current branch) and focus it."""
        self._messages, self._folded = messages, None
        self.show()
        self.field.setFocus()
        self.field.selectAll()
        self.search(self.field.text())

    @property
    def current(self) -> int:
        """The index in :attr:`matches` of the current occurrence (-1: none)."""
        hit, k = self._at
        first = next((i for i, m in enumerate(self.matches) if m.hit == hit), None)
        return -1 if first is None or k < 0 else first + k

    def follow_scheme(self) -> None:
        """Mark the matches in the colours of the scheme now in use (the messages were rendered again for it, so
        they are found again), staying on the match that was current."""
        if not self.isVisible() or not self.matches:
            return
        at = self._at
        self.search(self.field.text())
        if self._hits and at[0] < len(self._hits):
            self._at = at
            self._mark_built()
            self._show_current()

    def close_bar(self) -> None:
        """Hide the bar and its highlights."""
        focused = QApplication.focusWidget()
        self._clear()
        self.hide()
        if focused is not None and self.isAncestorOf(focused):
            self.closedFromKeyboard.emit()  # (hidden, it left the focus to whatever came next: the tab bar)

    def _clear(self) -> None:
        for view in self._transcript.views.values():
            view.body.setExtraSelections([])
        self.matches, self._hits, self._counts, self._at = [], [], [], (0, -1)

    def search(self, text: str) -> None:
        """Find every occurrence of ``text`` (case-insensitive) and go to the first."""
        self._clear()
        self._needle = text.strip()
        if not self._needle:
            self.count.setText("")
            return
        folded = self._needle.casefold()
        if self._folded is None or len(self._folded) != len(self._messages):
            self._folded = [m.text.casefold() for m in self._messages]
        found = [(m, t.count(folded)) for m, t in zip(self._messages, self._folded, strict=True) if folded in t]
        self._hits, self._counts = [m for m, _n in found], [n for _m, n in found]
        self._mark_built()
        # from the first occurrence among the messages shown: in a long conversation, not a jump to its start
        views = self._transcript.views
        self._at = (next((h for h, m in enumerate(self._hits) if m.id in views), 0), -1)
        self.step(1)

    def _occurrences(self, view: MessageView) -> list[QTextCursor]:
        view.unfold()  # a long question shows all of itself where its words are found
        document: QTextDocument = view.body.document()
        found, cursor = [], document.find(self._needle)
        while not cursor.isNull():
            found.append(QTextCursor(cursor))
            cursor = document.find(self._needle, cursor)
        return found

    def _mark_built(self) -> None:
        """Find the occurrences in the views built (their counts replace the text's)."""
        self.matches = []
        for hit, message in enumerate(self._hits):
            view = self._transcript.views.get(message.id)
            if view is None:
                continue
            cursors = self._occurrences(view)
            self._counts[hit] = len(cursors)
            self.matches.extend(Match(view, c, hit) for c in cursors)

    def _count_in(self, hit: int) -> int:
        """The occurrences in the ``hit``-th message found, as shown (its view is built for it)."""
        message = self._hits[hit]
        if message.id not in self._transcript.views:
            if self._transcript.ensure_view(message.id) is None:
                return 0
            self._mark_built()
        return self._counts[hit]

    def step(self, direction: int) -> None:
        """Go to the next (+1) or previous (-1) match, wrapping around."""
        if not self._hits:
            self.count.setText("No matches")
            return
        hit, k = self._at[0], self._at[1] + direction
        for _ in range(2 * len(self._hits) + 1):
            count = self._count_in(hit)
            if 0 <= k < count:
                break
            if k >= count:
                hit, k = (hit + 1) % len(self._hits), 0
            else:
                hit = (hit - 1) % len(self._hits)
                k = self._count_in(hit) - 1
        else:  # the words are in the messages' text but in none as shown (a link's address, say)
            self.count.setText("No matches")
            return
        self._at = (hit, k)
        self._show_current()

    def _show_current(self) -> None:
        colors = theme.colors()
        everywhere = match_format()
        here = QTextCharFormat()
        here.setBackground(QColor(colors.accent))
        here.setForeground(QColor("#ffffff"))
        current = self.current
        by_view: dict[int, list[QTextEdit.ExtraSelection]] = {}
        for i, match in enumerate(self.matches):
            selection = QTextEdit.ExtraSelection()
            selection.cursor = match.cursor
            selection.format = here if i == current else everywhere
            by_view.setdefault(id(match.view), []).append(selection)
        for view in {id(m.view): m.view for m in self.matches}.values():
            view.body.setExtraSelections(by_view.get(id(view), []))
        match = self.matches[current]
        hit, k = self._at
        self.count.setText(f"{sum(self._counts[:hit]) + k + 1} of {sum(self._counts)}")
        self._transcript.scroll_to(match.view, match.view.body.cursorRect(match.cursor).top())
