"""Prompt lab: side-by-side text diff of two prompt versions."""

from __future__ import annotations

from desktop_assistant.core.prompts import PromptVersion
from desktop_assistant.core.text_diff import (
    DiffRow,
    diff_versions,
    line_spans,
    side_by_side,
    summary,
    utf16_spans,
)


def kinds(rows: list[DiffRow]) -> list[str]:
    return [r.kind.value for r in rows]


def test_identical_texts_are_all_same_rows() -> None:
    rows = side_by_side("a\nb", "a\nb")
    assert kinds(rows) == ["same", "same"]
    assert [(r.left_number, r.right_number) for r in rows] == [(1, 1), (2, 2)]
    assert summary(rows) == "No differences."


def test_both_empty_gives_no_rows() -> None:
    assert side_by_side("", "") == []
    assert summary([]) == "No differences."


def test_from_empty_everything_is_added() -> None:
    rows = side_by_side("", "one\ntwo")
    assert kinds(rows) == ["added", "added"]
    assert rows[0].left_number is None and rows[0].left == "" and rows[1].right_number == 2
    assert summary(rows) == "2 lines added."


def test_to_empty_everything_is_removed() -> None:
    rows = side_by_side("one", "")
    assert kinds(rows) == ["removed"]
    assert rows[0].right_number is None and rows[0].left_number == 1


def test_changed_line_with_intra_line_spans() -> None:
    rows = side_by_side("keep\nAnswer in English.\nend", "keep\nAnswer in French.\nend")
    assert kinds(rows) == ["same", "changed", "same"]
    changed = rows[1]
    assert (changed.left_number, changed.right_number) == (2, 2)
    left = "".join(changed.left[s:e] for s, e in changed.left_spans)
    right = "".join(changed.right[s:e] for s, e in changed.right_spans)
    assert (left, right) == ("English", "French")  # whole words, not letters
    assert "Answer in " not in left  # the shared part is not highlighted
    assert summary(rows) == "1 line changed."


def test_insertion_inside_a_line_highlights_only_the_new_side() -> None:
    left, right = line_spans("hello world", "hello big world")
    assert left == ()
    assert right == ((6, 10),)


def test_very_different_lines_are_highlighted_whole() -> None:
    left, right = line_spans("abc", "xyz")
    assert left == ((0, 3),) and right == ((0, 3),)


def test_replace_block_with_more_new_lines_pairs_then_adds() -> None:
    rows = side_by_side("a\nold 1\nz", "a\nnew 1\nnew 2\nz")
    assert kinds(rows) == ["same", "changed", "added", "same"]
    assert rows[2].right == "new 2" and rows[3].left_number == 3 and rows[3].right_number == 4
    assert summary(rows) == "1 line changed, 1 added."


def test_replace_block_with_fewer_new_lines_pairs_then_removes() -> None:
    rows = side_by_side("x 1\nx 2\nx 3", "x one")
    assert kinds(rows) == ["changed", "removed", "removed"]
    assert summary(rows) == "1 line changed, 2 removed."


def test_line_endings_and_final_newline_make_no_difference() -> None:
    assert kinds(side_by_side("a\r\nb\r\n", "a\nb")) == ["same", "same"]


def test_blank_lines_are_rows_too() -> None:
    rows = side_by_side("a\n\nb", "a\nb")
    assert kinds(rows) == ["same", "removed", "same"]
    assert rows[1].left == "" and rows[1].left_number == 2


def test_unicode_spans_and_utf16_conversion() -> None:
    rows = side_by_side("Grüße 👋 Welt", "Grüße 👋 Erde")
    assert kinds(rows) == ["changed"]
    row = rows[0]
    assert all(row.right[s:e] in "Erde" for s, e in row.right_spans)
    start = row.right_spans[0][0]
    (u_start, _u_end), *_ = utf16_spans(row.right, row.right_spans)
    assert u_start == start + 1  # the emoji before it is two UTF-16 units
    assert utf16_spans("abc", ((0, 2),)) == ((0, 2),)


def test_diff_versions_texts_and_settings() -> None:
    old = PromptVersion("p", 1, "Be kind.", "Q: {{q}}", model="gpt-4o-mini", temperature=None,
                        max_output_tokens=1000)
    new = PromptVersion("p", 2, "Be kind and brief.", "Q: {{q}}", model="gpt-4o", temperature=0.5,
                        max_output_tokens=1500)
    diff = diff_versions(old, new)
    assert kinds(diff.system_rows) == ["changed"]
    assert kinds(diff.template_rows) == ["same"]
    assert diff.settings == ["Model: gpt-4o-mini → gpt-4o", "Temperature: the model's default → 0.5",
                             "Max output tokens: 1,000 → 1,500"]
    assert not diff.identical


def test_diff_versions_identical_apart_from_note_and_number() -> None:
    old = PromptVersion("p", 1, "s", "t", note="a", created_at=1)
    new = PromptVersion("p", 2, "s", "t", note="b", created_at=2)
    diff = diff_versions(old, new)
    assert diff.identical and diff.settings == []
