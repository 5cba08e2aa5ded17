"""The results grid of a prompt lab run: one row per case (and a totals row), one column per (version, model).

Every string shown is plain text (the table's default delegate never interprets markup); the tooltip of a cell
holds the whole output escaped, since tooltips guess rich text.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from desktop_assistant.core.lab_checks import describe
from desktop_assistant.core.lab_report import Cell, CellStatus, ColumnTotals, Run, column_labels, totals
from desktop_assistant.core.lab_testset import LabCase
from desktop_assistant.core.pricing import format_usd
from desktop_assistant.ui.tips import plain_tip

EXCERPT_CHARS = 90
ROW_CHARS = 32
_TINTS = {CellStatus.PASSED: QColor(46, 160, 67, 40), CellStatus.FAILED: QColor(218, 54, 51, 40),
          CellStatus.ERROR: QColor(219, 109, 40, 60)}
Index = QModelIndex | QPersistentModelIndex


def excerpt(text: str) -> str:
    """The first words of an output on one line."""
    line = " ".join(text.split())
    return line if len(line) <= EXCERPT_CHARS else line[: EXCERPT_CHARS - 1] + "…"


def _cost(micros: int | None) -> str:
    return "no price" if micros is None else format_usd(micros)


def cell_text(cell: Cell | None, pending: str = "") -> str:
    """What a grid cell shows: an output excerpt, then check marks, tokens, cost and latency (a cell without
    a result: ``pending``, e.g. "running…", or "not run")."""
    if cell is None:
        return pending or "not run"
    if cell.error is not None:
        return f"Error: {cell.error}"
    marks = "".join("✓" if r.passed else "✗" for r in cell.checks)
    facts = [marks] if marks else []
    facts.append(f"{cell.input_tokens:,} tokens in, {cell.output_tokens:,} out")
    facts.append(_cost(cell.cost_micros))
    if cell.latency_ms is not None:
        facts.append(_seconds(cell.latency_ms))
    return f"{excerpt(cell.output) or '(empty)'}\n{' · '.join(facts)}"


def _seconds(ms: float) -> str:
    """A time in the unit a person reads: "0.8 s", "12 s"."""
    return f"{ms / 1000:.1f} s" if ms < 10_000 else f"{ms / 1000:,.0f} s"


def totals_text(t: ColumnTotals) -> str:
    """The totals under a column: pass rate, cost (total and per case), median and p90 latency."""
    rate = "no checks" if t.pass_rate is None else f"{t.checks_passed}/{t.checks_total} checks ({t.pass_rate:.0%})"
    per_case = t.cost_per_case_micros
    if t.priced:
        cost = f"{format_usd(t.cost_micros)} ({_cost(per_case)} a case)"
    else:  # nothing answered (failed requests cost nothing), or answered by a model without a price
        cost = "no price" if t.unpriced else "no cost"
    if t.median_latency_ms is None:
        latency = "latency —"
    else:
        latency = (f"answers in {_seconds(t.median_latency_ms)} typically, "
                   f"{_seconds(t.p90_latency_ms or 0)} at the slowest 1 in 10")
    return f"{rate}\n{cost} · {latency}"


def whole_text(cell: Cell) -> str:
    """A cell's whole answer (or error), then a line per check."""
    lines = [cell.error or cell.output]
    lines += [f"{'✓' if r.passed else '✗'} {describe(r.check)}: {r.reason}" for r in cell.checks]
    return "\n".join(lines)


def row_title(case: LabCase, index: int) -> str:
    """A row's header: its number and the start of its first value (and its label): ``3. Can I get a re… (refund)``."""
    first = next(iter(case.values.values()), "")
    start = " ".join(first.split())
    start = start if len(start) <= ROW_CHARS else start[: ROW_CHARS - 1] + "…"
    return f"{index + 1}. {start}" + (f" ({case.label})" if case.label else "")


