"""A prompt lab run exported as CSV and JSON lines: one row per (case, column), in grid order.

Columns: the case's number, key and label, its variables (``var:NAME``, so they never clash with the fixed
columns), the version and model, the status (``passed``, ``failed``, ``error``, ``not run``), the checks passed
and run, the reasons of the failed checks, the output, tokens, the cost in dollars (exact, from integer
micro-dollars; empty when unknown), the latency in milliseconds and the error. JSON lines carry the same fields
with the cost as integer ``cost_micros`` and every check's result.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

from desktop_assistant.core.lab_checks import check_to_dict, describe
from desktop_assistant.core.lab_report import CellStatus, Run
from desktop_assistant.core.lab_testset import case_key, set_variables
from desktop_assistant.core.pricing import MICROS_PER_DOLLAR

FIXED_COLUMNS = ["case", "key", "label"]
RESULT_COLUMNS = ["version", "model", "status", "checks_passed", "checks_run", "failed_checks", "output",
                  "input_tokens", "output_tokens", "cost_usd", "latency_ms", "error"]


def dollars(micros: int | None) -> str:
    """Integer micro-dollars as an exact dollar amount (``1234`` -> ``0.001234``); empty when unknown."""
    if micros is None:
        return ""
    return format(Decimal(micros) / MICROS_PER_DOLLAR, "f")


def _records(run: Run) -> list[dict[str, Any]]:
    out = []
    for i, case in enumerate(run.cases):
        for column in run.columns:
            cell = run.cell(column, i)
            record: dict[str, Any] = {
                "case": i + 1, "key": case_key(case, i), "label": case.label, "vars": dict(case.values),
                "prompt": column.prompt, "version": column.version, "model": column.model,
                "status": CellStatus.NOT_RUN.value if cell is None else cell.status.value,
            }
            if cell is not None:
                record.update({
                    "checks_passed": cell.checks_passed,
                    "checks_run": len(case.checks) if cell.error is not None else len(cell.checks),
                    "checks": [{"check": check_to_dict(r.check), "passed": r.passed, "reason": r.reason}
                               for r in cell.checks],
                    "output": cell.output, "input_tokens": cell.input_tokens, "output_tokens": cell.output_tokens,
                    "cost_micros": cell.cost_micros, "latency_ms": cell.latency_ms, "error": cell.error,
                })
            out.append(record)
    return out


def export_csv(run: Run) -> str:
    """The run as CSV text (header row first)."""
    names = set_variables(run.cases)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*FIXED_COLUMNS, *(f"var:{n}" for n in names), *RESULT_COLUMNS])
    for i, case in enumerate(run.cases):
        for column in run.columns:
            cell = run.cell(column, i)
            head = [i + 1, case_key(case, i), case.label, *(case.values.get(n, "") for n in names),
                    column.version, column.model]
            if cell is None:
                writer.writerow([*head, CellStatus.NOT_RUN.value, *[""] * (len(RESULT_COLUMNS) - 3)])
                continue
            failed = "; ".join(f"{describe(r.check)}: {r.reason}" for r in cell.checks if not r.passed)
            checks_run = len(case.checks) if cell.error is not None else len(cell.checks)
            writer.writerow([*head, cell.status.value, cell.checks_passed, checks_run, failed, cell.output,
                             cell.input_tokens, cell.output_tokens, dollars(cell.cost_micros),
                             "" if cell.latency_ms is None else cell.latency_ms, cell.error or ""])
    return buffer.getvalue()


def export_jsonl(run: Run) -> str:
    """The run as JSON lines, one object per (case, column)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _records(run))
