"""What to extract from: pasted text, dropped .txt/.md/.csv files (many files: one input each), or an image.

For bulk runs the inputs are each line, a CSV column, or the dropped files. File contents are read here only
as dropped text (small local files); nothing touches the network.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.core.extraction import (
    TEXT_SUFFIXES,
    csv_column,
    csv_columns,
    decode_text,
    split_lines,
    wordiest_column,
)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif")
SOURCES = ("Each line", "CSV column", "Dropped files")


class _DropText(QPlainTextEdit):
    """The input box: takes dropped files; Tab moves on (as in a form), Ctrl+Enter extracts."""

    filesDropped = Signal(list)
    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Ctrl+Enter: Extract."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.filesDropped.emit(urls)
            event.acceptProposedAction()
        else:
            super().dropEvent(event)


class InputPanel(QWidget):
    """The input box and the run buttons.

    Signals: extractRequested(), bulkRequested(), batchQuoteRequested(), batchRequested().
    """

    extractRequested = Signal()
    bulkRequested = Signal()
    batchQuoteRequested = Signal()
    batchRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("extract_input_panel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = _DropText()
        self.edit.setObjectName("extract_input")
        self.edit.setAccessibleName("Text to extract from")
        self.edit.setPlaceholderText("Paste text, or drop .txt, .md or .csv files (or an image for a vision model)")
        self.edit.setTabChangesFocus(True)
        self.edit.filesDropped.connect(self.add_files)
        self.edit.submitted.connect(self._submit)
        self.edit.textChanged.connect(self._refresh_columns)
        layout.addWidget(self.edit, 1)
        self.note = QLabel()
        self.note.setObjectName("extract_input_note")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        row = QHBoxLayout()
        self.extract_button = self._button("Extract", "extract_button", self.extractRequested.emit)
        self.extract_button.setToolTip("Extract the fields from the text in the box (Ctrl+Enter)")
        row.addWidget(self.extract_button)
        row.addStretch(1)
        layout.addLayout(row)
        row = QHBoxLayout()  # the bulk controls on a row of their own: on one row they were squeezed to "tun in bul"
        source_label = QLabel("Bulk inputs")
        self.source = QComboBox()
        self.source.setObjectName("bulk_source")
        self.source.addItems(SOURCES)
        source_label.setBuddy(self.source)
        self.source.currentTextChanged.connect(lambda _t: self._refresh_columns())
        self.column = QComboBox()
        self.column.setObjectName("csv_column")
        self.column.setAccessibleName("CSV column")
        self.column.hide()
        row.addWidget(source_label)
        row.addWidget(self.source)
        row.addWidget(self.column)
        row.addStretch(1)
        layout.addLayout(row)
        row = QHBoxLayout()
        self.bulk_button = self._button("Run in bulk", "bulk_button", self.bulkRequested.emit)
        self.quote_button = self._button("Batch price", "batch_quote_button", self.batchQuoteRequested.emit)
        self.batch_button = self._button("Submit batch", "batch_button", self.batchRequested.emit)
        self.batch_button.setToolTip("Send every input through the Batch API: half the price, answers within 24 "
                                     "hours. The file uploaded for it is deleted from the server once the answers "
                                     "are collected here.")
        for b in (self.bulk_button, self.quote_button, self.batch_button):
            row.addWidget(b)
        row.addStretch(1)
        layout.addLayout(row)
        self.batch_price = QLabel()
        self.batch_price.setObjectName("batch_price")
        self.batch_price.setTextFormat(Qt.TextFormat.PlainText)
        self.batch_price.setWordWrap(True)
        layout.addWidget(self.batch_price)
        # a price is for the inputs it was worked out for: once they change, it is gone rather than wrong
        for changed in (self.edit.textChanged, self.source.currentIndexChanged, self.column.currentIndexChanged):
            changed.connect(self.batch_price.clear)
        self.files: list[tuple[str, str]] = []  # (file name, text)
        self.image_path: str | None = None

    def _submit(self) -> None:
        if self.extract_button.isEnabled():  # not while a run is on its way
            self.extractRequested.emit()

    def _button(self, text: str, name: str, slot: object) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAccessibleName(text)
        button.setToolTip(text)
        button.clicked.connect(slot)
        return button

    @property
    def text(self) -> str:
        """The text in the box."""
        return self.edit.toPlainText()

    def add_files(self, paths: list[str]) -> None:
        """Read dropped files: one text file fills the box, several become bulk inputs, an image is attached."""
        texts: list[tuple[str, str]] = []
        problems: list[str] = []
        for path in paths:
            name = Path(path).name
            if name.lower().endswith(IMAGE_SUFFIXES):
                self.image_path = path
                continue
            try:
                texts.append((name, decode_text(Path(path).read_bytes(), name)))
            except (OSError, ValueError) as exc:
                problems.append(str(exc) if isinstance(exc, ValueError) else f"{name}: {exc.strerror}")
        if len(texts) == 1:
            self.edit.setPlainText(texts[0][1])
        elif texts:
            self.files = texts
            self.source.setCurrentText("Dropped files")
        parts = [f"{len(self.files)} files ready for bulk" if len(texts) > 1 else ""]
        if self.image_path:
            parts.append(f"image: {Path(self.image_path).name}")
        self.note.setText(" · ".join(p for p in parts + problems if p))

    def clear_image(self) -> None:
        """Forget the attached image."""
        self.image_path = None
        self.note.clear()

    def _refresh_columns(self) -> None:
        is_csv = self.source.currentText() == "CSV column"
        self.column.setVisible(is_csv)
        if is_csv:
            current = self.column.currentText()
            self.column.blockSignals(True)
            self.column.clear()
            columns = csv_columns(self.text)
            self.column.addItems(columns)
            # the column chosen stays; at first, the one with the most words (not an id or a date)
            self.column.setCurrentText(current if current in columns else wordiest_column(self.text))
            self.column.blockSignals(False)

    def bulk_inputs(self) -> tuple[list[str], list[str]]:
        """The bulk inputs and their labels (file names for dropped files)."""
        source = self.source.currentText()
        if source == "Dropped files" and self.files:
            return [t for _n, t in self.files], [n for n, _t in self.files]
        if source == "CSV column" and self.column.currentText():
            try:
                return csv_column(self.text, self.column.currentText()), []
            except ValueError:
                return [], []
        return split_lines(self.text), []


__all__ = ["TEXT_SUFFIXES", "InputPanel"]
