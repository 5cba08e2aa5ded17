"""Prompt lab: the checks of a test case, made at edit time and run on outputs."""

from __future__ import annotations

from typing import Any

import pytest

from desktop_assistant.core.lab_checks import (
    Check,
    CheckError,
    CheckKind,
    check_from_dict,
    check_problem,
    check_to_dict,
    describe,
    make_check,
    run_check,
    run_checks,
)

PERSON: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                   "email": {"type": ["string", "null"]}},
    "required": ["name", "age", "email"],
    "additionalProperties": False,
}


def words(text: str) -> int:
    """A stand-in token counter: one token per word."""
    return len(text.split())


# --- contains ---------------------------------------------------------------------------------------------


def test_contains_passes_and_fails_with_reasons() -> None:
    check = make_check("contains", "refund")
    ok = run_check(check, "We will refund you.", words)
    bad = run_check(check, "We will not.", words)
    assert ok.passed and ok.reason == 'Contains "refund".'
    assert not bad.passed and bad.reason == 'Does not contain "refund".'


def test_contains_is_case_sensitive_unless_told() -> None:
    assert not run_check(make_check("contains", "Refund"), "refund", words).passed
    assert run_check(make_check("contains", "Refund", ignore_case=True), "REFUND", words).passed


def test_contains_unicode_normalised_and_casefolded() -> None:
    decomposed = "Cafe\u0301"
    assert run_check(make_check("contains", "Café"), decomposed, words).passed
    assert run_check(make_check("contains", "STRASSE", ignore_case=True), "straße", words).passed
    assert run_check(make_check("contains", "👋"), "hi 👋", words).passed


def test_contains_needs_text() -> None:
    with pytest.raises(CheckError, match="Type the text"):
        make_check("contains", "")


def test_long_argument_is_shortened_in_reason() -> None:
    result = run_check(make_check("contains", "x" * 200), "y", words)
    assert len(result.reason) < 100 and "…" in result.reason


# --- regex ------------------------------------------------------------------------------------------------


def test_regex_search_and_reason_shows_match() -> None:
    check = make_check("regex", r"order #\d+")
    result = run_check(check, "Your order #123 shipped", words)
    assert result.passed and result.reason == 'Matches /order #\\d+/: "order #123".'
    assert run_check(check, "no order", words).reason == "No match for /order #\\d+/."


def test_regex_ignore_case_and_inline_flags() -> None:
    assert run_check(make_check("regex", "^yes$", ignore_case=True), "YES", words).passed
    assert run_check(make_check("regex", "(?m)^b$"), "a\nb\nc", words).passed
    assert not run_check(make_check("regex", "^b$"), "a\nb\nc", words).passed


def test_bad_regex_is_a_clear_error_at_edit_time() -> None:
    with pytest.raises(CheckError) as info:
        make_check("regex", "(unclosed")
    assert str(info.value).startswith("The regular expression is not valid: missing ), unterminated subpattern")
    assert "position 0" in str(info.value)
    assert check_problem(Check(CheckKind.REGEX, "[a-")) is not None


def test_bad_regex_made_directly_fails_at_run_time_without_raising() -> None:
    result = run_check(Check(CheckKind.REGEX, "*"), "anything", words)
    assert not result.passed and "not valid" in result.reason


# --- json -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("output", ['{"a": 1}', "[1, 2]", "42", '"text"', "null", '  {"é": "ü"}  \n'])
def test_valid_json(output: str) -> None:
    assert run_check(make_check("json"), output, words).passed


def test_invalid_json_reasons() -> None:
    check = make_check("json")
    assert run_check(check, "", words).reason == "Not valid JSON: the output is empty."
    fenced = run_check(check, '```json\n{"a": 1}\n```', words)
    assert not fenced.passed and "code fence" in fenced.reason
    broken = run_check(check, '{"a": 1,}', words)
    assert not broken.passed and broken.reason.startswith("Not valid JSON: ") and "line 1" in broken.reason


def test_json_check_ignores_a_value() -> None:
    assert make_check("json", "whatever").value == ""


# --- schema -----------------------------------------------------------------------------------------------


def test_schema_passes_valid_output() -> None:
    check = make_check("schema", PERSON)
    result = run_check(check, '{"name": "Ada", "age": 36, "email": null}', words)
    assert result.passed and result.reason == "Matches the schema."


def test_schema_strict_types_and_missing_fields() -> None:
    check = make_check("schema", PERSON)
    wrong_type = run_check(check, '{"name": "Ada", "age": "36", "email": null}', words)
    assert not wrong_type.passed and wrong_type.reason.startswith("Does not match the schema: age:")
    missing = run_check(check, '{"name": "Ada"}', words)
    assert not missing.passed and "age" in missing.reason and "email" in missing.reason


def test_schema_refuses_extra_properties() -> None:
    result = run_check(make_check("schema", PERSON), '{"name": "A", "age": 1, "email": null, "x": 1}', words)
    assert not result.passed and "x:" in result.reason


