"""Pure helpers of the extraction workspace: bulk inputs, result rows, CSV/JSONL export, batch files."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from desktop_assistant.core.models import Usage, usage_from_api
from desktop_assistant.core.schemas import validate_answer

TEXT_SUFFIXES = (".txt", ".md", ".csv")
MAX_INPUT_CHARS = 200_000


class RowState(StrEnum):
    """Where one bulk row stands."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    INVALID = "invalid"  # an answer arrived but did not match the schema
    REFUSED = "refused"
    FAILED = "failed"
    CANCELLED = "cancelled"


RETRYABLE = frozenset({RowState.INVALID, RowState.REFUSED, RowState.FAILED, RowState.CANCELLED})
"""Rows worth asking again. A pending row is on its way (in a batch, or waiting its turn), a running one is being
asked, a done one has its answer: asking any of them again would pay twice."""


@dataclass
class Outcome:
    """What one extraction produced: values, or a refusal, or validation errors, or an error message."""

    values: dict[str, Any] | None = None
    raw: str = ""
    refusal: str | None = None
    errors: list[str] = field(default_factory=list)
    error: str | None = None
    usage: Usage | None = None
    cost_micros: int | None = None
    finish_reason: str = ""

    @property
    def state(self) -> RowState:
        """The row state this outcome gives."""
        if self.error is not None:
            return RowState.FAILED
        if self.refusal is not None:
            return RowState.REFUSED
        if self.errors or self.values is None:
            return RowState.INVALID
        return RowState.DONE


@dataclass
class Row:
    """One input of a bulk run and what became of it."""

    index: int
    text: str
    label: str = ""
    state: RowState = RowState.PENDING
    outcome: Outcome | None = None


def split_lines(text: str) -> list[str]:
    """One input per non-empty line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def csv_columns(text: str) -> list[str]:
    """The header row of a CSV text (empty when there is none)."""
    reader = csv.reader(io.StringIO(text))
    return next(reader, [])


def wordiest_column(text: str) -> str:
    """The column of a CSV text whose values are longest on average (the text to extract from, rather than an
    id or a date); "" when there is no header."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not rows[0]:
        return ""
    header, body = rows[0], rows[1:]

    def length(i: int) -> float:
        values = [len(r[i].strip()) for r in body if len(r) > i]
        return sum(values) / len(values) if values else 0.0
    return header[max(range(len(header)), key=length)]


def csv_column(text: str, column: str | int) -> list[str]:
    """The non-empty values of one column (by header name or index) of a CSV text with a header row."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header = rows[0]
    index = column if isinstance(column, int) else header.index(column)
    return [r[index].strip() for r in rows[1:] if len(r) > index and r[index].strip()]


def decode_text(data: bytes, name: str) -> str:
    """The text of a dropped file (UTF-8 with or without BOM, else Latin-1), limited in length."""
    if not name.lower().endswith(TEXT_SUFFIXES):
        raise ValueError(f"{name}: only .txt, .md and .csv files can be read as text.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if len(text) > MAX_INPUT_CHARS:
        raise ValueError(f"{name}: the file has {len(text):,} characters; at most {MAX_INPUT_CHARS:,} are sent.")
    return text


def flatten(values: Mapping[str, Any] | None, columns: Iterable[str]) -> list[str]:
    """Cells of a results row: scalars as text, lists and objects as compact JSON, null as empty."""
    out = []
    for column in columns:
        value = (values or {}).get(column)
        if value is None:
            out.append("")
        elif isinstance(value, bool):
            out.append("true" if value else "false")
        elif isinstance(value, list | dict):
            out.append(json.dumps(value, ensure_ascii=False))
        else:
            out.append(str(value))
    return out


def export_csv(rows: list[Row], columns: list[str]) -> str:
    """The results table as CSV: input, status, one column per field, errors."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["input", "status", *columns, "errors"])
    for row in rows:
        outcome = row.outcome
        problems = "" if outcome is None else "; ".join(
            ([outcome.error] if outcome.error else []) + ([outcome.refusal] if outcome.refusal else [])
            + outcome.errors)
        writer.writerow([row.text, row.state.value, *flatten(outcome.values if outcome else None, columns),
                         problems])
    return buffer.getvalue()


def export_jsonl(rows: list[Row]) -> str:
    """The results as JSON lines: input, status, values, refusal and errors."""
    lines = []
    for row in rows:
        o = row.outcome or Outcome()
        lines.append(json.dumps({"input": row.text, "status": row.state.value, "values": o.values,
                                 "refusal": o.refusal, "errors": o.errors + ([o.error] if o.error else [])},
                                ensure_ascii=False))
    return "\n".join(lines) + ("\n" if lines else "")


def custom_id(index: int) -> str:
    """The batch line id of row ``index``."""
    return f"row-{index}"


