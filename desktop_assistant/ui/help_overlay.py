"""The keyboard shortcuts, shown with F1 or Ctrl+/ (non-modal)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Enter", "Send"),
    ("Shift+Enter", "New line"),
    ("Esc", "Stop the reply, or cancel editing a message"),
    ("Up (empty box)", "Edit your last message"),
    ("Ctrl+N", "New chat"),
    ("Ctrl+K", "Search conversations (Down moves into the messages found)"),
    ("F2 / Delete (conversation list)", "Rename / delete the conversation selected (Undo in the banner)"),
    ("Ctrl+F", "Find in this conversation"),
    ("Ctrl+plus / Ctrl+minus / Ctrl+0", "Larger, smaller, normal text"),
    ("Ctrl+1 / Ctrl+2 / Ctrl+3 / Ctrl+4", "Chat, Extract, Lab, Usage"),
    ("Ctrl+Enter (Extract's text box)", "Extract"),
    ("Ctrl+S", "Save Extract's schema, or the Lab's prompt or test set"),
    ("Ctrl+L", "Focus the message box"),
    ("Ctrl+B", "Show or hide the sidebar"),
    ("Ctrl+,", "Settings"),
    ("Ctrl+Q", "Quit (your draft and what you were writing are kept)"),
    ("F1 or Ctrl+/", "This list"),
)


class HelpOverlay(QDialog):
    """Lists the keyboard shortcuts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("help_overlay")
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.setModal(False)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        for keys, what in SHORTCUTS:
            key_label = QLabel(keys)
            key_label.setTextFormat(Qt.TextFormat.PlainText)
            font = key_label.font()
            font.setBold(True)
            key_label.setFont(font)
            form.addRow(key_label, QLabel(self.tr(what)))
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
