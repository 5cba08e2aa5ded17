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
    """One occurrence: the view it is in and its cursor there."""

    view: MessageView
    cursor: QTextCursor


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

    Signals:
        closedFromKeyboard(): closed while the person was in it (the focus is given back where they write).
    """

    closedFromKeyboard = Signal()

    def __init__(self, transcript: Transcript, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("find_bar")
        self._transcript = transcript
        self._messages: list[Message] = []
        self.matches: list[Match] = []
        self.current = -1
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
        self._messages = messages
        self.show()
        self.field.setFocus()
        self.field.selectAll()
        self.search(self.field.text())

    def follow_scheme(self) -> None:
        """Mark the matches in the colours of the scheme now in use (the messages were rendered again for it, so
        they are found again), staying on the match that was current."""
        if not self.isVisible() or not self.matches:
            return
        current = self.current
        self.search(self.field.text())
        if 0 <= current < len(self.matches) and current != self.current:
            self.current = current
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
        self.matches, self.current = [], -1

    def search(self, text: str) -> None:
        """Find every occurrence of ``text`` (case-insensitive) and go to the first."""
        self._clear()
        needle = text.strip()
        if not needle:
            self.count.setText("")
            return
        folded = needle.casefold()
        for message in self._messages:
            if folded not in message.text.casefold():
                continue
            view = self._transcript.ensure_view(message.id)
            if view is None:
                continue
            view.unfold()  # a long question shows all of itself where its words are found
            document: QTextDocument = view.body.document()
            cursor = document.find(needle)
            while not cursor.isNull():
                self.matches.append(Match(view, QTextCursor(cursor)))
                cursor = document.find(needle, cursor)
        self.count.setText(f"{len(self.matches)} found" if self.matches else "No matches")
        if self.matches:
            self.current = 0
            self._show_current()

    def step(self, direction: int) -> None:
        """Go to the next (+1) or previous (-1) match, wrapping around."""
        if not self.matches:
            return
        self.current = (self.current + direction) % len(self.matches)
        self._show_current()

    def _show_current(self) -> None:
        colors = theme.colors()
        everywhere = match_format()
        here = QTextCharFormat()
        here.setBackground(QColor(colors.accent))
        here.setForeground(QColor("#ffffff"))
        by_view: dict[int, list[QTextEdit.ExtraSelection]] = {}
        for i, match in enumerate(self.matches):
            selection = QTextEdit.ExtraSelection()
            selection.cursor = match.cursor
            selection.format = here if i == self.current else everywhere
            by_view.setdefault(id(match.view), []).append(selection)
        for view in {id(m.view): m.view for m in self.matches}.values():
            view.body.setExtraSelections(by_view.get(id(view), []))
        match = self.matches[self.current]
        self.count.setText(f"{self.current + 1} of {len(self.matches)}")
        self._transcript.scroll_to(match.view, match.view.body.cursorRect(match.cursor).top())
