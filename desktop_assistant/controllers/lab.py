"""The prompt lab: versioned prompts, test sets, runs over (version, model) columns, regressions and export.

A run's worst case is shown and checked against the spending limit as a whole before anything is sent
(``UsageController.check_total``); every request is recorded in the ledger with feature ``lab`` and ``job`` =
``lab-<run id>``. At most :attr:`LabController.concurrency` requests are in flight; cancel keeps the cells that
finished (they are stored as they arrive); a cell that failed keeps its error and can be run again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop_assistant.controllers.chat import ChatController
from desktop_assistant.controllers.endpoint import EndpointController
from desktop_assistant.controllers.extraction import ExtractionController
from desktop_assistant.controllers.lab_batches import LabBatches
from desktop_assistant.controllers.runner import BusyCount, OperationRunner
from desktop_assistant.controllers.usage import UsageController
from desktop_assistant.core.errors import UserFacingError
from desktop_assistant.core.lab_checks import run_checks
from desktop_assistant.core.lab_export import export_csv, export_jsonl
from desktop_assistant.core.lab_report import (
    Cell,
    PlannedRequest,
    Run,
    RunColumn,
    compare_runs,
    run_again_outcome,
    to_run_again,
    worst_case,
)
from desktop_assistant.core.lab_testset import Imported, LabCase, read_file, tidy_set_name
from desktop_assistant.core.models import LedgerEntry, Usage
from desktop_assistant.core.pricing import format_usd
from desktop_assistant.core.prompt_template import MissingVariablesError
from desktop_assistant.core.prompts import PromptVersion, case_body, case_messages, restored, version_problems
from desktop_assistant.core.text_diff import VersionDiff, diff_versions
from desktop_assistant.core.tokens import count_text, estimate_prompt_tokens
from desktop_assistant.services.atomic import write_atomically
from desktop_assistant.services.lab_store import LabStore, RunSummary
from desktop_assistant.services.store import Store

RUN_KEY = "lab-run"
MAX_VERSIONS = 2
Pair = tuple[int, int]  # (column index, case index)


class LabController(QObject):
    """The prompt lab workflow.

    Signals:
        promptsChanged(list): the newest :class:`PromptVersion` of every prompt.
        versionsChanged(str, list): a prompt's name and all its versions, oldest first.
        setsChanged(list): the names of the saved test sets.
        setLoaded(str, list): a test set's name and its cases.
        imported(object): the :class:`Imported` cases and problems of a file.
        runReset(object): a run to show whole (a new one, or one reopened).
        cellChanged(object): one :class:`Cell` that finished.
        progress(int, int): cells finished, cells in all.
        runningChanged(bool): a run is in flight.
        quoted(str): the worst case of the run about to start.
        refused(str): nothing was sent: why (a missing choice, the spending limit).
        runsChanged(list): the earlier runs (:class:`RunSummary`), newest first.
        compared(list): regression sentences against an earlier run.
        exported(str): the file written.
        usedElsewhere(str): a version was handed to chat or extraction: what happened.
        againQuoted(int, int, str): what "run again" would send: cells failed, cells not run, and the most they
            would cost ("at most $0.01"; empty when it cannot be known).
        ranAgain(str): what running cells again came to (how many still fail, and why).
        cellsQueued(list): the (column index, case index) cells of the shown run about to be sent ([]: none).
        cellStarted(int, int): the request of this cell (column index, case index) is on its way.
    """

    promptsChanged = Signal(list)
    versionsChanged = Signal(str, list)
    setsChanged = Signal(list)
    setLoaded = Signal(str, list)
    imported = Signal(object)
    runReset = Signal(object)
    cellChanged = Signal(object)
    progress = Signal(int, int)
    runningChanged = Signal(bool)
    quoted = Signal(str)
    refused = Signal(str)
    runsChanged = Signal(list)
    compared = Signal(list)
    exported = Signal(str)
    usedElsewhere = Signal(str)
    againQuoted = Signal(int, int, str)
    ranAgain = Signal(str)
    cellsQueued = Signal(list)
    cellStarted = Signal(int, int)

    def __init__(self, store: Store, endpoint: EndpointController, runner: OperationRunner, usage: UsageController,
                 chat: ChatController | None = None, extraction: ExtractionController | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db, self._store = store, LabStore(store)
        self._endpoint, self._runner, self._usage = endpoint, runner, usage
        self.endpoint, self.runner, self.usage = endpoint, runner, usage  # for the Batch API part
        self._chat, self._extraction = chat, extraction
        self.concurrency = 4
        self.run: Run | None = None
        self.run_id: int | None = None
        self._versions: dict[RunColumn, PromptVersion] = {}
        self._busy = BusyCount(self.runningChanged.emit)
        self._cancelled = False
        self._finishing: set[asyncio.Future[None]] = set()
        self.batches = LabBatches(self, self._store, self)

    # -- prompts --------------------------------------------------------------------------------------------

    async def load(self) -> None:
        """Read the prompts, test sets and earlier runs (runs left running by a crash read as cancelled)."""
        await self._store.interrupted()
        self.promptsChanged.emit(await self._store.latest_versions())
        self.setsChanged.emit(await self._store.set_names())
        await self.refresh_runs()

    async def save_version(self, version: PromptVersion) -> PromptVersion | None:
        """Save ``version`` as its prompt's next version (nothing is saved when it is unchanged or invalid)."""
        problems = version_problems(version)
        if problems:
            self.refused.emit(" ".join(problems))
            return None
        versions = await self._store.versions(version.name)
        if versions and versions[-1].same_content(version) and versions[-1].note == version.note:
            self.refused.emit(f"Nothing changed since {versions[-1].label}; no new version was saved.")
            return None
        saved = await self._store.save_version(version)
        await self._publish(saved.name)
        return saved

    async def restore(self, name: str, number: int) -> PromptVersion | None:
        """Save a copy of version ``number`` as the newest version of ``name``."""
        versions = await self._store.versions(name)
        old = next((v for v in versions if v.version == number), None)
        if old is None or not versions:
            return None
        if versions[-1].same_content(old):
            self.refused.emit(f"{versions[-1].label} is already the same as {old.label}: nothing to restore.")
            return None
        saved = await self._store.save_version(restored(old, versions[-1].version, time.time()))
        await self._publish(name)
        return saved

    async def show_versions(self, name: str) -> list[PromptVersion]:
        """Publish (and return) the versions of ``name``."""
        versions = await self._store.versions(name)
        self.versionsChanged.emit(name, versions)
        return versions

    async def _publish(self, name: str) -> None:
        self.promptsChanged.emit(await self._store.latest_versions())
        await self.show_versions(name)

    @staticmethod
    def diff(old: PromptVersion, new: PromptVersion) -> VersionDiff:
        """The side-by-side diff of two versions (pure; no I/O)."""
        return diff_versions(old, new)

    # -- test sets ------------------------------------------------------------------------------------------

    async def save_set(self, name: str, cases: list[LabCase], *, show: bool = True) -> list[LabCase]:
        """Save the test set ``name``; returns its cases with their keys (shown as saved unless not ``show``)."""
        name = tidy_set_name(name)
        if not name:
            self.refused.emit("Give the test set a name.")
            return cases
        keyed = await self._store.save_set(name, cases)
        self.setsChanged.emit(await self._store.set_names())
        if show:
            self.setLoaded.emit(name, keyed)
        return keyed

    async def open_set(self, name: str) -> list[LabCase]:
        """Publish (and return) the cases of a saved set, and its earlier runs."""
        cases = await self._store.load_set(name) or []
        self.setLoaded.emit(name, cases)
        run = self.run
        if run is not None and run.set_name != name and not self.sending:  # the grid was of another set
            self.run, self.run_id, self._versions = None, None, {}
            self.runReset.emit(None)
        await self.refresh_runs(name)
        return cases

    async def import_file(self, path: str) -> Imported:
        """Read a CSV or JSONL file off the UI thread; every problem names its line."""
        def read() -> Imported:
            return read_file(path, Path(path).read_text(encoding="utf-8-sig", errors="replace"))
        try:
            result = await asyncio.to_thread(read)
        except OSError as exc:
            self.refused.emit(f"The file could not be read: {exc.strerror or exc}.")
            return Imported()
        self.imported.emit(result)
        return result

    # -- runs -----------------------------------------------------------------------------------------------

    def start_run(self, set_name: str, cases: list[LabCase], versions: list[PromptVersion], models: list[str]) -> None:
        """Run the set under the runner (see :meth:`run_set`)."""
        self._runner.start("lab run", self.run_set(set_name, cases, versions, models), key=RUN_KEY)

    async def run_set(self, set_name: str, cases: list[LabCase], versions: list[PromptVersion],
                      models: list[str]) -> int | None:
        """Run every case on each (version, model); returns the run's id, or None when it was refused."""
        prepared = await self.prepare(set_name, cases, versions, models)
        if prepared is None:
            return None
        run_id = await self.begin(*prepared[:2])
        await self._run_cells(run_id, prepared[2])
        return run_id

    async def prepare(self, set_name: str, cases: list[LabCase], versions: list[PromptVersion], models: list[str],
                      *, batch: bool = False) -> tuple[Run, dict[RunColumn, PromptVersion], list[Pair]] | None:
        """The run, its versions by column and its cells, once its worst case is within the spending limit."""
        laid = self._lay_out(set_name, cases, versions, models)
        if isinstance(laid, str):
            self.refused.emit(laid)
            return None
        if not await self._allowed(*laid, batch=batch):
            return None
        return laid

    def _lay_out(self, set_name: str, cases: list[LabCase], versions: list[PromptVersion],
                 models: list[str]) -> tuple[Run, dict[RunColumn, PromptVersion], list[Pair]] | str:
        """The run (a column per version and model), its versions by column and its cells; or why it cannot run."""
        models = list(dict.fromkeys(m.strip() for m in models if m.strip()))
        problem = self._run_problem(cases, versions, models)
        if problem:
            return problem
        columns = [RunColumn(v.version, m, v.name) for v in versions for m in models]
        run = Run(tuple(cases), tuple(columns), (), set_name)
        versions_by_column = {c: v for c in columns for v in versions if (v.name, v.version) == (c.prompt, c.version)}
        pairs = [(ci, k) for k in range(len(cases)) for ci in range(len(columns))]
        return run, versions_by_column, pairs

    async def begin(self, run: Run, versions: dict[RunColumn, PromptVersion]) -> int:
        """Store a new run and show it (empty); returns its id."""
        self.run_id = await self._store.create_run(run)
        self.run, self._versions = run, versions
        self.runReset.emit(run)
        return self.run_id

    @staticmethod
    def _run_problem(cases: list[LabCase], versions: list[PromptVersion], models: list[str]) -> str | None:
        if not cases:
            return "Add at least one test case first."
        if not versions or len(versions) > MAX_VERSIONS:
            return "Pick one or two prompt versions to run."
        if not models:
            return "Pick at least one model."
        for v in versions:
            problems = version_problems(v)
            if problems:
                return f"{v.label} cannot run yet: {' '.join(problems)}"
        return None

    @staticmethod
    def _plan(run: Run, versions: dict[RunColumn, PromptVersion],
              pairs: list[Pair]) -> tuple[list[PlannedRequest], int]:
        """The requests ``pairs`` would send (prompt tokens counted as sent), and how many cells lack a value."""
        planned, gaps = [], 0
        for ci, k in pairs:
            column = run.columns[ci]
            version = versions[column]
            try:
                messages = case_messages(version, run.cases[k].values)
            except MissingVariablesError:
                gaps += 1
                continue
            tokens = estimate_prompt_tokens(list(messages), column.model).tokens
            planned.append(PlannedRequest(column.model, tokens, version.max_output_tokens))
        return planned, gaps

    async def estimate(self, cases: list[LabCase], versions: list[PromptVersion], models: list[str]) -> str:
        """Before Run: the most the run chosen would cost (``quoted``; empty when it cannot run as chosen)."""
        laid = self._lay_out("", cases, versions, models)
        if isinstance(laid, str):
            self.quoted.emit("")
            return ""
        planned, _gaps = await asyncio.to_thread(self._plan, *laid)
        prices = self._usage.prices
        text = ""
        if planned:
            text = f"Before running: {worst_case(prices, planned).sentence()}"
            batch = worst_case(prices, planned, batch=True)
            if not batch.unpriced_models:
                text += f" As a batch: at most {format_usd(batch.micros)}."
        self.quoted.emit(text)
        return text

    async def _allowed(self, run: Run, versions: dict[RunColumn, PromptVersion], pairs: list[Pair], *,
                       batch: bool = False) -> bool:
        """Show the worst case of ``pairs`` and check it against the spending limit."""
        planned, gaps = await asyncio.to_thread(self._plan, run, versions, pairs)
        if not planned:
            self.refused.emit("Nothing to send: no case has a value for every variable of the template. Add the "
                              "missing columns on the Test set page, or change the template.")
            return False
        worst = worst_case(self._usage.prices, planned, batch=batch)
        note = (f" {gaps} {'cell lacks' if gaps == 1 else 'cells lack'} a value for a template variable and will "
                "show the error without being sent.") if gaps else ""
        self.quoted.emit(worst.sentence() + note)
        verdict = await self._usage.check_total(worst.limit_micros)
        if not verdict.allowed:
            what = f"this batch of {len(planned)} requests" if batch else f"these {len(planned)} requests"
            self.refused.emit(verdict.message.replace("this request", what))
            return False
        return True

    @property
    def running(self) -> bool:
        """A run is in flight."""
        return self._busy.active

    @property
    def sending(self) -> bool:
        """A run, a retry or a batch submit is on its way (from the click on, before ``running`` is set)."""
        keys = (RUN_KEY, f"{RUN_KEY}:retry", "lab-batch-submit")
        return self.running or any(self._runner.find(key) is not None for key in keys)

    async def _run_cells(self, run_id: int, pairs: list[Pair]) -> None:
        semaphore = asyncio.Semaphore(max(1, self.concurrency))
        self._cancelled = False
        self._busy.add(1)
        await self._store.set_status(run_id, "running")
        self._emit_progress()
        if self.run_id == run_id:
            self.cellsQueued.emit(list(pairs))
        ops = [self._runner.start(f"lab cell {k + 1}", self._cell(run_id, ci, k, semaphore),
                                  key=f"{RUN_KEY}:{run_id}:{ci}:{k}") for ci, k in pairs]
        try:
            if ops:
                await asyncio.wait([op.task for op in ops])
        except asyncio.CancelledError:
            self._cancelled = True
            for op in ops:
                op.cancel()
            await asyncio.wait([op.task for op in ops])
            raise
        finally:
            if self._finishing:  # replies that arrived are stored before the run is marked
                await asyncio.wait(list(self._finishing))
            cancelled = self._cancelled or any(op.task.cancelled() for op in ops)
            await self._store.set_status(run_id, "cancelled" if cancelled else "finished")
            self._busy.add(-1)
            self._emit_progress()
            self.cellsQueued.emit([])
            await self.quote_again()
            await self._usage.refresh()
            await self.refresh_runs(self.run.set_name if self.run else None)

    async def _cell(self, run_id: int, column_index: int, case_index: int, semaphore: asyncio.Semaphore) -> None:
        run = self.run
        assert run is not None
        column, case = run.columns[column_index], run.cases[case_index]
        version = self._versions[column]
        try:
            body = case_body(version, case.values, model=column.model)
        except MissingVariablesError as exc:
            await self._finally(self.keep(run_id, column_index, Cell(column, case_index, error=str(exc))))
            return
        async with semaphore:
            if self.run_id == run_id:
                self.cellStarted.emit(column_index, case_index)
            started = time.perf_counter()
            try:
                text, usage = await self._endpoint.gateway.complete(body)
            except UserFacingError as exc:
                latency = round((time.perf_counter() - started) * 1000)
                cell = Cell(column, case_index, latency_ms=latency, error=exc.message)
                await self._finally(self.keep(run_id, column_index, cell))
                return
        latency = round((time.perf_counter() - started) * 1000)
        await self._finally(self._answered(run_id, column_index, case_index, text, usage, latency))

    async def _finally(self, coro: Coroutine[Any, Any, None]) -> None:
        """Finish ``coro`` even when the run is cancelled meanwhile: a reply that was paid for is kept."""
        task = asyncio.ensure_future(coro)
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)
        await asyncio.shield(task)

    async def _answered(self, run_id: int, column_index: int, case_index: int, text: str, usage: Usage,
                        latency: int) -> None:
        run = self.run
        assert run is not None
        column, case = run.columns[column_index], run.cases[case_index]
        cost = self._usage.prices.cost_micros(column.model, usage.input_tokens, usage.cached_input_tokens,
                                              usage.output_tokens)
        await self._db.record_usage(LedgerEntry("lab", column.model, usage, cost, created_at=time.time(),
                                                job=f"lab-{run_id}"))
        results = await asyncio.to_thread(run_checks, case.checks, text, lambda t: count_text(t, column.model))
        await self.keep(run_id, column_index, Cell(column, case_index, text, results, usage.input_tokens,
                                                    usage.output_tokens, cost, latency))

    async def keep(self, run_id: int, column_index: int, cell: Cell) -> None:
        """Store a finished cell and show it when its run is the one shown."""
        await self._store.add_cell(run_id, column_index, cell)
        if self.run_id == run_id and self.run is not None:
            run = self.run
            self.run = Run(run.cases, run.columns, (*run.cells, cell), run.set_name)
            self.cellChanged.emit(cell)
            self._emit_progress()

    def _emit_progress(self) -> None:
        run = self.run
        if run is None:
            return
        done = len({(c.column, c.case) for c in run.cells})
        self.progress.emit(done, len(run.cases) * len(run.columns))

    def cancel(self) -> None:
        """Stop the run; the cells that finished are kept (and stored), the rest stay "not run"."""
        self._cancelled = True
        for op in self._runner.operations:
            if op.key is not None and op.key.startswith(RUN_KEY):
                op.cancel()

    def failed_cells(self) -> list[Pair]:
        """The cells of the current run that ended in an error, then those that did not run."""
        if self.run is None:
            return []
        failed, remaining = to_run_again(self.run)
        return failed + remaining

    async def quote_again(self) -> str:
        """Publish (``againQuoted``) and return the most running the current run's failed and missing cells again
        would cost ("" when nothing would run, or some model has no price)."""
        run = self.run
        if run is None:
            return ""
        failed, remaining = to_run_again(run)
        cost = ""
        if (failed or remaining) and all(c in self._versions for c in run.columns):
            planned, _gaps = await asyncio.to_thread(self._plan, run, self._versions, failed + remaining)
            worst = worst_case(self._usage.prices, planned)
            if planned and not worst.unpriced_models:
                cost = f"at most {format_usd(worst.micros)}"
        if self.run is run:  # not replaced meanwhile
            self.againQuoted.emit(len(failed), len(remaining), cost)
        return cost

    def start_retry(self) -> None:
        """Run the failed and missing cells of the current run again, under the runner (once: a second click,
        or a click while a run or a batch is being sent, starts nothing)."""
        if self.sending:
            self.refused.emit("A run is still being sent: wait for it to finish, or cancel it, first.")
            return
        self._runner.start("lab retry", self.retry(), key=f"{RUN_KEY}:retry")

    async def retry(self) -> None:
        """Run the failed and missing cells again (checked against the spending limit first)."""
        if self.running:
            self.refused.emit("The run is still going: wait for it to finish, or cancel it, first.")
            return
        run, run_id, pairs = self.run, self.run_id, self.failed_cells()
        if run is None or run_id is None or not pairs:
            self.refused.emit("No cell needs running again.")
            return
        if self._runner.find("lab-batch-submit") is not None or await self.waits_for_batch(run_id):
            self.refused.emit("This run's batch is still on its way: its cells fill in when it is ready (usually "
                              "within minutes, at most 24 hours). Running them now would pay for them twice.")
            return
        missing = [c for c in run.columns if c not in self._versions]
        if missing:
            self.refused.emit(f"{missing[0].prompt} version {missing[0].version} is no longer saved, so its cells "
                              "cannot run again.")
            return
        if await self._allowed(run, self._versions, pairs):
            await self._run_cells(run_id, pairs)
            if self.run_id == run_id and self.run is not None:
                self.ranAgain.emit(run_again_outcome(self.run, pairs))

    async def waits_for_batch(self, run_id: int) -> bool:
        """The run's batch has not been collected yet."""
        return any(pending == run_id for _batch, pending in await self._store.open_batches())

    async def refresh_runs(self, set_name: str | None = None) -> list[RunSummary]:
        """Publish (and return) the earlier runs, of one set when named."""
        runs = await self._store.runs(set_name)
        self.runsChanged.emit(runs)
        return runs

    async def open_run(self, run_id: int) -> Run | None:
        """Show a stored run (its cells as they were; failed ones can run again)."""
        stored = await self._store.load_run(run_id)
        if stored is None:
            return None
        versions: dict[RunColumn, PromptVersion] = {}
        for column in stored.run.columns:
            version = await self._store.version(column.prompt, column.version)
            if version is not None:
                versions[column] = version
        self.run, self.run_id, self._versions = stored.run, stored.id, versions
        self.runReset.emit(stored.run)
        self._emit_progress()
        await self.quote_again()
        return stored.run

    async def compare_with(self, earlier_id: int) -> list[str]:
        """Regression sentences: the current run against the earlier run ``earlier_id`` of the same set."""
        stored = await self._store.load_run(earlier_id)
        if stored is None or self.run is None:
            return []
        if stored.run.set_name != self.run.set_name:
            sentences = [f"That run is of the set \"{stored.run.set_name}\", not \"{self.run.set_name}\"; "
                         "runs are compared within one set."]
        else:
            sentences = [r.sentence() for r in compare_runs(stored.run, self.run)] or [
                "The two runs share no model, so there is nothing to compare."]
        self.compared.emit(sentences)
        return sentences

    async def export(self, path: str) -> None:
        """Write the current run to ``path``: JSON lines for ``.jsonl``, else CSV (atomically, off the UI)."""
        if self.run is None:
            return
        text = export_jsonl(self.run) if path.lower().endswith(".jsonl") else export_csv(self.run)
        await asyncio.to_thread(write_atomically, Path(path), text)
        self.exported.emit(path)

    # -- elsewhere ------------------------------------------------------------------------------------------

    async def use_in_chat(self, version: PromptVersion) -> None:
        """Start a new conversation with this version's system prompt, model, temperature and max tokens."""
        chat = self._chat
        if chat is None:
            return
        chat.new_conversation()
        await chat.set_model(version.model)
        chat.set_options(version.system_prompt, version.temperature, version.max_output_tokens)
        self.usedElsewhere.emit(f"A new chat uses {_system_prompt_of(version)}.")

    @property
    def extraction_instructions(self) -> str:
        """The instructions Extract sends now (what "Use as extraction instructions" would replace)."""
        return self._extraction.instructions if self._extraction is not None else ""

    def use_in_extraction(self, version: PromptVersion) -> None:
        """Use this version's system prompt as the extraction's instructions (the ones replaced stay one undo away
        in Extract's instructions box)."""
        if self._extraction is None:
            return
        before = self._extraction.instructions
        self._extraction.set_instructions(version.system_prompt)
        text = f"Extraction now follows {_system_prompt_of(version)} as its instructions."
        if before.strip() and before != version.system_prompt:
            text += " The instructions it had come back with Ctrl+Z in Extract's instructions box."
        self.usedElsewhere.emit(text)


def _system_prompt_of(version: PromptVersion) -> str:
    """Whose system prompt a message names: ``Support v3's system prompt``, or the unsaved one of the form
    (version 0: never saved, or changed since)."""
    return f"{version.label}'s system prompt" if version.version else "the unsaved system prompt of the Prompt page"
