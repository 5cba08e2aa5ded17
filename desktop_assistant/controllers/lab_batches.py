"""Large prompt lab runs through the Batch API at half price, picked up again after a restart.

A batch is stored (``lab_batch_jobs``) as soon as it is created, with its run (status ``batch``). Polling is an
asyncio loop under the operation runner; when the batch ends its output and error files are read, every answer
checked, and the cells and their ledger rows (feature ``lab``, billed at the Batch price, ``job`` =
``lab-<run id>``) written in one transaction, so a restart never records them twice. Latency is not measured
for batch cells (the Batch API answers within a day, not per request).
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop_assistant.core.errors import UserFacingError
from desktop_assistant.core.extraction import batch_answers, custom_id, jsonl
from desktop_assistant.core.lab_checks import run_checks
from desktop_assistant.core.lab_report import Cell
from desktop_assistant.core.lab_testset import LabCase
from desktop_assistant.core.models import LedgerEntry
from desktop_assistant.core.prompt_template import MissingVariablesError
from desktop_assistant.core.prompts import PromptVersion, case_body
from desktop_assistant.core.requests import batch_line
from desktop_assistant.core.tokens import count_text
from desktop_assistant.services.lab_store import LabStore

if TYPE_CHECKING:
    from desktop_assistant.controllers.lab import LabController

POLL_SECONDS = 30.0
FINISHED = ("completed", "failed", "expired", "cancelled")


class LabBatches(QObject):
    """Batch API runs of the prompt lab.

    Signals:
        statusChanged(str, str): a batch's id and its latest status.
        collected(int): the run with this id got its batch's cells.
    """

    statusChanged = Signal(str, str)
    collected = Signal(int)

    def __init__(self, lab: LabController, store: LabStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lab, self._store = lab, store
        self.poll_seconds = POLL_SECONDS

    def start_submit(self, set_name: str, cases: list[LabCase], versions: list[PromptVersion],
                     models: list[str]) -> None:
        """Submit the run as a batch under the runner."""
        self._lab.runner.start("submit lab batch", self.submit(set_name, cases, versions, models),
                               key="lab-batch-submit")

    async def submit(self, set_name: str, cases: list[LabCase], versions: list[PromptVersion],
                     models: list[str]) -> str | None:
        """Check the worst case at the Batch price, upload the requests, create and store the batch; its id."""
        lab = self._lab
        prepared = await lab.prepare(set_name, cases, versions, models, batch=True)
        if prepared is None:
            return None
        run, versions_by_column, pairs = prepared
        lines = []
        gaps: list[tuple[int, Cell]] = []
        for ci, k in pairs:
            column = run.columns[ci]
            try:
                body = case_body(versions_by_column[column], run.cases[k].values, model=column.model)
            except MissingVariablesError as exc:
                gaps.append((ci, Cell(column, k, error=str(exc))))
                continue
            lines.append(batch_line(custom_id(ci * len(run.cases) + k), body))
        run_id = await lab.begin(run, versions_by_column)
        for ci, cell in gaps:
            await lab.keep(run_id, ci, cell)
        gateway = lab.endpoint.gateway
        file_id = await gateway.upload_file(f"lab-{run_id}.jsonl", jsonl(lines), "batch")
        try:
            info = await gateway.create_batch(file_id, {"app": "desktop-assistant", "run": f"lab-{run_id}"})
        except UserFacingError:
            await gateway.discard_files([file_id])  # the texts uploaded for it are not left on the server
            raise
        await self._store.insert_batch(info.id, run_id, file_id, info.status)
        self.statusChanged.emit(info.id, info.status)
        await lab.refresh_runs(set_name)
        self._watch(info.id, run_id)
        return info.id

    async def resume(self) -> list[str]:
        """Follow every batch whose results were not collected yet (after a restart)."""
        jobs = await self._store.open_batches()
        for batch_id, run_id in jobs:
            self._watch(batch_id, run_id)
        return [batch_id for batch_id, _ in jobs]

    def _watch(self, batch_id: str, run_id: int) -> None:
        key = f"lab-batch-poll:{batch_id}"
        runner = self._lab.runner
        if runner.find(key) is None and not runner.closing:
            runner.start("follow lab batch", self.poll(batch_id, run_id), key=key)

    async def poll(self, batch_id: str, run_id: int) -> None:
        """Check the batch every ``poll_seconds`` until it ends, then collect its cells."""
        while not await self.check(batch_id, run_id):
            await asyncio.sleep(self.poll_seconds)  # wait-ok: the background polling interval

    async def check(self, batch_id: str, run_id: int) -> bool:
        """Ask for the batch's status once (collecting it when it ended); True when it needs no more polls."""
        info = await self._lab.endpoint.gateway.retrieve_batch(batch_id)
        await self._store.update_batch(batch_id, info.status, info.output_file_id, info.error_file_id)
        self.statusChanged.emit(batch_id, info.status)
        if info.status not in FINISHED:
            return False
        await self.collect(batch_id, run_id, info.status, info.output_file_id, info.error_file_id)
        # the answers are kept here now: the texts sent and answered are not left on the server
        await self._lab.endpoint.gateway.discard_files([info.input_file_id, info.output_file_id, info.error_file_id])
        return True

    async def collect(self, batch_id: str, run_id: int, status: str, output_file_id: str | None,
                      error_file_id: str | None) -> None:
        """Read the answers, check them, and store the cells with their ledger rows in one transaction."""
        lab = self._lab
        stored = await self._store.load_run(run_id)
        if stored is None:
            return
        run = stored.run
        gateway = lab.endpoint.gateway
        text = await gateway.file_content(output_file_id) if output_file_id else ""
        errors = await gateway.file_content(error_file_id) if error_file_id else ""
        prices = lab.usage.prices
        cells: dict[tuple[int, int], Cell] = {}
        entries: list[LedgerEntry] = []
        for answer in batch_answers(text + "\n" + errors):
            ci, k = divmod(answer.row, len(run.cases)) if run.cases else (-1, -1)
            if not (0 <= ci < len(run.columns) and 0 <= k < len(run.cases)):
                continue
            column, case = run.columns[ci], run.cases[k]
            if answer.error is not None:
                cells[ci, k] = Cell(column, k, error=answer.error)
                continue
            u = answer.usage
            cost = prices.cost_micros(column.model, u.input_tokens, u.cached_input_tokens, u.output_tokens,
                                      batch=True) if u is not None else None
            if u is not None:
                entries.append(LedgerEntry("lab", answer.model or column.model, u, cost, created_at=time.time(),
                                           job=f"lab-{run_id}", batch=True))
            output = answer.content if answer.content is not None else (answer.refusal or "")
            counter = functools.partial(count_text, model_id=column.model)
            results = await asyncio.to_thread(run_checks, case.checks, output, counter)
            cells[ci, k] = Cell(column, k, output, results, u.input_tokens if u else 0, u.output_tokens if u else 0,
                                cost)
        for ci, column in enumerate(run.columns):
            for k in range(len(run.cases)):
                if (ci, k) not in cells and run.cell(column, k) is None:
                    cells[ci, k] = Cell(column, k, error=f"The batch ended ({status}) without an answer for this "
                                                         "cell.")
        written = await self._store.collect_batch(batch_id, run_id, [(ci, c) for (ci, _k), c in cells.items()],
                                                  entries)
        if not written:  # collected meanwhile by the other path (the poll, or a check the person asked for)
            return
        if lab.run_id == run_id:
            await lab.open_run(run_id)
        self.collected.emit(run_id)
        await lab.usage.refresh()
        await lab.refresh_runs(run.set_name)
