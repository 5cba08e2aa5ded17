"""The rendering engine of :mod:`desktop_assistant.core.render`: markdown-it setup and a flat token walker.

Emits only a fixed set of tags with attributes built here; all text goes through
:func:`~desktop_assistant.core.render_text.text_html`. See :mod:`desktop_assistant.core.render` for the
design. Pure Python, no Qt.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from desktop_assistant.core.render_code import CodeBlockRenderer, palette
from desktop_assistant.core.render_math import install as install_math
from desktop_assistant.core.render_math import latex_to_unicode
from desktop_assistant.core.render_text import Breaker, escape, text_html

MAX_NESTING = 20
"""markdown-it ``maxNesting``: the block depth the parser descends to (a list counts two: list and item)."""
INLINE_PLAIN_LIMIT = 50_000
"""A paragraph (inline content) longer than this is shown as plain text, without inline markdown."""

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})


@dataclass(frozen=True)
class Labels:
    """The few words the renderer itself writes; pass translated ones (``tr()``) from the UI."""

    copy: str = "Copy"
    """The copy link above each fenced code block."""
    image: str = "image"
    """Written as ``[image: alt]`` where a markdown image would be."""
    code: str = "code"
    """The header of a fenced code block that names no language."""
    copy_math: str = "Copy LaTeX"
    """The copy link after each display formula (an inline formula is itself its copy link)."""


DEFAULT_LABELS = Labels()


def _plain_big_inline(state: StateCore) -> None:
    """Core rule before "inline": huge paragraphs become ``inline_plain`` tokens the inline parser skips."""
    for token in state.tokens:
        if token.type == "inline" and len(token.content) > INLINE_PLAIN_LIMIT:
            token.type = "inline_plain"


@lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.options.maxNesting = MAX_NESTING
    md.enable(["table", "strikethrough"])
    md.disable(["reference", "html_block", "html_inline"])
    md.core.ruler.before("inline", "plain_big_inline", _plain_big_inline)
    install_math(md)
    return md


_DEEP_PREFIX = re.compile(rf"^[ \t]*(?:(?:[>*+-]|\d{{1,9}}[.)])[ \t]*){{{MAX_NESTING + 1},}}", re.MULTILINE)


def _defuse_deep(match: re.Match[str]) -> str:
    prefix = match.group(0)
    stripped = len(prefix) - len(prefix.lstrip(" \t"))
    return prefix[:stripped] + "\\" + prefix[stripped:]


def parse(clean: str) -> list[Token]:
    """markdown-it tokens of text already cleaned by :func:`~.render_text.clean_text`.

    A line opening more containers (quotes, list items) than :data:`MAX_NESTING` has its first marker escaped,
    so it is a paragraph of plain text: markdown-it would drop what is past its nesting limit anyway, and its
    list and rule scanners are slow on such lines. Lines and their count are unchanged (streaming relies on it).
    """
    return _md().parse(_DEEP_PREFIX.sub(_defuse_deep, clean))


# --- top-level blocks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One top-level block of a token stream; ``too_deep`` when it reaches the nesting limit."""

    first: int  # index of its first token
    end: int  # index after its last token
    line: int  # first source line
    end_line: int  # line after its last source line
    too_deep: bool


def top_blocks(tokens: Sequence[Token]) -> Iterator[Block]:
    """The level-0 blocks of a token stream, with their token and line ranges."""
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        first, depth, deepest = i, 0, token.level
        while True:
            depth += tokens[i].nesting
            deepest = max(deepest, tokens[i].level)
            i += 1
            if depth <= 0 or i >= n:
                break
        start, end = token.map if token.map else (0, 0)
        yield Block(first, i, start, end, deepest >= MAX_NESTING - 1)


# --- rendering ------------------------------------------------------------------------------------------

_SIMPLE_BLOCK = {
    "blockquote_open": "<blockquote>",
    "blockquote_close": "</blockquote>\n",
    "bullet_list_open": "<ul>",
    "bullet_list_close": "</ul>\n",
    "ordered_list_close": "</ol>\n",
    "list_item_open": "<li>",
    "list_item_close": "</li>\n",
    "thead_open": "<thead>",
    "thead_close": "</thead>\n",
    "tbody_open": "<tbody>",
    "tbody_close": "</tbody>\n",
    "tr_open": "<tr>",
    "tr_close": "</tr>\n",
    "th_close": "</th>",
    "td_close": "</td>",
    "table_close": "</table>\n",
    "hr": "<hr>\n",
}
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_INLINE_TAGS = {
    "em_open": "<i>",
    "em_close": "</i>",
    "strong_open": "<b>",
    "strong_close": "</b>",
    "s_open": "<s>",
    "s_close": "</s>",
}
MATH_FONTS = "'Latin Modern Math', 'STIX Two Math', 'Cambria Math', 'DejaVu Serif', serif"
"""Fonts of rendered math (Qt takes the first one installed)."""
_ALIGN = {"text-align:left": "left", "text-align:center": "center", "text-align:right": "right"}


