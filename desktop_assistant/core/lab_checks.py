"""The checks a prompt lab test case can carry, and running them on a model's output.

Kinds (``Check.value`` holds the argument as text, the way it is typed and stored):
- ``contains``: the output contains ``value`` (case-sensitive unless ``ignore_case``; both sides are compared
  in Unicode NFC form, so an accented letter typed either way matches).
- ``regex``: Python's ``re.search(value, output)`` finds a match (``ignore_case`` adds ``re.IGNORECASE``;
  inline flags such as ``(?s)`` or ``(?m)`` work too). A bad pattern is refused when the check is made.
- ``json``: the whole output is valid JSON (a reply wrapped in a markdown code fence is not; the reason says so).
- ``schema``: the output is JSON valid against the JSON schema in ``value``. It is validated the way extraction
  validates answers (:func:`desktop_assistant.core.schemas.build_model`, since ``jsonschema`` is not a runtime
  dependency): the top level is an object with ``properties``; types are strict (``"1"`` is not an integer);
  properties the schema does not list are refused; properties missing from ``required`` may be absent or null.
- ``max_tokens``: the output has at most ``value`` tokens, counted by the function the caller passes (core does
  not load a tokenizer here).

:func:`make_check` and :func:`check_problem` explain a bad argument at edit time; :func:`run_check` never raises
and returns whether it passed with a plain reason.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from desktop_assistant.core.schemas import build_model, validate_answer

if TYPE_CHECKING:
    from pydantic import BaseModel

TokenCounter = Callable[[str], int]
MAX_SHOWN = 60  # characters of an argument quoted in a reason


class CheckKind(StrEnum):
    """The kinds of check."""

    CONTAINS = "contains"
    REGEX = "regex"
    JSON = "json"
    SCHEMA = "schema"
    MAX_TOKENS = "max_tokens"


class CheckError(ValueError):
    """A check that cannot be made: the message says why, plainly."""


@dataclass(frozen=True)
class Check:
    """One check of a test case: its kind and its argument as text (empty for ``json``)."""

    kind: CheckKind
    value: str = ""
    ignore_case: bool = False


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one output."""

    check: Check
    passed: bool
    reason: str


def _short(text: str) -> str:
    one_line = " ".join(text.split()) if "\n" in text else text
    return one_line if len(one_line) <= MAX_SHOWN else one_line[: MAX_SHOWN - 1] + "…"


@lru_cache(maxsize=256)
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE if ignore_case else 0)


@lru_cache(maxsize=64)
def _schema_model(text: str) -> type[BaseModel]:
    schema = json.loads(text)
    return build_model(schema, "LabCheck")


def _limit(value: str) -> int:
    return int(value.strip().replace(",", "").replace("_", ""))


def check_problem(check: Check) -> str | None:
    """Why ``check`` cannot be run, in a plain sentence, or None when it is fine."""
    kind, value = check.kind, check.value
    if kind is CheckKind.CONTAINS and not value:
        return "Type the text the output should contain."
    if kind is CheckKind.REGEX:
        if not value:
            return "Type the regular expression the output should match."
        try:
            _compiled(value, check.ignore_case)
        except re.error as exc:
            where = f" at position {exc.pos}" if exc.pos is not None else ""
            return f"The regular expression is not valid: {exc.msg}{where}."
    if kind is CheckKind.SCHEMA:
        return _schema_problem(value)
    if kind is CheckKind.MAX_TOKENS:
        try:
            limit = _limit(value)
        except ValueError:
            return f"The token limit must be a whole number, not \"{_short(value)}\"."
        if limit < 1:
            return "The token limit must be at least 1."
    return None


def _schema_problem(text: str) -> str | None:
    if not text.strip():
        return "Paste the JSON schema the output should match."
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"The schema is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
    if not isinstance(schema, Mapping) or not isinstance(schema.get("properties"), Mapping):
        return "The schema must be an object schema with \"properties\", such as {\"type\": \"object\", ...}."
    try:
        _schema_model(text)
    except Exception as exc:  # pydantic raises several kinds for schemas it cannot turn into a model
        return f"The schema cannot be used for checking: {exc}".splitlines()[0]
    return None


def make_check(kind: CheckKind | str, value: Any = "", *, ignore_case: bool = False) -> Check:
    """A check made from what a person typed (a schema may be given as a parsed object); raises
    :class:`CheckError` with a plain message when it cannot be run."""
    try:
        kind = CheckKind(kind)
    except ValueError:
        names = ", ".join(k.value for k in CheckKind)
        raise CheckError(f"Unknown check \"{kind}\"; the kinds are {names}.") from None
    if kind is CheckKind.SCHEMA and isinstance(value, Mapping | list):
        value = json.dumps(value, ensure_ascii=False)
    elif kind is CheckKind.JSON:
        value = ""
    elif isinstance(value, bool) or not isinstance(value, str | int):
        raise CheckError(f"The {kind.value} check needs text, not {json.dumps(value, default=str)[:40]}.")
    check = Check(kind, str(value), ignore_case and kind in (CheckKind.CONTAINS, CheckKind.REGEX))
    problem = check_problem(check)
    if problem:
        raise CheckError(problem)
    return check


