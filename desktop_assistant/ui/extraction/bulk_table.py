"""The bulk results table: one row per input, one column per field; progress, cost, cancel, retry, export."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.core.extraction import RETRYABLE, Row, RowState, flatten
from desktop_assistant.core.pricing import format_usd
from desktop_assistant.ui import theme

STATUS_COLUMN, PROBLEMS_COLUMN = 1, 2


def row_problem(row: Row) -> str:
    """What went wrong with a row, in one line (empty when it is fine)."""
    o = row.outcome
    if o is None:
        return ""
    if o.error:
        return o.error
    if o.refusal:
        return f"Refused: {o.refusal}"
    return "; ".join(o.errors)


class BulkTable(QWidget):
    """Rows of a bulk run or batch.

    Signals: cancelRequested(), retryRequested(int row), exportRequested(), cancelBatchRequested(),
    checkNowRequested() (ask for the status of the batch shown now, after a failed check).
    """

    cancelRequested = Signal()
    retryRequested = Signal(int)
    exportRequested = Signal()
    showWaitingRequested = Signal()
    earlierRequested = Signal(str)
    cancelBatchRequested = Signal()
    checkNowRequested = Signal()
    rowOpened = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bulk_results")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setObjectName("bulk_progress")
        self.progress.setAccessibleName("Bulk progress")
        self.progress.setValue(0)
        bar.addWidget(self.progress, 1)
        self.cost = QLabel()
        self.cost.setObjectName("bulk_cost")
        self.cost.setTextFormat(Qt.TextFormat.PlainText)
        self.cost.setAccessibleDescription("Cost of this run so far")
        bar.addWidget(self.cost)
        self.cancel_button = self._button("Cancel", "bulk_cancel", self.cancelRequested.emit)
        self.cancel_button.setEnabled(False)
        self.retry_button = self._button("Retry row", "bulk_retry", self._retry_selected)
        self.retry_button.setToolTip("Ask again for the selected rows that failed, were refused, did not match the "
                                     "schema or were cancelled")
        self.retry_button.setEnabled(False)
        self.export_button = self._button("Export…", "bulk_export", self.exportRequested.emit)
        for b in (self.cancel_button, self.retry_button, self.export_button):
            bar.addWidget(b)
        layout.addLayout(bar)
        self.batch_status = QLabel()
        self.batch_status.setObjectName("batch_status")
        self.batch_status.setTextFormat(Qt.TextFormat.PlainText)
        self.batch_status.setWordWrap(True)  # a long status wraps: it never widens the window past the screen
        self.batch_status.hide()
        status_row = QHBoxLayout()
        status_row.addWidget(self.batch_status, 1)
        self.waiting_button = self._button("Show the batch's answers", "batch_show_waiting",
                                           self.showWaitingRequested.emit)
        self.waiting_button.setToolTip("A batch finished while this table held other answers: its answers are "
                                       "saved, and shown here in place of these")
        self.waiting_button.hide()
        status_row.addWidget(self.waiting_button)
        self.check_now_button = self._button("Check now", "batch_check_now", self.checkNowRequested.emit)
        self.check_now_button.setToolTip("Ask for the batch's status now instead of at the next try")
        self.check_now_button.hide()
        status_row.addWidget(self.check_now_button)
        self.cancel_batch_button = self._button("Cancel batch", "batch_cancel", self.cancelBatchRequested.emit)
        self.cancel_batch_button.setToolTip("Ask the API to stop the batch: what it answered so far is collected "
                                            "(and paid for), the rest is not sent")
        self.cancel_batch_button.hide()
        status_row.addWidget(self.cancel_batch_button)
        self.earlier_button = QToolButton()
        self.earlier_button.setObjectName("batch_earlier")
        self.earlier_button.setText("Earlier batches ▾")
        self.earlier_button.setToolTip("Show the answers of a batch collected before (they are saved: nothing is "
                                       "sent or paid again)")
        self.earlier_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.earlier_menu = QMenu(self.earlier_button)
        self.earlier_button.setMenu(self.earlier_menu)
        self.earlier_button.hide()
        status_row.addWidget(self.earlier_button)
        layout.addLayout(status_row)
        self.note = QLabel()  # what became of the last export or batch submission
        self.note.setObjectName("bulk_note")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.hide()
        layout.addWidget(self.note)
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("bulk_table")
        self.table.setAccessibleName("Bulk results")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.itemSelectionChanged.connect(self._update_retry)
        self.table.setToolTip("Double-click a row to see its answer field by field, with what did not match")
        self.table.cellDoubleClicked.connect(lambda row, _column: self.rowOpened.emit(row))
        layout.addWidget(self.table, 1)
        self.columns: list[str] = []
        self.rows: list[Row] = []

    def _button(self, text: str, name: str, slot: object) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAccessibleName(text)
        button.setToolTip(text)
        button.clicked.connect(slot)
        return button

    def set_columns(self, columns: list[str]) -> None:
        """The schema's fields, one column each (after the input, its status and its problems, which stay in
        view however many fields there are)."""
        self.columns = list(columns)
        self.table.setColumnCount(len(self.columns) + 3)
        self.table.setHorizontalHeaderLabels(["Input", "Status", "Problems", *self.columns])
        for row in self.rows:
            self.set_row(row.index, row)

    def set_rows(self, rows: list[Row]) -> None:
        """Start over with ``rows``."""
        self.rows = list(rows)
        self.table.setRowCount(len(rows))
        for row in rows:
            self.set_row(row.index, row)

    def set_row(self, index: int, row: Row) -> None:
        """Show one row's state and values (plain text cells)."""
        if index >= self.table.rowCount():
            return
        if index < len(self.rows):
            self.rows[index] = row
        values = row.outcome.values if row.outcome else None
        cells = [row.label or row.text, row.state.value, row_problem(row), *flatten(values, self.columns)]
        colors = theme.colors()
        ink = (colors.error if row.state in (RowState.FAILED, RowState.INVALID, RowState.REFUSED) else
               colors.muted if row.state is RowState.CANCELLED else None)
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(text[:500])
            if ink is not None and column in (STATUS_COLUMN, PROBLEMS_COLUMN):  # what went wrong stands out
                item.setForeground(QColor(ink))
            self.table.setItem(index, column, item)
        self._update_retry()

    def set_progress(self, done: int, total: int) -> None:
        """``done`` of ``total`` rows finished."""
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} / {total}")

    def set_cost(self, micros: int, unpriced: int) -> None:
        """The run's cost so far."""
        text = f"cost {format_usd(micros)}"
        if unpriced:
            text += f" (+{unpriced} without a price)"
        self.cost.setText(text)

    def set_running(self, running: bool) -> None:
        """Cancel is offered while a run is in flight."""
        self.cancel_button.setEnabled(running)

    def offer_waiting(self, waiting: bool) -> None:
        """Offer (or stop offering) the answers of a batch that finished while the table held others."""
        self.waiting_button.setVisible(waiting)

    def show_note(self, text: str, *, problem: bool = False) -> None:
        """Say what became of an export or a batch submission (empty: nothing); a problem stands out."""
        self.note.setText(text)
        self.note.setProperty("problem", problem)
        self.note.setStyleSheet(f"color: {theme.colors().error}" if problem else "")
        self.note.setVisible(bool(text))

    def show_batch(self, text: str) -> None:
        """The batch's status line."""
        self.batch_status.setText(text)
        self.batch_status.setVisible(bool(text))

    def _update_retry(self) -> None:
        """Retry is offered when a selected row can be asked again (never one on its way or answered)."""
        selected = {i.row() for i in self.table.selectedIndexes()}
        self.retry_button.setEnabled(any(i < len(self.rows) and self.rows[i].state in RETRYABLE for i in selected))

    def set_earlier(self, batches: list[tuple[str, str]]) -> None:
        """Offer the batches collected before, as (id, what the line says); hidden when there are none."""
        self.earlier_menu.clear()
        for job_id, line in batches:
            action = self.earlier_menu.addAction(line)
            action.triggered.connect(lambda _on=False, j=job_id: self.earlierRequested.emit(j))
        self.earlier_button.setVisible(bool(batches))

    def _retry_selected(self) -> None:
        for index in sorted({i.row() for i in self.table.selectedIndexes()}):
            if index < len(self.rows) and self.rows[index].state in RETRYABLE:
                self.retryRequested.emit(index)
