"""The schema editor: a template or saved schema, a form of fields (nested objects, lists), and the JSON schema.

The JSON is generated from the form and may be edited by hand; its problems are listed before anything is
sent. Emits ``schemaChanged(ExtractionSchema)`` whenever the schema in force changes.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.core.schema_templates import TEMPLATES
from desktop_assistant.core.schemas import (
    ExtractionSchema,
    FieldType,
    SchemaField,
    check_fields,
    check_schema,
    fields_from_schema,
    parse_schema_text,
    to_json_schema,
)
from desktop_assistant.ui.discard_line import DiscardLine

TYPES = [t.value for t in FieldType]
ITEM_TYPES = [t.value for t in FieldType if t is not FieldType.LIST]
NAME, TYPE, ITEMS, DESCRIPTION, REQUIRED, DETAILS = range(6)
SAVED_PREFIX = "Saved: "


def _details_text(f: SchemaField) -> str:
    if f.type is FieldType.ENUM or (f.item is not None and f.item.type is FieldType.ENUM):
        return ", ".join(f.item.choices if f.type is FieldType.LIST and f.item else f.choices)
    bounds = f.item if f.type is FieldType.LIST and f.item else f
    if bounds.minimum is not None or bounds.maximum is not None:
        def fmt(v: float | None) -> str:
            return "" if v is None else (str(int(v)) if float(v).is_integer() else str(v))
        return f"{fmt(bounds.minimum)}..{fmt(bounds.maximum)}"
    return ""


def _parse_details(text: str, kind: FieldType) -> dict[str, Any]:
    text = text.strip()
    if kind is FieldType.ENUM:
        return {"choices": tuple(c.strip() for c in text.split(",") if c.strip())}
    if kind in (FieldType.INTEGER, FieldType.NUMBER) and ".." in text:
        low, _, high = text.partition("..")
        try:
            return {"minimum": float(low) if low.strip() else None, "maximum": float(high) if high.strip() else None}
        except ValueError:
            return {}
    return {}


class ChoiceDelegate(QStyledItemDelegate):
    """The Type and List of cells are chosen from a list (typed, a misspelt type was read as text); the Required
    cell is its check box alone. The other cells are edited as text."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,  # type: ignore[override]  # None: Qt's
                     index: QModelIndex | QPersistentModelIndex) -> QWidget | None:  # "no editor", not in the stubs
        """A list of types for Type and List of, no editor for Required, a line for the rest."""
        if index.column() == REQUIRED:
            return None
        if index.column() not in (TYPE, ITEMS):
            return super().createEditor(parent, option, index)
        box = QComboBox(parent)
        box.addItems(TYPES if index.column() == TYPE else ["", *ITEM_TYPES])
        box.setAccessibleName("Type" if index.column() == TYPE else "List of")

        def chosen(_index: int) -> None:  # one click chooses, as in any list
            self.commitData.emit(box)
            self.closeEditor.emit(box)
        box.activated.connect(chosen)
        return box

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        """The list opens on the cell's type."""
        if isinstance(editor, QComboBox):
            editor.setCurrentIndex(max(editor.findText(str(index.data() or "").strip().lower()), 0))
            editor.showPopup()
            return
        super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model: QAbstractItemModel,
                     index: QModelIndex | QPersistentModelIndex) -> None:
        """The type chosen goes into the cell."""
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText())
            return
        super().setModelData(editor, model, index)


