"""Bulk extraction through the Batch API: quote, submit, poll in the background, collect into the table.

A batch is stored (``batch_jobs``) as soon as it is created, so an app closed while it runs picks it up again
on the next start (:meth:`BatchController.resume`). Polling is an asyncio loop under the operation runner; on
completion the output file is downloaded, every answer validated against the schema stored with the job, and
the results and their usage (feature ``batch``, billed at the Batch price, ``job`` = the run id) are written
in one transaction, so a restart never records them twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

from PySide6.QtCore import QObject, Signal

from desktop_assistant.controllers.endpoint import EndpointController
from desktop_assistant.controllers.extraction import BATCH_SUBMIT_KEY, ExtractionController
from desktop_assistant.controllers.runner import OperationRunner
from desktop_assistant.controllers.usage import UsageController
from desktop_assistant.core.errors import UserFacingError
from desktop_assistant.core.extraction import (
    BatchJob,
    CollectedBatch,
    Outcome,
    Row,
    RowState,
    batch_answers,
    custom_id,
    jsonl,
    outcome_of,
    row_from_dict,
    row_to_dict,
)
from desktop_assistant.core.models import LedgerEntry
from desktop_assistant.core.requests import batch_line
from desktop_assistant.core.schemas import build_model
from desktop_assistant.services import extraction_store
from desktop_assistant.services.store import Store

POLL_SECONDS = 30.0


class BatchController(QObject):
    """Batch API jobs of the extraction workspace.

    Signals:
        quoted(object, object): worst-case micro-dollars synchronously and with the Batch API (None: no price).
        jobChanged(object): a :class:`BatchJob` with its latest status and counts.
        collected(str): the batch with this id completed and its results fill the table.
        refused(str): nothing was submitted: why.
        submitFailed(str): the API refused the batch's file or the batch (nothing was submitted): why.
        resultsWaiting(str): a batch finished while the table held other answers not exported, or a bulk run
            was going: its answers are saved and shown on request (:meth:`show_collected`).
    """

    quoted = Signal(object, object)
    jobChanged = Signal(object)
    collected = Signal(str)
    refused = Signal(str)
    submitFailed = Signal(str)
    resultsWaiting = Signal(str)

    def __init__(self, store: Store, endpoint: EndpointController, runner: OperationRunner, usage: UsageController,
                 extraction: ExtractionController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store, self._endpoint, self._runner = store, endpoint, runner
        self._usage, self._extraction = usage, extraction
        self.poll_seconds = POLL_SECONDS
        self.jobs: dict[str, BatchJob] = {}
        self._wake: dict[str, asyncio.Event] = {}  # a batch's poll waits on it between checks (Check now)

    async def quote(self, inputs: list[str]) -> tuple[int | None, int | None]:
        """The worst case of ``inputs`` synchronously and through the Batch API (50 % off)."""
        try:
            _prepared, sync, batch = await self._extraction.quote([t for t in inputs if t.strip()])
        except UserFacingError as exc:
            self.refused.emit(exc.message)
            return None, None
        self.quoted.emit(sync, batch)
        return sync, batch

    def start_submit(self, inputs: list[str]) -> None:
        """Submit ``inputs`` as a batch under the runner; a second click while it is being submitted starts
        nothing (each batch is paid for)."""
        if self._runner.find(BATCH_SUBMIT_KEY) is not None:
            return
        if self._extraction.bulk_running:  # the same inputs would be paid for twice
            self.refused.emit("A bulk run is still going: wait for it to finish, or Cancel it, first.")
            return
        self._runner.start("submit batch", self.submit(inputs), key=BATCH_SUBMIT_KEY)

    async def submit(self, inputs: list[str]) -> BatchJob | None:
        """Build the JSONL, upload it, create the batch, store it and start polling; None if refused."""
        ex = self._extraction
        inputs = [t for t in inputs if t.strip()]
        if not inputs:
            self.refused.emit("Add some inputs first: one per line, a CSV column, or dropped files.")
            return None
        try:
            prepared, sync, batch = await ex.quote(inputs)
        except UserFacingError as exc:
            self.refused.emit(exc.message)
            return None
        self.quoted.emit(sync, batch)
        verdict = await self._usage.check_total(batch)
        if not verdict.allowed:
            self.refused.emit(verdict.message.replace("this request", f"this batch of {len(inputs)} requests"))
            return None
        run_id = f"batch-{uuid.uuid4().hex[:10]}"
        data = jsonl(batch_line(custom_id(i), p.body) for i, p in enumerate(prepared))
        gateway = self._endpoint.gateway
        file_id = None
        try:
            file_id = await gateway.upload_file(f"{run_id}.jsonl", data, "batch")
            info = await gateway.create_batch(file_id, {"app": "desktop-assistant", "run": run_id})
        except UserFacingError as exc:
            self.submitFailed.emit(f"The batch was not submitted (nothing is charged): {exc.message}")
            await gateway.discard_files([file_id])  # the texts uploaded for it are not left on the server
            return None
        job = BatchJob(id=info.id, run_id=run_id, model=ex.model, mode=ex.mode, schema_name=ex.schema.name,
                       schema=ex.schema.json_schema(), inputs=inputs, input_file_id=file_id, status=info.status,
                       total=info.total or len(inputs), created_at=time.time())
        await self._store.write(lambda c: extraction_store.insert_job(c, job))
        self.jobs[job.id] = job
        self._extraction.show_rows([Row(i, t) for i, t in enumerate(inputs)], run_id, job.schema,
                                   job.schema_name)
        self.jobChanged.emit(job)
        self._watch(job.id)
        return job

    async def resume(self) -> list[BatchJob]:
        """Pick up every batch whose results were not collected yet (after a restart) and poll it."""
        jobs = await self._store.read(extraction_store.open_jobs)
        for job in jobs:
            self.jobs[job.id] = job
            self.jobChanged.emit(job)
            self._watch(job.id)
        return jobs

    def _watch(self, job_id: str) -> None:
        key = f"batch-poll:{job_id}"
        if self._runner.find(key) is None and not self._runner.closing:
            self._runner.start("follow batch", self.poll(job_id), key=key)

    async def poll(self, job_id: str) -> None:
        """Check the batch every ``poll_seconds`` until it ends, then collect its results. A check that fails
        (the network, the server) is said on the job (``check_problem``) and tried again at the next interval,
        or at once on :meth:`check_now`."""
        wake = self._wake.setdefault(job_id, asyncio.Event())
        try:
            while True:
                try:
                    if await self.check(job_id):
                        return
                except UserFacingError as exc:
                    job = self.jobs[job_id]
                    job.check_problem, job.next_check_at = exc.message, time.time() + self.poll_seconds
                    self.jobChanged.emit(job)
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.poll_seconds)
        finally:
            self._wake.pop(job_id, None)

    def check_now(self, job_id: str) -> None:
        """Ask for the batch's status now rather than at the next interval (after a failed check)."""
        wake = self._wake.get(job_id)
        if wake is not None:
            wake.set()
        elif job_id in self.jobs and not self.jobs[job_id].finished:
            self._watch(job_id)

    async def check(self, job_id: str) -> bool:
        """Ask for the batch's status once (collecting it when complete); True when it needs no more polls."""
        job = self.jobs[job_id]
        info = await self._endpoint.gateway.retrieve_batch(job_id)
        job.check_problem, job.next_check_at = "", None
        job.status, job.total, job.completed, job.failed = info.status, info.total, info.completed, info.failed
        job.output_file_id, job.error_file_id = info.output_file_id, info.error_file_id
        job.errors = [e for e in info.errors if e]
        await self._store.write(lambda c: extraction_store.update_job(
            c, job_id, status=info.status, total=info.total, completed=info.completed, failed=info.failed,
            output_file_id=info.output_file_id, error_file_id=info.error_file_id, errors=job.errors))
        self.jobChanged.emit(job)
        if not job.finished:
            return False
        await self.collect(job)
        return True

    async def collect(self, job: BatchJob) -> list[Row]:
        """Download the output (and error) file, validate each answer, record usage and fill the table."""
        gateway = self._endpoint.gateway
        text = await gateway.file_content(job.output_file_id) if job.output_file_id else ""
        errors = await gateway.file_content(job.error_file_id) if job.error_file_id else ""
        model_cls = build_model(job.schema, job.schema_name)
        rows = [Row(i, t) for i, t in enumerate(job.inputs)]
        entries: list[LedgerEntry] = []
        prices = self._usage.prices
        for answer in batch_answers(text + "\n" + errors):
            if not 0 <= answer.row < len(rows):
                continue
            if answer.error is not None:
                outcome = Outcome(error=answer.error)
            else:
                outcome = outcome_of(model_cls, content=answer.content, refusal=answer.refusal,
                                     arguments=answer.arguments, mode=job.mode)
            if answer.usage is not None:
                u = answer.usage
                model = answer.model or job.model
                cost = prices.cost_micros(model, u.input_tokens, u.cached_input_tokens, u.output_tokens, batch=True)
                outcome.usage, outcome.cost_micros = u, cost
                entries.append(LedgerEntry("batch", model, u, cost, created_at=time.time(), job=job.run_id,
                                           batch=True))
            rows[answer.row].outcome, rows[answer.row].state = outcome, outcome.state
        for row in rows:
            if row.outcome is None:
                row.state = RowState.FAILED
                reason = f": {' '.join(job.errors)}" if job.errors else "."
                row.outcome = Outcome(error=f"The batch ended ({job.status}) without an answer for this input{reason}")
        results = [row_to_dict(r) for r in rows]
        await self._store.write(lambda c: extraction_store.collect_with_usage(c, job.id, results, entries))
        # the answers are kept here now: the texts sent and answered are not left on the server
        await gateway.discard_files([job.input_file_id, job.output_file_id, job.error_file_id])
        job.results, job.collected_at = results, time.time()
        ex = self._extraction
        if ex.run_id == job.run_id or (not ex.bulk_running and not ex.answers_at_stake()):
            ex.show_rows(rows, job.run_id, job.schema, job.schema_name)
        else:  # the table holds something else worth keeping: the batch's answers wait (they are saved)
            self.resultsWaiting.emit(job.id)
        self.collected.emit(job.id)
        await self._usage.refresh()
        return rows

    async def earlier(self) -> list[CollectedBatch]:
        """The batches collected before (newest first), whose answers can be shown again at no cost."""
        return await self._store.read(extraction_store.collected_jobs)

    async def show_collected(self, job_id: str) -> list[Row]:
        """Show an earlier batch's stored results in the table."""
        job = await self._store.read(lambda c: extraction_store.get_job(c, job_id))
        rows = [row_from_dict(r) for r in (job.results or [])] if job else []
        if job is not None:
            self._extraction.show_rows(rows, job.run_id, job.schema, job.schema_name)
            self.jobChanged.emit(job)  # the status line is about this batch now
        return rows

    def cancel(self, job_id: str) -> None:
        """Ask the server to cancel a batch (its partial results are collected when it says cancelled)."""
        async def do() -> None:
            info = await self._endpoint.gateway.cancel_batch(job_id)
            job = self.jobs.get(job_id)
            if job is not None:
                job.status = info.status
                self.jobChanged.emit(job)
        self._runner.start("cancel batch", do(), key=f"batch-cancel:{job_id}")
