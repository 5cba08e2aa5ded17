"""Prompt lab: {{variables}} in a user template, prompt versions and the request of one case."""

from __future__ import annotations

import pytest

from desktop_assistant.core.prompt_template import (
    MissingVariablesError,
    fill,
    template_problems,
    value_text,
    variables,
)
from desktop_assistant.core.prompts import (
    DEFAULT_USER_TEMPLATE,
    PromptVersion,
    case_body,
    case_messages,
    new_version,
    next_version_number,
    restored,
    version_problems,
)

# --- variables --------------------------------------------------------------------------------------------


def test_variables_in_order_of_first_use_each_once() -> None:
    assert variables("{{b}} then {{a}} and {{b}} again") == ["b", "a"]


def test_variables_allow_spaces_inside_braces() -> None:
    assert variables("Hi {{ name }}, about {{topic}}") == ["name", "topic"]


def test_variables_unicode_names() -> None:
    assert variables("Die {{größe}} und {{名前}}") == ["größe", "名前"]


def test_escaped_braces_are_not_variables() -> None:
    assert variables(r"Write \{{name}} literally, fill {{real}}") == ["real"]


def test_single_braces_and_json_are_plain_text() -> None:
    template = 'Answer as {"name": "x", "items": [{"a": 1}]} for {{question}}'
    assert variables(template) == ["question"]
    assert fill(template, {"question": "Q"}).text == 'Answer as {"name": "x", "items": [{"a": 1}]} for Q'


def test_malformed_placeholders_are_not_variables() -> None:
    assert variables("{{user name}} {{}} {{1st}}") == []


def test_empty_template_has_no_variables() -> None:
    assert variables("") == []


# --- fill -------------------------------------------------------------------------------------------------


def test_fill_replaces_every_occurrence() -> None:
    filled = fill("{{a}}-{{ a }}-{{b}}", {"a": "x", "b": "y"})
    assert filled.text == "x-x-y"
    assert filled.warnings == []


def test_fill_escape_drops_the_backslash_and_keeps_the_braces() -> None:
    assert fill(r"\{{name}} is {{name}}", {"name": "Ada"}).text == "{{name}} is Ada"


def test_fill_escape_before_malformed_braces_also_drops_backslash() -> None:
    assert fill(r"\{{not a var}}", {}).text == "{{not a var}}"


def test_backslash_elsewhere_is_plain_text() -> None:
    assert fill(r"C:\path {x} \{ {{v}}", {"v": "1"}).text == r"C:\path {x} \{ 1"


def test_fill_is_one_pass_values_are_not_filled_again() -> None:
    assert fill("{{a}}", {"a": "{{b}}", "b": "no"}).text == "{{b}}"


def test_fill_unicode_values() -> None:
    assert fill("{{x}} ✓", {"x": "Grüße 👋"}).text == "Grüße 👋 ✓"


def test_missing_variables_error_names_all_of_them() -> None:
    with pytest.raises(MissingVariablesError) as info:
        fill("{{a}} {{b}} {{c}}", {"b": "1"})
    assert info.value.missing == ("a", "c")
    assert '"a" and "c"' in str(info.value)
    assert "variables" in str(info.value)


def test_missing_one_variable_message_is_singular() -> None:
    with pytest.raises(MissingVariablesError, match='variable "topic"'):
        fill("about {{topic}}", {})


def test_empty_string_is_a_value_not_missing() -> None:
    assert fill("[{{a}}]", {"a": ""}).text == "[]"


def test_unknown_extra_values_are_a_warning() -> None:
    filled = fill("{{a}}", {"a": "1", "zeta": "2", "eta": "3"})
    assert filled.text == "1"
    assert filled.warnings == ['The template does not use the values "zeta" and "eta"; they are not sent.']


def test_value_text_converts_non_strings() -> None:
    assert value_text(None) == ""
    assert value_text(3) == "3"
    assert value_text(True) == "true"
    assert value_text({"a": [1, "é"]}) == '{"a":[1,"é"]}'
    assert fill("{{n}}", {"n": 2.5}).text == "2.5"


# --- template problems ------------------------------------------------------------------------------------


