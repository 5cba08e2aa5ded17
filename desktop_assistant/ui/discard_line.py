"""The line that says an editor's unsaved changes hold something back, with Discard changes beside it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget


class DiscardLine(QWidget):
    """Hidden until :meth:`say`; its ``button`` (Discard changes) is the editor's to connect."""

    def __init__(self, name: str, button_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.button = QPushButton("Discard changes")
        self.button.setObjectName(button_name)
        self.button.setAccessibleName("Discard changes")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        self.hide()

    def say(self, text: str, *, discard: bool = True) -> None:
        """Show ``text``, with Discard changes unless not ``discard`` (nothing waits for it)."""
        self.label.setText(text)
        self.button.setVisible(discard)
        self.show()

    def text(self) -> str:
        """What the line says."""
        return self.label.text()