class SchemaEditor(QWidget):
    """Template picker, field form and JSON schema text."""

    schemaChanged = Signal(object)
    saveRequested = Signal(str, object)  # object: a dict would arrive as a QVariantMap, its keys sorted

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("schema_editor")
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        label = QLabel("Schema")
        self.template = QComboBox()
        self.template.setObjectName("schema_template")
        self.template.setAccessibleName("Schema template")
        label.setBuddy(self.template)
        top.addWidget(label)
        top.addWidget(self.template, 1)
        layout.addLayout(top)
        self.name = QLineEdit()
        self.name.setObjectName("schema_name")
        self.name.setAccessibleName("Schema name")
        self.name.setPlaceholderText("schema name (letters, digits, _ and -)")
        self.name.textChanged.connect(self._name_changed)
        name_row = QHBoxLayout()  # the name and Save side by side (four buttons in a row widened the window)
        name_row.addWidget(self.name, 1)
        self.save_button = self._button("Save schema", "save_schema", self._save)
        name_row.addWidget(self.save_button)
        layout.addLayout(name_row)
        self.tree = QTreeWidget()
        self.tree.setObjectName("schema_fields")
        self.tree.setAccessibleName("Fields")
        self.tree.setHeaderLabels(["Name", "Type", "List of", "Description", "Required", "Choices / range"])
        self.tree.setItemDelegate(ChoiceDelegate(self.tree))
        self.tree.itemChanged.connect(lambda *_: self._form_changed())
        layout.addWidget(self.tree, 2)
        buttons = QHBoxLayout()
        self.add_button = self._button("Add field", "add_field", self.add_field)
        self.add_child_button = self._button("Add nested field", "add_child_field", self.add_child)
        self.remove_button = self._button("Remove", "remove_field", self.remove_field)
        for b in (self.add_button, self.add_child_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.json_edit = QPlainTextEdit()
        self.json_edit.setObjectName("schema_json")
        self.json_edit.setAccessibleName("JSON schema")
        self.json_edit.setTabChangesFocus(True)  # Tab typed tab characters into the schema, and never moved on
        self.json_edit.textChanged.connect(self._json_typed)
        layout.addWidget(self.json_edit, 2)
        self.apply_json_button = self._button("Use this JSON", "apply_json", self.apply_json)
        layout.addWidget(self.apply_json_button)
        self.problems = QLabel()
        self.problems.setObjectName("schema_problems")
        self.problems.setTextFormat(Qt.TextFormat.PlainText)
        self.problems.setWordWrap(True)
        layout.addWidget(self.problems)
        self.unsaved_note = DiscardLine("schema_unsaved", "schema_discard")
        self.discard_button = self.unsaved_note.button
        self.discard_button.clicked.connect(self._discard)
        layout.addWidget(self.unsaved_note)
        self._chosen = ""  # the template or saved schema shown in the picker
        self._loaded: tuple[str, dict[str, Any]] = ("", {})  # what was loaded, to tell the person's changes
        self._waiting_choice = ""  # a choice that waits for Discard changes
        self._just_saved = ""
        self._restored_choice = ""  # a saved schema chosen last session, picked once the saved ones arrive
        self._saved: dict[str, dict[str, Any]] = {}
        self._updating = False
        self._published = ("", "")  # the JSON text of the schema in use, and what was said of it
        self.schema: ExtractionSchema = TEMPLATES["Task"]
        self.set_saved({})
        self.template.currentTextChanged.connect(self._template_chosen)
        self._template_chosen(self.template.currentText())

    def _button(self, text: str, name: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAccessibleName(text)
        button.setToolTip(text)
        button.clicked.connect(slot)
        return button

    # -- templates and saved schemas ------------------------------------------------------------------------

    def set_saved(self, saved: dict[str, dict[str, Any]]) -> None:
        """Offer the built-in templates and the saved schemas."""
        current = self.template.currentText()
        self._saved = dict(saved)
        self.template.blockSignals(True)
        self.template.clear()
        self.template.addItems(list(TEMPLATES))
        self.template.addItems([SAVED_PREFIX + n for n in saved])
        if self._just_saved and self._just_saved in saved:  # the schema just saved is the one shown
            current = SAVED_PREFIX + self._just_saved
            self._just_saved = ""
            self._chosen = current
            self._loaded = (self.schema.name, self.schema.json_schema())
        if self._restored_choice and self._restored_choice[len(SAVED_PREFIX):] in saved:
            current = self._chosen = self._restored_choice
            self._loaded = (self._restored_choice[len(SAVED_PREFIX):], saved[current[len(SAVED_PREFIX):]])
        self._restored_choice = ""
        index = self.template.findText(current)
        self.template.setCurrentIndex(max(index, 0))
        self.template.blockSignals(False)

    def unsaved(self) -> bool:
        """Whether the fields or the name were changed since the schema was chosen or saved."""
        return (self.schema.name, self.schema.json_schema()) != self._loaded

    def _template_chosen(self, text: str) -> None:
        if self._chosen and text != self._chosen and self.unsaved():  # the changes are not thrown away unasked
            self.template.blockSignals(True)
            self.template.setCurrentIndex(max(self.template.findText(self._chosen), 0))
            self.template.blockSignals(False)
            self._waiting_choice = text
            self.unsaved_note.say(f"Your changes to “{self.schema.name}” are not saved. Save schema to keep "
                                  f"them, or Discard changes to open “{text.removeprefix(SAVED_PREFIX)}”.")
            return
        self._show_choice(text)

    def _discard(self) -> None:
        text, self._waiting_choice = self._waiting_choice, ""
        self.unsaved_note.hide()
        if text:
            self.template.blockSignals(True)
            self.template.setCurrentIndex(max(self.template.findText(text), 0))
            self.template.blockSignals(False)
            self._show_choice(text)

    def _show_choice(self, text: str) -> None:
        self._chosen = text
        self.unsaved_note.hide()
        if text in TEMPLATES:
            self.load(TEMPLATES[text])
        elif text.startswith(SAVED_PREFIX) and text[len(SAVED_PREFIX):] in self._saved:
            name = text[len(SAVED_PREFIX):]
            raw = self._saved[name]
            fields = fields_from_schema(raw)
            # as the form only when the form can hold it as it is (a JSON schema may name a field "first-name")
            self.load(ExtractionSchema(name, tuple(fields)) if fields is not None and not check_fields(fields)
                      else ExtractionSchema(name, raw=raw))

    def kept_state(self) -> str:
        """The schema in use and the template or saved schema it was chosen from, as JSON (see :meth:`restore`)."""
        return json.dumps({"choice": self._chosen, "name": self.schema.name, "description": self.schema.description,
                           "schema": self.schema.json_schema()})

    def restore(self, kept: str) -> bool:
        """Use again the schema :meth:`kept_state` gave last session (in the form when the form can hold it);
        False when ``kept`` cannot be read (nothing changes)."""
        try:
            state = json.loads(kept)
            choice, name, raw = str(state["choice"]), str(state["name"]), dict(state["schema"])
            description = str(state.get("description") or "")
        except (ValueError, KeyError, TypeError):
            return False
        fields = fields_from_schema(raw)
        schema = (ExtractionSchema(name, tuple(fields), description) if fields is not None and not check_fields(fields)
                  else ExtractionSchema(name, description=description, raw=raw))
        self.template.blockSignals(True)
        if self.template.findText(choice) >= 0:
            self.template.setCurrentIndex(self.template.findText(choice))
        self.template.blockSignals(False)
        self.load(schema)
        self._chosen = choice
        if choice in TEMPLATES:  # changes made to it last session are still changes
            self._loaded = (TEMPLATES[choice].name, TEMPLATES[choice].json_schema())
        elif choice.startswith(SAVED_PREFIX):
            self._loaded = (choice[len(SAVED_PREFIX):], self._saved.get(choice[len(SAVED_PREFIX):], raw))
            if self.template.findText(choice) < 0:  # the saved schemas are read later: picked when they arrive
                self._restored_choice = choice
        return True

    def load(self, schema: ExtractionSchema) -> None:
        """Show ``schema`` in the form and the JSON text, and use it."""
        self._updating = True
        self.name.setText(schema.name)
        self.tree.clear()
        fields = fields_from_schema(schema.json_schema()) if schema.raw is not None else list(schema.fields)
        for f in fields or []:
            self.tree.addTopLevelItem(self._item(f))
        self.tree.expandAll()
        self._updating = False
        self._publish(schema)
        self._loaded = (self.schema.name, self.schema.json_schema())

    def _item(self, f: SchemaField) -> QTreeWidgetItem:
        item = QTreeWidgetItem([f.name, f.type.value, f.item.type.value if f.item else "", f.description, "",
                                _details_text(f)])
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(REQUIRED, Qt.CheckState.Checked if f.required else Qt.CheckState.Unchecked)
        children = f.children if f.type is FieldType.OBJECT else (f.item.children if f.item else ())
        for child in children:
            item.addChild(self._item(child))
        return item

    # -- the form -------------------------------------------------------------------------------------------

    def _field(self, item: QTreeWidgetItem) -> SchemaField:
        try:
            kind = FieldType(item.text(TYPE).strip().lower() or "string")
        except ValueError:
            kind = FieldType.STRING
        children = tuple(self._field(c) for c in (item.child(i) for i in range(item.childCount())) if c is not None)
        required = item.checkState(REQUIRED) == Qt.CheckState.Checked
        base = SchemaField(item.text(NAME).strip(), kind, item.text(DESCRIPTION).strip(), required)
        if kind is FieldType.LIST:
            try:
                item_kind = FieldType(item.text(ITEMS).strip().lower() or "string")
            except ValueError:
                item_kind = FieldType.STRING
            element = SchemaField("item", item_kind, children=children if item_kind is FieldType.OBJECT else (),
                                  **_parse_details(item.text(DETAILS), item_kind))
            return SchemaField(base.name, kind, base.description, required, item=element)
        return SchemaField(base.name, kind, base.description, required, children=children,
                           **_parse_details(item.text(DETAILS), kind))

    def fields(self) -> list[SchemaField]:
        """The fields in the form."""
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [self._field(item) for item in items if item is not None]

    def _form_changed(self) -> None:
        if self._updating:
            return
        fields = self.fields()
        problems = check_fields(fields)
        schema = ExtractionSchema(self.name.text().strip() or "extraction", tuple(fields))
        self._publish(schema, problems)

    def _name_changed(self) -> None:
        """The name typed is the name sent (and saved)."""
        if self._updating:
            return
        if self.schema.raw is None:
            self._form_changed()
        else:
            self._publish(dataclasses.replace(self.schema, name=self.name.text().strip() or "extraction"))

    def _publish(self, schema: ExtractionSchema, problems: list[str] | None = None) -> None:
        self.schema = schema
        text = json.dumps(schema.raw if schema.raw is not None else to_json_schema(schema.fields), indent=2)
        if self.json_edit.toPlainText() != text:
            self.json_edit.setPlainText(text)
        found = problems if problems is not None else check_schema(schema.json_schema())
        ready = "The schema is ready: every answer will have exactly these fields."
        self._published = (text, "\n".join(found) if found else ready)
        self.problems.setText(self._published[1])
        self.problems.setProperty("invalid", bool(found))
        self.schemaChanged.emit(schema)

    def json_pending(self) -> bool:
        """Whether the JSON text was edited by hand and not used yet (Use this JSON)."""
        return self.json_edit.toPlainText() != self._published[0]

    def _json_typed(self) -> None:
        """Say that JSON typed by hand is not in use until it is applied (Extract applies it too)."""
        if self.json_pending():
            self.problems.setText("The JSON schema you typed is not in use yet: click Use this JSON (Extract, "
                                  "Run in bulk and Submit batch use it too).")
        else:
            self.problems.setText(self._published[1])

    def add_field(self) -> None:
        """Add a top-level string field."""
        count = self.tree.topLevelItemCount() + 1
        self.tree.addTopLevelItem(self._item(SchemaField(f"field_{count}")))
        self._form_changed()

    def add_child(self) -> None:
        """Add a field inside the selected object (or list of objects)."""
        parent = self.tree.currentItem()
        if parent is None:
            return self.add_field()
        if parent.text(TYPE) not in ("object", "list"):
            parent.setText(TYPE, "object")
        if parent.text(TYPE) == "list":
            parent.setText(ITEMS, "object")
        parent.addChild(self._item(SchemaField(f"field_{parent.childCount() + 1}")))
        parent.setExpanded(True)
        self._form_changed()
        return None

    def remove_field(self) -> None:
        """Remove the selected field."""
        item = self.tree.currentItem()
        if item is None:
            return
        parent = item.parent()
        if parent is None:
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
        else:
            parent.removeChild(item)
        self._form_changed()

    # -- the JSON text --------------------------------------------------------------------------------------

    def apply_json(self) -> bool:
        """Use the hand-edited JSON schema; its problems are shown and it is still used (nothing is sent while
        it has problems). Returns whether it is valid."""
        schema, problems = parse_schema_text(self.json_edit.toPlainText())
        if schema is None:
            self.problems.setText("\n".join(problems))
            return False
        name = self.name.text().strip() or "extraction"
        fields = fields_from_schema(schema)
        self._updating = True
        self.tree.clear()
        for f in fields or []:
            self.tree.addTopLevelItem(self._item(f))
        self.tree.expandAll()
        self._updating = False
        self._publish(ExtractionSchema(name, raw=schema), problems)
        return not problems

    def _save(self) -> None:
        name = self.name.text().strip()
        if not name:
            self.problems.setText("Give the schema a name to save it.")
            return
        self._just_saved = name
        self.unsaved_note.hide()
        self.saveRequested.emit(name, self.schema.json_schema())
