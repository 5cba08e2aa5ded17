"""A prompt lab run as data: its cells, per-column totals, the verdict, regressions, worst-case cost, export.

A run has one row per test case and one column per (prompt version, model). A :class:`Cell` is one request's
outcome; a cell that was retried is simply recorded again (the last one counts); a cell that is missing did not
run (the run was cancelled, or is still going). A cell **passes** when it has no error and every check passed;
an error cell fails all of its case's checks; a case without checks is only **answered** (neither passed nor
failed, and not compared between runs). Money is integer micro-dollars, shown with
:func:`~desktop_assistant.core.pricing.format_usd`; comparisons of cost use the cost per case, so a column that
was cancelled halfway is not made to look cheap. Latency totals leave out cells that ended in an error.
A run's CSV and JSONL export is in :mod:`desktop_assistant.core.lab_export`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cached_property

from desktop_assistant.core.lab_checks import CheckResult
from desktop_assistant.core.lab_testset import LabCase, case_key, case_title
from desktop_assistant.core.pricing import PriceTable, format_usd
from desktop_assistant.core.prompt_template import MissingVariablesError
from desktop_assistant.core.prompts import PromptVersion, case_messages
from desktop_assistant.core.requests import WireMessage


@dataclass(frozen=True)
class RunColumn:
    """One column of a run: a prompt version on a model."""

    version: int
    model: str
    prompt: str = ""


class CellStatus(StrEnum):
    """Where a cell stands."""

    PASSED = "passed"
    ANSWERED = "answered"  # no error, and the case has no check to pass or fail
    FAILED = "failed"
    ERROR = "error"
    NOT_RUN = "not run"


@dataclass(frozen=True)
class Cell:
    """What one request of a run produced (``error`` set when it failed; the output may then be partial)."""

    column: RunColumn
    case: int  # index into Run.cases
    output: str = ""
    checks: tuple[CheckResult, ...] = ()
    input_tokens: int = 0
    output_tokens: int = 0
    cost_micros: int | None = None  # None: the model has no price
    latency_ms: int | None = None
    error: str | None = None

    @property
    def status(self) -> CellStatus:
        """Passed (no error, every check passed), failed, error, or answered (its case has no checks)."""
        if self.error is not None:
            return CellStatus.ERROR
        if not self.checks:
            return CellStatus.ANSWERED
        return CellStatus.PASSED if all(c.passed for c in self.checks) else CellStatus.FAILED

    @property
    def checks_passed(self) -> int:
        """How many of its checks passed (none when the request failed)."""
        return 0 if self.error is not None else sum(1 for c in self.checks if c.passed)


@dataclass(frozen=True)
class Run:
    """A run over a test set: the cases, the columns and the cells recorded so far."""

    cases: tuple[LabCase, ...]
    columns: tuple[RunColumn, ...]
    cells: tuple[Cell, ...] = ()
    set_name: str = ""

    @cached_property
    def _grid(self) -> dict[tuple[RunColumn, int], Cell]:
        return {(c.column, c.case): c for c in self.cells}  # a retried cell: the last one counts

    def cell(self, column: RunColumn, case: int) -> Cell | None:
        """The cell of ``case`` in ``column``, or None when it has not run."""
        return self._grid.get((column, case))

    def status(self, column: RunColumn, case: int) -> CellStatus:
        """The status of one cell (``not run`` when missing)."""
        cell = self.cell(column, case)
        return CellStatus.NOT_RUN if cell is None else cell.status


def to_run_again(run: Run) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The cells "run again" would send, as (column index, case index): those that failed with an error, and
    those that never ran (a run cancelled, or a cell left behind)."""
    failed: list[tuple[int, int]] = []
    remaining: list[tuple[int, int]] = []
    for k in range(len(run.cases)):
        for ci, column in enumerate(run.columns):
            status = run.status(column, k)
            if status is CellStatus.ERROR:
                failed.append((ci, k))
            elif status is CellStatus.NOT_RUN:
                remaining.append((ci, k))
    return failed, remaining


def run_again_outcome(run: Run, pairs: Sequence[tuple[int, int]]) -> str:
    """What running ``pairs`` again came to: ``Ran 4 cells again: 3 answered; 1 still fails (Timeout).``"""
    cells = [run.cell(run.columns[ci], k) for ci, k in pairs]
    failing = [c for c in cells if c is not None and c.error is not None]
    missing = sum(1 for c in cells if c is None)
    answered = len(cells) - len(failing) - missing
    n = len(cells)
    text = f"Ran {n} {'cell' if n == 1 else 'cells'} again: "
    if answered == n:
        return text + ("it answered." if n == 1 else "every one answered.")
    parts = [f"{answered} answered"]
    if failing:
        reasons = list(dict.fromkeys(c.error or "" for c in failing))
        why = reasons[0] if len(reasons) == 1 else f"{reasons[0]} and {len(reasons) - 1} other errors"
        parts.append(f"{len(failing)} still {'fails' if len(failing) == 1 else 'fail'} ({why.rstrip('.')})")
    if missing:
        parts.append(f"{missing} did not run (cancelled)")
    return text + "; ".join(parts) + "."


