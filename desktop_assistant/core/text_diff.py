"""Side-by-side text diff of two prompt versions, as rows a table can show (difflib, no Qt).

Each :class:`DiffRow` has the old line on the left and the new one on the right, 1-based line numbers (None on
the side where the line does not exist) and a kind: ``same``, ``changed``, ``added`` or ``removed``. A changed
row carries the spans (``(start, end)`` character offsets, end excluded) of the words that differ within the
line; when the two lines have little in common the whole line is one span, which reads better than confetti.
Offsets count Python characters (code points); Qt counts UTF-16 units: use :func:`utf16_spans` for Qt.
Lines are split with :meth:`str.splitlines`, so ``\\n``, ``\\r\\n`` and a final newline make no difference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum

from desktop_assistant.core.prompts import PromptVersion

Span = tuple[int, int]
SIMILAR_ENOUGH = 0.4  # below this ratio a changed line is highlighted whole
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


class RowKind(StrEnum):
    """How a row of the diff differs."""

    SAME = "same"
    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff."""

    kind: RowKind
    left_number: int | None
    left: str
    right_number: int | None
    right: str
    left_spans: tuple[Span, ...] = ()
    right_spans: tuple[Span, ...] = ()


def _merge(spans: list[Span]) -> tuple[Span, ...]:
    merged: list[Span] = []
    for start, end in spans:
        if start == end:
            continue
        if merged and merged[-1][1] >= start:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _tokens(line: str) -> tuple[list[str], list[int]]:
    """The words, runs of spaces and single other characters of ``line``, and where each starts."""
    tokens: list[str] = []
    starts: list[int] = []
    for match in _TOKEN.finditer(line):
        tokens.append(match.group(0))
        starts.append(match.start())
    return tokens, starts


def line_spans(old: str, new: str) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
    """The changed character spans of ``old`` and of ``new``, word by word (whole lines when they are too
    different)."""
    a, a_starts = _tokens(old)
    b, b_starts = _tokens(new)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() < SIMILAR_ENOUGH:
        return _merge([(0, len(old))]), _merge([(0, len(new))])
    a_starts.append(len(old))
    b_starts.append(len(new))
    left: list[Span] = []
    right: list[Span] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            left.append((a_starts[i1], a_starts[i2]))
            right.append((b_starts[j1], b_starts[j2]))
    return _merge(left), _merge(right)


def side_by_side(old: str, new: str) -> list[DiffRow]:
    """The rows of a side-by-side diff from ``old`` to ``new`` (empty when both are empty)."""
    a = old.splitlines()
    b = new.splitlines()
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows.extend(DiffRow(RowKind.SAME, i + 1, a[i], j + 1, b[j]) for i, j in zip(range(i1, i2), range(j1, j2),
                                                                                         strict=True))
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            left, right = line_spans(a[i1 + k], b[j1 + k])
            rows.append(DiffRow(RowKind.CHANGED, i1 + k + 1, a[i1 + k], j1 + k + 1, b[j1 + k], left, right))
        rows.extend(DiffRow(RowKind.REMOVED, i + 1, a[i], None, "") for i in range(i1 + paired, i2))
        rows.extend(DiffRow(RowKind.ADDED, None, "", j + 1, b[j]) for j in range(j1 + paired, j2))
    return rows


def summary(rows: list[DiffRow]) -> str:
    """A plain sentence about a diff: ``2 lines changed, 1 added.`` or ``No differences.``"""
    parts: list[str] = []
    for kind in (RowKind.CHANGED, RowKind.ADDED, RowKind.REMOVED):
        count = sum(1 for r in rows if r.kind is kind)
        if count:
            noun = "" if parts else ("line " if count == 1 else "lines ")
            parts.append(f"{count} {noun}{kind.value}")
    return ", ".join(parts) + "." if parts else "No differences."


def utf16_spans(line: str, spans: tuple[Span, ...]) -> tuple[Span, ...]:
    """``spans`` of ``line`` in UTF-16 units, as Qt's text positions count them (emoji are two units)."""
    def units(index: int) -> int:
        return len(line[:index].encode("utf-16-le")) // 2

    return tuple((units(s), units(e)) for s, e in spans)


@dataclass(frozen=True)
class VersionDiff:
    """What changed from one prompt version to another: the two texts and the settings, in words."""

    system_rows: list[DiffRow]
    template_rows: list[DiffRow]
    settings: list[str]

    @property
    def identical(self) -> bool:
        """Nothing differs."""
        return not self.settings and all(r.kind is RowKind.SAME for r in [*self.system_rows, *self.template_rows])


def _temperature(value: float | None) -> str:
    return "the model's default" if value is None else f"{value:g}"


def diff_versions(old: PromptVersion, new: PromptVersion) -> VersionDiff:
    """The side-by-side diff of two versions' system prompts and user templates, and their settings changes."""
    settings: list[str] = []
    if old.model != new.model:
        settings.append(f"Model: {old.model} → {new.model}")
    if old.temperature != new.temperature:
        settings.append(f"Temperature: {_temperature(old.temperature)} → {_temperature(new.temperature)}")
    if old.max_output_tokens != new.max_output_tokens:
        settings.append(f"Max output tokens: {old.max_output_tokens:,} → {new.max_output_tokens:,}")
    return VersionDiff(side_by_side(old.system_prompt, new.system_prompt),
                       side_by_side(old.user_template, new.user_template), settings)
