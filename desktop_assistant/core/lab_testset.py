"""Test sets of the prompt lab: cases (values for the template's variables, plus checks), imported from CSV or
JSONL.

**CSV.** The first row is the header. A plain header is a variable name (letters, digits and ``_``, not starting
with a digit, as in ``{{name}}``); its cells are that variable's values. Headers with a colon are reserved:

- ``check:contains``, ``check:regex``, ``check:schema``, ``check:max_tokens``: the cell is the check's argument
  (the text, the pattern, the schema's JSON, the limit); an empty cell adds no check to that case. A column may
  repeat (two ``check:contains`` columns check two texts).
- ``check:json``: ``yes``, ``true``, ``1`` or ``x`` adds an "is valid JSON" check; empty, ``no``, ``false`` or
  ``0`` adds none.
- ``case:label``: a short name for the case, shown in the grid and in regression lists.

Commas, semicolons and tabs are recognised as separators; a UTF-8 byte order mark is ignored; a quoted cell may
span lines. Blank lines are skipped.

**JSONL.** One JSON object per line. Either ``{"vars": {...}, "checks": [...], "label": "..."}`` or a flat object
whose keys are the variables, with ``vars``, ``checks`` and ``label`` reserved. A check is ``{"kind":
"contains", "value": "yes"}`` (see :mod:`desktop_assistant.core.lab_checks`). Values that are not strings are
kept as compact JSON text (``3``, ``true``, ``{"a":1}``); ``null`` is an empty value.

Import never stops at the first problem: every problem names its line and every valid case is kept. A row with a
bad check is kept without that check (the problem says so), since its values are still useful.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from desktop_assistant.core.lab_checks import Check, CheckError, CheckKind, check_from_dict, check_to_dict, make_check
from desktop_assistant.core.prompt_template import NAME_PATTERN, value_text, variables

MAX_CASES = 10_000
CHECK_PREFIX = "check:"
LABEL_HEADER = "case:label"
_YES = {"yes", "y", "true", "1", "x"}
_NO = {"", "no", "n", "false", "0"}


@dataclass(frozen=True)
class LabCase:
    """One test case: a value per variable, the checks its output must pass, an optional label, and a key that
    stays the same across edits (storage fills it; regression comparison matches cases by it)."""

    values: Mapping[str, str]
    checks: tuple[Check, ...] = ()
    label: str = ""
    key: str = ""


@dataclass(frozen=True)
class ImportProblem:
    """A problem found while importing: the 1-based line (None: the whole file) and what is wrong."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}" if self.line is not None else self.message


@dataclass
class Imported:
    """What an import produced: the valid cases and the problems (empty when everything was read)."""

    cases: list[LabCase] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    truncated: bool = False  # the file had more than MAX_CASES cases


def tidy_set_name(typed: str) -> str:
    """The name a test set is saved under: its words with single spaces, at most 100 characters."""
    return " ".join(typed.split())[:100]


def case_key(case: LabCase, index: int) -> str:
    """The key that identifies ``case`` in a run: its own key, else its 1-based position."""
    return case.key or f"#{index + 1}"


def case_title(case: LabCase, index: int) -> str:
    """How a person reads a case: ``case 3`` or ``case 3 (refund)``."""
    return f"case {index + 1}" + (f" ({case.label})" if case.label else "")


# -- CSV ------------------------------------------------------------------------------------------------------

def _delimiter(text: str) -> str:
    """The separator the header row uses most: comma (also when there is none), semicolon or tab."""
    header = text.split("\n", 1)[0]
    return max(",;\t", key=lambda d: (header.count(d), d == ","))


@dataclass
class _Column:
    index: int
    variable: str | None = None
    check: CheckKind | None = None
    label: bool = False


def _columns(header: Sequence[str], problems: list[ImportProblem]) -> list[_Column]:
    columns: list[_Column] = []
    seen: set[str] = set()
    for i, raw in enumerate(header):
        name = raw.strip()
        where = f"column {i + 1}"
        if name.lower() == LABEL_HEADER:
            columns.append(_Column(i, label=True))
        elif name.lower().startswith(CHECK_PREFIX):
            kind = name[len(CHECK_PREFIX):].strip().lower()
            try:
                columns.append(_Column(i, check=CheckKind(kind)))
            except ValueError:
                known = ", ".join(CHECK_PREFIX + k.value for k in CheckKind)
                problems.append(ImportProblem(1, f"{where} \"{name}\" is not a known check ({known}); "
                                                 "it is ignored."))
        elif not NAME_PATTERN.match(name):
            problems.append(ImportProblem(1, f"{where} \"{name}\" is not a variable name (letters, digits and _, "
                                             "not starting with a digit); it is ignored."))
        elif name in seen:
            problems.append(ImportProblem(1, f"{where}: the variable \"{name}\" appears twice; the second column "
                                             "is ignored."))
        else:
            seen.add(name)
            columns.append(_Column(i, variable=name))
    return columns


def _csv_check(kind: CheckKind, cell: str) -> Check | None:
    if kind is CheckKind.JSON:
        word = cell.strip().lower()
        if word in _NO:
            return None
        if word in _YES:
            return make_check(kind)
        raise CheckError(f"write \"yes\" or leave the cell empty, not \"{cell.strip()}\".")
    if not cell.strip():
        return None
    return make_check(kind, cell)


