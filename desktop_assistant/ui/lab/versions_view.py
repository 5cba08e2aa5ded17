"""A prompt's versions: the list, a side-by-side diff of two of them, and restore."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.core.prompts import PromptVersion
from desktop_assistant.core.text_diff import DiffRow, RowKind, diff_versions, summary

_TINTS = {RowKind.CHANGED: QColor(210, 153, 34, 50), RowKind.ADDED: QColor(46, 160, 67, 50),
          RowKind.REMOVED: QColor(218, 54, 51, 50)}


def version_line(v: PromptVersion) -> str:
    """``v3 · gpt-4o-mini · note``."""
    return f"v{v.version} · {v.model}" + (f" · {v.note}" if v.note else "")


class VersionsView(QWidget):
    """Versions list, diff and restore.

    Signals:
        restoreRequested(str, int): save a copy of this version as the newest.
        openRequested(object): load this version into the editor.
    """

    restoreRequested = Signal(str, int)
    openRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = ""
        self.versions: list[PromptVersion] = []
        self.list = QListWidget()
        self.list.setObjectName("lab_versions")
        self.list.setAccessibleName("Versions")
        self.against = QComboBox()
        self.against.setObjectName("lab_diff_against")
        self.against.setAccessibleName("Compare with")
        self.summary = QLabel()
        self.summary.setObjectName("lab_diff_summary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("lab_diff")
        self.table.setAccessibleName("Differences")
        self.table.setHorizontalHeaderLabels(["", "Before", "", "After"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for col, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Stretch) * 2):
            header.setSectionResizeMode(col, mode)
        self.open_button = QPushButton("Edit this version")
        self.restore_button = QPushButton("Restore as newest")
        self.restore_button.setObjectName("lab_restore")
        top = QHBoxLayout()
        top.addWidget(QLabel("Compare with"))
        top.addWidget(self.against, 1)
        top.addWidget(self.open_button)
        top.addWidget(self.restore_button)
        right = QVBoxLayout()
        right.addLayout(top)
        right.addWidget(self.summary)
        right.addWidget(self.table, 1)
        layout = QHBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(right, 4)
        self.list.currentRowChanged.connect(self._selected)
        self.against.currentIndexChanged.connect(lambda _i: self.show_diff())
        self.restore_button.clicked.connect(self._restore)
        self.open_button.clicked.connect(self._open)

    def set_versions(self, name: str, versions: list[PromptVersion]) -> None:
        """Show the versions of ``name``, newest first and selected."""
        self.name, self.versions = name, list(versions)
        self.list.blockSignals(True)
        self.list.clear()
        for v in reversed(versions):
            item = QListWidgetItem(version_line(v))
            item.setData(Qt.ItemDataRole.UserRole, v.version)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.against.blockSignals(True)
        self.against.clear()
        for v in versions:
            self.against.addItem(f"version {v.version}", v.version)
        self.against.blockSignals(False)
        if versions:
            self.list.setCurrentRow(0)
            self._selected(0)
        else:
            self.table.setRowCount(0)
            self.summary.clear()

    def selected(self) -> PromptVersion | None:
        """The version selected in the list."""
        item = self.list.currentItem()
        if item is None:
            return None
        number = item.data(Qt.ItemDataRole.UserRole)
        return next((v for v in self.versions if v.version == number), None)

    def _selected(self, _row: int) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        earlier = [v for v in self.versions if v.version < chosen.version]
        base = earlier[-1] if earlier else chosen
        self.against.blockSignals(True)
        self.against.setCurrentIndex(self.against.findData(base.version))
        self.against.blockSignals(False)
        self.show_diff()

    def show_diff(self) -> None:
        """The diff from the "compare with" version to the selected one."""
        chosen = self.selected()
        base = next((v for v in self.versions if v.version == self.against.currentData()), None)
        if chosen is None or base is None:
            return
        diff = diff_versions(base, chosen)
        rows: list[DiffRow | str] = ["System prompt", *diff.system_rows, "User template", *diff.template_rows]
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            if isinstance(row, str):
                self._put(r, ["", row, "", ""], None)
                continue
            self._put(r, ["" if row.left_number is None else str(row.left_number), row.left,
                          "" if row.right_number is None else str(row.right_number), row.right], _TINTS.get(row.kind))
        text = "No differences." if diff.identical else summary([*diff.system_rows, *diff.template_rows])
        if diff.settings:
            text += " " + "; ".join(diff.settings) + "."
        self.summary.setText(f"Version {base.version} → version {chosen.version}: {text}")

    def _put(self, row: int, texts: list[str], tint: QColor | None) -> None:
        for col, text in enumerate(texts):
            item = QTableWidgetItem(text)
            if tint is not None:
                item.setBackground(QBrush(tint))
            self.table.setItem(row, col, item)

    def _open(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.openRequested.emit(chosen)

    def _restore(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.restoreRequested.emit(self.name, chosen.version)
