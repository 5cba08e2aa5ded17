"""Run setup (versions x models), progress, the verdict and results grid, and the earlier runs of the set."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.core.lab_report import Cell, Run, RunColumn, column_labels, to_run_again, verdict
from desktop_assistant.core.prompts import PromptVersion
from desktop_assistant.ui.lab.grid_model import RunGridModel, row_title, whole_text

DATA = Qt.ItemDataRole.UserRole


class RunInfo(Protocol):
    """What the runs list needs of an earlier run (the controller's ``RunSummary``)."""

    id: int
    set_name: str
    columns: tuple[RunColumn, ...]
    cases: int
    status: str
    created_at: float


def run_line(run: RunInfo) -> str:
    """``Run 4 · 25 Nov 14:02 · Support: version 2, version 3 · 20 cases · cancelled``."""
    when = dt.datetime.fromtimestamp(run.created_at).strftime("%d %b %H:%M")
    names = ", ".join(column_labels(run.columns).values())
    prompts = {c.prompt for c in run.columns if c.prompt}
    if len(prompts) == 1 and not any(prompt in names for prompt in prompts):  # which prompt, when no label says
        names = f"{next(iter(prompts))}: {names}"
    status = "" if run.status == "finished" else f" · {run.status}"
    return f"Run {run.id} · {when} · {names} · {run.cases} cases{status}"


class CellDialog(QDialog):
    """One grid cell read whole: its answer (or error) and its checks, read-only, with Copy."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lab_cell_dialog")
        self.setWindowTitle(title)
        self.text = QPlainTextEdit(text)
        self.text.setObjectName("lab_cell_text")
        self.text.setAccessibleName("Answer")
        self.text.setReadOnly(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText()))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(640, 420)


def _label(name: str, wrap: bool = True) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    return label


class RunPanel(QWidget):
    """Versions and models to run, the grid and its controls.

    Signals:
        runRequested(list, list): version numbers and models chosen.
        batchRequested(list, list): the same, sent through the Batch API at half price.
        cancelRequested() / retryRequested(): stop the run; run failed and missing cells again.
        exportRequested(str): ``csv`` or ``jsonl``.
        openRunRequested(int) / compareRequested(int): an earlier run to show, or to compare with.
        choiceChanged(): a version or a model was ticked or unticked (the estimate is worked out again).
    """

    runRequested = Signal(list, list)
    batchRequested = Signal(list, list)
    cancelRequested = Signal()
    retryRequested = Signal()
    exportRequested = Signal(str)
    openRunRequested = Signal(int)
    compareRequested = Signal(int)
    choiceChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.versions = QListWidget()
        self.versions.setObjectName("lab_run_versions")
        self.versions.setAccessibleName("Versions to run (one or two)")
        self.models = QListWidget()
        self.models.setObjectName("lab_run_models")
        self.models.setAccessibleName("Models to run")
        for w in (self.versions, self.models):
            w.setMaximumHeight(110)
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("lab_run")
        self.batch_button = QPushButton("Send as a batch (half price)")
        self.batch_button.setObjectName("lab_batch")
        self.batch_button.setToolTip("Through the Batch API: half the price, answers within 24 hours. The file "
                                     "uploaded for it is deleted from the server once the answers are collected.")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("lab_cancel")
        self.cancel_button.setEnabled(False)
        self.retry_button = QPushButton("Run failed cells again")
        self.retry_button.setObjectName("lab_retry")
        self._running = False
        self._again_quote: tuple[int, int, str] = (0, 0, "")  # failed, not run, the most they would cost
        self._in_batch = False
        self.csv_button = QPushButton("Export CSV…")
        self.jsonl_button = QPushButton("Export JSONL…")
        self.quote = _label("lab_quote")
        self.unsaved_note = _label("lab_run_unsaved")
        self.unsaved_note.hide()
        self.progress = QProgressBar()
        self.progress.setObjectName("lab_progress")
        self.progress.setAccessibleName("Run progress")
        self.progress.hide()  # until there is a run to count (empty, it looked like a text field)
        self.verdict = _label("lab_verdict")
        self.grid_model = RunGridModel()
        self.grid = QTableView()
        self.grid.setObjectName("lab_grid")
        self.grid.setAccessibleName("Results")
        self.grid.setModel(self.grid_model)
        self.grid.setWordWrap(True)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.doubleClicked.connect(self.read_cell)
        self.cell_dialog: CellDialog | None = None
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.grid.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.runs = QListWidget()
        self.runs.setObjectName("lab_runs")
        self.runs.setAccessibleName("Earlier runs")
        self.open_button = QPushButton("Open")
        self.compare_button = QPushButton("Compare with this run")
        self.compare_button.setObjectName("lab_compare")
        self.regressions = _label("lab_regressions")

        setup = QHBoxLayout()
        for heading, choices in (("Versions to run (one or two)", self.versions), ("Models", self.models)):
            column = QVBoxLayout()
            title = QLabel(heading)
            title.setBuddy(choices)
            column.addWidget(title)
            column.addWidget(choices, 1)
            setup.addLayout(column, 1)
        buttons = QVBoxLayout()
        for b in (self.run_button, self.batch_button, self.cancel_button, self.retry_button, self.csv_button,
                  self.jsonl_button):
            buttons.addWidget(b)
        setup.addLayout(buttons)
        main = QWidget()
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(0, 0, 0, 0)
        main_layout.addLayout(setup)
        for shown in (self.unsaved_note, self.quote, self.progress, self.verdict):
            main_layout.addWidget(shown)
        main_layout.addWidget(self.grid, 1)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        self.runs_heading = QLabel("Earlier runs")
        self.runs_heading.setObjectName("lab_runs_heading")
        side_layout.addWidget(self.runs_heading)
        side_layout.addWidget(self.runs, 1)
        side_buttons = QHBoxLayout()
        side_buttons.addWidget(self.open_button)
        side_buttons.addWidget(self.compare_button)
        side_layout.addLayout(side_buttons)
        side_layout.addWidget(self.regressions)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(main)
        splitter.addWidget(side)
        splitter.setSizes([760, 300])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        for choices in (self.versions, self.models):
            choices.itemChanged.connect(lambda _item: self.choiceChanged.emit())
        self.run_button.clicked.connect(self._run)
        self.batch_button.clicked.connect(
            lambda: self.batchRequested.emit(self.chosen_versions(), self.chosen_models()))
        self.cancel_button.clicked.connect(self.cancelRequested.emit)
        self.retry_button.clicked.connect(self.retryRequested.emit)
        self.csv_button.clicked.connect(lambda: self.exportRequested.emit("csv"))
        self.jsonl_button.clicked.connect(lambda: self.exportRequested.emit("jsonl"))
        self.runs.itemSelectionChanged.connect(self._update_run_buttons)
        self._update_run_buttons()
        self.open_button.clicked.connect(lambda: self._with_run(self.openRunRequested.emit))
        self.compare_button.clicked.connect(lambda: self._with_run(self.compareRequested.emit))
        self.set_run(None)

    # -- setup ----------------------------------------------------------------------------------------------

    def set_versions(self, versions: Sequence[PromptVersion]) -> None:
        """Offer the versions of the current prompt (the newest is ticked)."""
        self.versions.clear()
        for v in reversed(versions):
            item = QListWidgetItem(v.label + (f" · {v.note}" if v.note else ""))
            item.setData(DATA, v.version)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if v is versions[-1] else Qt.CheckState.Unchecked)
            self.versions.addItem(item)

    def set_models(self, models: Sequence[str], ticked: Sequence[str] = ()) -> None:
        """Offer ``models`` (ticking ``ticked``; the ticks already made are kept)."""
        keep = set(self.chosen_models()) | set(ticked)
        self.models.clear()
        for model in dict.fromkeys([*ticked, *models]):
            item = QListWidgetItem(model)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if model in keep else Qt.CheckState.Unchecked)
            self.models.addItem(item)

    def tick(self, widget: QListWidget, texts: Sequence[str]) -> None:
        """Tick exactly the items whose text (models) or version number (versions) is in ``texts``."""
        for i in range(widget.count()):
            item = widget.item(i)
            value = str(item.data(DATA)) if item.data(DATA) is not None else item.text()
            item.setCheckState(Qt.CheckState.Checked if value in texts else Qt.CheckState.Unchecked)

    def chosen_versions(self) -> list[int]:
        """The version numbers ticked, oldest first."""
        ticked = [int(self.versions.item(i).data(DATA)) for i in range(self.versions.count())
                  if self.versions.item(i).checkState() == Qt.CheckState.Checked]
        return sorted(ticked)

    def chosen_models(self) -> list[str]:
        """The models ticked."""
        return [self.models.item(i).text() for i in range(self.models.count())
                if self.models.item(i).checkState() == Qt.CheckState.Checked]

    def note_unsaved(self, name: str | None) -> None:
        """Say that the Prompt page has changes not saved as a version (``name``: its prompt; None: it has none),
        since a run tests saved versions only."""
        if name is None:
            self.unsaved_note.hide()
            return
        self.unsaved_note.setText(f"Your prompt{f' “{name}”' if name else ''} has unsaved changes on the Prompt "
                                  "page: a run tests saved versions only, so save them as a version to run them.")
        self.unsaved_note.show()

    def _run(self) -> None:
        self.runRequested.emit(self.chosen_versions(), self.chosen_models())

    # -- results --------------------------------------------------------------------------------------------

    def read_cell(self, index: QModelIndex) -> None:
        """Open a cell's whole answer in a window of its own (not modal: the grid stays usable)."""
        run = self.grid_model.run
        cell = self.grid_model.cell_at(index.row(), index.column()) if index.isValid() else None
        if run is None or cell is None:
            return
        title = f"{self.grid_model.headerData(index.column(), Qt.Orientation.Horizontal)} · " + row_title(
            run.cases[cell.case], cell.case)
        if self.cell_dialog is not None:  # one at a time
            self.cell_dialog.close()
            self.cell_dialog.deleteLater()
        self.cell_dialog = CellDialog(title, whole_text(cell), self)
        self.cell_dialog.show()

    def set_run(self, run: Run | None) -> None:
        """Show a whole run (None: nothing yet); whether it waits for a batch is said by :meth:`set_in_batch`."""
        self.grid_model.set_run(run)
        self._in_batch = False
        self.regressions.clear()
        self.progress.setVisible(run is not None)
        if run is None:
            self.progress.reset()
            self.progress.setFormat("")
        else:  # its own count, not the one of the run shown before
            self.set_progress(len({(c.column, c.case) for c in run.cells}), len(run.cases) * len(run.columns))
        self._update(run)

    def update_cell(self, run: Run, cell: Cell) -> None:
        """A cell finished: repaint it, the totals and the verdict."""
        self.grid_model.update_run(run, cell)
        self._update(run)

    def _update(self, run: Run | None) -> None:
        self.verdict.setText(verdict(run) if run is not None else "Pick versions and models, then Run.")
        has_run = run is not None
        for b in (self.csv_button, self.jsonl_button):
            b.setEnabled(has_run)
        self._update_again()

    def set_again_quote(self, failed: int, remaining: int, cost: str) -> None:
        """The most running the ``failed`` and ``remaining`` cells again would cost (``at most $0.01``, or "")."""
        self._again_quote = (failed, remaining, cost)
        self._update_again()

    def _update_again(self) -> None:
        """The button to run cells again says which cells it sends and the most they cost; it waits for a run."""
        run = self.grid_model.run
        failed, remaining = (len(p) for p in to_run_again(run)) if run is not None else (0, 0)
        if failed and remaining:
            text = f"Run the {failed} failed and {remaining} remaining cells"
        elif failed:
            text = f"Run the {failed} failed {'cell' if failed == 1 else 'cells'} again"
        elif remaining:
            text = f"Run the {remaining} remaining {'cell' if remaining == 1 else 'cells'}"
        else:
            text = "Run failed cells again"
        cost = self._again_quote[2] if self._again_quote[:2] == (failed, remaining) else ""
        if self._in_batch:  # its cells are on their way
            text, cost = "Cells fill in when the batch is ready", ""
        self.retry_button.setToolTip("Checked against your spending limit before anything is sent. A cell that "
                                     "failed for a lasting reason (a model not available, say) fails again.")
        self.retry_button.setText(f"{text} ({cost})" if cost else text)
        self.retry_button.setEnabled(bool(failed or remaining) and not self._running and not self._in_batch)

    def set_in_batch(self, waiting: bool) -> None:
        """The run shown waits for its batch: its cells say so, and running them again is not offered (it would
        pay for them twice)."""
        self._in_batch = waiting
        self.grid_model.set_in_batch(waiting)
        self._update_again()

    def set_progress(self, done: int, total: int) -> None:
        """Cells finished of all."""
        self.progress.show()
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} of {total} cells")

    def set_running(self, running: bool) -> None:
        """Enable Cancel while a run is in flight (and Run, and running cells again, when none is)."""
        self._running = running
        self.cancel_button.setEnabled(running)
        self.run_button.setEnabled(not running)
        self._update_again()

    def set_runs(self, runs: Sequence[RunInfo], current: int | None = None) -> None:
        """List the earlier runs (the one shown is marked); the heading says of which test set, or that they are
        of every set (before one is opened), each line then naming its set."""
        self.runs.clear()
        sets = {run.set_name for run in runs}
        one = next(iter(sets)) if len(sets) == 1 else None
        self.runs_heading.setText(f"Earlier runs of “{one}”" if one else "Earlier runs (every test set)" if runs
                                  else "Earlier runs")
        for run in runs:
            line = run_line(run) if one else f"{run_line(run)} · {run.set_name}"
            item = QListWidgetItem(line + (" · shown" if run.id == current else ""))
            item.setData(DATA, run.id)
            self.runs.addItem(item)

    def _update_run_buttons(self) -> None:
        """Open and Compare need an earlier run chosen."""
        chosen = bool(self.runs.selectedItems())
        self.open_button.setEnabled(chosen)
        self.compare_button.setEnabled(chosen)

    def _with_run(self, emit: object) -> None:
        item = self.runs.currentItem()
        if item is not None and callable(emit):
            emit(int(item.data(DATA)))