def row_of(custom: str) -> int | None:
    """The row index of a batch line id, or None."""
    match = re.fullmatch(r"row-(\d+)", custom or "")
    return int(match.group(1)) if match else None


def jsonl(lines: Iterable[Mapping[str, Any]]) -> bytes:
    """JSON lines as UTF-8 bytes (one compact object per line)."""
    return "".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n" for line in lines).encode()


def read_jsonl(text: str) -> list[dict[str, Any]]:
    """The objects of a JSON lines text (blank or broken lines skipped)."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict):
            out.append(item)
    return out


@dataclass(frozen=True)
class BatchAnswer:
    """One line of a batch output (or error) file, reduced to what the table needs."""

    row: int
    content: str | None = None
    refusal: str | None = None
    arguments: str | None = None
    error: str | None = None
    usage: Usage | None = None
    model: str = ""


def batch_answers(text: str) -> list[BatchAnswer]:
    """The answers of a batch output or error file."""
    out = []
    for line in read_jsonl(text):
        row = row_of(str(line.get("custom_id", "")))
        if row is None:
            continue
        response = line.get("response") or {}
        body = response.get("body") if isinstance(response, Mapping) else None
        error = line.get("error")
        status = response.get("status_code") if isinstance(response, Mapping) else None
        if error or not isinstance(body, Mapping) or (isinstance(status, int) and status >= 400):
            message = (error or {}).get("message") if isinstance(error, Mapping) else None
            if message is None and isinstance(body, Mapping):
                message = (body.get("error") or {}).get("message")
            out.append(BatchAnswer(row, error=str(message or f"the request failed (HTTP {status})")))
            continue
        choices = body.get("choices") or [{}]
        message_obj = choices[0].get("message") or {}
        calls = message_obj.get("tool_calls") or []
        arguments = calls[0].get("function", {}).get("arguments") if calls else None
        out.append(BatchAnswer(row, content=message_obj.get("content"), refusal=message_obj.get("refusal"),
                               arguments=arguments, usage=usage_from_api(body.get("usage")),
                               model=str(body.get("model", ""))))
    return out


def outcome_of(model: Any, *, content: str | None, refusal: str | None, arguments: str | None,
               finish_reason: str = "", mode: str = "structured") -> Outcome:
    """An answer (JSON content, tool arguments or a refusal) checked against the schema's pydantic ``model``."""
    if refusal:
        return Outcome(refusal=refusal, finish_reason=finish_reason)
    raw = arguments if arguments is not None else content
    if raw is None or not raw.strip():
        what = "no function call" if mode == "function" else "no answer"
        return Outcome(raw=content or "", errors=[f"The model gave {what}" + (f": {content}" if content else ".")],
                       finish_reason=finish_reason)
    checked = validate_answer(model, raw)
    errors = list(checked.errors)
    if finish_reason == "length":
        errors.insert(0, "The answer was cut off at the output limit; raise the max tokens.")
    return Outcome(values=checked.values, raw=raw, errors=errors, finish_reason=finish_reason)


def row_to_dict(row: Row) -> dict[str, Any]:
    """A row as JSON-ready data (stored with a collected batch)."""
    o = row.outcome or Outcome()
    return {"index": row.index, "text": row.text, "label": row.label, "state": row.state.value, "values": o.values,
            "raw": o.raw, "refusal": o.refusal, "errors": o.errors, "error": o.error, "cost_micros": o.cost_micros}


def row_from_dict(data: Mapping[str, Any]) -> Row:
    """A row read back from :func:`row_to_dict` data."""
    outcome = Outcome(values=data.get("values"), raw=str(data.get("raw") or ""), refusal=data.get("refusal"),
                      errors=list(data.get("errors") or []), error=data.get("error"),
                      cost_micros=data.get("cost_micros"))
    return Row(int(data.get("index", 0)), str(data.get("text", "")), str(data.get("label", "")),
               RowState(str(data.get("state", RowState.DONE.value))), outcome)


@dataclass
class BatchJob:
    """A submitted batch and what is needed to fill the table when it completes."""

    id: str
    run_id: str
    model: str
    mode: str
    schema_name: str
    schema: dict[str, Any]
    inputs: list[str]
    input_file_id: str
    status: str
    total: int = 0
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    results: list[dict[str, Any]] | None = None
    created_at: float = 0.0
    collected_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # why the server failed the batch as a whole
    check_problem: str = ""  # why the last status check failed ("" when it worked)
    next_check_at: float | None = None  # when the status is asked for next, after a failed check

    @property
    def finished(self) -> bool:
        """The server is done with it (any way)."""
        return self.status in ("completed", "failed", "expired", "cancelled")


@dataclass(frozen=True)
class CollectedBatch:
    """A batch collected before, as the list of earlier batches shows it (its answers stay in the store)."""

    id: str
    created_at: float
    model: str
    status: str
    inputs: int  # how many