def _tooltip(cell: Cell | None) -> str:
    if cell is None:
        return ""
    body = html.escape(whole_text(cell)[:4000])
    return f"<p style='white-space:pre-wrap'>{body}</p><p>Double-click to read all of it.</p>"


class RunGridModel(QAbstractTableModel):
    """A :class:`Run` as a table model; :meth:`set_run` replaces it, :meth:`update_cell` repaints one cell."""

    def __init__(self) -> None:
        super().__init__()
        self.run: Run | None = None
        self._labels: list[str] = []
        self._pending: dict[tuple[int, int], str] = {}  # (column, case) of the run going: "waiting…", "running…"
        self._absent = ""  # what a cell without a result says besides "not run" ("in the batch…")

    def set_run(self, run: Run | None) -> None:
        """Show ``run`` (None: an empty grid)."""
        self.beginResetModel()
        self.run = run
        self._labels = list(column_labels(run.columns).values()) if run else []
        self._pending = {}
        self._absent = ""
        self.endResetModel()

    def set_in_batch(self, waiting: bool) -> None:
        """The run shown waits for its batch: its cells without a result say so instead of "not run"."""
        self._absent = "in the batch…" if waiting else ""
        self._repaint_all()

    def set_queued(self, pairs: list[tuple[int, int]]) -> None:
        """These (column, case) cells wait to be sent ([]: no cell waits or runs any more)."""
        self._pending = {(ci, k): "waiting…" for ci, k in pairs}
        self._repaint_all()

    def set_started(self, column: int, case: int) -> None:
        """The request of this cell is on its way."""
        self._pending[column, case] = "running…"
        self.dataChanged.emit(self.index(case, column), self.index(case, column))

    def _repaint_all(self) -> None:
        if self.rowCount() and self.columnCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    def update_run(self, run: Run, cell: Cell) -> None:
        """``run`` gained ``cell``: repaint it and the totals row."""
        self.run = run
        if cell.column not in run.columns:
            return
        col = run.columns.index(cell.column)
        self._pending.pop((col, cell.case), None)
        self.dataChanged.emit(self.index(cell.case, col), self.index(cell.case, col))
        last = self.rowCount() - 1
        self.dataChanged.emit(self.index(last, col), self.index(last, col))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        """Cases plus the totals row."""
        return 0 if self.run is None or parent.isValid() else len(self.run.cases) + 1

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """One per (version, model)."""
        return 0 if self.run is None or parent.isValid() else len(self.run.columns)

    def cell_at(self, row: int, column: int) -> Cell | None:
        """The cell under (row, column), or None (not run, or the totals row)."""
        if self.run is None or row >= len(self.run.cases):
            return None
        return self.run.cell(self.run.columns[column], row)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Plain text, a tooltip and a tint per status."""
        run = self.run
        if run is None or not index.isValid():
            return None
        row, col = index.row(), index.column()
        column = run.columns[col]
        if row == len(run.cases):
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
                return totals_text(totals(run, column))
            return None
        cell = run.cell(column, row)
        pending = self._pending.get((col, row), "") or (self._absent if cell is None else "")
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(cell, pending)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(cell)
        if role == Qt.ItemDataRole.BackgroundRole:
            tint = _TINTS.get(run.status(column, row))
            return QBrush(tint) if tint is not None else None
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{pending or run.status(column, row).value}: {cell_text(cell, pending)}"
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Column labels on top, the start of each case on the side (the last row is the totals); a case's header
        tooltip holds all its values."""
        if self.run is None:
            return None
        if orientation == Qt.Orientation.Horizontal:
            ok = role == Qt.ItemDataRole.DisplayRole and section < len(self._labels)
            return self._labels[section] if ok else None
        if section >= len(self.run.cases):
            return "Totals" if role == Qt.ItemDataRole.DisplayRole else None
        case = self.run.cases[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return row_title(case, section)
        if role == Qt.ItemDataRole.ToolTipRole:
            values = "\n".join(f"{name}: {value}" for name, value in case.values.items())
            return plain_tip(values[:4000])
        return None
