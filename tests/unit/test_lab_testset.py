"""Prompt lab: test-set cases imported from CSV and JSONL; problems name their line, valid cases are kept."""

from __future__ import annotations

import pytest

from desktop_assistant.core import lab_testset
from desktop_assistant.core.lab_checks import CheckKind, make_check
from desktop_assistant.core.lab_testset import (
    LabCase,
    case_key,
    case_title,
    case_to_dict,
    read_csv,
    read_file,
    read_jsonl,
    set_variables,
    template_gaps,
    to_jsonl,
)

# --- CSV --------------------------------------------------------------------------------------------------


def test_csv_header_names_the_variables() -> None:
    result = read_csv("question,tone\nWhere is my order?,kind\nCancel it,curt\n")
    assert result.problems == []
    assert [dict(c.values) for c in result.cases] == [
        {"question": "Where is my order?", "tone": "kind"}, {"question": "Cancel it", "tone": "curt"}]
    assert all(c.checks == () and c.label == "" for c in result.cases)


def test_csv_check_columns_label_and_repeats() -> None:
    text = ("question,check:contains,check:regex,check:json,check:max_tokens,check:contains,case:label\n"
            "Q1,refund,^Dear,yes,50,sorry,first\n"
            "Q2,,,,,,\n")
    result = read_csv(text)
    assert result.problems == []
    first, second = result.cases
    assert first.label == "first"
    assert [c.kind for c in first.checks] == [CheckKind.CONTAINS, CheckKind.REGEX, CheckKind.JSON,
                                              CheckKind.MAX_TOKENS, CheckKind.CONTAINS]
    assert [c.value for c in first.checks] == ["refund", "^Dear", "", "50", "sorry"]
    assert second.checks == () and dict(second.values) == {"question": "Q2"}


def test_csv_schema_column_holds_json() -> None:
    schema = '"{""type"": ""object"", ""properties"": {""a"": {""type"": ""string""}}}"'
    result = read_csv(f"text,check:schema\nhello,{schema}\n")
    assert result.problems == []
    assert result.cases[0].checks[0].kind is CheckKind.SCHEMA


@pytest.mark.parametrize("word", ["yes", "YES", "true", "1", "x", " y "])
def test_csv_json_column_yes_words(word: str) -> None:
    result = read_csv(f"a,check:json\nv,{word}\n")
    assert [c.kind for c in result.cases[0].checks] == [CheckKind.JSON]


@pytest.mark.parametrize("word", ["", "no", "false", "0", "N"])
def test_csv_json_column_no_words(word: str) -> None:
    assert read_csv(f"a,check:json\nv,{word}\n").cases[0].checks == ()


def test_csv_bad_check_cell_keeps_the_case_without_it() -> None:
    result = read_csv("a,check:regex,check:json,check:max_tokens\nv,(,maybe,ten\nw,ok,,\n")
    assert len(result.cases) == 2 and result.cases[0].checks == ()
    assert [str(p) for p in result.problems] == [
        "Line 2: check:regex: the regular expression is not valid: missing ), unterminated subpattern at "
        "position 0. The case is kept without this check.",
        'Line 2: check:json: write "yes" or leave the cell empty, not "maybe". The case is kept without this check.',
        'Line 2: check:max_tokens: the token limit must be a whole number, not "ten". The case is kept without '
        "this check.",
    ]


def test_csv_bad_headers_are_ignored_with_a_problem_on_line_1() -> None:
    result = read_csv("good,bad name,check:length,good,1st\n1,2,3,4,5\n")
    assert [dict(c.values) for c in result.cases] == [{"good": "1"}]
    messages = [str(p) for p in result.problems]
    assert all(m.startswith("Line 1: ") for m in messages) and len(messages) == 4
    assert '"bad name" is not a variable name' in messages[0]
    assert '"check:length" is not a known check' in messages[1]
    assert 'the variable "good" appears twice' in messages[2]
    assert '"1st" is not a variable name' in messages[3]


def test_csv_wrong_number_of_values_names_the_line_and_keeps_the_rest() -> None:
    result = read_csv("a,b\n1,2\nonly one\n3,4\n5,6,7\n")
    assert [c.values["a"] for c in result.cases] == ["1", "3"]
    assert [p.line for p in result.problems] == [3, 5]
    assert "has 1 values but the header has 2 columns" in result.problems[0].message


def test_csv_line_numbers_count_multiline_cells_and_blank_lines() -> None:
    result = read_csv('a,b\n"line one\nline two",x\n\nbad\n')
    assert result.cases[0].values["a"] == "line one\nline two"
    assert [p.line for p in result.problems] == [5]


def test_csv_semicolons_tabs_bom_and_unicode() -> None:
    semi = read_csv("\ufeffname;größe\nZoë;1,5 m\n")
    assert dict(semi.cases[0].values) == {"name": "Zoë", "größe": "1,5 m"}
    tabs = read_csv("a\tb\n1\t2\n")
    assert dict(tabs.cases[0].values) == {"a": "1", "b": "2"}