def test_template_problems_point_at_typos_with_line_numbers() -> None:
    problems = template_problems("Hello {{user name}}\nand {{}}\n{{ok}} \\{{escaped one}}")
    assert len(problems) == 2
    assert problems[0].startswith("Line 1: {{user name}} is not a variable")
    assert problems[1] == "Line 2: {{}} has no variable name inside the braces."


def test_template_problems_ignore_json_and_good_variables() -> None:
    assert template_problems('{"a": {"b": 1}} {{fine}} {{"quoted": 1}}') == []


# --- prompt versions --------------------------------------------------------------------------------------

V1 = PromptVersion(name="Support reply", version=1, system_prompt="Be kind.", user_template="Q: {{question}}",
                   model="gpt-4o-mini", temperature=0.2, max_output_tokens=300, created_at=100.0)


def test_version_label_and_template() -> None:
    assert V1.label == "Support reply v1"
    assert V1.template == "Q: {{question}}"
    assert PromptVersion("p", 1, "sys").template == DEFAULT_USER_TEMPLATE


def test_new_version_numbers_and_dates_and_clears_note() -> None:
    noted = new_version(V1, 200.0, note="first try")
    v2 = new_version(noted, 300.0, system_prompt="Be brief.")
    assert (noted.version, noted.note) == (2, "first try")
    assert (v2.version, v2.created_at, v2.note, v2.system_prompt) == (3, 300.0, "", "Be brief.")
    assert V1.version == 1  # immutable


def test_next_version_number() -> None:
    assert next_version_number([]) == 1
    assert next_version_number([V1, new_version(V1, 1.0), V1]) == 3


def test_restore_makes_a_new_newest_copy() -> None:
    v2 = new_version(V1, 200.0, system_prompt="Changed")
    back = restored(V1, latest_number=v2.version, now=300.0)
    assert back.version == 3 and back.system_prompt == "Be kind." and back.note == "Restored from version 1."
    assert back.same_content(V1) and not back.same_content(v2)


def test_version_problems() -> None:
    assert version_problems(V1) == []
    bad = PromptVersion(name=" ", version=1, system_prompt="", user_template="", model="", temperature=3.0,
                        max_output_tokens=0)
    problems = version_problems(bad)
    assert "Give the prompt a name." in problems
    assert "Write a system prompt or a user template." in problems
    assert "Choose a model." in problems
    assert "The temperature must be between 0 and 2." in problems
    assert "The max output tokens must be at least 1." in problems
    assert any("{{a b}}" in p for p in version_problems(PromptVersion("n", 1, "s", "{{a b}}")))
    assert version_problems(PromptVersion("x" * 101, 1, "s")) == ["A prompt name has at most 100 characters."]


# --- the request of one case ------------------------------------------------------------------------------


def test_case_messages_system_and_filled_user() -> None:
    assert case_messages(V1, {"question": "Where is my order?"}) == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Q: Where is my order?"},
    ]


def test_case_messages_without_system_prompt() -> None:
    v = PromptVersion("p", 1, "  ", "Translate: {{text}}")
    assert case_messages(v, {"text": "hola"}) == [{"role": "user", "content": "Translate: hola"}]


def test_blank_template_sends_the_input_value() -> None:
    v = PromptVersion("p", 1, "sys", "")
    assert case_messages(v, {"input": "just this"})[-1] == {"role": "user", "content": "just this"}
    with pytest.raises(MissingVariablesError):
        case_messages(v, {"other": "x"})


def test_case_messages_missing_variable_raises() -> None:
    with pytest.raises(MissingVariablesError, match="question"):
        case_messages(V1, {})


def test_case_body_uses_version_settings_and_model_override() -> None:
    body = case_body(V1, {"question": "hi"})
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.2
    assert body["max_completion_tokens"] == 300
    assert "stream" not in body
    other = case_body(V1, {"question": "hi"}, model="gpt-4o", stream=True)
    assert other["model"] == "gpt-4o" and other["stream"] is True


def test_case_body_reasoning_model_drops_temperature() -> None:
    body = case_body(V1, {"question": "hi"}, model="o4-mini")
    assert "temperature" not in body and body["max_completion_tokens"] == 300


def test_case_body_legacy_max_tokens() -> None:
    body = case_body(V1, {"question": "hi"}, legacy_max_tokens=True)
    assert body["max_tokens"] == 300 and "max_completion_tokens" not in body
