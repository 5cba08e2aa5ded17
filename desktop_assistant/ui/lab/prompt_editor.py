"""The prompt library: the list of named prompts and the editor of one (Save makes a new version).

What is typed in the form is never replaced unasked: choosing another prompt, New prompt, a version from the
Versions page or one restored there waits, with a line offering Discard changes, while the form has changes not
saved as a version.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.core.prompt_template import template_problems, variables
from desktop_assistant.core.prompts import MAX_TEMPERATURE, PromptVersion
from desktop_assistant.ui.discard_line import DiscardLine

NO_TEMPERATURE = -0.1  # the spin box's special value: the model's default


class PromptEditor(QWidget):
    """Prompt list and form.

    Signals:
        promptChosen(str): a prompt was picked in the list.
        saveRequested(object): the form as a :class:`PromptVersion` to save as the next version.
        useInChat(object) / useInExtraction(object): hand the form's version elsewhere.
    """

    promptChosen = Signal(str)
    formChanged = Signal()
    saveRequested = Signal(object)
    useInChat = Signal(object)
    useInExtraction = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prompts = QListWidget()
        self.prompts.setObjectName("lab_prompts")
        self.prompts.setAccessibleName("Prompts")
        self.new_button = QPushButton("New prompt")
        self.name = QLineEdit()
        self.name.setObjectName("lab_prompt_name")
        self.name.setPlaceholderText("e.g. Support reply")
        self.system = QPlainTextEdit()
        self.system.setObjectName("lab_system_prompt")
        self.system.setPlaceholderText("e.g. You answer customer questions briefly and kindly.")
        self.template = QPlainTextEdit()
        self.template.setObjectName("lab_user_template")
        self.template.setPlaceholderText("Blank: each case's \"input\" is the whole message. Or write e.g.\n"
                                         "Answer this question from {{customer}}: {{question}}")
        self.model = QComboBox()
        self.model.setObjectName("lab_model")
        self.model.setEditable(True)
        self.temperature = QDoubleSpinBox()
        self.temperature.setObjectName("lab_temperature")
        self.temperature.setRange(NO_TEMPERATURE, MAX_TEMPERATURE)
        self.temperature.setSingleStep(0.1)
        self.temperature.setSpecialValueText("model default")
        self.temperature.setValue(NO_TEMPERATURE)
        self.max_tokens = QSpinBox()
        self.max_tokens.setObjectName("lab_max_tokens")
        self.max_tokens.setRange(1, 128_000)
        self.max_tokens.setValue(1024)
        self.note = QLineEdit()
        self.note.setObjectName("lab_note")
        self.note.setPlaceholderText("What changed (optional)")
        self.problems = QLabel()
        self.problems.setObjectName("lab_template_problems")
        self.problems.setTextFormat(Qt.TextFormat.PlainText)
        self.problems.setWordWrap(True)
        self.unsaved_note = DiscardLine("lab_unsaved", "lab_discard")
        self.discard_button = self.unsaved_note.button
        self._shown = PromptVersion(name="", version=0, system_prompt="")  # what the form was filled with
        self._new_prompt = True  # the form was empty: anything typed in it is a change
        self._number = 0  # the saved version the form was filled with (0: none)
        self._then: Callable[[], None] | None = None  # what waits for Discard changes
        self.save_button = QPushButton("Save as new version")
        self.save_button.setObjectName("lab_save")
        self.chat_button = QPushButton("Use in a new chat")
        self.extraction_button = QPushButton("Use as extraction instructions")
        form = QFormLayout()
        for label, widget in (("Name", self.name), ("System prompt", self.system), ("User template", self.template),
                              ("Model", self.model), ("Temperature", self.temperature),
                              ("Max output tokens", self.max_tokens), ("Note", self.note)):
            widget.setAccessibleName(label)
            form.addRow(label, widget)
        buttons = QHBoxLayout()
        for button in (self.save_button, self.chat_button, self.extraction_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.empty_hint = QLabel("The Lab compares prompts on the same questions before you rely on one.\n\n"
                                 "1. Write a prompt on the right and Save as new version.\n"
                                 "2. Add questions (cases) on the Test set page.\n"
                                 "3. Run them on the Run page, see what each version and model answers and "
                                 "costs, and change the prompt.")
        self.empty_hint.setObjectName("lab_empty_hint")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setProperty("muted", True)
        left = QVBoxLayout()
        left.addWidget(self.empty_hint)
        left.addWidget(self.prompts, 1)
        left.addWidget(self.new_button)
        right = QVBoxLayout()
        right.addLayout(form, 1)
        right.addWidget(self.problems)
        right.addWidget(self.unsaved_note)
        right.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addLayout(right, 3)
        for box in (self.system, self.template):
            box.setTabChangesFocus(True)  # Tab moves on, as in any form
        self.prompts.currentItemChanged.connect(self._chosen)
        self.new_button.clicked.connect(self.new_prompt)
        self.template.textChanged.connect(self._check_template)
        self.save_button.clicked.connect(self._save)
        self.discard_button.clicked.connect(self._discard)
        for changed in (self.name.textChanged, self.system.textChanged, self.template.textChanged,
                        self.model.currentTextChanged, self.temperature.valueChanged, self.max_tokens.valueChanged,
                        self.note.textChanged):
            changed.connect(lambda *_args: self.formChanged.emit())
        self.chat_button.clicked.connect(lambda: self.useInChat.emit(self.handed()))
        self.extraction_button.clicked.connect(lambda: self.useInExtraction.emit(self.handed()))

    def set_models(self, models: list[str], current: str | None = None) -> None:
        """Offer ``models`` (keeping the model typed or shown)."""
        keep = current or self.model.currentText()
        self.model.clear()
        self.model.addItems(models)
        self.model.setCurrentText(keep)

    def set_prompts(self, latest: list[PromptVersion], select: str | None = None) -> None:
        """List the prompts (their newest version), selecting ``select`` without re-emitting."""
        self.empty_hint.setVisible(not latest)
        self.prompts.blockSignals(True)
        self.prompts.clear()
        for v in latest:
            item = QListWidgetItem(f"{v.name} · v{v.version}")
            item.setData(Qt.ItemDataRole.UserRole, v.name)
            item.setToolTip("")
            self.prompts.addItem(item)
            if v.name == select:
                self.prompts.setCurrentItem(item)
        self.prompts.blockSignals(False)

    def _chosen(self, item: QListWidgetItem | None, previous: QListWidgetItem | None = None) -> None:
        if item is None:
            return
        name = str(item.data(Qt.ItemDataRole.UserRole))
        if self.unsaved():  # the list keeps showing where the form's changes belong until they are dealt with
            self.prompts.blockSignals(True)
            if previous is not None:
                self.prompts.setCurrentItem(previous)
            else:
                self.prompts.setCurrentRow(-1)
            self.prompts.blockSignals(False)
            self._wait(f"open “{name}”", lambda: self._choose(name))
            return
        self.promptChosen.emit(name)

    def _choose(self, name: str) -> None:
        match = next((self.prompts.item(i) for i in range(self.prompts.count())
                      if self.prompts.item(i).data(Qt.ItemDataRole.UserRole) == name), None)
        if match is not None:
            self.prompts.blockSignals(True)
            self.prompts.setCurrentItem(match)
            self.prompts.blockSignals(False)
        self.promptChosen.emit(name)

    @property
    def shown(self) -> PromptVersion:
        """What the form was filled with, as the form holds it."""
        return self._shown

    def unsaved(self) -> bool:
        """Whether the form has changes not saved as a version (for a new prompt: anything typed in it)."""
        form = self.version()
        if self._new_prompt:
            return bool(form.name or form.system_prompt.strip() or form.user_template.strip())
        return form.name != self._shown.name or not form.same_content(self._shown)

    def offer(self, v: PromptVersion, what: str = "") -> None:
        """Show ``v``, unless the form has other changes not saved: then it waits for Discard changes."""
        form = self.version()
        if not self.unsaved() or (form.name == v.name and form.same_content(v)):
            self.show_version(v)
            return
        self._wait(what or f"show {v.label}", lambda: self.show_version(v))

    def unsaved_json(self) -> str:
        """The form as JSON while it has unsaved changes, else "" (what is kept between sessions)."""
        return json.dumps(dataclasses.asdict(self.version()), ensure_ascii=False) if self.unsaved() else ""

    def restore_form(self, kept: str) -> None:
        """Fill the form with the unsaved changes kept by the last session (what it was filled with stays the
        same, so they show as unsaved)."""
        try:
            fields = json.loads(kept)
            v = PromptVersion(**{k: fields[k] for k in ("name", "system_prompt", "user_template", "model",
                                                       "temperature", "max_output_tokens", "note")}, version=0)
        except (ValueError, TypeError, KeyError):
            return
        shown, new, number = self._shown, self._new_prompt, self._number
        self.show_version(v)
        self.note.setText(v.note)
        self._shown, self._new_prompt, self._number = shown, new, number
        if self.unsaved():
            self.unsaved_note.say(f"Your changes to “{v.name or 'the new prompt'}” from the last session are "
                                  "here, not saved yet: Save as new version to keep them.", discard=False)

    def new_prompt(self) -> None:
        """New prompt: an empty form (once the form's unsaved changes are saved or discarded)."""
        if self.unsaved():
            self._wait("start a new prompt", self.clear)
            return
        self.clear()

    def _wait(self, what: str, then: Callable[[], None]) -> None:
        name = self.version().name or "the new prompt"
        self._then = then
        self.unsaved_note.say(f"Your changes to “{name}” are not saved. Save as new version to keep them, or "
                              f"Discard changes to {what}.")

    def _end_wait(self) -> None:
        self._then = None
        self.unsaved_note.hide()

    def _discard(self) -> None:
        then = self._then
        self._end_wait()
        self._shown, self._new_prompt = self.version(), False  # what is in the form is let go of
        if then is not None:
            then()

    def _save(self) -> None:
        self._end_wait()
        self.saveRequested.emit(self.version())

    def show_version(self, v: PromptVersion) -> None:
        """Fill the form with ``v`` (the note starts empty: it describes the next save)."""
        self._end_wait()
        self.name.setText(v.name)
        self.system.setPlainText(v.system_prompt)
        self.template.setPlainText(v.user_template)
        self.model.setCurrentText(v.model)
        self.temperature.setValue(NO_TEMPERATURE if v.temperature is None else v.temperature)
        self.max_tokens.setValue(v.max_output_tokens)
        self.note.clear()
        # as the widgets hold it (a rounded temperature, say), so that only the person's changes count
        self._shown, self._new_prompt, self._number = self.version(), v.version == 0, v.version

    def clear(self) -> None:
        """An empty form for a new prompt."""
        self.prompts.clearSelection()
        self.show_version(PromptVersion(name="", version=0, system_prompt="", model=self.model.currentText()))
        self.name.setFocus()

    def version(self) -> PromptVersion:
        """The form as a version (its number is given when it is saved)."""
        temperature = self.temperature.value()
        return PromptVersion(name=" ".join(self.name.text().split()), version=0,
                             system_prompt=self.system.toPlainText(), user_template=self.template.toPlainText(),
                             model=self.model.currentText().strip(),
                             temperature=None if temperature <= NO_TEMPERATURE / 2 else round(temperature, 2),
                             max_output_tokens=self.max_tokens.value(), note=self.note.text().strip())

    def handed(self) -> PromptVersion:
        """The form as a version to use elsewhere: numbered as the saved version it shows, or 0 when it has
        changes not saved as a version (or was never saved)."""
        form = self.version()
        return form if self.unsaved() or not self._number else dataclasses.replace(form, version=self._number)

    def _check_template(self) -> None:
        text = self.template.toPlainText()
        problems = template_problems(text)
        names = variables(text) if text.strip() else ["input"]
        self.problems.setText(" ".join(problems) if problems else f"Variables: {', '.join(names) or 'none'}")
