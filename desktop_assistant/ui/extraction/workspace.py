"""The Extract workspace: schema on the left; model, mode, input, result and bulk table on the right.

Widgets emit intents; :class:`ExtractionController` and :class:`BatchController` act (through the runner).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.controllers.batches import BatchController
from desktop_assistant.controllers.drafts import TextKeeper
from desktop_assistant.controllers.endpoint import EndpointController
from desktop_assistant.controllers.extraction import BATCH_SUBMIT_KEY, SCHEMA_REFUSAL, ExtractionController
from desktop_assistant.controllers.runner import OperationRunner
from desktop_assistant.core.extraction import BatchJob, CollectedBatch, Outcome, Row, RowState
from desktop_assistant.core.pricing import format_usd
from desktop_assistant.core.schemas import ExtractionSchema
from desktop_assistant.ui.extraction.bulk_table import BulkTable
from desktop_assistant.ui.extraction.input_panel import InputPanel
from desktop_assistant.ui.extraction.result_view import ResultView
from desktop_assistant.ui.extraction.schema_editor import SchemaEditor

MODE_LABELS = {"structured": "Structured outputs", "function": "Function calling"}
KEPT_INPUT, KEPT_INSTRUCTIONS = "extract.input", "extract.instructions"
KEPT_SCHEMA, KEPT_MODE = "extract.schema", "extract.mode"
"""Names under which the input, the instructions, the schema in use (with the choice it came from) and the mode
are kept between sessions (``TextKeeper``)."""


def price_text(sync: int | None, batch: int | None, count: int) -> str:
    """The batch price beside the synchronous one (worst case: the full output allowance)."""
    if sync is None or batch is None:
        return f"{count} requests · price unknown for this model"
    return (f"{count} requests · at most {format_usd(batch)} with the Batch API (50 % off) · "
            f"at most {format_usd(sync)} run now")


def batch_text(job: BatchJob, rows: Sequence[Row] = ()) -> str:
    """One line on a batch: its status, its request counts and, while it runs, what to expect. Once its ``rows``
    are collected, the counts are theirs (the server's may differ: an unreadable output file, a cancelled batch)."""
    answered, failed, total = job.completed, job.failed, job.total
    if rows and not any(r.state in (RowState.PENDING, RowState.RUNNING) for r in rows):
        answered = sum(1 for r in rows if r.state in (RowState.DONE, RowState.INVALID, RowState.REFUSED))
        failed, total = len(rows) - answered, len(rows)
    text = f"Batch {job.status.replace('_', ' ')} · {answered} answered, {failed} failed of {total}"
    if job.errors:
        text += " · " + " ".join(job.errors)
    if job.check_problem:
        text += f" · the last status check failed ({job.check_problem.rstrip('.')})"
        if job.next_check_at is not None:
            text += f"; trying again at {dt.datetime.fromtimestamp(job.next_check_at).strftime('%H:%M:%S')}"
    elif not job.finished:
        text += (" · usually ready within minutes, at most 24 hours; you can close the app meanwhile: the results "
                 "are collected here when they are ready")
    return text


def earlier_line(job: CollectedBatch) -> str:
    """``07 Dec 14:02 · 120 inputs · gpt-4o-mini · completed``."""
    when = dt.datetime.fromtimestamp(job.created_at).strftime("%d %b %H:%M")
    return f"{when} · {job.inputs:,} input{'s' if job.inputs != 1 else ''} · {job.model} · {job.status}"


class ExtractWorkspace(QWidget):
    """Schema editor, input, result and bulk table, wired to the extraction and batch controllers."""

    def __init__(self, extraction: ExtractionController, batches: BatchController, endpoint: EndpointController,
                 runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("extract")
        self.setAccessibleName("Extract")
        self.extraction, self.batches, self.endpoint, self.runner = extraction, batches, endpoint, runner
        self.schema_editor = SchemaEditor()
        right = QWidget()
        layout = QVBoxLayout(right)
        options = QHBoxLayout()
        self.model = self._combo("Model", "extract_model", options)
        self.model.setEditable(True)
        self.mode = self._combo("Mode", "extract_mode", options)
        for key, label in MODE_LABELS.items():
            self.mode.addItem(label, key)
        self.mode.setItemData(0, "The answer is held to the schema by the API itself (recommended).",
                              Qt.ItemDataRole.ToolTipRole)
        self.mode.setItemData(1, "The model fills the fields as a function's arguments: for models or servers "
                                 "without structured outputs.", Qt.ItemDataRole.ToolTipRole)
        self.mode.setToolTip("How the fields are asked for: structured outputs (recommended) or function calling")
        self.temperature = QDoubleSpinBox()
        self.temperature.setObjectName("extract_temperature")
        self.temperature.setAccessibleName("Temperature")
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(0.0)
        self.max_tokens = QSpinBox()
        self.max_tokens.setObjectName("extract_max_tokens")
        self.max_tokens.setAccessibleName("Max output tokens")
        self.max_tokens.setRange(16, 128_000)
        self.max_tokens.setValue(extraction.max_output_tokens)
        limits = QHBoxLayout()  # a second row: in a narrow window one row cut the model and the mode short
        for label, widget in (("Temperature", self.temperature), ("Max tokens", self.max_tokens)):
            buddy = QLabel(label)
            buddy.setBuddy(widget)
            limits.addWidget(buddy)
            limits.addWidget(widget)
        limits.addStretch(1)
        self.model.setMinimumContentsLength(16)
        self.model.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        layout.addLayout(options)
        layout.addLayout(limits)
        self.instructions = QPlainTextEdit()
        self.instructions.setObjectName("extract_instructions")
        self.instructions.setAccessibleName("Instructions")
        self.instructions.setPlaceholderText("Instructions for the model (optional), e.g. \"Dates as YYYY-MM-DD\", "
                                             "or a prompt from the Lab")
        self.instructions.setTabChangesFocus(True)
        self.instructions.setFixedHeight(self.instructions.fontMetrics().lineSpacing() * 3 + 12)
        self.instructions.setPlainText(extraction.instructions)
        layout.addWidget(self.instructions)
        self.input = InputPanel()
        layout.addWidget(self.input, 1)
        self.refusal = QLabel()
        self.refusal.setObjectName("extract_refusal")
        self.refusal.setTextFormat(Qt.TextFormat.PlainText)
        self.refusal.setWordWrap(True)
        self.refusal.hide()
        layout.addWidget(self.refusal)
        self.results = QTabWidget()
        self.results.setObjectName("extract_results")
        self.result_view = ResultView()
        self.bulk = BulkTable()
        self.results.addTab(self.result_view, "Result")
        self.results.addTab(self.bulk, "Bulk")
        layout.addWidget(self.results, 2)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.schema_editor)
        self.splitter.addWidget(right)
        self.splitter.setSizes([420, 760])
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.addWidget(self.splitter)
        self._export_dialog: QFileDialog | None = None
        self._warned_run = ""  # the run whose results were said to be replaced by a second click
        self._waiting_batch = ""  # a finished batch whose answers wait to be shown (the table held others)
        self._batch_job = ""  # the batch shown in the table while it is on its way (Cancel batch stops it)
        self._cancel_asked = ""  # the batch Cancel batch was clicked for
        self._checked_job = ""  # the batch the status line is about (Check now asks for its status)
        self._line_job: BatchJob | None = None  # the batch the status line is about
        self.set_models(endpoint.models, extraction.model)
        self._connect()
        self._schema_changed(self.schema_editor.schema)
        self.refresh_earlier()

    def keep_with(self, texts: TextKeeper, kept: Mapping[str, str]) -> None:
        """Put back the instructions, input, schema and mode kept from the last session, and keep them from now
        on."""
        if kept.get(KEPT_INPUT) and not self.input.text:
            self.input.edit.setPlainText(kept[KEPT_INPUT])
        if kept.get(KEPT_INSTRUCTIONS) and not self.instructions.toPlainText():
            self.instructions.setPlainText(kept[KEPT_INSTRUCTIONS])
        if kept.get(KEPT_SCHEMA):
            self.schema_editor.restore(kept[KEPT_SCHEMA])
        if self.mode.findData(kept.get(KEPT_MODE)) >= 0:
            self.mode.setCurrentIndex(self.mode.findData(kept.get(KEPT_MODE)))
        self.input.edit.textChanged.connect(texts.follow(KEPT_INPUT, self.input.edit.toPlainText))
        self.instructions.textChanged.connect(texts.follow(KEPT_INSTRUCTIONS, self.instructions.toPlainText))
        keep_schema = texts.follow(KEPT_SCHEMA, self.schema_editor.kept_state)
        self.schema_editor.schemaChanged.connect(keep_schema)
        self.extraction.schemasChanged.connect(keep_schema)  # a schema just saved is chosen as "Saved: …"
        self.mode.currentIndexChanged.connect(texts.follow(KEPT_MODE, lambda: str(self.mode.currentData() or "")))

    def save_shown(self) -> None:
        """Ctrl+S: save the schema in the editor."""
        self.schema_editor.save_button.click()

    def follow_scheme(self) -> None:
        """Draw the bulk rows' colours (and a problem's) for the scheme now in use."""
        self.bulk.set_rows(self.bulk.rows)
        self.bulk.show_note(self.bulk.note.text(), problem=bool(self.bulk.note.property("problem")))

    def _show_instructions(self, text: str) -> None:
        if text != self.instructions.toPlainText():  # set elsewhere (the Lab): show it here
            # as one edit (setPlainText would clear the undo history): Ctrl+Z brings back what was there
            cursor = QTextCursor(self.instructions.document())
            cursor.beginEditBlock()
            cursor.select(QTextCursor.SelectionType.Document)
            cursor.insertText(text)
            cursor.endEditBlock()

    def _combo(self, label: str, name: str, row: QHBoxLayout) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        combo.setAccessibleName(label)
        buddy = QLabel(label)
        buddy.setBuddy(combo)
        row.addWidget(buddy)
        row.addWidget(combo, 1 if name == "extract_model" else 0)
        return combo

    def _run(self, name: str, coro: Coroutine[Any, Any, Any]) -> None:
        self.runner.start_unless_closing(name, coro)  # an intent that reaches the window while it closes: nothing

    def _connect(self) -> None:
        ex, b = self.extraction, self.batches
        self.schema_editor.schemaChanged.connect(self._schema_changed)
        self.schema_editor.saveRequested.connect(lambda n, s: self._run("save schema", ex.save_schema(n, s)))
        self.model.currentTextChanged.connect(self._apply_options)
        self.mode.currentIndexChanged.connect(lambda _i: self._apply_options())
        self.temperature.valueChanged.connect(lambda _v: self._apply_options())
        self.max_tokens.valueChanged.connect(lambda _v: self._apply_options())
        self.instructions.textChanged.connect(lambda: ex.set_instructions(self.instructions.toPlainText()))
        ex.instructionsChanged.connect(self._show_instructions)
        self.input.extractRequested.connect(self.extract)
        self.input.bulkRequested.connect(self.run_bulk)
        self.input.batchQuoteRequested.connect(self.quote_batch)
        self.input.batchRequested.connect(self.submit_batch)
        self.result_view.valuesEdited.connect(self._values_edited)
        self.bulk.cancelRequested.connect(ex.cancel)
        self.bulk.retryRequested.connect(ex.retry_row)
        self.bulk.exportRequested.connect(self.choose_export_file)
        ex.resultReady.connect(self._on_result)
        ex.refused.connect(self._on_refused)
        ex.rowsReset.connect(self._on_rows)
        ex.rowChanged.connect(self.bulk.set_row)
        ex.progress.connect(self.bulk.set_progress)
        ex.costChanged.connect(self.bulk.set_cost)

        ex.runningChanged.connect(self._on_running)
        ex.schemasChanged.connect(self.schema_editor.set_saved)
        b.refused.connect(self._on_refused)
        b.submitFailed.connect(lambda message: self._say_in_bulk(message, problem=True))
        ex.exported.connect(self._on_exported)
        ex.exportFailed.connect(lambda message: self._say_in_bulk(message, problem=True))
        b.quoted.connect(lambda s, q: self.input.batch_price.setText(price_text(s, q, len(self._bulk_inputs()[0]))))
        b.jobChanged.connect(self._on_job)
        self.bulk.cancelBatchRequested.connect(self._cancel_batch)
        self.bulk.checkNowRequested.connect(lambda: self.batches.check_now(self._checked_job))
        self.bulk.rowOpened.connect(self._open_row)
        b.resultsWaiting.connect(self._batch_waiting)
        self.bulk.showWaitingRequested.connect(self._show_waiting_batch)
        b.collected.connect(lambda _job_id: self.refresh_earlier())
        self.bulk.earlierRequested.connect(self._show_earlier_batch)
        self.runner.started.connect(lambda _name: self._refresh_buttons())  # whatever starts or ends, the
        self.runner.finished.connect(lambda _name: self._refresh_buttons())  # buttons say what may start now
        self.endpoint.modelsChanged.connect(lambda models: self.set_models(models, self.extraction.model))

    def set_models(self, models: list[str], current: str) -> None:
        """Offer ``models``, keeping ``current``."""
        self.model.blockSignals(True)
        self.model.clear()
        self.model.addItems(models)
        self.model.setCurrentText(current)
        self.model.blockSignals(False)

    def _apply_options(self, *_args: object) -> None:
        ex = self.extraction
        ex.model = self.model.currentText().strip() or ex.model
        ex.mode = str(self.mode.currentData() or "structured")
        ex.temperature = self.temperature.value()
        ex.max_output_tokens = self.max_tokens.value()

    def _schema_changed(self, schema: ExtractionSchema) -> None:
        self.extraction.set_schema(schema)
        self.bulk.set_columns(self.extraction.columns())  # rows in the table keep the schema they were asked with
        if self.refusal.text().startswith(SCHEMA_REFUSAL) and not self.extraction.problems():
            self.refusal.hide()  # it was about the schema, which is fixed now
        self.result_view.mark_schema_changed()

    def _bulk_inputs(self) -> tuple[list[str], list[str]]:
        return self.input.bulk_inputs()

    # -- intents --------------------------------------------------------------------------------------------

    def _use_typed_json(self) -> bool:
        """JSON typed in the schema box and not applied is used now (as Use this JSON would); False, and said,
        when it cannot be read (nothing is sent)."""
        editor = self.schema_editor
        if editor.json_pending():
            editor.apply_json()
            if editor.json_pending():  # not JSON, or not an object: the schema in use did not change
                self._on_refused("The JSON schema you typed cannot be read, so nothing was sent: "
                                 f"{editor.problems.text()} Fix it and click Use this JSON, or choose a template.")
                return False
        return True

    def extract(self) -> None:
        """Extract from the text in the box (and the dropped image)."""
        self._apply_options()
        self.refusal.hide()
        if not self._use_typed_json():
            return
        self.results.setCurrentWidget(self.result_view)
        if not self.extraction.running:
            self.result_view.show_working()
        self.extraction.start_one(self.input.text, self.input.image_path)

    def _may_replace_results(self) -> bool:
        """Whether the table may be replaced by a new run: nothing in it was paid for, it was exported, or the
        person clicked again after being told (the first click says what would be lost)."""
        ex = self.extraction
        answered = ex.answers_at_stake()
        if not answered or ex.run_id == self._warned_run:
            return True
        self._warned_run = ex.run_id
        self._on_refused(f"The table holds {answered} {'answer' if answered == 1 else 'answers'} not exported, "
                         "which a new run replaces: Export… them first, or click again to replace them.")
        self.results.setCurrentWidget(self.bulk)
        return False

    def run_bulk(self) -> None:
        """Run every bulk input now, a few at a time."""
        self._apply_options()
        self.refusal.hide()
        if not self._use_typed_json():
            return
        if not self.extraction.bulk_running and not self._may_replace_results():
            return
        self.results.setCurrentWidget(self.bulk)
        inputs, labels = self._bulk_inputs()
        if not self.extraction.bulk_running:
            self._line_job = None  # an earlier batch's line does not belong above this run
            self._show_batch_line()
        self.extraction.start_bulk(inputs, labels)

    def quote_batch(self) -> None:
        """Show the batch price beside the synchronous one."""
        self._apply_options()
        if not self._use_typed_json():
            return
        self._run("batch price", self.batches.quote(self._bulk_inputs()[0]))

    def submit_batch(self) -> None:
        """Submit the bulk inputs as a batch."""
        self._apply_options()
        self.refusal.hide()
        if not self._use_typed_json():
            return
        if not self._may_replace_results():
            return
        self.results.setCurrentWidget(self.bulk)
        self.batches.start_submit(self._bulk_inputs()[0])

    def choose_export_file(self) -> None:
        """Ask where to export the table (CSV or JSONL), without a nested event loop."""
        dialog = QFileDialog(self, "Export results", str(Path.home() / "extraction.csv"),
                             "CSV files (*.csv);;JSON lines (*.jsonl)")
        dialog.setObjectName("extract_export_dialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.fileSelected.connect(lambda path: self._run("export results", self.extraction.export(path)))
        self._export_dialog = dialog
        dialog.open()

    # -- controller results ---------------------------------------------------------------------------------

    def _on_result(self, outcome: Outcome) -> None:
        self.result_view.show_outcome(outcome)

    def _values_edited(self, values: dict[str, Any]) -> None:
        checked = self.extraction.edit_values(values)
        self.result_view.show_edited(checked.values if checked.values is not None else values, checked.errors)

    def _on_job(self, job: BatchJob) -> None:
        """A batch's latest status, said above the table when the table shows its rows (or no rows at all);
        Cancel batch is offered while the batch shown in the table is on its way."""
        ex = self.extraction
        if ex.rows and ex.run_id != job.run_id:  # another run's rows are shown: the line is about them
            return
        self._line_job = job
        self._show_batch_line()

    def _show_batch_line(self) -> None:
        """The status line, Cancel batch and Check now, for the batch whose rows the table shows (else none)."""
        job, ex = self._line_job, self.extraction
        if job is not None and ex.rows and ex.run_id != job.run_id:
            job = self._line_job = None
        self.bulk.show_batch(batch_text(job, ex.rows if ex.run_id == job.run_id else ()) if job else "")
        pending = job is not None and not job.finished and job.status != "cancelling" and ex.run_id == job.run_id
        self._batch_job = job.id if job is not None and pending else ""
        self.bulk.cancel_batch_button.setVisible(pending)
        self.bulk.cancel_batch_button.setEnabled(self._batch_job != self._cancel_asked)  # once: the line follows
        self._checked_job = job.id if job is not None else ""
        self.bulk.check_now_button.setVisible(job is not None and bool(job.check_problem) and not job.finished)

    def _open_row(self, index: int) -> None:
        """Show one bulk row's answer in the Result tab (its fields, or what went wrong)."""
        rows = self.extraction.rows
        outcome = rows[index].outcome if 0 <= index < len(rows) else None
        if outcome is not None:
            self.result_view.show_outcome(outcome)
            self.results.setCurrentWidget(self.result_view)

    def _cancel_batch(self) -> None:
        if self._batch_job:
            self._cancel_asked = self._batch_job
            self.bulk.cancel_batch_button.setEnabled(False)
            self.batches.cancel(self._batch_job)

    def _batch_waiting(self, job_id: str) -> None:
        """A batch finished while the table held other answers at stake: its answers are saved, and wait."""
        self._waiting_batch = job_id
        self.bulk.offer_waiting(True)

    def refresh_earlier(self) -> None:
        """Offer the batches collected before (read from the store)."""
        async def read() -> None:
            jobs = await self.batches.earlier()
            self.bulk.set_earlier([(j.id, earlier_line(j)) for j in jobs])
        self._run("earlier batches", read())

    def _show_earlier_batch(self, job_id: str) -> None:
        """Show a batch collected before, unless the table holds answers not yet exported (asked once)."""
        if self._may_replace_results():
            self._run("show batch results", self.batches.show_collected(job_id))

    def _show_waiting_batch(self) -> None:
        if self._waiting_batch and self._may_replace_results():
            job_id, self._waiting_batch = self._waiting_batch, ""
            self.bulk.offer_waiting(False)
            self._run("show batch results", self.batches.show_collected(job_id))

    def _say_in_bulk(self, message: str, *, problem: bool = False) -> None:
        self.bulk.show_note(message, problem=problem)
        self.results.setCurrentWidget(self.bulk)

    def _on_exported(self, path: str) -> None:
        count = len(self.extraction.rows)
        self._say_in_bulk(f"Exported {count} {'row' if count == 1 else 'rows'} to {path}")

    def _on_refused(self, message: str) -> None:
        if self.result_view.status.property("state") == "running":  # nothing was sent after all
            self.result_view.status.setText("")
        self.refusal.setText(message)
        self.refusal.show()

    def _on_rows(self, rows: list[Any]) -> None:
        self.bulk.show_note("")  # what was said of the last export or submission was about other rows
        self.bulk.set_rows(rows)
        self.bulk.set_columns(self.extraction.columns())
        self._show_batch_line()  # the line agrees with the rows now shown (or goes, when they are another run's)
        self.results.setCurrentWidget(self.bulk)

    def _on_running(self, running: bool) -> None:
        """While a run is in flight, nothing starts another (each would be paid for); Cancel stops it."""
        self.bulk.set_running(running)
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        """Extract, Run in bulk and Submit batch are off while any of them is on its way."""
        ex = self.extraction
        busy = ex.running or ex.bulk_running or self.runner.find(BATCH_SUBMIT_KEY) is not None
        for button in (self.input.extract_button, self.input.bulk_button, self.input.batch_button):
            button.setEnabled(not busy)