def test_csv_single_column() -> None:
    assert [c.values["input"] for c in read_csv("input\nhello\nworld\n").cases] == ["hello", "world"]


def test_csv_empty_and_header_only() -> None:
    empty = read_csv("")
    assert empty.cases == [] and [str(p) for p in empty.problems] == [
        "The file is empty: the first row should name the variables."]
    assert read_csv("\n\n").problems[0].line is None
    header_only = read_csv("a,b\n")
    assert header_only.cases == [] and header_only.problems == []


def test_csv_keeps_whitespace_of_values_but_strips_labels() -> None:
    case = read_csv("a,case:label\n  spaced  , L \n").cases[0]
    assert case.values["a"] == "  spaced  " and case.label == "L"


def test_too_many_cases_stops_with_one_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab_testset, "MAX_CASES", 2)
    result = read_csv("a\n1\n2\n3\n4\n")
    assert [c.values["a"] for c in result.cases] == ["1", "2"]
    assert result.truncated and [p.line for p in result.problems] == [4]


# --- JSONL ------------------------------------------------------------------------------------------------


def test_jsonl_flat_and_structured_lines() -> None:
    text = ('{"question": "Q1", "checks": [{"kind": "contains", "value": "yes"}], "label": "one"}\n'
            '{"vars": {"question": "Q2", "checks": "a variable here"}, "checks": [{"kind": "json"}]}\n')
    result = read_jsonl(text)
    assert result.problems == []
    first, second = result.cases
    assert dict(first.values) == {"question": "Q1"} and first.label == "one"
    assert first.checks == (make_check("contains", "yes"),)
    assert dict(second.values) == {"question": "Q2", "checks": "a variable here"}
    assert second.checks == (make_check("json"),)


def test_jsonl_values_become_text() -> None:
    case = read_jsonl('{"n": 3, "flag": true, "nothing": null, "obj": {"k": [1, "é"]}, "s": "ü"}').cases[0]
    assert dict(case.values) == {"n": "3", "flag": "true", "nothing": "", "obj": '{"k":[1,"é"]}', "s": "ü"}


def test_jsonl_problems_name_lines_and_keep_valid_cases() -> None:
    text = "\n".join([
        '{"a": "ok"}',
        "",
        "not json",
        "[1, 2]",
        '{"bad key": 1}',
        '{"a": "kept", "checks": [{"kind": "regex", "value": "("}, {"kind": "nope"}, {"kind": "json"}]}',
        '{"a": "single check", "checks": {"kind": "contains", "value": "x"}}',
    ])
    result = read_jsonl(text)
    assert [c.values["a"] for c in result.cases] == ["ok", "kept", "single check"]
    assert result.cases[1].checks == (make_check("json"),)
    assert result.cases[2].checks == (make_check("contains", "x"),)
    lines = [p.line for p in result.problems]
    assert lines == [3, 4, 5, 6, 6]
    assert str(result.problems[0]).startswith("Line 3: not valid JSON")
    assert "check 1: the regular expression is not valid" in result.problems[3].message
    assert 'check 2: unknown check "nope"' in result.problems[4].message


def test_jsonl_empty() -> None:
    result = read_jsonl("")
    assert result.cases == [] and result.problems == []


def test_read_file_picks_the_format_by_name() -> None:
    assert read_file("cases.JSONL", '{"a": 1}').cases[0].values["a"] == "1"
    assert read_file("cases.ndjson", '{"a": 1}').cases[0].values["a"] == "1"
    assert read_file("cases.csv", "a\n1\n").cases[0].values["a"] == "1"


def test_round_trip_through_jsonl() -> None:
    cases = [LabCase({"q": "héllo\nworld"}, (make_check("contains", "x", ignore_case=True),
                                             make_check("max_tokens", 9)), "L"),
             LabCase({"q": ""})]
    again = read_jsonl(to_jsonl(cases))
    assert again.problems == []
    assert [(dict(c.values), c.checks, c.label) for c in again.cases] == [
        (dict(c.values), c.checks, c.label) for c in cases]
    assert case_to_dict(cases[1]) == {"vars": {"q": ""}, "checks": []}
    assert to_jsonl([]) == ""


# --- helpers ----------------------------------------------------------------------------------------------


def test_keys_and_titles() -> None:
    assert case_key(LabCase({}), 0) == "#1"
    assert case_key(LabCase({}, key="db-7"), 0) == "db-7"
    assert case_title(LabCase({}), 2) == "case 3"
    assert case_title(LabCase({}, label="refund"), 2) == "case 3 (refund)"


def test_set_variables_and_template_gaps() -> None:
    cases = [LabCase({"q": "1", "tone": "x"}), LabCase({"q": "2"}, label="short"), LabCase({"extra": "3"})]
    assert set_variables(cases) == ["q", "tone", "extra"]
    assert template_gaps(cases, "{{q}} in a {{tone}} tone") == [
        'Case 2 (short) has no value for "tone".', 'Case 3 has no value for "q", "tone".']
    assert template_gaps([], "{{q}}") == []
    assert template_gaps(cases, "no variables") == []
