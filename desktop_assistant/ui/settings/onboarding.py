"""First launch: paste a key or point at a local server, test it, start. Not an error: a welcome."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_assistant.core.settings import OPENAI_BASE_URL, Settings
from desktop_assistant.ui.settings.endpoint_form import EndpointForm


class Onboarding(QWidget):
    """The welcome panel shown while no key is set.

    Signals:
        saveRequested(object, object): the ``Settings`` and the key typed.
    """

    saveRequested = Signal(object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("onboarding")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 24, 24, 24)
        outer.addStretch(1)
        column = QWidget()
        column.setMaximumWidth(620)
        layout = QVBoxLayout(column)
        title = QLabel("Welcome to Desktop Assistant")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title)
        intro = QLabel(
            "<p>Paste your OpenAI API key to start. It is never written to a file, and is only sent to the server "
            "it belongs to.</p><p>Using a local server such as Ollama or LM Studio? Leave the key empty and set "
            "its base URL, such as:<br>http://localhost:11434/v1</p>")
        intro.setObjectName("onboarding_intro")
        intro.setTextFormat(Qt.TextFormat.RichText)  # (the address on a line of its own: never cut in two)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.get_key = QLabel(
            'No key yet? Create one at <a href="https://platform.openai.com/api-keys">platform.openai.com/api-keys'
            "</a> (your OpenAI account needs billing set up; what you use is charged to it).")
        self.get_key.setObjectName("onboarding_get_key")
        self.get_key.setWordWrap(True)
        self.get_key.setTextFormat(Qt.TextFormat.RichText)
        self.get_key.setOpenExternalLinks(True)
        self.get_key.setToolTip("https://platform.openai.com/api-keys")
        layout.addWidget(self.get_key)
        self.form = EndpointForm(column)
        layout.addWidget(self.form)
        self.start_button = QPushButton("Save and start chatting")
        self.start_button.setObjectName("onboarding_start_button")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self._save)
        layout.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignRight)
        self.problem = QLabel()
        self.problem.setObjectName("onboarding_problem")
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.hide()
        layout.addWidget(self.problem)
        # centred by stretches, not by an alignment: an aligned widget gets its size hint, which does not grow
        # when a wrapped label (the keyring warning) needs more lines, and the form's rows were squashed
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(column, 100)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self._base = Settings()

    def load(self, settings: Settings, key_source: str, keyring_problem: str = "") -> None:
        """Fill the form."""
        self._base = settings
        self.form.load(settings, key_source, keyring_problem)

    def show_problem(self, text: str) -> None:
        """Say what is in the way (for example, no system keyring)."""
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def _save(self) -> None:
        problem = self.form.save_problem("Test connection did not work with this address and key (see above). "
                                         "Correct them, or click “Save and start chatting” again to save them "
                                         "anyway.")
        if problem:
            self.show_problem(problem)
            if self.form.problem():
                self.form.base_url.setFocus()
            return
        settings, key = self.form.values(self._base)
        if key is None:
            if settings.endpoint == OPENAI_BASE_URL:
                self.show_problem("Paste your OpenAI API key (it starts with “sk-”), or set the base URL of a "
                                  "local server that needs no key.")
                return
            if settings.endpoint not in settings.keyless_endpoints:
                settings = settings.copy(keyless_endpoints=[*settings.keyless_endpoints, settings.endpoint])
        self.show_problem("")
        self.saveRequested.emit(settings, key)
