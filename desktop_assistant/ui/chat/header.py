"""The header: the conversation's title, the model picker and the conversation options."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.core.catalog import lookup
from desktop_assistant.ui import icons, theme


class ModelPicker(QComboBox):
    """The model combo box; says when its list is about to be looked at."""

    popupOpening = Signal()

    def showPopup(self) -> None:
        """Tell listeners (who may refresh the list), then open the list."""
        self.popupOpening.emit()
        super().showPopup()


class Header(QWidget):
    """Title (click to rename), model picker, options button.

    Signals:
        renameRequested(str): the title was edited.
        modelChosen(str): the person chose a model.
        modelsWanted(): the person opened the model list or typed in it (a moment to refresh it).
        optionsToggled(bool): show or hide the conversation options.
        settingsRequested(): open Settings.
    """

    renameRequested = Signal(str)
    modelChosen = Signal(str)
    modelsWanted = Signal()
    optionsToggled = Signal(bool)
    settingsRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 8, 12, 8)
        layout.setSpacing(8)
        self.title = QLineEdit()
        self.title.setObjectName("conversation_title")
        self.title.setAccessibleName("Conversation title")
        self.title.setFrame(False)
        self.title.setPlaceholderText("New chat")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.title.setFont(font)
        self.title.editingFinished.connect(self._on_title_edited)
        layout.addWidget(self.title, 1)
        label = QLabel("Model")
        label.setProperty("muted", True)
        self.model_picker = ModelPicker()
        self.model_picker.popupOpening.connect(self.modelsWanted)
        self.model_picker.setObjectName("model_picker")
        self.model_picker.setAccessibleName("Model")
        self.model_picker.setToolTip("The model for this conversation (type to filter)")
        self.model_picker.setEditable(True)
        self.model_picker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_picker.setMinimumContentsLength(16)
        completer = QCompleter(self.model_picker.model(), self.model_picker)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.model_picker.setCompleter(completer)
        self.model_picker.activated.connect(self._on_model_activated)
        line = self.model_picker.lineEdit()
        assert line is not None
        line.editingFinished.connect(self._on_model_typed)
        line.textEdited.connect(self.modelsWanted)
        label.setBuddy(self.model_picker)
        layout.addWidget(label)
        layout.addWidget(self.model_picker)
        self.options_button = QToolButton()
        self.options_button.setObjectName("options_button")
        self.options_button.setText("Options")
        self.options_button.setCheckable(True)
        self.options_button.setIcon(icons.icon("options", theme.colors().muted))
        self.options_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.options_button.setAccessibleName("Conversation options")
        self.options_button.setToolTip("System prompt, temperature and max output tokens")
        self.options_button.toggled.connect(self.optionsToggled)
        layout.addWidget(self.options_button)
        self.settings_button = QToolButton()
        self.settings_button.setObjectName("settings_button")
        self.settings_button.setText("Settings")
        self.settings_button.setAccessibleName("Settings")
        self.settings_button.setIcon(icons.icon("settings", theme.colors().muted))
        self.settings_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.settings_button.setToolTip("API key, endpoint and defaults (Ctrl+,)")
        self.settings_button.clicked.connect(self.settingsRequested)
        layout.addWidget(self.settings_button)
        self._model = ""

    def set_title(self, title: str) -> None:
        """Show the conversation's title."""
        self.title.setText(title)

    def _on_title_edited(self) -> None:
        if self.title.isModified():
            self.title.setModified(False)
            self.renameRequested.emit(self.title.text())

    def set_models(self, models: list[str], current: str) -> None:
        """Offer ``models`` (vision-capable ones marked) with ``current`` selected; what the person is typing
        in the box meanwhile stays as typed."""
        line = self.model_picker.lineEdit()
        typing = line is not None and line.hasFocus() and line.text() != current
        typed, cursor = (line.text(), line.cursorPosition()) if line is not None else ("", 0)
        self.model_picker.blockSignals(True)
        self.model_picker.clear()
        for m in dict.fromkeys([*models, current]):
            if not m:
                continue
            self.model_picker.addItem(m, m)
            index = self.model_picker.count() - 1
            info = lookup(m)
            if info.vision:
                self.model_picker.setItemData(index, f"{m} · sees images", Qt.ItemDataRole.ToolTipRole)
        self.model_picker.blockSignals(False)
        self.set_model(current)
        if typing and line is not None:
            line.setText(typed)
            line.setCursorPosition(cursor)
            completer = self.model_picker.completer()
            if completer is not None and typed:  # the suggestions shown were of the old list: filter the new one
                completer.setCompletionPrefix(typed)
                popup = completer.popup()
                if popup is not None and popup.isVisible():
                    completer.complete()

    def set_model(self, model: str) -> None:
        """Select ``model`` without emitting."""
        self._model = model
        self.model_picker.blockSignals(True)
        index = self.model_picker.findData(model)
        if index < 0:
            self.model_picker.addItem(model, model)
            index = self.model_picker.count() - 1
        self.model_picker.setCurrentIndex(index)
        self.model_picker.blockSignals(False)

    def _on_model_activated(self, index: int) -> None:
        self._choose(str(self.model_picker.itemData(index) or self.model_picker.itemText(index)))

    def _on_model_typed(self) -> None:
        self._choose(self.model_picker.currentText())

    def _choose(self, model: str) -> None:
        model = model.strip()
        if model and model != self._model:
            self._model = model
            self.modelChosen.emit(model)


class ConversationOptions(QWidget):
    """System prompt, temperature and max output tokens of the current conversation.

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
        self.use_temperature.toggled.connect(self.temperature.setEnabled)
        temp_row.addWidget(self.use_temperature)
        temp_row.addWidget(self.temperature)
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
        apply = QPushButton("Apply")
        apply.setObjectName("apply_options_button")
        apply.setDefault(True)
        apply.clicked.connect(self._apply)
        row.addWidget(apply)
        outer.addLayout(row)

    def load(self, system_prompt: str, temperature: float | None, max_tokens: int | None) -> None:
        """Show a conversation's options."""
        self.system_prompt.setPlainText(system_prompt)
        self.use_temperature.setChecked(temperature is not None)
        self.temperature.setValue(1.0 if temperature is None else temperature)
        self.max_tokens.setValue(max_tokens or 0)

    def _values(self) -> tuple[str, float | None, int | None]:
        temperature = self.temperature.value() if self.use_temperature.isChecked() else None
        return self.system_prompt.toPlainText(), temperature, self.max_tokens.value() or None

    def _apply(self) -> None:
        self.applied.emit(*self._values())

    def _save_preset(self) -> None:
        name = self.preset_name.text().strip()
        if name:
            self.presetSaved.emit(name, *self._values())
            self.preset_name.clear()