def read_csv(text: str) -> Imported:
    """The cases of a CSV text (see the module docstring for its columns)."""
    result = Imported()
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        result.problems.append(ImportProblem(1, f"the header row cannot be read: {exc}."))
        return result
    if header is None or not any(h.strip() for h in header):
        result.problems.append(ImportProblem(None, "The file is empty: the first row should name the variables."))
        return result
    columns = _columns(header, result.problems)
    line = reader.line_num
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.problems.append(ImportProblem(start, f"this row cannot be read: {exc}."))
            line = reader.line_num
            continue
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            result.problems.append(ImportProblem(start, f"this row has {len(row)} values but the header has "
                                                        f"{len(header)} columns; the row is skipped."))
            continue
        _add(result, _csv_case(row, columns, start, result.problems), start)
    return result


def _csv_case(row: Sequence[str], columns: list[_Column], line: int, problems: list[ImportProblem]) -> LabCase:
    values: dict[str, str] = {}
    checks: list[Check] = []
    label = ""
    for column in columns:
        cell = row[column.index]
        if column.variable is not None:
            values[column.variable] = cell
        elif column.label:
            label = cell.strip()
        elif column.check is not None:
            try:
                check = _csv_check(column.check, cell)
            except CheckError as exc:
                problems.append(ImportProblem(line, f"{CHECK_PREFIX}{column.check.value}: {_lower_first(str(exc))} "
                                                    "The case is kept without this check."))
                continue
            if check is not None:
                checks.append(check)
    return LabCase(values, tuple(checks), label)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _add(result: Imported, case: LabCase, line: int) -> None:
    if len(result.cases) < MAX_CASES:
        result.cases.append(case)
    elif not result.truncated:
        result.truncated = True
        result.problems.append(ImportProblem(line, f"a test set has at most {MAX_CASES:,} cases; this line and "
                                                   "the rest of the file are not imported."))


# -- JSONL ----------------------------------------------------------------------------------------------------

def _json_case(data: Any, line: int, problems: list[ImportProblem]) -> LabCase | None:
    if not isinstance(data, Mapping):
        problems.append(ImportProblem(line, "each line must be a JSON object, such as {\"question\": \"...\"}."))
        return None
    if isinstance(data.get("vars"), Mapping):
        raw_values: Mapping[str, Any] = data["vars"]
    else:
        raw_values = {k: v for k, v in data.items() if k not in ("checks", "label", "vars")}
    bad = [str(k) for k in raw_values if not NAME_PATTERN.match(str(k))]
    if bad:
        problems.append(ImportProblem(line, f"\"{bad[0]}\" is not a variable name (letters, digits and _, not "
                                            "starting with a digit); the line is skipped."))
        return None
    values = {str(k): value_text(v) for k, v in raw_values.items()}
    raw_checks = data.get("checks", [])
    if not isinstance(raw_checks, list):
        raw_checks = [raw_checks]
    checks: list[Check] = []
    for i, raw in enumerate(raw_checks):
        try:
            checks.append(check_from_dict(raw))
        except CheckError as exc:
            problems.append(ImportProblem(line, f"check {i + 1}: {_lower_first(str(exc))} The case is kept "
                                                "without this check."))
    label = data.get("label")
    return LabCase(values, tuple(checks), label.strip() if isinstance(label, str) else "")


def read_jsonl(text: str) -> Imported:
    """The cases of a JSON lines text (see the module docstring for the shape of a line)."""
    result = Imported()
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            result.problems.append(ImportProblem(number, f"not valid JSON: {exc.msg} (column {exc.colno}); "
                                                         "the line is skipped."))
            continue
        case = _json_case(data, number, result.problems)
        if case is not None:
            _add(result, case, number)
    return result


def read_file(name: str, text: str) -> Imported:
    """Import by file name: ``.jsonl`` (or ``.ndjson``) as JSON lines, anything else as CSV."""
    if name.lower().endswith((".jsonl", ".ndjson")):
        return read_jsonl(text)
    return read_csv(text)


# -- writing and checking a set ------------------------------------------------------------------------------

def case_to_dict(case: LabCase) -> dict[str, Any]:
    """A case as one JSONL line's object (the structured shape), for storage and export."""
    data: dict[str, Any] = {"vars": dict(case.values), "checks": [check_to_dict(c) for c in case.checks]}
    if case.label:
        data["label"] = case.label
    return data


def to_jsonl(cases: Iterable[LabCase]) -> str:
    """The cases as JSON lines that :func:`read_jsonl` reads back."""
    return "".join(json.dumps(case_to_dict(c), ensure_ascii=False) + "\n" for c in cases)


def set_variables(cases: Iterable[LabCase]) -> list[str]:
    """Every variable some case has a value for, in order of first appearance."""
    seen: dict[str, None] = {}
    for case in cases:
        for name in case.values:
            seen.setdefault(name, None)
    return list(seen)


def template_gaps(cases: Sequence[LabCase], template: str) -> list[str]:
    """Before a run: the cases without a value for one of the template's variables, one sentence each."""
    names = variables(template)
    out = []
    for i, case in enumerate(cases):
        missing = [n for n in names if n not in case.values]
        if missing:
            quoted = ", ".join(f"\"{n}\"" for n in missing)
            out.append(f"{case_title(case, i).capitalize()} has no value for {quoted}.")
    return out
