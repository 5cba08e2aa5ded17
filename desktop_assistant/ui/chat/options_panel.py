"""The conversation's options below the header: system prompt, temperature and max output tokens (made when
first opened, so its widgets are not needed for the first paint)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.core.catalog import lookup


class ConversationOptions(QWidget):
    """System prompt, temperature and max output tokens of the current conversation.

    Every change applies at once (what the panel shows is what the next message uses): no Apply to forget.

    Signals:
        applied(str, object, object): system prompt, temperature (None = model default), max tokens (None).
        presetSaved(str, str, object, object): a preset name and the options above, to keep for new chats.
        defaultPromptChosen(str): this system prompt for every new chat.
    """

    applied = Signal(str, object, object)
    presetSaved = Signal(str, str, object, object)
    defaultPromptChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversation_options")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 0, 16, 8)
        form = QFormLayout()
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setObjectName("system_prompt")
        self.system_prompt.setAccessibleName("System prompt")
        self.system_prompt.setPlaceholderText("Optional: how the assistant should behave in this conversation")
        self.system_prompt.setFixedHeight(70)
        self.system_prompt.setTabChangesFocus(True)  # a Tab typed here went into the prompt, applied at once
        form.addRow("System prompt", self.system_prompt)
        temp_row = QHBoxLayout()
        self.use_temperature = QCheckBox("Set")
        self.use_temperature.setObjectName("use_temperature")
        self.temperature = QDoubleSpinBox()
        self.temperature.setObjectName("temperature")
        self.temperature.setAccessibleName("Temperature")
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(1.0)
        self.temperature.setEnabled(False)
        self.use_temperature.toggled.connect(
            lambda on: self.temperature.setEnabled(on and self.use_temperature.isEnabled()))
        self._loading = False
        temp_row.addWidget(self.use_temperature)
        temp_row.addWidget(self.temperature)
        self.temperature_note = QLabel()
        self.temperature_note.setObjectName("temperature_note")
        self.temperature_note.setEnabled(False)  # a quiet line
        self.temperature_note.hide()
        temp_row.addWidget(self.temperature_note, 1)
        temp_row.addStretch(1)
        form.addRow("Temperature", temp_row)
        self.max_tokens = QSpinBox()
        self.max_tokens.setObjectName("max_output_tokens")
        self.max_tokens.setAccessibleName("Max output tokens")
        self.max_tokens.setRange(0, 200_000)
        self.max_tokens.setSpecialValueText("Default")
        self.max_tokens.setSingleStep(256)
        form.addRow("Max output tokens", self.max_tokens)
        outer.addLayout(form)
        row = QHBoxLayout()
        self.preset_name = QLineEdit()
        self.preset_name.setObjectName("preset_name")
        self.preset_name.setAccessibleName("Preset name")
        self.preset_name.setPlaceholderText("Preset name (model and options above)")
        row.addWidget(self.preset_name, 1)
        save_preset = QPushButton("Save as preset")
        save_preset.setObjectName("save_preset_button")
        save_preset.clicked.connect(self._save_preset)
        row.addWidget(save_preset)
        default_prompt = QPushButton("Use prompt for new chats")
        default_prompt.setObjectName("default_prompt_button")
        default_prompt.setToolTip("Every new chat starts with this system prompt")
        default_prompt.clicked.connect(lambda: self.defaultPromptChosen.emit(self.system_prompt.toPlainText()))
        row.addWidget(default_prompt)
        outer.addLayout(row)
        self.note = QLabel("Changes apply to this conversation from its next message on.")
        self.note.setObjectName("options_note")
        self.note.setEnabled(False)  # a quiet line
        outer.addWidget(self.note)
        self.system_prompt.textChanged.connect(self._apply)
        for changed in (self.use_temperature.toggled, self.temperature.valueChanged, self.max_tokens.valueChanged):
            changed.connect(self._apply)

    def set_model(self, model: str) -> None:
        """A reasoning model takes only its default temperature: the setting is shown off, and says why."""
        reasoning = lookup(model).reasoning
        why = f"{model} is a reasoning model: it takes only its default temperature, so none is sent." \
            if reasoning else ""
        for widget in (self.use_temperature, self.temperature):
            widget.setToolTip(why)
        self.use_temperature.setEnabled(not reasoning)
        self.temperature.setEnabled(not reasoning and self.use_temperature.isChecked())
        self.temperature_note.setText(why)
        self.temperature_note.setVisible(reasoning)

    def load(self, system_prompt: str, temperature: float | None, max_tokens: int | None) -> None:
        """Show a conversation's options (not a change: nothing is applied)."""
        self._loading = True
        try:
            if self.system_prompt.toPlainText() != system_prompt:
                self.system_prompt.setPlainText(system_prompt)
            self.use_temperature.setChecked(temperature is not None)
            self.temperature.setValue(1.0 if temperature is None else temperature)
            self.max_tokens.setValue(max_tokens or 0)
        finally:
            self._loading = False

    def _values(self) -> tuple[str, float | None, int | None]:
        temperature = self.temperature.value() if self.use_temperature.isChecked() else None
        return self.system_prompt.toPlainText(), temperature, self.max_tokens.value() or None

    def _apply(self, *_args: object) -> None:
        if not self._loading:
            self.applied.emit(*self._values())

    def _save_preset(self) -> None:
        name = self.preset_name.text().strip()
        if name:
            self.presetSaved.emit(name, *self._values())
            self.preset_name.clear()