def describe(check: Check) -> str:
    """A short label of the check: ``contains "refund"``, ``at most 50 tokens``."""
    case = " (any case)" if check.ignore_case else ""
    if check.kind is CheckKind.CONTAINS:
        return f"contains \"{_short(check.value)}\"{case}"
    if check.kind is CheckKind.REGEX:
        return f"matches /{_short(check.value)}/{case}"
    if check.kind is CheckKind.JSON:
        return "is valid JSON"
    if check.kind is CheckKind.SCHEMA:
        return "matches the JSON schema"
    try:
        return f"at most {_limit(check.value):,} tokens"
    except ValueError:
        return f"at most {_short(check.value)} tokens"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _fenced(output: str) -> bool:
    stripped = output.strip()
    return stripped.startswith("```") and stripped.endswith("```")


def _json_reason(output: str, exc: json.JSONDecodeError) -> str:
    if not output.strip():
        return "Not valid JSON: the output is empty."
    if _fenced(output):
        return "Not valid JSON: the output is wrapped in a ``` code fence."
    return f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."


def run_check(check: Check, output: str, count_tokens: TokenCounter) -> CheckResult:
    """Run one check on ``output``; never raises (a check that cannot run fails with the reason)."""
    problem = check_problem(check)
    if problem:
        return CheckResult(check, False, problem)
    passed, reason = _run(check, output, count_tokens)
    return CheckResult(check, passed, reason)


def _run(check: Check, output: str, count_tokens: TokenCounter) -> tuple[bool, str]:
    kind = check.kind
    if kind is CheckKind.CONTAINS:
        needle, hay = _nfc(check.value), _nfc(output)
        if check.ignore_case:
            needle, hay = needle.casefold(), hay.casefold()
        found = needle in hay
        return found, f"{'Contains' if found else 'Does not contain'} \"{_short(check.value)}\"."
    if kind is CheckKind.REGEX:
        match = _compiled(check.value, check.ignore_case).search(output)
        if match is None:
            return False, f"No match for /{_short(check.value)}/."
        return True, f"Matches /{_short(check.value)}/: \"{_short(match.group(0))}\"."
    if kind is CheckKind.JSON:
        try:
            json.loads(output)
        except json.JSONDecodeError as exc:
            return False, _json_reason(output, exc)
        return True, "Valid JSON."
    if kind is CheckKind.SCHEMA:
        try:
            json.loads(output)
        except json.JSONDecodeError as exc:
            return False, _json_reason(output, exc)
        checked = validate_answer(_schema_model(check.value), output)
        if checked.ok:
            return True, "Matches the schema."
        shown = "; ".join(checked.errors[:3]) + (f" (and {len(checked.errors) - 3} more)"
                                                  if len(checked.errors) > 3 else "")
        return False, f"Does not match the schema: {shown}."
    limit = _limit(check.value)
    try:
        tokens = count_tokens(output)
    except Exception as exc:  # a counter failing is a check that cannot run, not a crash of the run
        return False, f"The tokens could not be counted: {exc}"
    if tokens <= limit:
        return True, f"{tokens:,} tokens (at most {limit:,})."
    return False, f"{tokens:,} tokens, over the limit of {limit:,}."


def run_checks(checks: Iterable[Check], output: str, count_tokens: TokenCounter) -> tuple[CheckResult, ...]:
    """Run every check on ``output``, in order."""
    return tuple(run_check(c, output, count_tokens) for c in checks)


def check_to_dict(check: Check) -> dict[str, Any]:
    """The check as JSON-ready data (the shape JSONL test sets and storage use)."""
    data: dict[str, Any] = {"kind": check.kind.value}
    if check.kind is CheckKind.MAX_TOKENS:
        data["value"] = _limit(check.value)
    elif check.kind is CheckKind.SCHEMA:
        data["value"] = json.loads(check.value)
    elif check.kind is not CheckKind.JSON:
        data["value"] = check.value
    if check.ignore_case:
        data["ignore_case"] = True
    return data


def check_from_dict(data: Any) -> Check:
    """A check from ``{"kind": ..., "value": ..., "ignore_case": ...}``; raises :class:`CheckError`."""
    if not isinstance(data, Mapping) or "kind" not in data:
        raise CheckError("A check is an object with a \"kind\", such as {\"kind\": \"contains\", \"value\": \"yes\"}.")
    return make_check(str(data["kind"]), data.get("value", ""), ignore_case=bool(data.get("ignore_case", False)))
