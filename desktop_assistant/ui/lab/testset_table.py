"""The test-set editor: a table whose columns are the CSV import's (variables, ``check:KIND``, ``case:label``).

Each row is read back with the same parser an imported CSV file goes through, so a typed case and an imported
one obey the same rules, and a problem names its row. A row's key (kept across edits, used by regression
comparison) rides on its row header.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections import Counter
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.core.lab_checks import CheckKind
from desktop_assistant.core.lab_testset import CHECK_PREFIX, LABEL_HEADER, LabCase, read_csv, set_variables
from desktop_assistant.ui.discard_line import DiscardLine

KEY_ROLE = Qt.ItemDataRole.UserRole

CHECK_WORDS = {
    CheckKind.CONTAINS: "The answer contains this text",
    CheckKind.REGEX: "The answer matches this pattern (regular expression)",
    CheckKind.JSON: "The answer is valid JSON",
    CheckKind.SCHEMA: "The answer is JSON matching this schema",
    CheckKind.MAX_TOKENS: "The answer is at most this many tokens",
}
"""The checks offered by Add check, in plain words (each adds a ``check:KIND`` column)."""


def _check_cell(kind: CheckKind, value: str) -> str:
    return "yes" if kind is CheckKind.JSON else value


def _unkeyed(cases: list[LabCase]) -> list[LabCase]:
    return [dataclasses.replace(c, key="") for c in cases]


Grid = tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]
"""A table as typed: its header and its rows that are not blank."""


def table_columns(cases: list[LabCase]) -> list[str]:
    """The header for ``cases``: label (when any has one), variables, then as many columns per check kind as a
    case uses."""
    header = [LABEL_HEADER] if any(c.label for c in cases) else []
    header += set_variables(cases) or ["input"]
    for kind in CheckKind:
        most = max((Counter(ch.kind for ch in c.checks)[kind] for c in cases), default=0)
        header += [CHECK_PREFIX + kind.value] * most
    return header


class CaseTable(QTableWidget):
    """A table that pastes tab-separated text (from a spreadsheet) at the current cell, adding rows."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Ctrl+V pastes a block; everything else as usual."""
        if event.matches(QKeySequence.StandardKey.Paste):
            self.paste(QGuiApplication.clipboard().text())
            return
        super().keyPressEvent(event)

    def paste(self, text: str) -> None:
        """Fill cells from ``text`` (tabs between cells, one line per row) from the current cell on."""
        rows = [line.split("\t") for line in text.rstrip("\n").split("\n")] if text else []
        top, left = max(self.currentRow(), 0), max(self.currentColumn(), 0)
        for r, values in enumerate(rows):
            if top + r >= self.rowCount():
                self.insertRow(self.rowCount())
            for c, value in enumerate(values[: max(0, self.columnCount() - left)]):
                self.setItem(top + r, left + c, QTableWidgetItem(value.rstrip("\r")))