# -- totals ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ColumnTotals:
    """The totals under one column."""

    column: RunColumn
    cases: int
    ran: int
    errors: int
    cases_passed: int
    checks_passed: int
    checks_total: int
    cost_micros: int
    priced: int  # cells with a known cost
    median_latency_ms: float | None
    p90_latency_ms: float | None
    unpriced: int = 0  # cells answered without a known cost (a failed request costs nothing: it is not one)

    @property
    def pass_rate(self) -> float | None:
        """Checks passed / checks run (None when no case has a check)."""
        return self.checks_passed / self.checks_total if self.checks_total else None

    @property
    def fully_priced(self) -> bool:
        """Some cell has a known cost and every cell answered has one (cells that failed have no cost to know)."""
        return self.priced > 0 and not self.unpriced

    @property
    def cost_per_case_micros(self) -> int | None:
        """The average cost of a case (None when no cell has a known cost)."""
        if not self.priced:
            return None
        return int((Decimal(self.cost_micros) / self.priced).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ``values`` (``fraction`` 0.9 for p90); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return float(ordered[rank - 1])


def totals(run: Run, column: RunColumn) -> ColumnTotals:
    """The totals of one column: pass rate, total and per-case cost, median and p90 latency."""
    cells = [c for c in (run.cell(column, i) for i in range(len(run.cases))) if c is not None]
    latencies = [float(c.latency_ms) for c in cells if c.error is None and c.latency_ms is not None]
    return ColumnTotals(
        column=column, cases=len(run.cases), ran=len(cells),
        errors=sum(1 for c in cells if c.error is not None),
        cases_passed=sum(1 for c in cells if c.status is CellStatus.PASSED),
        checks_passed=sum(c.checks_passed for c in cells),
        checks_total=sum(len(run.cases[c.case].checks) for c in cells),
        cost_micros=sum(c.cost_micros for c in cells if c.cost_micros is not None),
        priced=sum(1 for c in cells if c.cost_micros is not None),
        unpriced=sum(1 for c in cells if c.error is None and c.cost_micros is None),
        median_latency_ms=float(statistics.median(latencies)) if latencies else None,
        p90_latency_ms=percentile(latencies, 0.9))


def column_labels(columns: Sequence[RunColumn]) -> dict[RunColumn, str]:
    """Short names for the columns: the model when they share a version, the version when they share a model."""
    one_prompt = len({c.prompt for c in columns}) <= 1
    versions = {(c.prompt, c.version) for c in columns}
    models = {c.model for c in columns}

    def version(c: RunColumn) -> str:
        return f"version {c.version}" if one_prompt or not c.prompt else f"{c.prompt} v{c.version}"

    if len(versions) == 1:
        return {c: c.model for c in columns}
    if len(models) == 1:
        return {c: version(c) for c in columns}
    return {c: f"{version(c)} on {c.model}" for c in columns}


# -- the verdict ----------------------------------------------------------------------------------------------

def cost_fraction(cheap: int, dear: int) -> str:
    """``cheap`` as a share of ``dear`` (> 0): ``1/16`` up to a half, else a percentage (``70%``, ``100%``)."""
    if cheap > 0 and Decimal(cheap) / dear <= Decimal("0.5"):
        return f"1/{int((Decimal(dear) / cheap).quantize(Decimal(1), rounding=ROUND_HALF_UP))}"
    return f"{round(Decimal(cheap) / dear * 100)}%"


def _relative_cost(cheap: ColumnTotals, dear: ColumnTotals, labels: Mapping[RunColumn, str]) -> str:
    """What follows "at": ``1/16 of gpt-4o's cost``, ``no cost (gpt-4o: $0.01 a case)``."""
    cheap_micros, dear_micros = cheap.cost_per_case_micros or 0, dear.cost_per_case_micros or 0
    if cheap_micros == dear_micros:
        return f"the same cost as {labels[dear.column]}"
    if cheap_micros == 0:
        return f"no cost ({labels[dear.column]}: {format_usd(dear_micros)} a case)"
    return f"{cost_fraction(cheap_micros, dear_micros)} of {labels[dear.column]}'s cost"


def _passes(label: str, t: ColumnTotals) -> str:
    return f"{label} passes {t.checks_passed} of {t.checks_total} checks"


def _tail(all_totals: list[ColumnTotals], labels: Mapping[RunColumn, str]) -> str:
    notes = []
    errors = sum(t.errors for t in all_totals)
    if errors:
        notes.append(f"{errors} {'request' if errors == 1 else 'requests'} failed with an error.")
    missing = sum(t.cases - t.ran for t in all_totals)
    if missing:
        notes.append(f"{missing} {'cell has' if missing == 1 else 'cells have'} not run.")
    unpriced = [labels[t.column] for t in all_totals if t.unpriced]
    if unpriced:
        notes.append(f"No price for {', '.join(unpriced)}, so {'its' if len(unpriced) == 1 else 'their'} cost is "
                     "not compared.")
    return (" " + " ".join(notes)) if notes else ""


def verdict(run: Run) -> str:
    """The plain verdict line, e.g. ``gpt-4o-mini passes 19 of 20 checks at 1/16 of gpt-4o's cost.``"""
    labels = column_labels(run.columns)
    all_totals = [totals(run, c) for c in run.columns]
    ran = [t for t in all_totals if t.ran]
    if not ran:
        return "Nothing has run yet."
    tail = _tail(all_totals, labels)
    if len(ran) == 1:
        t = ran[0]
        cost = f" for {format_usd(t.cost_micros)}" if t.fully_priced else ""
        if not t.checks_total:
            return f"{labels[t.column]} answered {t.ran - t.errors} of {t.ran} cases{cost} (no checks are set).{tail}"
        return f"{_passes(labels[t.column], t)}{cost}.{tail}"
    priced = [t for t in ran if t.fully_priced]
    if not any(t.checks_total for t in ran):
        if len(priced) < 2:
            return f"No checks are set: compare the outputs.{tail}"
        cheap = min(priced, key=lambda t: t.cost_per_case_micros or 0)
        dear = max(priced, key=lambda t: t.cost_per_case_micros or 0)
        return (f"No checks are set: compare the outputs. {labels[cheap.column]} runs at "
                f"{_relative_cost(cheap, dear, labels)}.{tail}")

    def rank(t: ColumnTotals) -> tuple[float, int, int]:
        cost = t.cost_per_case_micros if t.fully_priced and t.cost_per_case_micros is not None else 10**18
        return (-(t.pass_rate or 0.0), t.errors, cost)

    ordered = sorted(ran, key=rank)
    best = ordered[0]
    if not best.checks_passed:
        return f"No column passes any of its checks.{tail}"
    tied = [t for t in ordered if rank(t) == rank(best)]
    if len(tied) > 1:
        names = " and ".join(labels[t.column] for t in tied)
        cost = f" at {format_usd(best.cost_per_case_micros or 0)} a case" if best.fully_priced else ""
        return f"{names} tie: each passes {best.checks_passed} of {best.checks_total} checks{cost}.{tail}"
    cheapest = min(priced, key=lambda t: (t.cost_per_case_micros or 0, rank(t))) if priced else None
    if cheapest is None or cheapest is best or not best.fully_priced:
        least = ""
        if cheapest is best and len(priced) > 1:
            same = any(t.cost_per_case_micros == best.cost_per_case_micros for t in priced if t is not best)
            least = f", {'at the same cost' if same else 'and costs the least'} ({format_usd(best.cost_micros)})"
        return f"{_passes(labels[best.column], best)}, the most{least}.{tail}"
    return (f"{_passes(labels[cheapest.column], cheapest)} at {_relative_cost(cheapest, best, labels)}; "
            f"{labels[best.column]} passes {best.checks_passed} of {best.checks_total}.{tail}")


# -- regressions ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Regression:
    """One column of a later run compared with one column of an earlier run of the same set."""

    old_label: str
    new_label: str
    newly_failing: tuple[str, ...]  # case titles that passed before and fail (or error) now
    newly_passing: tuple[str, ...]
    not_compared: int  # cases missing from either run, not run in one of them, or without checks

    def sentence(self) -> str:
        """``Version 4 fails 2 cases that version 3 passed: case 3 (refund), case 7.``"""
        new, old = self.new_label, self.old_label
        n = len(self.newly_failing)
        if n:
            text = (f"{new} fails {n} {'case' if n == 1 else 'cases'} that {old} passed: "
                    f"{', '.join(self.newly_failing)}.")
        else:
            text = f"{new} passes every case that {old} passed."
        m = len(self.newly_passing)
        if m:
            text += (f" It passes {m} {'case' if m == 1 else 'cases'} that {old} failed: "
                     f"{', '.join(self.newly_passing)}.")
        if self.not_compared:
            text += f" {self.not_compared} {'case was' if self.not_compared == 1 else 'cases were'} not compared."
        return text[0].upper() + text[1:]


def compare(old: Run, old_column: RunColumn, new: Run, new_column: RunColumn) -> Regression:
    """Which cases ``new_column`` fails that ``old_column`` passed (and the reverse); cases matched by key."""
    old_index = {case_key(c, i): i for i, c in enumerate(old.cases)}
    failing: list[str] = []
    passing: list[str] = []
    not_compared = 0
    for i, case in enumerate(new.cases):
        j = old_index.get(case_key(case, i))
        before = old.status(old_column, j) if j is not None else CellStatus.NOT_RUN
        now = new.status(new_column, i)
        if CellStatus.NOT_RUN in (before, now) or CellStatus.ANSWERED in (before, now):  # nothing to compare by
            not_compared += 1
        elif before is CellStatus.PASSED and now is not CellStatus.PASSED:
            failing.append(case_title(case, i))
        elif now is CellStatus.PASSED and before is not CellStatus.PASSED:
            passing.append(case_title(case, i))
    old_label, new_label = _pair_labels(old_column, new_column)
    return Regression(old_label, new_label, tuple(failing), tuple(passing), not_compared)


def _pair_labels(old: RunColumn, new: RunColumn) -> tuple[str, str]:
    if old == new:
        return "the earlier run", "this run"
    labels = column_labels([old, new])
    return labels[old], labels[new]


def compare_runs(old: Run, new: Run) -> list[Regression]:
    """Each column of ``new`` compared with the column of ``old`` on the same model (same version preferred);
    with one column on each side, those two whatever they are."""
    if len(old.columns) == 1 and len(new.columns) == 1:
        return [compare(old, old.columns[0], new, new.columns[0])]
    out = []
    for column in new.columns:
        same_model = [c for c in old.columns if c.model == column.model]
        if same_model:
            match = next((c for c in same_model if c == column), same_model[0])
            out.append(compare(old, match, new, column))
    return out


# -- worst-case cost before a run -----------------------------------------------------------------------------

@dataclass(frozen=True)
class PlannedRequest:
    """One request a run will send: its model, prompt tokens and output allowance."""

    model: str
    prompt_tokens: int
    max_output_tokens: int


@dataclass(frozen=True)
class WorstCase:
    """The most a run can cost, and the models whose cost cannot be known."""

    micros: int
    requests: int
    unpriced_models: tuple[str, ...] = field(default=())

    @property
    def limit_micros(self) -> int | None:
        """What the spending limit is checked against (None: some model has no price)."""
        return None if self.unpriced_models else self.micros

    def sentence(self) -> str:
        """``40 requests; this run costs at most $0.12.``"""
        text = f"{self.requests:,} {'request' if self.requests == 1 else 'requests'}; "
        if self.unpriced_models:
            text += (f"at most {format_usd(self.micros)} for the priced models. No price for "
                     f"{', '.join(self.unpriced_models)}, so the whole cost cannot be known.")
        else:
            text += f"this run costs at most {format_usd(self.micros)}."
        return text


def plan_requests(columns: Sequence[tuple[PromptVersion, str]], cases: Sequence[LabCase],
                  prompt_tokens: Callable[[str, list[WireMessage]], int]) -> tuple[list[PlannedRequest], list[str]]:
    """The requests of a run (each version on its model, for each case) with their prompt tokens counted by
    ``prompt_tokens(model, messages)``; and the cases that cannot be sent, one sentence each."""
    planned: list[PlannedRequest] = []
    problems: list[str] = []
    for version, model in columns:
        for i, case in enumerate(cases):
            try:
                messages = case_messages(version, case.values)
            except MissingVariablesError as exc:
                problems.append(f"{version.label}, {case_title(case, i)}: {exc}")
                continue
            planned.append(PlannedRequest(model, prompt_tokens(model, messages), version.max_output_tokens))
    return planned, problems


def worst_case(prices: PriceTable, planned: Iterable[PlannedRequest], *, batch: bool = False) -> WorstCase:
    """The most the planned requests can cost (no cache hits, every output at its limit)."""
    total = 0
    count = 0
    unpriced: dict[str, None] = {}
    for request in planned:
        count += 1
        micros = prices.worst_case_micros(request.model, request.prompt_tokens, request.max_output_tokens,
                                          batch=batch)
        if micros is None:
            unpriced.setdefault(request.model, None)
        else:
            total += micros
    return WorstCase(total, count, tuple(unpriced))
