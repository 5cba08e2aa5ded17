"""Prompt lab: a run's cells, column totals, the verdict line, regressions and the worst-case cost."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from desktop_assistant.core.lab_checks import CheckResult, make_check
from desktop_assistant.core.lab_report import (
    Cell,
    CellStatus,
    PlannedRequest,
    Run,
    RunColumn,
    column_labels,
    compare,
    compare_runs,
    cost_fraction,
    percentile,
    plan_requests,
    run_again_outcome,
    to_run_again,
    totals,
    verdict,
    worst_case,
)
from desktop_assistant.core.lab_testset import LabCase
from desktop_assistant.core.pricing import PriceTable
from desktop_assistant.core.prompts import PromptVersion
from desktop_assistant.core.requests import WireMessage

BIG = RunColumn(1, "gpt-4o")
SMALL = RunColumn(1, "gpt-4o-mini")
V3 = RunColumn(3, "gpt-4o-mini")
V4 = RunColumn(4, "gpt-4o-mini")


def make_cases(n: int, checks: int = 1) -> tuple[LabCase, ...]:
    return tuple(LabCase({"q": f"question {i}"}, tuple(make_check("contains", f"c{k}") for k in range(checks)),
                         label="refund" if i == 2 else "") for i in range(n))


def cell(cases: Sequence[LabCase], column: RunColumn, i: int, *, passed: bool | Sequence[bool] = True,
         cost: int | None = 100, latency: int | None = 1000, error: str | None = None) -> Cell:
    """A cell whose checks pass (or fail) as told."""
    flags = [passed] * len(cases[i].checks) if isinstance(passed, bool) else list(passed)
    results = () if error else tuple(CheckResult(c, f, "ok" if f else "no") for c, f in
                                     zip(cases[i].checks, flags, strict=True))
    return Cell(column, i, "out", results, 10, 5, cost, latency, error)


def run_of(cases: tuple[LabCase, ...], columns: Sequence[RunColumn], cells: Sequence[Cell]) -> Run:
    return Run(cases, tuple(columns), tuple(cells))


# --- cells and totals -------------------------------------------------------------------------------------


def test_cell_status() -> None:
    cases = make_cases(1, checks=2)
    assert cell(cases, BIG, 0).status is CellStatus.PASSED
    assert cell(cases, BIG, 0, passed=[True, False]).status is CellStatus.FAILED
    errored = cell(cases, BIG, 0, error="Rate limited")
    assert errored.status is CellStatus.ERROR and errored.checks_passed == 0
    no_checks = make_cases(1, checks=0)
    assert cell(no_checks, BIG, 0).status is CellStatus.ANSWERED  # nothing was checked: not shown as passed


def test_missing_cell_is_not_run_and_retried_cell_last_wins() -> None:
    cases = make_cases(2)
    run = run_of(cases, [BIG], [cell(cases, BIG, 0, error="Timeout"), cell(cases, BIG, 0)])
    assert run.status(BIG, 0) is CellStatus.PASSED
    assert run.status(BIG, 1) is CellStatus.NOT_RUN and run.cell(BIG, 1) is None
    assert totals(run, BIG).ran == 1 and totals(run, BIG).errors == 0


def test_totals_pass_rate_cost_and_latency() -> None:
    cases = make_cases(4, checks=2)
    cells = [cell(cases, BIG, 0, latency=100, cost=1), cell(cases, BIG, 1, passed=[True, False], latency=300, cost=2),
             cell(cases, BIG, 2, latency=200, cost=2), cell(cases, BIG, 3, error="Server error", latency=9999,
                                                             cost=None)]
    t = totals(run_of(cases, [BIG], cells), BIG)
    assert (t.cases, t.ran, t.errors, t.cases_passed) == (4, 4, 1, 2)
    assert (t.checks_passed, t.checks_total) == (5, 8)  # the error cell fails both of its checks
    assert t.pass_rate == pytest.approx(5 / 8)
    assert (t.cost_micros, t.priced, t.unpriced) == (5, 3, 0)
    assert t.fully_priced  # the cell that failed cost nothing: it is not a cell without a price
    assert t.cost_per_case_micros == 2  # 5 / 3 = 1.67, rounded half up to whole micro-dollars
    assert t.median_latency_ms == 200.0 and t.p90_latency_ms == 300.0  # the error's latency is left out


def test_totals_of_an_empty_set_and_of_nothing_run() -> None:
    t = totals(run_of((), [BIG], []), BIG)
    assert (t.ran, t.checks_total, t.pass_rate, t.cost_per_case_micros) == (0, 0, None, None)
    assert t.median_latency_ms is None and t.p90_latency_ms is None and not t.fully_priced


def test_percentile_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5], 0.9) == 5.0
    assert percentile(list(range(1, 11)), 0.9) == 9.0
    assert percentile(list(range(1, 21)), 0.9) == 18.0
    assert percentile([3, 1, 2], 0.5) == 2.0


def test_even_count_median_is_the_mean_of_the_middle_two() -> None:
    cases = make_cases(2)
    run = run_of(cases, [BIG], [cell(cases, BIG, 0, latency=100), cell(cases, BIG, 1, latency=201)])
    assert totals(run, BIG).median_latency_ms == 150.5


def test_column_labels() -> None:
    assert column_labels([BIG, SMALL]) == {BIG: "gpt-4o", SMALL: "gpt-4o-mini"}
    assert column_labels([V3, V4]) == {V3: "version 3", V4: "version 4"}
    mixed = column_labels([V3, RunColumn(4, "gpt-4o")])
    assert mixed[V3] == "version 3 on gpt-4o-mini"
    two_prompts = column_labels([RunColumn(1, "m", "Alpha"), RunColumn(1, "m", "Beta")])
    assert set(two_prompts.values()) == {"Alpha v1", "Beta v1"}


# --- the verdict ------------------------------------------------------------------------------------------


def twenty_cases_two_models(small_fails: int = 1) -> Run:
    cases = make_cases(20)
    cells = [cell(cases, BIG, i, cost=1600) for i in range(20)]
    cells += [cell(cases, SMALL, i, cost=100, passed=i >= small_fails) for i in range(20)]
    return run_of(cases, [BIG, SMALL], cells)


def test_verdict_cheaper_model_almost_as_good() -> None:
    assert verdict(twenty_cases_two_models()) == (
        "gpt-4o-mini passes 19 of 20 checks at 1/16 of gpt-4o's cost; gpt-4o passes 20 of 20.")


def test_verdict_best_is_also_cheapest() -> None:
    assert verdict(twenty_cases_two_models(small_fails=0)) == (
        "gpt-4o-mini passes 20 of 20 checks, the most, and costs the least ($0.002).")


def test_verdict_one_model_only() -> None:
    cases = make_cases(3)
    run = run_of(cases, [SMALL], [cell(cases, SMALL, i, cost=1000, passed=i != 1) for i in range(3)])
    assert verdict(run) == "gpt-4o-mini passes 2 of 3 checks for $0.003."


def test_verdict_nothing_run_and_empty_set() -> None:
    assert verdict(run_of(make_cases(3), [BIG, SMALL], [])) == "Nothing has run yet."
    assert verdict(run_of((), [BIG], [])) == "Nothing has run yet."


def test_verdict_all_failing() -> None:
    cases = make_cases(2)
    cells = [cell(cases, c, i, passed=False) for c in (BIG, SMALL) for i in range(2)]
    assert verdict(run_of(cases, [BIG, SMALL], cells)) == "No column passes any of its checks."


def test_verdict_tie() -> None:
    cases = make_cases(2)
    cells = [cell(cases, c, i, cost=500) for c in (V3, V4) for i in range(2)]
    assert verdict(run_of(cases, [V3, V4], cells)) == (
        "version 3 and version 4 tie: each passes 2 of 2 checks at $0.0005 a case.")


def test_verdict_counts_a_cell_error_and_cells_not_run() -> None:
    cases = make_cases(3)
    cells = [cell(cases, BIG, i, cost=1000) for i in range(3)]
    cells += [cell(cases, SMALL, 0, cost=100), cell(cases, SMALL, 1, error="The request timed out.", cost=None)]
    text = verdict(run_of(cases, [BIG, SMALL], cells))
    assert text.startswith("gpt-4o-mini passes 1 of 2 checks at 1/10 of gpt-4o's cost; gpt-4o passes 3 of 3.")
    assert "1 request failed with an error." in text and "1 cell has not run." in text
    assert "No price" not in text


def test_a_failed_cell_is_not_an_unpriced_one() -> None:
    cases = make_cases(20)
    cells = [cell(cases, BIG, i, cost=1600) for i in range(20)]
    cells += [cell(cases, SMALL, i, cost=100) for i in range(19)]
    cells.append(cell(cases, SMALL, 19, error="The request timed out.", cost=None))
    text = verdict(run_of(cases, [BIG, SMALL], cells))
    assert text == ("gpt-4o-mini passes 19 of 20 checks at 1/16 of gpt-4o's cost; gpt-4o passes 20 of 20. "
                    "1 request failed with an error.")
    assert totals(run_of(cases, [BIG, SMALL], cells), SMALL).fully_priced
    # an answer without a price still is one
    local = RunColumn(1, "llama3")
    cells = [cell(cases, BIG, i, cost=1600) for i in range(2)] + [cell(cases, local, 0, cost=None),
                                                                  cell(cases, local, 1, error="Timeout", cost=None)]
    text = verdict(run_of(cases[:2], [BIG, local], cells))
    assert text.endswith("No price for llama3, so its cost is not compared.")
    # under the column: a column whose every request failed cost nothing; one answered without a price has none
    from desktop_assistant.ui.lab.grid_model import totals_text

    failed = run_of(cases[:1], [SMALL], [cell(cases, SMALL, 0, error="Timeout", cost=None)])
    assert "no cost" in totals_text(totals(failed, SMALL)) and "no price" not in totals_text(totals(failed, SMALL))
    assert "no price" in totals_text(totals(run_of(cases[:2], [BIG, local], cells), local))


def test_verdict_without_checks_compares_cost() -> None:
    cases = make_cases(2, checks=0)
    cells = [cell(cases, BIG, i, cost=400) for i in range(2)] + [cell(cases, SMALL, i, cost=100) for i in range(2)]
    assert verdict(run_of(cases, [BIG, SMALL], cells)) == (
        "No checks are set: compare the outputs. gpt-4o-mini runs at 1/4 of gpt-4o's cost.")
    one = run_of(cases, [SMALL], cells[2:])
    assert verdict(one) == "gpt-4o-mini answered 2 of 2 cases for $0.0002 (no checks are set)."


def test_verdict_model_without_price() -> None:
    cases = make_cases(2)
    local = RunColumn(1, "llama3")
    cells = [cell(cases, BIG, i, cost=1000, passed=False) for i in range(2)]
    cells += [cell(cases, local, i, cost=None) for i in range(2)]
    text = verdict(run_of(cases, [BIG, local], cells))
    assert text == ("llama3 passes 2 of 2 checks, the most. No price for llama3, so its cost is not compared.")


def test_verdict_free_model_costs_nothing() -> None:
    cases = make_cases(2)
    local = RunColumn(1, "llama3")
    cells = [cell(cases, BIG, i, cost=1000) for i in range(2)]
    cells += [cell(cases, local, i, cost=0, passed=i == 0) for i in range(2)]
    assert verdict(run_of(cases, [BIG, local], cells)) == (
        "llama3 passes 1 of 2 checks at no cost (gpt-4o: $0.001 a case); gpt-4o passes 2 of 2.")


@pytest.mark.parametrize(("cheap", "dear", "words"), [
    (100, 1600, "1/16"), (1, 3, "1/3"), (50, 100, "1/2"), (70, 100, "70%"), (100, 100, "100%"), (0, 100, "0%"),
    (1, 10**9, "1/1000000000"), (45, 100, "1/2"),
])
def test_cost_fraction(cheap: int, dear: int, words: str) -> None:
    assert cost_fraction(cheap, dear) == words


def test_verdict_same_cost_lower_pass_rate() -> None:
    cases = make_cases(2)
    cells = [cell(cases, c, i, cost=100, passed=c is BIG or i == 0) for c in (BIG, SMALL) for i in range(2)]
    assert verdict(run_of(cases, [BIG, SMALL], cells)) == (
        "gpt-4o passes 2 of 2 checks, the most, at the same cost ($0.0002).")


def test_verdict_no_checks_zero_cost_model() -> None:
    cases = make_cases(1, checks=0)
    local = RunColumn(1, "llama3")
    cells = [cell(cases, BIG, 0, cost=400), cell(cases, local, 0, cost=0)]
    assert verdict(run_of(cases, [BIG, local], cells)) == (
        "No checks are set: compare the outputs. llama3 runs at no cost (gpt-4o: $0.0004 a case).")


def test_cancelled_column_compared_per_case_not_in_total() -> None:
    cases = make_cases(20)
    cells = [cell(cases, BIG, i, cost=1600) for i in range(20)]
    cells += [cell(cases, SMALL, i, cost=100, passed=i != 0) for i in range(5)]
    assert verdict(run_of(cases, [BIG, SMALL], cells)).startswith(
        "gpt-4o-mini passes 4 of 5 checks at 1/16 of gpt-4o's cost")


# --- regressions ------------------------------------------------------------------------------------------


def test_regression_names_the_cases_version_4_now_fails() -> None:
    cases = make_cases(5)
    old = run_of(cases, [V3], [cell(cases, V3, i, passed=i != 4) for i in range(5)])
    new_cells = [cell(cases, V4, i, passed=i not in (2, 3)) for i in range(4)]
    new_cells.append(cell(cases, V4, 4))
    new = run_of(cases, [V4], new_cells)
    result = compare(old, V3, new, V4)
    assert result.newly_failing == ("case 3 (refund)", "case 4")
    assert result.newly_passing == ("case 5",)
    assert result.sentence() == ("Version 4 fails 2 cases that version 3 passed: case 3 (refund), case 4. "
                                 "It passes 1 case that version 3 failed: case 5.")


def test_regression_errors_count_as_failing_and_missing_cells_are_not_compared() -> None:
    cases = make_cases(3)
    old = run_of(cases, [V3], [cell(cases, V3, i) for i in range(3)])
    new = run_of(cases, [V4], [cell(cases, V4, 0, error="Server error"), cell(cases, V4, 1)])
    result = compare(old, V3, new, V4)
    assert result.newly_failing == ("case 1",) and result.not_compared == 1
    assert result.sentence().endswith("1 case was not compared.")


def test_no_regression_sentence() -> None:
    cases = make_cases(2)
    old = run_of(cases, [V3], [cell(cases, V3, i) for i in range(2)])
    new = run_of(cases, [V4], [cell(cases, V4, i) for i in range(2)])
    assert compare(old, V3, new, V4).sentence() == "Version 4 passes every case that version 3 passed."


def test_same_column_in_two_runs_reads_as_this_run() -> None:
    cases = make_cases(1)
    old = run_of(cases, [V3], [cell(cases, V3, 0)])
    new = run_of(cases, [V3], [cell(cases, V3, 0, passed=False)])
    assert compare(old, V3, new, V3).sentence() == "This run fails 1 case that the earlier run passed: case 1."


def test_cases_are_matched_by_key_when_the_set_changed() -> None:
    old_cases = (LabCase({"q": "a"}, (make_check("json"),), key="A"), LabCase({"q": "b"}, (make_check("json"),),
                                                                              key="B"))
    new_cases = (LabCase({"q": "new"}, (make_check("json"),), key="N"), old_cases[1], old_cases[0])
    old = run_of(old_cases, [V3], [cell(old_cases, V3, 0), cell(old_cases, V3, 1, passed=False)])
    new = run_of(new_cases, [V4], [cell(new_cases, V4, i, passed=i != 2) for i in range(3)])
    result = compare(old, V3, new, V4)
    assert result.newly_failing == ("case 3",) and result.newly_passing == ("case 2",)
    assert result.not_compared == 1


def test_compare_runs_pairs_columns_by_model() -> None:
    cases = make_cases(1)
    old = run_of(cases, [BIG, SMALL], [cell(cases, BIG, 0), cell(cases, SMALL, 0)])
    other = RunColumn(1, "gpt-4.1")
    new = run_of(cases, [SMALL, BIG, other], [cell(cases, SMALL, 0, passed=False), cell(cases, BIG, 0),
                                              cell(cases, other, 0)])
    results = compare_runs(old, new)
    assert [r.new_label for r in results] == ["this run", "this run"]
    assert [len(r.newly_failing) for r in results] == [1, 0]
    single = compare_runs(run_of(cases, [V3], [cell(cases, V3, 0)]),
                          run_of(cases, [RunColumn(4, "gpt-4o")], [cell(cases, RunColumn(4, "gpt-4o"), 0)]))
    assert len(single) == 1 and single[0].old_label == "version 3 on gpt-4o-mini"


# --- worst-case cost before a run -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    return PriceTable.from_dict({"per": 1_000_000, "models": {
        "gpt-4o": {"input": "2.50", "output": "10.00"}, "gpt-4o-mini": {"input": "0.15", "output": "0.60"}}})


def test_worst_case_adds_every_request(prices: PriceTable) -> None:
    planned = [PlannedRequest("gpt-4o", 1000, 500), PlannedRequest("gpt-4o-mini", 1000, 500)]
    result = worst_case(prices, planned)
    # gpt-4o: 1000 * 2.5 + 500 * 10 = 7500 micros; mini: 150 + 300 = 450 micros
    assert (result.micros, result.requests, result.unpriced_models) == (7950, 2, ())
    assert result.limit_micros == 7950
    assert result.sentence() == "2 requests; this run costs at most $0.008."
    assert worst_case(prices, planned, batch=True).micros == 3975


def test_worst_case_with_an_unpriced_model(prices: PriceTable) -> None:
    planned = [PlannedRequest("gpt-4o-mini", 1000, 500), PlannedRequest("my-local", 10, 10),
               PlannedRequest("my-local", 10, 10)]
    result = worst_case(prices, planned)
    assert (result.micros, result.unpriced_models, result.limit_micros) == (450, ("my-local",), None)
    assert "No price for my-local" in result.sentence()


def test_worst_case_of_nothing(prices: PriceTable) -> None:
    result = worst_case(prices, [])
    assert (result.micros, result.requests) == (0, 0)
    assert result.sentence() == "0 requests; this run costs at most $0.00."


def test_plan_requests_counts_each_case_on_each_model_and_lists_unfillable_cases() -> None:
    version = PromptVersion("Support", 2, "Be kind.", "Q: {{q}}", max_output_tokens=300)
    cases = (LabCase({"q": "short"}), LabCase({}, label="empty"), LabCase({"q": "a longer question"}))
    seen: list[tuple[str, list[WireMessage]]] = []

    def count(model: str, messages: list[WireMessage]) -> int:
        seen.append((model, messages))
        return sum(len(str(m["content"])) for m in messages)

    planned, problems = plan_requests([(version, "gpt-4o"), (version, "gpt-4o-mini")], cases, count)
    assert [(p.model, p.max_output_tokens) for p in planned] == [("gpt-4o", 300)] * 2 + [("gpt-4o-mini", 300)] * 2
    assert planned[0].prompt_tokens == len("Be kind.") + len("Q: short")
    assert seen[0][1][-1] == {"role": "user", "content": "Q: short"}
    assert len(problems) == 2 and problems[0].startswith("Support v2, case 2 (empty): No value for the template")


def test_worst_case_feeds_the_spending_limit_check(prices: PriceTable) -> None:
    from desktop_assistant.core.budget import Limits, Spent, check

    planned = [PlannedRequest("gpt-4o", 1000, 500)] * 4  # 4 x 7500 micros
    result = worst_case(prices, planned)
    refused = check(Limits(monthly_micros=20_000), Spent(0, 0), result.limit_micros)
    assert not refused.allowed and "$0.03" in refused.message
    assert check(Limits(monthly_micros=100_000), Spent(0, 0), result.limit_micros).allowed
    unpriced = worst_case(prices, [PlannedRequest("my-local", 1, 1)])
    assert not check(Limits(monthly_micros=100_000), Spent(0, 0), unpriced.limit_micros).allowed


def test_the_grid_speaks_plainly() -> None:
    from desktop_assistant.ui.lab.grid_model import _seconds

    assert (_seconds(840), _seconds(12_345)) == ("0.8 s", "12 s")


def test_what_run_again_sends_and_what_it_came_to() -> None:
    cases = make_cases(3)
    cells = [cell(cases, BIG, 0), cell(cases, SMALL, 0, error="Timeout", cost=None), cell(cases, BIG, 1)]
    run = run_of(cases, [BIG, SMALL], cells)
    failed, remaining = to_run_again(run)
    assert failed == [(1, 0)] and remaining == [(1, 1), (0, 2), (1, 2)]  # an error is not a cell never run
    assert run_again_outcome(run, [(0, 0), (0, 1)]) == "Ran 2 cells again: every one answered."
    assert run_again_outcome(run, [(1, 0), (1, 1)]) == (
        "Ran 2 cells again: 0 answered; 1 still fails (Timeout); 1 did not run (cancelled).")
