"""Colours and code blocks for :mod:`desktop_assistant.core.render`: pygments highlighting as inline styles.

Pure Python, no Qt. Pygments' own HTML formatter is not used: tokens are turned into ``<span style>`` here so
that every piece of code text goes through the same escaping and line-break hints as the rest of a message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from desktop_assistant.core.render_text import Breaker, escape

if TYPE_CHECKING:  # pygments is imported on first highlighting: start-up renders code plain until then
    from pygments.lexer import Lexer
    from pygments.token import _TokenType

HIGHLIGHT_MAX_BLOCK_CHARS = 30_000
"""A code block longer than this is shown unhighlighted (pygments costs up to ~6 us per character)."""
HIGHLIGHT_MAX_LINE_CHARS = 1_000
"""A code block with a longer line (minified or generated code) is shown unhighlighted."""
HIGHLIGHT_BUDGET_CHARS = 120_000
"""At most this many characters of code are highlighted per render call; later blocks stay plain."""


@dataclass(frozen=True)
class Palette:
    """The colours one theme uses; code colours come from the pygments style named ``pygments_style``."""

    pygments_style: str
    code_bg: str
    code_fg: str
    header_bg: str
    header_fg: str
    inline_code_bg: str
    border: str
    muted: str
    link: str


# xcode and github-dark: every token colour keeps a WCAG contrast of at least 4.5:1 on these backgrounds
# (checked by tests/unit/test_render.py).
LIGHT = Palette(
    pygments_style="xcode",
    code_bg="#f6f8fa",
    code_fg="#1f2328",
    header_bg="#e6eaef",
    header_fg="#424a53",
    inline_code_bg="#eff1f3",
    border="#d0d7de",
    muted="#59636e",
    link="#0550ae",
)
DARK = Palette(
    pygments_style="github-dark",
    code_bg="#0d1117",
    code_fg="#e6edf3",
    header_bg="#262c36",
    header_fg="#c9d1d9",
    inline_code_bg="#343a43",
    border="#3d444d",
    muted="#9198a1",
    link="#4493f8",
)


def palette(dark: bool) -> Palette:
    """The palette for the light or the dark theme."""
    return DARK if dark else LIGHT


def document_css(dark: bool = False) -> str:
    """A small stylesheet for ``QTextDocument.setDefaultStyleSheet`` matching :func:`render_markdown`.

    The HTML carries its essential styles inline; this adds link colour, heading sizes and spacing.
    """
    pal = palette(dark)
    return (
        f"a {{ color: {pal.link}; text-decoration: none; }}\n"
        "h1 { font-size: x-large; margin-top: 12px; margin-bottom: 6px; }\n"
        "h2 { font-size: large; margin-top: 12px; margin-bottom: 6px; }\n"
        "h3, h4, h5, h6 { font-size: medium; margin-top: 10px; margin-bottom: 4px; }\n"
        "p { margin-top: 0px; margin-bottom: 8px; }\n"
        "li { margin-top: 0px; margin-bottom: 2px; }\n"
        f"blockquote {{ color: {pal.muted}; margin-left: 16px; margin-right: 0px; }}\n"
        "th { font-weight: bold; }\n"
    )


_LANG_OK = re.compile(r"[\w+#.\-]{1,40}")


def language_of(info: str) -> str:
    """The language named by a fence's info string (its first word), or ``""``; untrusted, display-escaped."""
    word = info.strip().split(maxsplit=1)[0] if info.strip() else ""
    word = word.strip("{}.")  # ```{python} and ```.py styles
    return word[:40]


_LEXERS: dict[str, Lexer | None] = {}
_LEXER_CACHE_SIZE = 256


def _lexer(language: str) -> Lexer | None:
    if language in _LEXERS:
        return _LEXERS[language]
    lexer: Lexer | None = None
    if _LANG_OK.fullmatch(language):
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound

        try:
            lexer = get_lexer_by_name(language, stripnl=False, stripall=False, ensurenl=False)
        except ClassNotFound:
            lexer = None
        if lexer is not None and lexer.name == "Text only":
            lexer = None
    if len(_LEXERS) >= _LEXER_CACHE_SIZE:  # languages come from untrusted text: keep the cache bounded
        _LEXERS.clear()
    _LEXERS[language] = lexer
    return lexer


