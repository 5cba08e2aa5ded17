"""The keyboard shortcuts and what the app is, shown with F1, Ctrl+/ or the ? button (non-modal)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Enter", "Send"),
    ("Shift+Enter", "New line"),
    ("Esc", "Stop the reply, cancel editing a message, or throw a recording away"),
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
    ("F1 or Ctrl+/ (or the ? button)", "This list"),
)


class HelpOverlay(QDialog):
    """Lists the keyboard shortcuts; says the app's version and where what the person gives it is kept."""

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
        from desktop_assistant import __version__

        self.about = QLabel(self.tr(
            "Desktop Assistant {version} · open source (MIT). Your API key is never written to a file, and your "
            "conversations are kept in a database on this computer.").format(version=__version__))
        self.about.setObjectName("about")
        self.about.setWordWrap(True)
        self.about.setTextFormat(Qt.TextFormat.PlainText)
        self.about.setProperty("muted", True)
        layout.addWidget(self.about)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
