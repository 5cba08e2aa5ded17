"""Spelling in the composer: a QSyntaxHighlighter that underlines misspelled words, and the context menu part.

The words to check and the dictionary are in :mod:`desktop_assistant.core.spelling`. Qt highlights one block
(line) at a time, only the blocks an edit touched, so typing costs the same in a 100,000-character draft as in
an empty one; a very long line is checked only in a window around the cursor (:data:`MAX_CHECKED_CHARS`). The
word being typed (the cursor right after it) is not underlined until it is finished.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QColor, QSyntaxHighlighter, QTextBlock, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QMenu

from desktop_assistant.core.spelling import (
    MAX_WORD,
    NORMAL,
    SpellDictionary,
    fence_state,
    words_to_check,
)

log = logging.getLogger(__name__)

MAX_CHECKED_CHARS = 4_000
"""A line longer than this is checked only in a window of this size (around the cursor when it is there)."""
UNDERLINE_COLOR = "#e5484d"


def read_words(path: Path | None) -> set[str]:
    """The person's own words, one per line (a missing or unreadable file: none)."""
    if path is None:
        return set()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return set()
    return {line.strip() for line in text.splitlines() if line.strip() and len(line.strip()) <= 4 * MAX_WORD}


def append_word(path: Path, word: str) -> None:
    """Add ``word`` to the person's word file (created, with its folder, when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(word + "\n")


class SpellingHighlighter(QSyntaxHighlighter):
    """Underlines misspelled words with the spell-check underline (a red wavy line on most platforms)."""

    def __init__(
        self,
        document: QTextDocument,
        dictionary: SpellDictionary,
        cursor_position: Callable[[], int] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent or document)
        self.dictionary = dictionary
        self._cursor_position = cursor_position or (lambda: -1)
        self.misspelled_format = QTextCharFormat()
        self.misspelled_format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SpellCheckUnderline)
        self.misspelled_format.setUnderlineColor(QColor(UNDERLINE_COLOR))
        self._typing: tuple[int, int] | None = None  # (block number, cursor position) of a word left unchecked
        self.setDocument(document)

    def highlightBlock(self, text: str) -> None:
        """Mark the misspelled words of one block (Qt calls this for each block an edit touched)."""
        state, code = fence_state(text, self.previousBlockState())
        self.setCurrentBlockState(state)
        if code or not text:
            return
        block = self.currentBlock()
        cursor = self._cursor_position() - block.position()
        start, end = self.checked_range(text, cursor)
        for word_start, word_end, word in words_to_check(text, start, end):
            if word_end == cursor:
                self._typing = (block.blockNumber(), cursor + block.position())
                continue  # still being typed: checked once the cursor leaves it (cursor_moved)
            if not self.dictionary.is_correct(word):
                self.setFormat(word_start, word_end - word_start, self.misspelled_format)

    def cursor_moved(self, position: int) -> None:
        """Check the word that was being typed once the cursor has left it (connect ``cursorPositionChanged``)."""
        typing = self._typing
        if typing is None or typing[1] == position:
            return
        self._typing = None
        document = self.document()
        if document is not None:
            block = document.findBlockByNumber(typing[0])
            if block.isValid():
                self.rehighlightBlock(block)

    @staticmethod
    def checked_range(text: str, cursor: int) -> tuple[int, int]:
        """The part of a block that is checked: all of it, or for a very long line a window (around the cursor
        when it is in this block), widened to whole words."""
        if len(text) <= MAX_CHECKED_CHARS:
            return 0, len(text)
        middle = cursor if 0 <= cursor <= len(text) else 0
        start = max(0, min(middle - MAX_CHECKED_CHARS // 2, len(text) - MAX_CHECKED_CHARS))
        end = start + MAX_CHECKED_CHARS
        while start > 0 and not text[start - 1].isspace() and middle - start < MAX_CHECKED_CHARS:
            start -= 1
        while end < len(text) and not text[end].isspace() and end - start < MAX_CHECKED_CHARS + 64:
            end += 1
        return start, end

    def misspelled_at(self, block: QTextBlock, position_in_block: int) -> tuple[int, int, str] | None:
        """The misspelled word (start, end, word) of ``block`` at ``position_in_block``, if there is one."""
        text = block.text()
        previous = block.previous()
        _, code = fence_state(text, previous.userState() if previous.isValid() else NORMAL)
        if code:
            return None
        for start, end, word in words_to_check(text):
            if start <= position_in_block <= end:
                return (start, end, word) if not self.dictionary.is_correct(word) else None
        return None

    def accept_word(self, word: str) -> None:
        """Stop underlining ``word``: add it to the dictionary and redraw the blocks that contain it."""
        self.dictionary.add(word)
        needle = word.casefold()
        document = self.document()
        block = document.firstBlock() if document is not None else QTextBlock()
        while block.isValid():
            if needle in block.text().casefold():
                self.rehighlightBlock(block)
            block = block.next()


def add_suggestions(
    menu: QMenu,
    highlighter: SpellingHighlighter,
    word: str,
    replace: Callable[[str], None],
    add_to_dictionary: Callable[[str], None],
) -> None:
    """Put up to five suggestions for ``word`` and "Add to dictionary" at the top of ``menu``."""
    first = menu.actions()[0] if menu.actions() else None
    actions: list[QAction] = []
    suggestions = highlighter.dictionary.suggestions(word)
    for suggestion in suggestions:
        action = QAction(suggestion, menu)
        action.triggered.connect(lambda _checked=False, s=suggestion: replace(s))
        font = action.font()
        font.setBold(True)
        action.setFont(font)
        actions.append(action)
    if not suggestions:
        none = QAction("No suggestions", menu)
        none.setEnabled(False)
        actions.append(none)
    add = QAction(f"Add “{word}” to dictionary", menu)
    add.setObjectName("add_to_dictionary")
    add.triggered.connect(lambda _checked=False: add_to_dictionary(word))
    actions.append(add)
    if first is None:
        menu.addActions(actions)
    else:
        menu.insertActions(first, actions)
        menu.insertSeparator(first)
