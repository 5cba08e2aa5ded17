"""The form for the endpoint: API key, base URL, organization, default model, timeout, Test connection."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.controllers.endpoint import EndpointController
from desktop_assistant.core.settings import Settings, base_url_problem


class EndpointForm(QWidget):
    """Edits the endpoint settings; ``values()`` returns what was typed.

    Signals:
        testRequested(str, str, str): base URL, key, organization to try.
    """

    testRequested = Signal(str, str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        key_row = QHBoxLayout()
        self.api_key = QLineEdit()
        self.api_key.setObjectName("api_key")
        self.api_key.setAccessibleName("API key")
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("sk-…")
        key_row.addWidget(self.api_key, 1)
        self.show_key = QToolButton()
        self.show_key.setText("Show")
        self.show_key.setCheckable(True)
        self.show_key.setAccessibleName("Show the key")
        self.show_key.toggled.connect(lambda on: self.api_key.setEchoMode(
            QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password))
        key_row.addWidget(self.show_key)
        self.forget_key = QToolButton()
        self.forget_key.setObjectName("forget_key")
        self.forget_key.setText("Remove")
        self.forget_key.setCheckable(True)
        self.forget_key.setAccessibleName("Remove the saved key")
        self.forget_key.setToolTip("Remove the key saved for this address from this computer (when you click Save)")
        self.forget_key.toggled.connect(self._forget_toggled)
        self.forget_key.hide()
        key_row.addWidget(self.forget_key)
        form.addRow("API key", key_row)
        self.key_hint = QLabel()
        self.key_hint.setObjectName("key_hint")
        self.key_hint.setProperty("muted", True)
        self.key_hint.setWordWrap(True)
        self.key_hint.setTextFormat(Qt.TextFormat.PlainText)
        self._hint_before = ""  # the hint for the saved address, while another address is typed
        self._tested: tuple[str, str] | None = None  # the address and key Test connection was last asked with
        self._failed: tuple[str, str] | None = None  # ... when it failed with them
        self._warned_for: tuple[str, str] | None = None  # ... and Save warned about them once
        self._can_forget = False  # a key is saved for the address shown (in the keyring, or for the session)
        self.base_url = QLineEdit()
        self.base_url.setObjectName("base_url")
        self.base_url.setAccessibleName("Base URL")
        self.base_url.setPlaceholderText("https://api.openai.com/v1  ·  Ollama: http://localhost:11434/v1")
        form.addRow("Base URL", self.base_url)
        self.organization = QLineEdit()
        self.organization.setObjectName("organization")
        self.organization.setAccessibleName("Organization")
        self.organization.setPlaceholderText("Optional (org-…)")
        form.addRow("Organization", self.organization)
        self.default_model = QLineEdit()
        self.default_model.setObjectName("default_model")
        self.default_model.setAccessibleName("Default model")
        form.addRow("Default model", self.default_model)
        self.timeout = QDoubleSpinBox()
        self.timeout.setObjectName("timeout")
        self.timeout.setAccessibleName("Timeout in seconds")
        self.timeout.setRange(5, 3600)
        self.timeout.setSuffix(" s")
        self.timeout.setDecimals(0)
        form.addRow("Timeout", self.timeout)
        proxy_row = QHBoxLayout()
        self.proxy_mode = QComboBox()
        self.proxy_mode.setObjectName("proxy_mode")
        self.proxy_mode.setAccessibleName("Proxy")
        for text, key in (("System settings", "system"), ("No proxy", "none"), ("Manual", "manual")):
            self.proxy_mode.addItem(text, key)
        self.proxy_url = QLineEdit()
        self.proxy_url.setObjectName("proxy_url")
        self.proxy_url.setAccessibleName("Proxy address")
        self.proxy_url.setPlaceholderText("http://proxy.example.com:8080")
        self.proxy_mode.currentIndexChanged.connect(
            lambda _i: self.proxy_url.setEnabled(self.proxy_mode.currentData() == "manual"))
        proxy_row.addWidget(self.proxy_mode)
        proxy_row.addWidget(self.proxy_url, 1)
        form.addRow("Proxy", proxy_row)
        outer.addLayout(form)
        outer.addWidget(self.key_hint)
        test_row = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("test_connection_button")
        self.test_button.clicked.connect(self._test)
        test_row.addWidget(self.test_button)
        self.test_result = QLabel()
        self.test_result.setObjectName("test_result")
        self.test_result.setWordWrap(True)
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)
        test_row.addWidget(self.test_result, 1)
        outer.addLayout(test_row)

    def load(self, settings: Settings, key_source: str, keyring_problem: str = "") -> None:
        """Fill the form from ``settings`` (the key itself is never shown back)."""
        self._warned_for = None
        self.api_key.clear()
        self.base_url.setText(settings.base_url)
        self.organization.setText(settings.organization)
        self.default_model.setText(settings.default_model)
        self.timeout.setValue(settings.timeout_seconds)
        self.proxy_mode.setCurrentIndex(max(0, self.proxy_mode.findData(settings.proxy_mode)))
        self.proxy_url.setText(settings.proxy_url)
        self.proxy_url.setEnabled(settings.proxy_mode == "manual")
        self.forget_key.setChecked(False)
        self._can_forget = key_source in ("keyring", "session")  # not the environment's: it is not ours to remove
        self.forget_key.setVisible(self._can_forget)
        self.set_key_hint(key_source, keyring_problem)

    def _forget_toggled(self, forget: bool) -> None:
        self.api_key.clear()
        self.api_key.setEnabled(not forget)
        if forget:
            self._hint_before = self._hint_before or self.key_hint.text()
            self.key_hint.setText("The saved key will be removed from this computer when you click Save (Cancel "
                                  "keeps it). The app then asks for a key again.")
        elif self._hint_before:
            self.key_hint.setText(self._hint_before)
            self._hint_before = ""

    def note_other_address(self, other: bool) -> None:
        """The base URL typed is not the one whose key is saved: say that it needs its own (keys are kept for
        one server address each), instead of "a key is saved"."""
        if other:
            self.forget_key.setChecked(False)  # it removes the key of the address saved, not of this one
            self.forget_key.hide()
            self._hint_before = self._hint_before or self.key_hint.text()
            self.key_hint.setText("No key is saved for this address: type its key above if it needs one (a key is "
                                  "kept for one server address; local servers such as Ollama need none).")
        else:
            self.forget_key.setVisible(self._can_forget)
            if self._hint_before:
                self.key_hint.setText(self._hint_before)
                self._hint_before = ""

    def set_key_hint(self, key_source: str, keyring_problem: str = "") -> None:
        """Say where the key in use comes from, and where a key typed here would be kept."""
        self._hint_before = ""
        kept = ("A key typed here is kept for this session only, never in a file."
                if keyring_problem else "A key typed here is kept in your system keyring, never in a file.")
        self.key_hint.setText({
            "keyring": "A key is saved in your system keyring. Type a new one to replace it.",
            "environment": "Using the key from the OPENAI_API_KEY environment variable for this session (it "
                           "wins over a key typed here).",
            "session": "A key is held for this session only (no system keyring was found): paste it again at the "
                       "next start, or set OPENAI_API_KEY.",
        }.get(key_source, f"{kept} Local servers such as Ollama or LM Studio need no key."))

    def values(self, base: Settings) -> tuple[Settings, str | None]:
        """The settings typed and the key (None when the field was left empty: keep the stored one; "" when the
        saved key is to be removed)."""
        settings = base.copy(base_url=self.base_url.text().strip() or base.base_url,
                             organization=self.organization.text().strip(),
                             default_model=self.default_model.text().strip() or base.default_model,
                             timeout_seconds=float(self.timeout.value()),
                             proxy_mode=str(self.proxy_mode.currentData()), proxy_url=self.proxy_url.text().strip())
        if self.forget_key.isChecked():
            return settings, ""
        key = self.api_key.text().strip()
        return settings, key or None

    def problem(self) -> str:
        """Why the address typed cannot be used ("" when it can)."""
        return base_url_problem(self.base_url.text())

    def say_problem(self, text: str) -> None:
        """Show why the form cannot be saved as it is, beside Test connection, and put the cursor where the
        person fixes it."""
        self.test_result.setText("✗ " + text)
        if self.problem():
            self.base_url.setFocus()

    def _test(self) -> None:
        if self.problem():
            self.say_problem(self.problem())
            return
        self.test_result.setText("Testing…")
        self._tested = self.typed()
        self.testRequested.emit(self.base_url.text(), self.api_key.text(), self.organization.text())

    def show_test_result(self, ok: bool, message: str) -> None:
        """Show the result of Test connection."""
        self.test_result.setText(("✓ " if ok else "✗ ") + message)
        self._failed = None if ok else self._tested

    def typed(self) -> tuple[str, str]:
        """The address and the key as typed in the form."""
        return self.base_url.text().strip(), self.api_key.text().strip()

    def failed_as_typed(self) -> bool:
        """Test connection failed with the address and key now in the form (they were not changed since)."""
        return self._failed is not None and self._failed == self.typed()

    def save_problem(self, warning: str) -> str:
        """Why Save should not go on now ("" when it may): an address that cannot be one, or, once for the values
        typed, ``warning`` when Test connection just failed with them (a second click saves them anyway)."""
        if self.problem():
            return self.problem()
        if self.failed_as_typed() and self._warned_for != self.typed():
            self._warned_for = self.typed()
            return warning
        return ""


def connect_form(form: EndpointForm, endpoint: EndpointController, start: object) -> None:
    """Wire Test connection to the controller through ``start`` (the runner's start)."""
    endpoint.connectionTested.connect(form.show_test_result)
    form.base_url.textChanged.connect(lambda text: form.note_other_address(
        bool(text.strip()) and not endpoint.key_saved_for(text) and endpoint.has_key))
    form.testRequested.connect(lambda url, key, org: start(  # type: ignore[operator]
        "test connection", endpoint.test_connection(url, key, org)))
