"""Model output (markdown) -> safe HTML for Qt's rich-text engine (QTextDocument / QTextBrowser).

Safe by construction: markdown-it-py parses (``html=False``: raw HTML in the text is literal text), and the
token walker (:mod:`~desktop_assistant.core.render_html`) emits only a fixed set of tags (p, h1-h6,
blockquote, ul/ol/li, table parts, pre, code, b/i/s, br, hr, span and ``<a href>``) with attributes it builds
itself. Every piece of text is cleaned (terminal escapes, controls, bidi overrides/isolates and invisible
characters removed, see :mod:`~desktop_assistant.core.render_text`) and escaped. There is never an ``<img>``:
a markdown image is shown as ``[image: alt]`` (a link to its address when that is http(s), so it opens only on
a click). Links keep their ``href`` only for ``http``, ``https`` (with a host) and ``mailto``; anything else
is plain text. Link ``title`` attributes are dropped (Qt shows them as tooltips, which guess rich text).

Choices worth knowing:

* Long lines: a ZERO WIDTH SPACE is inserted so that no run without a break opportunity is longer than
  :data:`MAX_UNBROKEN_RUN` characters, in prose and in code; code blocks use ``white-space: pre-wrap``, so
  they wrap instead of widening the whole transcript. Without this Qt needs ~25 s to lay out a 1 MB unbroken
  line; with it ~0.13 s. The input's own U+200B are removed, so a widget may remove every U+200B from copied
  text (:func:`strip_break_hints`); the copy links copy :func:`code_blocks` text, which has none.
* Nesting: markdown-it's ``maxNesting`` is :data:`MAX_NESTING` (markdown-it's own guard against deep
  recursion: its parser stops descending there and drops what is deeper). A top-level block that reaches the
  limit is therefore shown as its plain source text instead, so nothing is lost silently. The walker here is a
  flat loop over the token stream, never recursive.
* A paragraph longer than :data:`INLINE_PLAIN_LIMIT` characters is not parsed for inline markdown (emphasis,
  links, code spans): it is shown as plain text, keeping a 1 MB line under a second.
* Reference-style link definitions (``[x]: http://...``) are disabled: they are shown as text. A definition
  can come after its use, which would make a block's rendering depend on text streamed later.
* Math (:mod:`~desktop_assistant.core.render_math`): ``$...$`` and ``\\(...\\)`` inline, ``$$...$$`` and
  ``\\[...\\]`` display, shown as readable Unicode (``\\frac{a}{b}`` as a/b, ``x^2`` as x², Greek letters,
  operators) in serif italics, display math centred; no web engine, no image. The LaTeX stays copyable: an
  inline formula is a ``copy-math:N`` link, a display formula is followed by one (:func:`math_sources` gives
  the sources). Money is left alone (``$5 and $10``: no space inside the dollars, no digit after the closing
  one), ``\\$`` is a dollar, code is never math, and an unclosed ``$$`` is plain text until it closes.
* Highlighting is skipped for very large blocks, very long lines and past a per-render budget (see
  :mod:`~desktop_assistant.core.render_code`); such code is still escaped and shown.

Streaming (:func:`split_stable`, :class:`StreamRenderer`): the split point is the start of the last top-level
block markdown-it finds, so everything before it is closed for good (an open fence runs to the end of the
text, so it always stays in the tail, wherever it is nested; a list stays whole, so its numbering and spacing
are right). A long list (more than :data:`LIST_SPLIT_CHARS` characters) is also split before its last item so
the tail stays small; :class:`StreamRenderer` continues an ordered list's numbering across such a split (``<ol
start>``). Rendering the stable part once and the tail per frame gives the same HTML as rendering the whole
text (an open fence in the tail is highlighted only once it closes), except after such a list split: two
adjacent lists instead of one, tight/loose spacing decided per part, and (for :func:`split_stable` alone,
without the renderer's bookkeeping) a continued ordered list numbered from the number written in the text.
:meth:`StreamRenderer.finish` reuses the stable HTML and renders only the last blocks, so finishing costs no
more than a frame.
"""

from __future__ import annotations

from collections.abc import Iterator

from markdown_it.token import Token

from desktop_assistant.core.render_code import document_css
from desktop_assistant.core.render_html import (
    ALLOWED_SCHEMES,
    DEFAULT_LABELS,
    INLINE_PLAIN_LIMIT,
    MAX_NESTING,
    Labels,
    parse,
    render_clean,
    render_clean_without_loading,
    safe_href,
    top_blocks,
)
from desktop_assistant.core.render_math import latex_to_unicode
from desktop_assistant.core.render_stream import LIST_SPLIT_CHARS, StreamRenderer, split_stable
from desktop_assistant.core.render_text import BREAK_HINT, MAX_UNBROKEN_RUN, clean_text, strip_break_hints

__all__ = [
    "ALLOWED_SCHEMES",
    "BREAK_HINT",
    "INLINE_PLAIN_LIMIT",
    "LIST_SPLIT_CHARS",
    "MAX_NESTING",
    "MAX_UNBROKEN_RUN",
    "Labels",
    "StreamRenderer",
    "clean_text",
    "code_blocks",
    "document_css",
    "latex_to_unicode",
    "math_sources",
    "render_markdown",
    "render_markdown_without_loading",
    "safe_href",
    "split_stable",
    "strip_break_hints",
]


def render_markdown(text: str, *, dark: bool = False, labels: Labels = DEFAULT_LABELS) -> str:
    """Render untrusted markdown ``text`` as HTML for a QTextDocument; safe for any input.

    ``dark`` picks the dark palette and highlighting style. Fenced code blocks get a header with the
    language and a ``copy-code:N`` link, N counting fenced blocks from 0 in :func:`code_blocks` order. Math
    is shown as readable Unicode with a ``copy-math:N`` link to its LaTeX, N in :func:`math_sources` order.
    """
    html, _, _ = render_clean(clean_text(text), dark=dark, labels=labels)
    return html


def render_markdown_without_loading(
    text: str, *, dark: bool = False, labels: Labels = DEFAULT_LABELS
) -> tuple[str, bool]:
    """:func:`render_markdown` that never loads a pygments lexer (the first use of a language compiles its
    regular expressions, ~30-60 ms): code in a language not loaded yet is shown plain. Returns the HTML and
    whether it equals :func:`render_markdown`'s; when not, render again later (off the first paint).
    """
    return render_clean_without_loading(clean_text(text), dark=dark, labels=labels)


def _rendered_tokens(text: str) -> Iterator[Token]:
    """The tokens of ``text``'s blocks as they are rendered (a block nested too deep to render is left out)."""
    tokens = parse(clean_text(text))
    for block in top_blocks(tokens):
        if not block.too_deep:
            yield from tokens[block.first : block.end]


def code_blocks(text: str) -> list[str]:
    """The code of each fenced block of ``text``, in ``copy-code:N`` order (cleaned, no final newline)."""
    return [token.content.removesuffix("\n") for token in _rendered_tokens(text) if token.type == "fence"]


def math_sources(text: str) -> list[str]:
    """The LaTeX of each formula of ``text`` (without delimiters, stripped), in ``copy-math:N`` order."""
    out: list[str] = []
    for token in _rendered_tokens(text):
        if token.type == "math_block":
            out.append(token.content)
        elif token.type == "inline":
            out.extend(child.content for child in token.children or [] if child.type == "math_inline")
    return out


