"""Prompt lab: a run exported as CSV and JSON lines."""

from __future__ import annotations

import csv
import io
import json

from desktop_assistant.core.lab_checks import make_check, run_checks
from desktop_assistant.core.lab_export import RESULT_COLUMNS, dollars, export_csv, export_jsonl
from desktop_assistant.core.lab_report import Cell, Run, RunColumn
from desktop_assistant.core.lab_testset import LabCase

MINI = RunColumn(2, "gpt-4o-mini", "Support")
BIG = RunColumn(2, "gpt-4o", "Support")
CASES = (
    LabCase({"question": "Wo ist meine Bestellung? 📦", "tone": "kind"},
            (make_check("contains", "Bestellung"), make_check("max_tokens", 3)), label="order", key="k1"),
    LabCase({"question": "Cancel, please", "tone": "curt"}, (make_check("json"),)),
)


def words(text: str) -> int:
    return len(text.split())


def sample_run() -> Run:
    ok_output = "Ihre Bestellung, \"bald\"\nunterwegs"
    cells = (
        Cell(MINI, 0, ok_output, run_checks(CASES[0].checks, ok_output, words), 20, 7, 1234, 850),
        Cell(BIG, 0, "Bestellung", run_checks(CASES[0].checks, "Bestellung", words), 20, 1, 25_000, 1200),
        Cell(MINI, 1, "", (), 12, 0, None, None, "The server had an error. Try again."),
    )
    return Run(CASES, (MINI, BIG), cells, "Support set")


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_dollars_exact() -> None:
    assert dollars(1234) == "0.001234"
    assert dollars(0) == "0"
    assert dollars(5_000_000) == "5"
    assert dollars(None) == ""


def test_csv_header_and_one_row_per_case_and_column() -> None:
    text = export_csv(sample_run())
    header = next(csv.reader(io.StringIO(text)))
    assert header == ["case", "key", "label", "var:question", "var:tone", *RESULT_COLUMNS]
    table = rows(text)
    assert [(r["case"], r["model"]) for r in table] == [("1", "gpt-4o-mini"), ("1", "gpt-4o"), ("2", "gpt-4o-mini"),
                                                         ("2", "gpt-4o")]


def test_csv_cells_keep_unicode_newlines_and_quotes() -> None:
    first = rows(export_csv(sample_run()))[0]
    assert first["var:question"] == "Wo ist meine Bestellung? 📦"
    assert first["output"] == "Ihre Bestellung, \"bald\"\nunterwegs"
    assert (first["key"], first["label"], first["version"]) == ("k1", "order", "2")


def test_csv_failed_checks_cost_and_latency() -> None:
    first, second, error, not_run = rows(export_csv(sample_run()))
    assert first["status"] == "failed" and (first["checks_passed"], first["checks_run"]) == ("1", "2")
    assert first["failed_checks"] == "at most 3 tokens: 4 tokens, over the limit of 3."
    assert (first["input_tokens"], first["output_tokens"], first["cost_usd"], first["latency_ms"]) == (
        "20", "7", "0.001234", "850")
    assert second["status"] == "passed" and second["failed_checks"] == "" and second["cost_usd"] == "0.025"
    assert error["status"] == "error" and error["error"] == "The server had an error. Try again."
    assert (error["checks_passed"], error["checks_run"], error["cost_usd"], error["latency_ms"]) == ("0", "1", "", "")
    assert error["key"] == "#2"
    assert not_run["status"] == "not run"
    assert all(not_run[c] == "" for c in RESULT_COLUMNS if c not in ("version", "model", "status"))


def test_jsonl_lines_carry_everything() -> None:
    lines = [json.loads(line) for line in export_jsonl(sample_run()).splitlines()]
    assert len(lines) == 4
    first = lines[0]
    assert first["vars"] == {"question": "Wo ist meine Bestellung? 📦", "tone": "kind"}
    assert (first["prompt"], first["version"], first["model"], first["status"]) == ("Support", 2, "gpt-4o-mini",
                                                                                   "failed")
    assert first["cost_micros"] == 1234 and isinstance(first["cost_micros"], int)
    assert first["checks"][1] == {"check": {"kind": "max_tokens", "value": 3}, "passed": False,
                                  "reason": "4 tokens, over the limit of 3."}
    assert lines[2]["error"] == "The server had an error. Try again." and lines[2]["cost_micros"] is None
    assert lines[3] == {"case": 2, "key": "#2", "label": "", "vars": {"question": "Cancel, please", "tone": "curt"},
                        "prompt": "Support", "version": 2, "model": "gpt-4o", "status": "not run"}
    assert "📦" in export_jsonl(sample_run())  # not escaped


def test_exports_of_an_empty_set() -> None:
    empty = Run((), (MINI,), ())
    assert export_jsonl(empty) == ""
    assert rows(export_csv(empty)) == []
    assert export_csv(empty).startswith("case,key,label,version,model,status")