def lexer_loaded(language: str) -> bool:
    """Whether the lexer lookup for ``language`` was already done (so highlighting it costs no loading).

    Loading a pygments lexer compiles its regular expressions: ~30-60 ms for Python, once per process.
    """
    return language.lower() in _LEXERS


@lru_cache(maxsize=1024)
def _span_style(style_name: str, ttype: _TokenType) -> str:
    from pygments.styles import get_style_by_name

    spec = get_style_by_name(style_name).style_for_token(ttype)
    parts = []
    if spec["color"]:
        parts.append(f"color:#{spec['color']}")
    if spec["bold"]:
        parts.append("font-weight:bold")
    if spec["italic"]:
        parts.append("font-style:italic")
    if spec["underline"]:
        parts.append("text-decoration:underline")
    return ";".join(parts)


def _highlighted(code: str, lexer: Lexer, style_name: str, breaker: Breaker) -> str:
    out: list[str] = []
    run_style = ""
    run: list[str] = []

    def flush() -> None:
        if run:
            body = escape("".join(run))
            out.append(f'<span style="{run_style}">{body}</span>' if run_style else body)
            run.clear()

    for ttype, value in lexer.get_tokens(code):
        style = _span_style(style_name, ttype) if value.strip() else run_style  # whitespace joins any run
        if style != run_style:
            flush()
            run_style = style
        run.append(breaker.feed(value))
    flush()
    return "".join(out)


class CodeBlockRenderer:
    """Renders code blocks of one render call, spending a shared highlighting budget."""

    def __init__(
        self,
        dark: bool,
        copy_label: str,
        code_label: str,
        budget: int = HIGHLIGHT_BUDGET_CHARS,
        load_lexers: bool = True,
    ) -> None:
        self.palette = palette(dark)
        self.copy_label = copy_label
        self.code_label = code_label
        self.budget = budget
        self.load_lexers = load_lexers
        self.deferred = False  # some code was left plain because its lexer was not loaded (load_lexers=False)

    def _may_highlight(self, code: str) -> bool:
        if len(code) > HIGHLIGHT_MAX_BLOCK_CHARS or len(code) > self.budget:
            return False
        return all(len(line) <= HIGHLIGHT_MAX_LINE_CHARS for line in code.split("\n"))

    def pre(self, code: str, language: str = "", highlight: bool = True) -> str:
        """A ``<pre>`` with ``code`` (already cleaned), highlighted when the language is known and allowed."""
        pal = self.palette
        breaker = Breaker()
        if code.endswith("\n"):
            code = code[:-1]
        lexer = None
        if highlight and language:
            if self.load_lexers or lexer_loaded(language):
                lexer = _lexer(language.lower())
            else:
                self.deferred = True
        if lexer is not None and self._may_highlight(code):
            self.budget -= len(code)
            body = _highlighted(code, lexer, pal.pygments_style, breaker)
        else:
            body = escape(breaker.feed(code))
        style = (
            f"background-color:{pal.code_bg}; color:{pal.code_fg}; white-space:pre-wrap;"
            " margin-top:0px; margin-bottom:10px;"
        )
        return f'<pre style="{style}">{body or " "}</pre>\n'

    def fenced(self, code: str, info: str, index: int, highlight: bool = True) -> str:
        """A fenced block: a header line (language, copy link ``copy-code:<index>``) above its ``<pre>``."""
        pal = self.palette
        language = language_of(info)
        header = (
            f'<p style="background-color:{pal.header_bg}; color:{pal.header_fg}; margin-top:6px;'
            f' margin-bottom:0px; font-size:small;">'
            f"{escape(language or self.code_label)}&nbsp;&nbsp;&nbsp;"
            f'<a href="copy-code:{index}" style="color:{pal.link}; text-decoration:none;">'
            f"{escape(self.copy_label)}</a></p>\n"
        )
        return header + self.pre(code, language, highlight)
