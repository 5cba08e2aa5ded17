"""Secret values typed in a ``NAME=value`` or ``Name: value`` box are drawn as a bar, not as their characters.

A person sharing their screen while setting up a tool's token should not show it: each line's value (after the
first ``=`` or ``:``) is drawn in the colour of its own background, until Show is checked. Only the drawing
changes; the text is the same.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QSyntaxHighlighter, QTextCharFormat, QTextDocument


class SecretMask(QSyntaxHighlighter):
    """Hides the values of a ``NAME=value`` (``separator`` ``=``) or ``Name: value`` box."""

    def __init__(self, document: QTextDocument, separator: str, bar: QColor) -> None:
        super().__init__(document)
        self._separator, self.shown = separator, False
        self._bar = QTextCharFormat()
        self._bar.setForeground(bar)
        self._bar.setBackground(bar)

    def show_values(self, shown: bool) -> None:
        """Draw the values as they are (``shown``) or as bars."""
        self.shown = shown
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        """Draw this line's value as a bar (Qt calls this for each line that changes)."""
        at = text.find(self._separator)
        if self.shown or at < 0:
            return
        start = at + 1
        while start < len(text) and text[start] == " ":
            start += 1
        if start < len(text):
            self.setFormat(start, len(text) - start, self._bar)