class TestSetEditor(QWidget):
    """Set name, table, import and the problems found.

    The table has unsaved changes when what is typed differs from the set as it was opened or saved; another
    set waits for Discard changes before it replaces them (:meth:`offer`).

    Signals:
        openRequested(str) / saveRequested(str): open or save the set of that name.
        importRequested(): choose a CSV or JSONL file to add.
        tableChanged(): the name, a cell, a row or a column changed (what is kept between sessions follows it).
    """

    openRequested = Signal(str)
    saveRequested = Signal(str)
    importRequested = Signal()
    tableChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.set_name = QComboBox()
        self.set_name.setObjectName("lab_set_name")
        self.set_name.setAccessibleName("Test set")
        self.set_name.setEditable(True)
        if (line := self.set_name.lineEdit()) is not None:
            line.setPlaceholderText("Name of the test set")
        self.open_button = QPushButton("Open")
        self.save_button = QPushButton("Save set")
        self.save_button.setObjectName("lab_save_set")
        self.import_button = QPushButton("Import CSV or JSONL…")
        self.add_row_button = QPushButton("Add case")
        self.remove_button = QPushButton("Remove cases")
        self.column_name = QLineEdit()
        self.column_name.setPlaceholderText("New column: a variable of the prompt")
        self.column_name.setAccessibleName("New column")
        self.add_column_button = QPushButton("Add column")
        self.add_check_button = QPushButton("Add check ▾")
        self.add_check_button.setObjectName("lab_add_check")
        self.add_check_button.setToolTip("A column of checks that every answer must pass")
        checks = QMenu(self.add_check_button)
        for kind, words in CHECK_WORDS.items():
            action = checks.addAction(words)
            action.setData(CHECK_PREFIX + kind.value)
            action.triggered.connect(lambda _on=False, name=CHECK_PREFIX + kind.value: self._add_named_column(name))
        self.add_check_button.setMenu(checks)
        self.table = CaseTable(0, 0)
        self.table.setObjectName("lab_cases")
        self.table.setAccessibleName("Test cases")
        self.problems = QPlainTextEdit()
        self.problems.setObjectName("lab_set_problems")
        self.problems.setAccessibleName("Problems")
        self.problems.setReadOnly(True)
        self.problems.setMaximumHeight(90)
        self.problems.hide()
        self.unsaved_note = DiscardLine("lab_set_unsaved", "lab_set_discard")
        self.unsaved_note.button.clicked.connect(self._discard)
        self._then: Callable[[], None] | None = None
        self.saved_name = ""
        self._saved: Grid = ((), ())
        top = QHBoxLayout()
        edit = QHBoxLayout()
        for row, widgets in ((top, (self.set_name, self.open_button, self.save_button, self.import_button)),
                             (edit, (self.add_row_button, self.remove_button, self.column_name,
                                     self.add_column_button, self.add_check_button))):
            for widget in widgets:
                row.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.unsaved_note)
        layout.addLayout(edit)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problems)
        self.open_button.clicked.connect(lambda: self.openRequested.emit(self.set_name.currentText().strip()))
        self.save_button.clicked.connect(lambda: self.saveRequested.emit(self.set_name.currentText().strip()))
        self.import_button.clicked.connect(self.importRequested.emit)
        self.add_row_button.clicked.connect(lambda: self.table.insertRow(self.table.rowCount()))
        self.remove_button.clicked.connect(self._remove_rows)
        self.add_column_button.clicked.connect(self._add_column)
        self.column_name.returnPressed.connect(self._add_column)  # Enter adds it, as the button does
        self.set_cases([])
        self._saved = self.grid()
        model = self.table.model()
        for changed in (self.table.itemChanged, model.rowsInserted, model.rowsRemoved, model.columnsInserted,
                        model.columnsRemoved, model.headerDataChanged, self.set_name.currentTextChanged):
            changed.connect(lambda *_args: self.tableChanged.emit())

    def set_names(self, names: list[str]) -> None:
        """Offer the saved sets (keeping the name typed)."""
        current = self.set_name.currentText()
        self.set_name.blockSignals(True)
        self.set_name.clear()
        self.set_name.addItems(names)
        self.set_name.setCurrentText(current)
        self.set_name.blockSignals(False)

    def offer(self, name: str, cases: list[LabCase]) -> None:
        """Show the set ``name`` as opened or saved, unless the table has other changes not saved: then it waits
        for Discard changes."""
        typed, problems = self.cases()
        if not self.unsaved() or (_unkeyed(typed) == _unkeyed(cases) and not problems):  # nothing typed is lost
            self.set_cases(cases, name)
            return
        self.wait(f"open “{name}”", lambda: self.set_cases(cases, name))

    def wait(self, what: str, then: Callable[[], None]) -> None:
        """Say that the unsaved changes hold ``what`` back; Discard changes lets them go and does ``then``."""
        self._then = then
        self.unsaved_note.say(f"Your changes to the test set “{self.saved_name or self.name() or 'without a name'}” "
                              f"are not saved. Save set to keep them, or Discard changes to {what}.")

    def name(self) -> str:
        """The set's name as typed."""
        return self.set_name.currentText().strip()

    def unsaved(self) -> bool:
        """Whether the table holds cases that differ from the set as it was opened or saved last."""
        grid = self.grid()
        return bool(grid[1]) and grid != self._saved

    def grid(self) -> Grid:
        """The header and the rows that are not blank, as typed."""
        rows = (tuple(self._row(r)) for r in range(self.table.rowCount()))
        return tuple(self._header()), tuple(row for row in rows if any(cell.strip() for cell in row))

    def unsaved_json(self) -> str:
        """The table as JSON while it has unsaved changes, else "" (what is kept between sessions)."""
        if not self.unsaved():
            return ""
        header, rows = self.grid()
        return json.dumps({"name": self.name(), "saved_name": self.saved_name, "header": header, "rows": rows},
                          ensure_ascii=False)

    def restore_table(self, kept: str) -> None:
        """Fill the table with the unsaved changes kept by the last session (they show as unsaved)."""
        try:
            fields = json.loads(kept)
            header = [str(h) for h in fields["header"]]
            rows = [[str(cell) for cell in row] for row in fields["rows"]]
            name, saved_name = str(fields.get("name", "")), str(fields.get("saved_name", ""))
        except (ValueError, TypeError, KeyError, AttributeError):
            return
        self.table.clear()
        self.table.setColumnCount(len(header))
        self.table.setHorizontalHeaderLabels(header)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row[: len(header)]):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.set_name.setCurrentText(name)
        self.saved_name = saved_name
        if self.unsaved():
            self.unsaved_note.say(f"Your changes to the test set “{name or 'without a name'}” from the last session "
                                  "are here, not saved yet: Save set to keep them.", discard=False)

    def _discard(self) -> None:
        then, self._then = self._then, None
        self.unsaved_note.hide()
        self._saved = self.grid()  # what is in the table is let go of
        if then is not None:
            then()

    def set_cases(self, cases: list[LabCase], name: str | None = None) -> None:
        """Show ``cases`` (the table's columns follow them) as the set ``name`` holds them (nothing unsaved)."""
        self._then = None
        self.unsaved_note.hide()
        if name is not None:
            self.set_name.setCurrentText(name)
            self.saved_name = name
        header = table_columns(cases)
        self.table.clear()
        self.table.setColumnCount(len(header))
        self.table.setHorizontalHeaderLabels(header)
        self.table.setRowCount(len(cases))
        for r, case in enumerate(cases):
            used: Counter[CheckKind] = Counter()
            checks_by_kind: dict[CheckKind, list[str]] = {}
            for ch in case.checks:
                checks_by_kind.setdefault(ch.kind, []).append(_check_cell(ch.kind, ch.value))
            for c, name_ in enumerate(header):
                if name_ == LABEL_HEADER:
                    text = case.label
                elif name_.startswith(CHECK_PREFIX):
                    kind = CheckKind(name_[len(CHECK_PREFIX):])
                    values = checks_by_kind.get(kind, [])
                    text = values[used[kind]] if used[kind] < len(values) else ""
                    used[kind] += 1
                else:
                    text = case.values.get(name_, "")
                self.table.setItem(r, c, QTableWidgetItem(text))
            head = QTableWidgetItem(str(r + 1))
            head.setData(KEY_ROLE, case.key)
            self.table.setVerticalHeaderItem(r, head)
        if name is not None:
            self._saved = self.grid()

    def set_keys(self, cases: list[LabCase], name: str) -> None:
        """Give the table's rows the keys of ``cases`` as saved in the set ``name`` (one case per row that is not
        blank), leaving what is typed as it is (a check that could not be read stays there to be corrected)."""
        self.saved_name = name
        keyed = iter(cases)
        for r in range(self.table.rowCount()):
            if not any(cell.strip() for cell in self._row(r)):
                continue
            case = next(keyed, None)
            if case is None:
                return
            head = self.table.verticalHeaderItem(r) or QTableWidgetItem(str(r + 1))
            head.setData(KEY_ROLE, case.key)
            self.table.setVerticalHeaderItem(r, head)

    def offer_variables(self, names: list[str]) -> None:
        """An empty table takes the prompt's variables as its columns (a table with cases keeps its own)."""
        if self.table.rowCount() or not names:
            return
        checks = [h for h in self._header() if h.startswith(CHECK_PREFIX)]
        header = [*names, *checks]
        self.table.setColumnCount(len(header))
        self.table.setHorizontalHeaderLabels(header)

    def add_cases(self, cases: list[LabCase]) -> None:
        """Append imported cases to what the table holds."""
        current, _problems = self.cases()
        self.set_cases([*current, *cases])

    def show_problems(self, lines: list[str]) -> None:
        """List problems (plain text), or hide the list when there are none."""
        self.problems.setPlainText("\n".join(lines))
        self.problems.setVisible(bool(lines))

    def _header(self) -> list[str]:
        items = [self.table.horizontalHeaderItem(c) for c in range(self.table.columnCount())]
        return [item.text() if item is not None else "" for item in items]

    def _row(self, r: int) -> list[str]:
        items = [self.table.item(r, c) for c in range(self.table.columnCount())]
        return [item.text() if item is not None else "" for item in items]

    def cases(self) -> tuple[list[LabCase], list[str]]:
        """The cases typed in the table and the problems found, each naming its row (blank rows are skipped)."""
        header = self._header()
        cases: list[LabCase] = []
        problems: list[str] = []
        for r in range(self.table.rowCount()):
            row = self._row(r)
            if not any(cell.strip() for cell in row):
                continue
            buffer = io.StringIO()
            csv.writer(buffer).writerows([header, row])
            result = read_csv(buffer.getvalue())
            for p in result.problems:
                text = f"Column header: {p.message}" if p.line == 1 else f"Case {r + 1}: {p.message}"
                if text not in problems:
                    problems.append(text)
            head = self.table.verticalHeaderItem(r)
            key = str(head.data(KEY_ROLE) or "") if head is not None else ""
            cases.extend(LabCase(c.values, c.checks, c.label, key) for c in result.cases)
        return cases, problems

    def _remove_rows(self) -> None:
        for r in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(r)

    def _add_column(self) -> None:
        name = self.column_name.text().strip()
        if name:
            self._add_named_column(name)

    def _add_named_column(self, name: str) -> None:
        col = self.table.columnCount()
        self.table.insertColumn(col)
        self.table.setHorizontalHeaderItem(col, QTableWidgetItem(name))
        self.column_name.clear()
