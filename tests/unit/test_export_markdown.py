"""Markdown export: a message's own headings sit under its speaker's heading."""

from __future__ import annotations

from desktop_assistant.core.export_format import nested_headings


def test_a_message_s_headings_go_two_levels_down_outside_code() -> None:
    text = "# Title\n\n## Section 1\n\ntext #not a heading\n\n```python\n# a comment\n```\n\n###### Deep\n#tag"
    assert nested_headings(text) == (
        "### Title\n\n#### Section 1\n\ntext #not a heading\n\n```python\n# a comment\n```\n\n###### Deep\n#tag")


def test_a_fence_of_the_other_kind_does_not_close_a_block() -> None:
    text = "~~~\n```\n# inside\n~~~\n# outside"
    assert nested_headings(text) == "~~~\n```\n# inside\n~~~\n### outside"
