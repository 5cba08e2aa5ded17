"""The extraction workflow: one run, bulk runs with bounded concurrency, cancel, retry, cost; saved schemas.

Every call is checked against the spending limit before it is sent (a bulk run as a whole, with
``UsageController.check_total``) and recorded in the ledger with feature ``extraction`` and ``job`` = the run id.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from desktop_assistant.controllers.endpoint import EndpointController
from desktop_assistant.controllers.images import data_url, decode, normalise
from desktop_assistant.controllers.runner import BusyCount, OperationRunner
from desktop_assistant.controllers.usage import UsageController
from desktop_assistant.core.catalog import lookup
from desktop_assistant.core.errors import ErrorKind, UserFacingError
from desktop_assistant.core.extraction import RETRYABLE, Outcome, Row, RowState, export_csv, export_jsonl, outcome_of
from desktop_assistant.core.models import LedgerEntry
from desktop_assistant.core.requests import EXTRACTION_MAX_OUTPUT, extraction_body, extraction_messages
from desktop_assistant.core.schema_templates import TEMPLATES
from desktop_assistant.core.schemas import (
    SCHEMA_NAME_PATTERN,
    ExtractionSchema,
    build_model,
    check_fields,
    check_schema,
    validate_values,
)
from desktop_assistant.core.tokens import estimate_prompt_tokens
from desktop_assistant.services import extraction_store
from desktop_assistant.services.atomic import write_atomically
from desktop_assistant.services.store import Store

if TYPE_CHECKING:
    from pydantic import BaseModel

MODES = ("structured", "function")
BULK_KEY = "extraction-bulk"
BATCH_SUBMIT_KEY = "batch-submit"  # BatchController's submit: a bulk run waits for it, and it for a bulk run
ONE_KEY = "extraction"
SCHEMA_REFUSAL = "The schema cannot be used yet: "  # how a refusal for the schema's problems begins


@dataclass(frozen=True)
class Prepared:
    """A request ready to send, and its worst-case prompt."""

    body: dict[str, Any]
    prompt_tokens: int


class ExtractionController(QObject):
    """Turns text into validated fields.

    Signals:
        resultReady(object): the :class:`Outcome` of a single run.
        runningChanged(bool): a single run or a bulk run is in flight.
        rowsReset(list): the rows of a new bulk run (or of a batch's results).
        rowChanged(int, object): row index, its :class:`Row`.
        progress(int, int): rows finished, rows in all.
        costChanged(int, int): micro-dollars spent by the current run, calls without a price.
        refused(str): nothing was sent: why (an invalid schema, the spending limit).
        schemasChanged(dict): saved schemas by name.
        exported(str): the results file written.
        exportFailed(str): the results file could not be written: why, in plain words.
        instructionsChanged(str): the instructions sent with every extraction changed.
    """

    resultReady = Signal(object)
    runningChanged = Signal(bool)
    rowsReset = Signal(list)
    rowChanged = Signal(int, object)
    progress = Signal(int, int)
    costChanged = Signal(int, int)
    refused = Signal(str)
    schemasChanged = Signal(object)  # object: a dict would arrive as a QVariantMap, its keys sorted
    exported = Signal(str)
    exportFailed = Signal(str)
    instructionsChanged = Signal(str)

    def __init__(self, store: Store, endpoint: EndpointController, runner: OperationRunner, usage: UsageController,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store, self._endpoint, self._runner, self._usage = store, endpoint, runner, usage
        self.model = endpoint.settings.default_model
        self.mode = "structured"
        self.schema: ExtractionSchema = TEMPLATES["Task"]
        self.temperature: float | None = 0.0
        self.max_output_tokens = EXTRACTION_MAX_OUTPUT
        self.concurrency = 4
        self.instructions = ""
        self.rows: list[Row] = []
        self.rows_schema: dict[str, Any] = {}  # the JSON schema the rows were asked with ({}: none yet)
        self.rows_schema_name = ""  # and its name
        self.run_id = ""
        self.saved: dict[str, dict[str, Any]] = {}
        self.exported_run_id = ""  # the run whose table was last exported
        self._busy = BusyCount(self.runningChanged.emit)

    # -- schema ---------------------------------------------------------------------------------------------

    def set_instructions(self, text: str) -> None:
        """Use ``text`` as the instructions sent with every extraction (empty: none)."""
        if text != self.instructions:
            self.instructions = text
            self.instructionsChanged.emit(text)

    def set_schema(self, schema: ExtractionSchema) -> None:
        """Use ``schema`` for the next runs."""
        self.schema = schema

    def problems(self) -> list[str]:
        """Why the current schema or settings cannot be sent (empty: ready)."""
        problems = check_schema(self.schema.json_schema())
        if self.schema.raw is None:  # built in the form: what the form points out holds the run back too
            problems = list(dict.fromkeys([*check_fields(self.schema.fields), *problems]))
        if not SCHEMA_NAME_PATTERN.match(self.schema.name):
            problems.insert(0, "The schema's name may use letters, digits, _ and - only (at most 64).")
        if self.mode not in MODES:
            problems.append(f"Unknown mode {self.mode!r}.")
        return problems

    async def load_schemas(self) -> dict[str, dict[str, Any]]:
        """Read the saved schemas and publish them."""
        self.saved = await self._store.read(extraction_store.list_schemas)
        self.schemasChanged.emit(dict(self.saved))
        return self.saved

    async def save_schema(self, name: str, schema: dict[str, Any]) -> None:
        """Save ``schema`` as ``name`` (replacing one of that name)."""
        await self._store.write(lambda c: extraction_store.save_schema(c, name, schema))
        await self.load_schemas()

    async def delete_schema(self, name: str) -> None:
        """Forget a saved schema."""
        await self._store.write(lambda c: extraction_store.delete_schema(c, name))
        await self.load_schemas()

    # -- requests -------------------------------------------------------------------------------------------

    def _checked_schema(self) -> tuple[dict[str, Any], type[BaseModel]]:
        problems = self.problems()
        if problems:
            raise UserFacingError(ErrorKind.BAD_INPUT, SCHEMA_REFUSAL + " ".join(problems))
        schema = self.schema.json_schema()
        return schema, build_model(schema, self.schema.name)

    def prepare(self, text: str, schema: dict[str, Any], image_url: str | None = None,
                name: str | None = None) -> Prepared:
        """The request body for one input and its prompt tokens (counted exactly as sent); ``name``: of a schema
        other than the editor's (then without the editor's description)."""
        messages = extraction_messages(text, image_url, self.instructions)
        body = extraction_body(self.model, messages, schema, mode=self.mode, name=name or self.schema.name,
                               description="" if name else self.schema.description,
                               max_output_tokens=self.max_output_tokens, temperature=self.temperature)
        estimate = estimate_prompt_tokens(messages, self.model, tools=body.get("tools"),
                                          response_format=body.get("response_format"))
        return Prepared(body, estimate.tokens)

    async def _call(self, prepared: Prepared, model_cls: type[BaseModel], job: str) -> Outcome:
        reply = await self._endpoint.gateway.structured(prepared.body)
        u = reply.usage
        cost = self._usage.prices.cost_micros(self.model, u.input_tokens, u.cached_input_tokens, u.output_tokens)
        await self._store.record_usage(LedgerEntry("extraction", self.model, u, cost, created_at=time.time(),
                                                   job=job))
        outcome = outcome_of(model_cls, content=reply.content, refusal=reply.refusal, arguments=reply.arguments,
                             finish_reason=reply.finish_reason, mode=self.mode)
        outcome.usage, outcome.cost_micros = u, cost
        return outcome

    @property
    def running(self) -> bool:
        """A run is in flight."""
        return self._busy.active

    # -- one run --------------------------------------------------------------------------------------------

    def start_one(self, text: str, image_path: str | None = None) -> None:
        """Run one extraction under the runner (its outcome arrives as ``resultReady``); a second click while
        it is on its way starts nothing (one request, one charge)."""
        if self._runner.find(ONE_KEY) is not None:
            return
        self._runner.start("extract", self.run_one(text, image_path=image_path), key=ONE_KEY)

    async def run_one(self, text: str, image_url: str | None = None, *,
                      image_path: str | None = None) -> Outcome | None:
        """Extract the fields of ``text`` (and an image); None when nothing was sent (see ``refused``)."""
        if not text.strip() and not image_url and not image_path:
            self.refused.emit("Paste or drop some text to extract from.")
            return None
        if (image_url or image_path) and not lookup(self.model).vision:
            self.refused.emit(f"{self.model} cannot read images; choose a vision model such as gpt-4o-mini.")
            return None
        if image_path:
            try:
                image_url = await asyncio.to_thread(_image_url, image_path, self.model)
            except (OSError, UserFacingError) as exc:
                self.refused.emit(str(exc))
                return None
        try:
            schema, model_cls = self._checked_schema()
        except UserFacingError as exc:
            self.refused.emit(exc.message)
            return None
        prepared = await asyncio.to_thread(self.prepare, text, schema, image_url)
        verdict = await self._usage.check(self.model, prepared.prompt_tokens, self.max_output_tokens)
        if not verdict.allowed:
            self.refused.emit(verdict.message)
            return None
        self._busy.add(1)
        try:
            try:
                outcome = await self._call(prepared, model_cls, f"extract-{uuid.uuid4().hex[:8]}")
            except UserFacingError as exc:
                outcome = Outcome(error=exc.message)
            self.resultReady.emit(outcome)
            return outcome
        finally:
            self._busy.add(-1)
            await self._usage.refresh()

    # -- bulk -----------------------------------------------------------------------------------------------

    def start_bulk(self, inputs: list[str], labels: list[str] | None = None) -> None:
        """Run every input under the runner, a few at a time; refused while a bulk run is still going."""
        if self.bulk_running:
            self.refused.emit("A bulk run is still going: wait for it to finish, or Cancel it first.")
            return
        if self._runner.find(BATCH_SUBMIT_KEY) is not None:
            self.refused.emit("A batch is being submitted: wait for it, then run again if you need to.")
            return
        self._runner.start("extract in bulk", self.run_bulk(inputs, labels), key=BULK_KEY)

    def answers_at_stake(self) -> int:
        """Answers in the table that were paid for and not exported (what replacing the table would lose)."""
        if self.run_id == self.exported_run_id:
            return 0
        return sum(1 for r in self.rows if r.outcome is not None and r.outcome.usage is not None)

    @property
    def bulk_running(self) -> bool:
        """A bulk run (or a retry of one of its rows) is in flight."""
        return any(op.key is not None and op.key.startswith(BULK_KEY) for op in self._runner.operations
                   if not op.done)

    def show_rows(self, rows: list[Row], run_id: str, schema: dict[str, Any], name: str) -> None:
        """Show rows produced elsewhere (a batch's results, asked with the JSON ``schema`` called ``name``) in
        the table."""
        self.rows, self.run_id, self.rows_schema, self.rows_schema_name = rows, run_id, schema, name
        self.rowsReset.emit(list(rows))
        self._emit_totals()

    async def quote(self, inputs: list[str]) -> tuple[list[Prepared], int | None, int | None]:
        """Requests for ``inputs`` and their summed worst case: (requests, synchronous micros, batch micros)."""
        schema, _ = self._checked_schema()
        prepared = await asyncio.to_thread(lambda: [self.prepare(t, schema) for t in inputs])
        prices = self._usage.prices
        sync = [prices.worst_case_micros(self.model, p.prompt_tokens, self.max_output_tokens) for p in prepared]
        batch = [prices.worst_case_micros(self.model, p.prompt_tokens, self.max_output_tokens, batch=True)
                 for p in prepared]
        return (prepared, None if None in sync else sum(c for c in sync if c is not None),
                None if None in batch else sum(c for c in batch if c is not None))

    async def run_bulk(self, inputs: list[str], labels: list[str] | None = None) -> None:
        """Extract every input with at most ``concurrency`` requests in flight; rows report as they finish."""
        inputs = [t for t in inputs if t.strip()]
        if not inputs:
            self.refused.emit("Add some inputs first: one per line, a CSV column, or dropped files.")
            return
        try:
            prepared, worst, _batch = await self.quote(inputs)
        except UserFacingError as exc:
            self.refused.emit(exc.message)
            return
        verdict = await self._usage.check_total(worst)
        if not verdict.allowed:
            self.refused.emit(verdict.message.replace("this request", f"these {len(inputs)} requests"))
            return
        schema, model_cls = self._checked_schema()
        self.run_id, self.rows_schema, self.rows_schema_name = f"bulk-{uuid.uuid4().hex[:10]}", schema, self.schema.name
        names = labels or []
        self.rows = [Row(i, t, names[i] if i < len(names) else "") for i, t in enumerate(inputs)]
        self.rowsReset.emit(list(self.rows))
        self._emit_totals()
        semaphore = asyncio.Semaphore(max(1, self.concurrency))
        self._busy.add(1)
        ops = [self._runner.start(f"extract row {i + 1}", self._row(i, p, model_cls, semaphore),
                                  key=f"{BULK_KEY}:{self.run_id}:{i}")
               for i, p in enumerate(prepared)]
        try:
            await asyncio.wait([op.task for op in ops])
        except asyncio.CancelledError:
            for op in ops:
                op.cancel()
            await asyncio.wait([op.task for op in ops])
            raise
        finally:
            self._busy.add(-1)
            await self._usage.refresh()

    async def _row(self, index: int, prepared: Prepared, model_cls: type[BaseModel],
                   semaphore: asyncio.Semaphore) -> None:
        row = self.rows[index]
        run_id, rows = self.run_id, self.rows
        try:
            async with semaphore:
                row.state = RowState.RUNNING
                self.rowChanged.emit(index, row)
                try:
                    outcome = await self._call(prepared, model_cls, run_id)
                except UserFacingError as exc:
                    outcome = Outcome(error=exc.message)
        except asyncio.CancelledError:
            row.state = RowState.CANCELLED
            if rows is self.rows:
                self.rowChanged.emit(index, row)
                self._emit_totals()
            raise
        row.outcome, row.state = outcome, outcome.state
        if rows is self.rows:
            self.rowChanged.emit(index, row)
            self._emit_totals()

    def _emit_totals(self) -> None:
        finished = sum(1 for r in self.rows if r.state not in (RowState.PENDING, RowState.RUNNING))
        self.progress.emit(finished, len(self.rows))
        costs = [r.outcome.cost_micros for r in self.rows if r.outcome and r.outcome.usage is not None]
        self.costChanged.emit(sum(c for c in costs if c is not None), sum(1 for c in costs if c is None))

    def retry_row(self, index: int) -> None:
        """Run one row again: a failed, refused, invalid or cancelled one (see ``RETRYABLE``), once at a time."""
        key = f"{BULK_KEY}:retry:{index}"
        if 0 <= index < len(self.rows) and self.rows[index].state in RETRYABLE and self._runner.find(key) is None:
            self._runner.start(f"retry row {index + 1}", self._retry(index), key=key)

    async def _retry(self, index: int) -> None:
        name: str | None = None
        if self.rows_schema and self.rows_schema != self.schema.json_schema():
            # asked with another schema (a batch's, or the editor's before an edit): asked again the same way, so
            # the row's answer fits the table's columns
            schema, name = self.rows_schema, self.rows_schema_name
            model_cls = build_model(schema, name)
        else:
            try:
                schema, model_cls = self._checked_schema()
            except UserFacingError as exc:
                self.refused.emit(exc.message)
                return
        prepared = await asyncio.to_thread(self.prepare, self.rows[index].text, schema, None, name)
        verdict = await self._usage.check(self.model, prepared.prompt_tokens, self.max_output_tokens)
        if not verdict.allowed:
            self.refused.emit(verdict.message)
            return
        self._busy.add(1)
        try:
            await self._row(index, prepared, model_cls, asyncio.Semaphore(1))
        finally:
            self._busy.add(-1)
            await self._usage.refresh()

    def cancel(self) -> None:
        """Stop the single run and the bulk run; finished rows are kept, the rest marked cancelled."""
        self._runner.cancel(ONE_KEY)
        for op in self._runner.operations:
            if op.key is not None and op.key.startswith(BULK_KEY):
                op.cancel()
        for row in self.rows:
            if row.state is RowState.PENDING:
                row.state = RowState.CANCELLED
                self.rowChanged.emit(row.index, row)
        self._emit_totals()

    def edit_values(self, values: dict[str, Any]) -> Outcome:
        """Check values the person edited in the result form (nothing is sent)."""
        schema = self.schema.json_schema()
        checked = validate_values(build_model(schema, self.schema.name), values)
        return Outcome(values=checked.values, raw=checked.raw, errors=checked.errors)


    def columns(self) -> list[str]:
        """The fields of the rows in the table: those of the schema they were asked with (the batch's own, not
        the editor's), or the editor's while there are none."""
        schema = self.rows_schema if self.rows else self.schema.json_schema()
        return list(schema.get("properties", {}))

    async def export(self, path: str) -> None:
        """Write the results table to ``path``: JSON lines for ``.jsonl``, else CSV (atomically, off the UI)."""
        columns = self.columns()
        text = export_jsonl(self.rows) if path.lower().endswith(".jsonl") else export_csv(self.rows, columns)
        try:
            await asyncio.to_thread(write_atomically, Path(path), text)
        except OSError as exc:
            self.exportFailed.emit(export_problem(Path(path), exc))
            return
        self.exported_run_id = self.run_id
        self.exported.emit(path)


def export_problem(path: Path, exc: OSError) -> str:
    """Why the results could not be written to ``path``, in plain words."""
    where = f"Not exported: {path.name} could not be saved in {path.parent}"
    if isinstance(exc, FileNotFoundError):
        return f"Not exported: the folder {path.parent} does not exist. Choose another folder."
    if isinstance(exc, PermissionError):
        return f"{where}: you may not write there. Choose another folder."
    if isinstance(exc, IsADirectoryError):
        return f"Not exported: {path} is a folder. Choose a file name."
    return f"{where} ({exc.strerror or exc})."


def _image_url(path: str, model: str) -> str:
    """A dropped image as a data URL at the size ``model`` uses."""
    name = Path(path).name
    image, _note = decode(Path(path).read_bytes(), name)
    stored, _mime, width, height = normalise(image)
    return data_url(stored, width, height, "auto", model)[0]