def test_schema_lists_at_most_three_errors() -> None:
    schema = {"type": "object", "properties": {k: {"type": "integer"} for k in "abcde"},
              "required": list("abcde"), "additionalProperties": False}
    result = run_check(make_check("schema", schema), "{}", words)
    assert "(and 2 more)" in result.reason


def test_schema_on_non_json_output_says_so() -> None:
    result = run_check(make_check("schema", PERSON), "Sure! Here it is", words)
    assert not result.passed and result.reason.startswith("Not valid JSON")


def test_schema_given_as_text_and_nested() -> None:
    text = ('{"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", '
            '"properties": {"n": {"type": "number"}}, "required": ["n"], "additionalProperties": false}}}, '
            '"required": ["items"], "additionalProperties": false}')
    check = make_check("schema", text)
    assert run_check(check, '{"items": [{"n": 1.5}, {"n": 2}]}', words).passed
    assert not run_check(check, '{"items": [{"n": "one"}]}', words).passed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Paste the JSON schema"),
        ("{not json", "The schema is not valid JSON"),
        ('{"type": "string"}', "object schema with \"properties\""),
        ("[1, 2]", "object schema with \"properties\""),
    ],
)
def test_bad_schema_is_refused_at_edit_time(value: str, message: str) -> None:
    with pytest.raises(CheckError, match=message.replace("(", r"\(")):
        make_check("schema", value)


# --- max tokens -------------------------------------------------------------------------------------------


def test_max_tokens_uses_the_given_counter() -> None:
    check = make_check("max_tokens", 3)
    ok = run_check(check, "one two three", words)
    over = run_check(check, "one two three four", words)
    assert ok.passed and ok.reason == "3 tokens (at most 3)."
    assert not over.passed and over.reason == "4 tokens, over the limit of 3."


def test_max_tokens_accepts_typed_numbers_with_separators() -> None:
    assert make_check("max_tokens", " 1,000 ").value == " 1,000 "
    assert describe(make_check("max_tokens", "1_000")) == "at most 1,000 tokens"


@pytest.mark.parametrize(("value", "message"), [("ten", "whole number"), ("0", "at least 1"), ("-5", "at least 1"),
                                                ("1.5", "whole number")])
def test_bad_token_limit(value: str, message: str) -> None:
    with pytest.raises(CheckError, match=message):
        make_check("max_tokens", value)


def test_a_failing_counter_fails_the_check_without_raising() -> None:
    def broken(_: str) -> int:
        raise RuntimeError("no tokenizer")

    result = run_check(make_check("max_tokens", 5), "text", broken)
    assert not result.passed and "no tokenizer" in result.reason


# --- making, describing, storing --------------------------------------------------------------------------


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(CheckError, match='Unknown check "length"'):
        make_check("length", "3")


def test_non_text_argument_is_refused() -> None:
    with pytest.raises(CheckError, match="needs text"):
        make_check("contains", ["a"])
    with pytest.raises(CheckError, match="needs text"):
        make_check("max_tokens", True)


def test_ignore_case_only_kept_where_it_means_something() -> None:
    assert make_check("json", ignore_case=True).ignore_case is False
    assert make_check("regex", "a", ignore_case=True).ignore_case is True


def test_describe() -> None:
    assert describe(make_check("contains", "ok", ignore_case=True)) == 'contains "ok" (any case)'
    assert describe(make_check("regex", r"\d")) == r"matches /\d/"
    assert describe(make_check("json")) == "is valid JSON"
    assert describe(make_check("schema", PERSON)) == "matches the JSON schema"
    assert describe(Check(CheckKind.MAX_TOKENS, "lots")) == "at most lots tokens"  # made directly, never raises


def test_run_checks_in_order() -> None:
    checks = [make_check("contains", "a"), make_check("json"), make_check("max_tokens", 1)]
    results = run_checks(checks, '"a"', words)
    assert [r.passed for r in results] == [True, True, True]
    assert [r.check for r in results] == checks
    assert run_checks([], "x", words) == ()


@pytest.mark.parametrize("check", [
    make_check("contains", "é", ignore_case=True), make_check("regex", "^x"), make_check("json"),
    make_check("schema", PERSON), make_check("max_tokens", "42"),
])
def test_dict_round_trip(check: Check) -> None:
    data = check_to_dict(check)
    assert check_from_dict(data) == check


def test_dict_shapes() -> None:
    assert check_to_dict(make_check("max_tokens", "42")) == {"kind": "max_tokens", "value": 42}
    assert check_to_dict(make_check("json")) == {"kind": "json"}
    assert check_to_dict(make_check("schema", PERSON))["value"] == PERSON


@pytest.mark.parametrize("data", [None, "contains", {"value": "x"}, {"kind": "regex", "value": "("}])
def test_bad_dicts_are_refused(data: Any) -> None:
    with pytest.raises(CheckError):
        check_from_dict(data)