def safe_href(href: object) -> str | None:
    """``href`` if it is an http(s) URL with a host or a mailto URL; otherwise ``None`` (shown as text)."""
    if not isinstance(href, str):
        return None
    href = href.strip()
    if not href or any(c.isspace() or ord(c) < 0x20 or c in "\x7f\\" for c in href):
        return None
    try:
        parts = urlsplit(href)
        host = parts.hostname
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        return None
    if scheme == "mailto":
        return href if len(href) > len("mailto:") else None
    return href if host else None


def _inline_text(tokens: Sequence[Token]) -> str:
    """The plain text of inline tokens (an image's alt text), without recursion."""
    out: list[str] = []
    stack: list[Sequence[Token]] = [tokens]
    index: list[int] = [0]
    while stack:
        children, i = stack[-1], index[-1]
        if i >= len(children):
            stack.pop()
            index.pop()
            continue
        index[-1] += 1
        token = children[i]
        if token.type == "image" and token.children:
            stack.append(token.children)
            index.append(0)
        elif token.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif token.type in ("text", "text_special", "code_inline", "math_inline"):
            out.append(token.content)
    return "".join(out)


class _Walker:
    """Turns one token stream into HTML; state for one render call."""

    def __init__(
        self,
        source_lines: Sequence[str],
        dark: bool,
        labels: Labels,
        code_index: int,
        highlight_open_fences: bool,
        ol_start: int | None,
        load_lexers: bool = True,
        math_index: int = 0,
    ) -> None:
        self.lines = source_lines
        self.palette = palette(dark)
        self.labels = labels
        self.code = CodeBlockRenderer(dark, labels.copy, labels.code, load_lexers=load_lexers)
        self.code_index = code_index
        self.math_index = math_index
        self.highlight_open_fences = highlight_open_fences
        self.ol_start = ol_start  # overrides the start of an ordered list opening at line 0 (continuation)

    def render(self, tokens: Sequence[Token]) -> str:
        out: list[str] = []
        for block in top_blocks(tokens):
            if block.too_deep:
                source = "\n".join(self.lines[block.line : block.end_line])
                body = text_html(source, Breaker())
                out.append(f'<p style="white-space:pre-wrap;">{body}</p>\n')
            else:
                for token in tokens[block.first : block.end]:
                    out.append(self._token(token))
        return "".join(out)

    def _fence_closed(self, token: Token) -> bool:
        if not token.map or token.map[1] - token.map[0] < 2 or not token.markup:
            return False
        last = self.lines[token.map[1] - 1].lstrip(" \t>")
        stripped = last.strip()
        return stripped == token.markup[0] * len(stripped) and len(stripped) >= len(token.markup)

    def _token(self, token: Token) -> str:
        kind = token.type
        simple = _SIMPLE_BLOCK.get(kind)
        if simple is not None:
            return simple
        pal = self.palette
        if kind == "inline":
            return self._inline(token.children or [])
        if kind in ("paragraph_open", "paragraph_close"):
            if token.hidden:
                return ""
            return "<p>" if kind == "paragraph_open" else "</p>\n"
        if kind in ("heading_open", "heading_close"):
            tag = token.tag if token.tag in _HEADINGS else "p"
            return f"<{tag}>" if kind == "heading_open" else f"</{tag}>\n"
        if kind == "ordered_list_open":
            start = token.attrGet("start")
            number = int(start) if isinstance(start, int | str) and str(start).isdigit() else 1
            if self.ol_start is not None and token.map and token.map[0] == 0 and token.level == 0:
                number = self.ol_start
            return f'<ol start="{number}">' if number != 1 else "<ol>"
        if kind == "table_open":
            return (
                f'<table border="1" cellspacing="0" cellpadding="4" style="border-collapse:collapse;'
                f' border-style:solid; border-color:{pal.border}; margin-top:6px; margin-bottom:10px;">'
            )
        if kind in ("th_open", "td_open"):
            align = _ALIGN.get(str(token.attrGet("style") or ""))
            tag = "th" if kind == "th_open" else "td"
            return f'<{tag} align="{align}">' if align else f"<{tag}>"
        if kind == "fence":
            highlight = self.highlight_open_fences or self._fence_closed(token)
            html = self.code.fenced(token.content, token.info, self.code_index, highlight)
            self.code_index += 1
            return html
        if kind == "code_block":
            return self.code.pre(token.content, "", False)
        if kind == "math_block":
            return self._math_block(token.content)
        if kind == "inline_plain":
            return text_html(token.content, Breaker())
        # Anything else (a token type a future markdown-it might add): its text, escaped, or nothing.
        return text_html(token.content, Breaker()) if token.content else ""

    def _inline(self, children: Sequence[Token]) -> str:
        pal = self.palette
        breaker = Breaker()
        out: list[str] = []
        links: list[bool] = []  # per open link: whether an <a> was emitted for it
        for token in children:
            kind = token.type
            if kind in ("text", "text_special"):
                out.append(text_html(token.content, breaker))
            elif kind in _INLINE_TAGS:
                out.append(_INLINE_TAGS[kind])
            elif kind == "softbreak":
                breaker.reset()
                out.append("\n")
            elif kind == "hardbreak":
                breaker.reset()
                out.append("<br>")
            elif kind == "code_inline":
                code = text_html(token.content, breaker)
                out.append(f'<code style="background-color:{pal.inline_code_bg};">{code}</code>')
            elif kind == "link_open":
                href = None if any(links) else safe_href(token.attrGet("href"))
                links.append(href is not None)
                if href is not None:
                    out.append(f'<a href="{escape(href)}">')
            elif kind == "link_close":
                if links and links.pop():
                    out.append("</a>")
            elif kind == "image":
                out.append(self._image(token, breaker, inside_link=any(links)))
            elif kind == "math_inline":
                out.append(self._math_inline(token, breaker, inside_link=any(links)))
            elif token.content:
                out.append(text_html(token.content, breaker))
        out.extend("</a>" for emitted in links if emitted)  # unbalanced stream: close what was opened
        return "".join(out)

    def _math_inline(self, token: Token, breaker: Breaker, inside_link: bool) -> str:
        """Readable math in serif italics; itself a ``copy-math:N`` link (unless already inside a link)."""
        index = self.math_index
        self.math_index += 1
        readable = text_html(latex_to_unicode(token.content), breaker)
        span = (f'<span style="font-family:{MATH_FONTS}; font-style:italic; color:{self.palette.code_fg};">'
                f"{readable}</span>")
        return span if inside_link else f'<a href="copy-math:{index}">{span}</a>'

    def _math_block(self, source: str) -> str:
        """A centred display formula (a line per row) followed by a small ``copy-math:N`` link."""
        index = self.math_index
        self.math_index += 1
        breaker = Breaker()
        lines = []
        for line in latex_to_unicode(source, display=True).split("\n"):
            breaker.reset()
            lines.append(text_html(line, breaker))
        copy = text_html(self.labels.copy_math, Breaker())
        return (
            '<p align="center" style="margin-top:6px; margin-bottom:10px;">'
            f'<span style="font-family:{MATH_FONTS}; font-style:italic; font-size:large;">{"<br>".join(lines)}'
            f'</span>&nbsp;&nbsp;<a href="copy-math:{index}"><span style="font-size:small; '
            f'color:{self.palette.muted};">{copy}</span></a></p>\n'
        )

    def _image(self, token: Token, breaker: Breaker, inside_link: bool) -> str:
        alt = _inline_text(token.children or []) or token.content
        label = f"[{self.labels.image}: {alt}]" if alt.strip() else f"[{self.labels.image}]"
        span = f'<span style="color:{self.palette.muted};">{text_html(label, breaker)}</span>'
        src = None if inside_link else safe_href(token.attrGet("src"))
        if src is None or src.lower().startswith("mailto:"):
            return span
        return f'<a href="{escape(src)}">{span}</a>'


def render_clean(
    clean: str,
    *,
    dark: bool,
    labels: Labels,
    code_index: int = 0,
    highlight_open_fences: bool = True,
    ol_start: int | None = None,
    tokens: list[Token] | None = None,
    math_index: int = 0,
) -> tuple[str, int, int]:
    """Render cleaned text; returns the HTML and the indices after its last fenced block and last formula."""
    if tokens is None:
        tokens = parse(clean)
    walker = _Walker(
        clean.split("\n"), dark, labels, code_index, highlight_open_fences, ol_start, math_index=math_index
    )
    html = walker.render(tokens)
    return html, walker.code_index, walker.math_index


def render_clean_without_loading(clean: str, *, dark: bool, labels: Labels) -> tuple[str, bool]:
    """Render cleaned text without loading any pygments lexer: code in a language whose lexer is not loaded
    yet stays plain. Returns the HTML and whether it is complete (False: some code was left plain).
    """
    walker = _Walker(clean.split("\n"), dark, labels, 0, True, None, load_lexers=False)
    html = walker.render(parse(clean))
    return html, not walker.code.deferred
