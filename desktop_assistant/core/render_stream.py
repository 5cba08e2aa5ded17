"""Streaming for :mod:`desktop_assistant.core.render`: split a partial reply, render finished blocks once.

See :mod:`desktop_assistant.core.render` for the design. Pure Python, no Qt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it.token import Token

from desktop_assistant.core.render_html import DEFAULT_LABELS, Labels, parse, render_clean, top_blocks
from desktop_assistant.core.render_text import clean_text

LIST_SPLIT_CHARS = 4_000
"""While streaming, a list longer than this is split before its last item so the tail stays small."""


@dataclass(frozen=True)
class _Split:
    line: int  # first line of the open tail (0: nothing is stable yet)
    ol_next: int | None  # the split is inside an ordered list: number of the tail's first item


def _split_point(clean: str, tokens: Sequence[Token], ol_start: int | None) -> _Split:
    blocks = list(top_blocks(tokens))
    if not blocks:
        return _Split(0, None)
    last = blocks[-1]
    opener = tokens[last.first]
    if opener.type in ("bullet_list_open", "ordered_list_open") and not last.too_deep:
        lines = clean.split("\n", last.end_line)[last.line : last.end_line]
        if sum(len(line) + 1 for line in lines) > LIST_SPLIT_CHARS:
            items = [t for t in tokens[last.first : last.end] if t.type == "list_item_open" and t.level == 1]
            if len(items) >= 2 and items[-1].map:
                ol_next = None
                if opener.type == "ordered_list_open":
                    start = opener.attrGet("start")
                    first = int(start) if isinstance(start, int | str) and str(start).isdigit() else 1
                    if ol_start is not None and last.line == 0:
                        first = ol_start
                    ol_next = first + len(items) - 1
                return _Split(items[-1].map[0], ol_next)
    if len(blocks) < 2:
        return _Split(0, None)
    return _Split(last.line, None)


def _decide(clean: str, tokens: list[Token], ol_start: int | None, final: bool) -> _Split:
    """Where to split; unless ``final``, only complete lines count: a line still being written can change
    what it is (``3`` becoming ``3. item`` continues a list), and with it whether the block before it ended.
    """
    cut = len(clean) if final else clean.rfind("\n") + 1
    if cut == len(clean):
        return _split_point(clean, tokens, ol_start)
    complete = clean[:cut]
    return _split_point(complete, parse(complete), ol_start) if complete else _Split(0, None)


def _offset_of_line(text: str, line: int) -> int:
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset


def split_stable(text: str) -> tuple[str, str]:
    """Split a partial reply into (stable prefix of finished blocks, open tail); ``prefix + tail == text``.

    The prefix ends where the last top-level block (or, in a long list, the last item) of the text's
    complete lines begins, so an open code fence and everything after it stays in the tail. Rendering the
    prefix once and the tail each frame shows the same content as rendering ``text`` whole (see the module
    docstring of :mod:`desktop_assistant.core.render` for the cosmetic differences).
    """
    clean = clean_text(text)
    split = _decide(clean, parse(clean), None, final=False)
    offset = _offset_of_line(text, split.line)  # clean_text keeps lines, so line numbers agree
    return text[:offset], text[offset:]


class StreamRenderer:
    """Renders a streaming reply: finished blocks once, the open tail on every frame.

    ``feed`` takes the whole text received so far (each call extending the previous one) and returns the
    HTML of blocks that became stable since the last call (append it once) and the HTML of the open tail
    (replace the previous tail with it). ``copy-code:N`` and ``copy-math:N`` indices continue across calls, so
    they match :func:`code_blocks` and :func:`math_sources` of the full text. An open code fence in the tail
    is not highlighted until it closes.
    """

    def __init__(self, *, dark: bool = False, labels: Labels = DEFAULT_LABELS) -> None:
        self.dark = dark
        self.labels = labels
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next ``feed`` starts a new reply."""
        self._stable_raw = ""
        self._stable_html: list[str] = []
        self._code_count = 0
        self._math_count = 0
        self._ol_next: int | None = None
        self._tail_html = ""

    @property
    def stable_html(self) -> str:
        """The HTML of all blocks that are finished so far."""
        return "".join(self._stable_html)

    @property
    def html(self) -> str:
        """The HTML of the whole reply as last fed: stable blocks followed by the tail."""
        return self.stable_html + self._tail_html

    def _advance(self, text: str, final: bool) -> tuple[str, str, list[Token]]:
        """Move newly finished blocks to the stable part; return their HTML and the cleaned open tail."""
        if not text.startswith(self._stable_raw):
            raise ValueError("text does not extend the stable part already rendered; call reset() first")
        rest = text[len(self._stable_raw) :]
        clean = clean_text(rest)
        tokens = parse(clean)
        split = _decide(clean, tokens, self._ol_next, final)
        if split.line == 0:
            return "", clean, tokens
        clean_offset = _offset_of_line(clean, split.line)
        new_html, self._code_count, self._math_count = render_clean(
            clean[:clean_offset],
            dark=self.dark,
            labels=self.labels,
            code_index=self._code_count,
            ol_start=self._ol_next,
            math_index=self._math_count,
        )
        self._stable_html.append(new_html)
        self._stable_raw += rest[: _offset_of_line(rest, split.line)]
        self._ol_next = split.ol_next
        tail = clean[clean_offset:]
        return new_html, tail, parse(tail)

    def _tail(self, clean: str, tokens: list[Token], final: bool) -> str:
        html, _, _ = render_clean(
            clean,
            dark=self.dark,
            labels=self.labels,
            code_index=self._code_count,
            highlight_open_fences=final,
            ol_start=self._ol_next,
            tokens=tokens,
            math_index=self._math_count,
        )
        return html

    def feed(self, text: str) -> tuple[str, str]:
        """Take the full text so far; return (HTML of newly finished blocks, HTML of the open tail).

        Raises ``ValueError`` when ``text`` does not extend the part already rendered as stable (call
        :meth:`reset` first to render a different reply).
        """
        new_html, clean, tokens = self._advance(text, final=False)
        self._tail_html = self._tail(clean, tokens, final=False)
        return new_html, self._tail_html

    @property
    def stable_length(self) -> int:
        """How many characters of the reply are rendered as finished blocks."""
        return len(self._stable_raw)

    def can_continue(self, text: str) -> bool:
        """Whether ``text`` extends the part already rendered as stable (so :meth:`feed`/:meth:`finish` accept it)."""
        return text.startswith(self._stable_raw)

    def finish_parts(self, text: str) -> tuple[str, str]:
        """Like :meth:`finish`, but return (HTML of blocks newly finished, final HTML of the last blocks), then
        reset: a document that shows the fed stable HTML can append the first and replace its tail with the
        second, without rendering the whole reply again. The open fences are highlighted now.
        """
        new_html, clean, tokens = self._advance(text, final=True)
        tail = self._tail(clean, tokens, final=True)
        self.reset()
        return new_html, tail

    def finish(self, text: str) -> str:
        """The final HTML of the complete reply, then reset.

        It is the stable HTML already handed out plus the last blocks, so the cost does not grow with the
        reply; it equals :func:`render_markdown` of ``text`` but for the cosmetic list differences described
        in the module docstring (and code past the highlighting budget of a single render being highlighted).
        """
        _, clean, tokens = self._advance(text, final=True)
        html = self.stable_html + self._tail(clean, tokens, final=True)
        self.reset()
        return html
