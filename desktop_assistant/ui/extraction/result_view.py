"""One extraction's result: a form of fields (editable), the raw JSON, and a refusal or validation errors."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.core.extraction import Outcome, RowState


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parse_cell(text: str, original: Any) -> Any:
    """An edited cell back to a JSON value (JSON if it parses as the original's kind, else text)."""
    if text == "" and original is None:
        return None
    if isinstance(original, str) or original is None:
        try:
            value = json.loads(text)
        except ValueError:
            return text
        return value if original is None else text
    try:
        return json.loads(text)
    except ValueError:
        return text


class ResultView(QWidget):
    """Shows an :class:`Outcome`; edits in the form emit ``valuesEdited(dict)`` (checked by the controller)."""

    valuesEdited = Signal(object)  # object: a dict would arrive as a QVariantMap, its keys sorted

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("result_view")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.status = QLabel()
        self.status.setObjectName("result_status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)
        self.tabs = QTabWidget()
        self.form = QTreeWidget()
        self.form.setObjectName("result_form")
        self.form.setAccessibleName("Extracted fields")
        self.form.setHeaderLabels(["Field", "Value"])
        self.form.itemChanged.connect(self._edited)
        self.raw = QPlainTextEdit()
        self.raw.setObjectName("result_json")
        self.raw.setAccessibleName("Raw JSON answer")
        self.raw.setReadOnly(True)
        self.tabs.addTab(self.form, "Fields")
        self.tabs.addTab(self.raw, "JSON")
        self.copy_button = QPushButton("Copy JSON")
        self.copy_button.setObjectName("result_copy")
        self.copy_button.setToolTip("Copy the fields as JSON (as edited), to paste elsewhere")
        self.copy_button.clicked.connect(self._copy)
        self.copy_button.setEnabled(False)
        self.raw.textChanged.connect(lambda: self.copy_button.setEnabled(bool(self.raw.toPlainText().strip())))
        self.tabs.setCornerWidget(self.copy_button)
        layout.addWidget(self.tabs, 1)
        self.values: dict[str, Any] | None = None
        self._filling = False

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.raw.toPlainText())
        self.status.setText("Copied the JSON.")

    def show_working(self) -> None:
        """An extraction is on its way: the last result is cleared (it was for other text)."""
        self.status.setText("Extracting…")
        self.status.setProperty("state", "running")
        self.values = None
        self._fill(None)
        self.raw.setPlainText("")

    def mark_schema_changed(self) -> None:
        """The schema changed: a result shown was checked against the one before, and says so."""
        if self.status.property("state") in (RowState.DONE.value, RowState.INVALID.value):
            self.status.setText("Checked against the schema as it was before your last change; Extract again to "
                                "check it against this one.")
            self.status.setProperty("state", "stale")

    def show_edited(self, values: dict[str, Any], errors: list[str]) -> None:
        """The person edited the values: the JSON shows them as edited, and the status says if they fit."""
        self.raw.setPlainText(json.dumps(values, indent=2, ensure_ascii=False))
        self.status.setText("Edited values are valid." if not errors
                            else "Edited values do not match the schema:\n" + "\n".join(errors))

    def show_outcome(self, outcome: Outcome) -> None:
        """Show an outcome: values as a form and JSON, or the refusal, or what did not validate."""
        state = outcome.state
        if state is RowState.REFUSED:
            text = f"The model refused: {outcome.refusal}"
        elif state is RowState.FAILED:
            text = f"Failed: {outcome.error}"
        elif outcome.errors:
            text = "The answer does not match the schema:\n" + "\n".join(f"• {e}" for e in outcome.errors)
        else:
            text = "Valid: every field matches the schema."
        self.status.setText(text)
        self.status.setProperty("state", state.value)
        self.values = outcome.values
        self._fill(outcome.values)
        pretty = json.dumps(outcome.values, indent=2, ensure_ascii=False) if outcome.values is not None else ""
        self.raw.setPlainText(pretty or outcome.raw or outcome.refusal or "")

    def _fill(self, values: dict[str, Any] | None) -> None:
        self._filling = True
        self.form.clear()
        for key, value in (values or {}).items():
            self.form.addTopLevelItem(self._item(key, value))
        self.form.expandAll()
        self._filling = False

    def _item(self, key: str, value: Any) -> QTreeWidgetItem:
        item = QTreeWidgetItem([key, "" if isinstance(value, dict | list) else _cell(value)])
        item.setData(0, Qt.ItemDataRole.UserRole, value)
        if isinstance(value, dict):
            for k, v in value.items():
                item.addChild(self._item(k, v))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                item.addChild(self._item(f"[{i}]", v))
        else:
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        return item

    def _value(self, item: QTreeWidgetItem) -> Any:
        original = item.data(0, Qt.ItemDataRole.UserRole)
        children = [c for c in (item.child(i) for i in range(item.childCount())) if c is not None]
        if isinstance(original, dict):
            return {c.text(0): self._value(c) for c in children}
        if isinstance(original, list):
            return [self._value(c) for c in children]
        return _parse_cell(item.text(1), original)

    def edited_values(self) -> dict[str, Any]:
        """The values as the form shows them now."""
        items = [self.form.topLevelItem(i) for i in range(self.form.topLevelItemCount())]
        return {item.text(0): self._value(item) for item in items if item is not None}

    def _edited(self, _item: QTreeWidgetItem, column: int) -> None:
        if not self._filling and column == 1:
            self.valuesEdited.emit(self.edited_values())
