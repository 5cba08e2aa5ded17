"""Extraction schemas: the form -> strict JSON schema -> pydantic model, templates, and hand-edit checks."""

from __future__ import annotations

import json

import pytest

from desktop_assistant.core.extraction import batch_answers, csv_column, csv_columns, export_csv, split_lines
from desktop_assistant.core.requests import batch_line, extraction_body, extraction_messages
from desktop_assistant.core.schema_templates import TEMPLATES
from desktop_assistant.core.schemas import (
    FieldType,
    SchemaField,
    build_model,
    check_fields,
    check_schema,
    fields_from_schema,
    parse_schema_text,
    to_json_schema,
    validate_answer,
)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_templates_are_strict_and_round_trip(name: str) -> None:
    template = TEMPLATES[name]
    schema = template.json_schema()
    assert check_schema(schema) == []
    assert fields_from_schema(schema) == list(template.fields)
    build_model(schema)


def test_optional_fields_are_required_but_nullable() -> None:
    schema = to_json_schema([SchemaField("a"), SchemaField("b", FieldType.ENUM, choices=("x", "y"), required=False)])
    assert schema["required"] == ["a", "b"] and schema["additionalProperties"] is False
    assert schema["properties"]["b"] == {"type": ["string", "null"], "enum": ["x", "y", None]}
    model = build_model(schema)
    assert validate_answer(model, '{"a": "1", "b": null}').ok
    assert not validate_answer(model, '{"a": "1"}').ok  # present, even when null
    assert not validate_answer(model, '{"a": "1", "b": "z"}').ok
    assert not validate_answer(model, '{"a": "1", "b": null, "c": 1}').ok  # no extras


def test_strict_types_dates_ranges_nested_lists() -> None:
    model = build_model(TEMPLATES["Invoice"].json_schema())
    good = {"invoice_number": "1", "issue_date": "2025-02-28", "vendor": "v", "currency": "EUR",
            "line_items": [{"description": "d", "quantity": 1, "unit_price": 2, "amount": 2}], "total": 2}
    assert validate_answer(model, json.dumps(good)).ok
    bad = {**good, "issue_date": "2025-02-30", "line_items": [{"description": "d", "quantity": "1",
                                                                "unit_price": 2, "amount": 2}]}
    errors = validate_answer(model, json.dumps(bad)).errors
    assert any(e.startswith("issue_date") for e in errors) and any(e.startswith("line_items.0.quantity")
                                                                    for e in errors)
    review = build_model(TEMPLATES["Product review"].json_schema())
    base = {"sentiment": "mixed", "key_issues": [], "key_positives": [], "would_recommend": False}
    assert not validate_answer(review, json.dumps({**base, "score": 6})).ok
    assert not validate_answer(review, json.dumps({**base, "score": "5"})).ok  # no coercion
    assert validate_answer(review, json.dumps({**base, "score": 5})).ok


def test_hand_edited_schemas_are_explained() -> None:
    schema, problems = parse_schema_text('{"type": "object", "properties": {"a": {"type": "string"}}')
    assert schema is None and "line 1" in problems[0]
    problems = check_schema({"type": "object", "properties": {"a": {"type": "string", "minLength": 1},
                             "b": {"type": "array"}, "c": {"oneOf": []}}, "required": ["a", "b", "c", "d"],
                             "additionalProperties": False})
    text = " ".join(problems)
    assert '"minLength" is not supported' in text and "b: a list needs" in text and '"oneOf"' in text
    assert "do not exist: d" in text
    assert check_schema([]) and "top level must be an object" in check_schema({"type": "array", "items": {}})[0]


def test_form_problems() -> None:
    problems = check_fields([SchemaField("bad name"), SchemaField("e", FieldType.ENUM),
                             SchemaField("o", FieldType.OBJECT), SchemaField("e", minimum=5, maximum=1)])
    assert len(problems) == 5
    assert check_fields([]) == ["Add at least one field."]


def test_request_bodies_and_batch_lines() -> None:
    schema = TEMPLATES["Task"].json_schema()
    messages = extraction_messages("text")
    body = extraction_body("gpt-4o-mini", messages, schema, name="task")
    assert body["response_format"]["json_schema"] == {"name": "task", "schema": schema, "strict": True}
    assert body["temperature"] == 0.0 and body["max_completion_tokens"] == 2048
    tools = extraction_body("o4-mini", messages, schema, mode="function")
    assert "temperature" not in tools and "parallel_tool_calls" not in tools
    assert tools["tool_choice"]["function"]["name"] == tools["tools"][0]["function"]["name"]
    assert batch_line("row-0", body) == {"custom_id": "row-0", "method": "POST", "url": "/v1/chat/completions",
                                         "body": body}


def test_bulk_inputs_and_batch_output_parsing() -> None:
    assert split_lines("a\n\n b \n") == ["a", "b"]
    text = "name,review\nx,great\ny,\nz,bad\n"
    assert csv_columns(text) == ["name", "review"] and csv_column(text, "review") == ["great", "bad"]
    out = "\n".join(json.dumps(line) for line in [
        {"custom_id": "row-1", "response": {"status_code": 200, "body": {"model": "m", "choices": [
            {"message": {"content": None, "refusal": None, "tool_calls": [{"function": {"arguments": "{}"}}]}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2}}}, "error": None},
        {"custom_id": "row-0", "response": None, "error": {"code": "x", "message": "expired"}},
        {"custom_id": "other"}]) + "\nnot json\n"
    answers = batch_answers(out)
    assert [(a.row, a.arguments, a.error) for a in answers] == [(1, "{}", None), (0, None, "expired")]
    assert answers[0].usage is not None and answers[0].usage.output_tokens == 2
    assert export_csv([], ["a"]).splitlines() == ["input,status,a,errors"]


@pytest.mark.parametrize(("raw", "said"), [
    ("Sure! Here are the fields.", "it is plain text, not fields"),
    ("", "it is empty"),
    ('{"title": "Call Bob", "priority": "lo', "it breaks off or goes wrong at character"),
])
def test_an_answer_that_is_not_json_is_said_in_plain_words(raw: str, said: str) -> None:
    model = build_model(TEMPLATES["Task"].json_schema(), "task")
    checked = validate_answer(model, raw)
    assert checked.values is None and said in checked.errors[0]
    assert "Expecting value" not in checked.errors[0] and "char 0" not in checked.errors[0]


def test_the_column_to_extract_from_is_the_one_with_the_most_words_at_first() -> None:
    from desktop_assistant.core.extraction import wordiest_column

    text = "id,date,review\n1,2025-03-14,Great service and a fast reply\n2,2025-03-15,Slow and rude\n"
    assert wordiest_column(text) == "review"
    assert wordiest_column("") == "" and wordiest_column("only\n") == "only"
