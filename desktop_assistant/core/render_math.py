"""LaTeX math in model output: markdown-it rules that find it, and a LaTeX -> readable Unicode converter.

Helpers of :mod:`desktop_assistant.core.render`; pure Python, no Qt.

Delimiters: inline ``$...$`` and ``\\(...\\)``; display ``$$...$$`` and ``\\[...\\]`` (a block when they
start a line, and may interrupt a paragraph; inline otherwise). Money stays money: an opening ``$`` must be
followed by a non-space and not preceded by a letter or digit ("US$5"), the closing ``$`` must follow a
non-space and not be followed by a digit, and a failed opener never looks past the next ``$`` (so "costs $5
and $10" is text). ``\\$`` is a dollar (markdown-it's escape rule), and ``\\[1\\]`` inside a sentence stays
"[1]" (inline ``\\[`` math needs a backslash, script or operator in it). Math never contains a backtick, so a
``$`` inside a code span is never an end of math; fenced and indented code are never looked at. A display
block must close within :data:`MAX_BLOCK_LINES` lines and before a blank line, so an unclosed ``$$`` is a
paragraph of plain text and what comes after it cannot change blocks before it (the streaming split relies
on that).

The converter (:func:`latex_to_unicode`) is a small tokenizer and parser, not TeX: fractions become ``a/b``
(parenthesised when compound), ``\\sqrt`` a radical sign, scripts Unicode super/subscripts where every
character has one (else ``^(...)``), environments rows; symbols come from pylatexenc's table of LaTeX
macros. Anything too long, too deep or unexpected falls back to the source text. Results are cached.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline

MAX_BLOCK_LINES = 60
"""A display block (``$$`` or ``\\[`` on its own line) must close within this many lines."""
MAX_MATH_CHARS = 4_000
"""A formula longer than this is shown as its source."""
MAX_DEPTH = 40
"""Deeper nesting (braces, fractions of fractions...) is shown as its source."""

# --- markdown-it rules ----------------------------------------------------------------------------------

_INLINE_CLOSERS = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}


def _escaped(src: str, index: int) -> bool:
    """Whether the character at ``index`` is preceded by an odd number of backslashes."""
    count = 0
    index -= 1
    while index >= 0 and src[index] == "\\":
        count += 1
        index -= 1
    return count % 2 == 1


def _find_closer(state: StateInline, closer: str, start: int) -> int:
    """Index of the next unescaped ``closer`` at or after ``start`` (before ``posMax``), or -1.

    A search that failed from some position fails from any later one; remembering that keeps a line of
    thousands of unclosed openers linear.
    """
    src, end = state.src, state.posMax
    failed: dict[tuple[str, int], int] | None = getattr(state, "math_no_closer", None)
    if failed is None:
        failed = {}
        setattr(state, "math_no_closer", failed)  # noqa: B010 - StateInline declares no such attribute
    key = (closer, end)
    if start >= failed.get(key, end + 1):
        return -1
    pos = start
    while True:
        found = src.find(closer, pos, end)
        if found < 0:
            failed[key] = min(start, failed.get(key, start))
            return -1
        if not _escaped(src, found):
            return found
        pos = found + 1


def math_inline_rule(state: StateInline, silent: bool) -> bool:
    """Inline rule (before "escape"): ``$x$``, ``$$x$$``, ``\\(x\\)``, ``\\[x\\]``."""
    src, pos, end = state.src, state.pos, state.posMax
    char = src[pos]
    if char == "$":
        opener = "$$" if src.startswith("$$", pos) else "$"
    elif char == "\\" and pos + 1 < end and src[pos + 1] in "([":
        opener = src[pos : pos + 2]
    else:
        return False
    start = pos + len(opener)
    if start >= end:
        return False
    if opener == "$" and (src[start].isspace() or (pos > 0 and src[pos - 1].isalnum())):
        return False
    closer = _INLINE_CLOSERS[opener]
    found = _find_closer(state, closer, start)
    if found < 0:
        return False
    content = src[start:found]
    if opener == "$" and (content[-1:].isspace() or src[found + 1 : found + 2].isdigit()):
        return False
    if not content.strip() or "`" in content:
        return False
    if opener == "\\[" and not _MATHLIKE.search(content):
        return False  # "\\[1\\]" in a sentence is an escaped bracket (kept out of link syntax), not math
    if not silent:
        token = state.push("math_inline", "", 0)
        token.content = content.strip()
        token.markup = opener
    state.pos = found + len(closer)
    return True


_MATHLIKE = re.compile(r"[\\^_=+<>{}]")
_BLOCK_OPENERS = (("$$", "$$"), ("\\[", "\\]"))


def math_block_rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Block rule (before "fence"): ``$$`` or ``\\[`` starting a line, closed by a line ending in ``$$`` / ``\\]``
    within :data:`MAX_BLOCK_LINES` lines and before a blank line."""
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    src = state.src
    first = src[state.bMarks[start_line] + state.tShift[start_line] : state.eMarks[start_line]].rstrip()
    delimiters = next((pair for pair in _BLOCK_OPENERS if first.startswith(pair[0])), None)
    if delimiters is None:
        return False
    opener, closer = delimiters
    rest = first[len(opener) :]
    parts: list[str] = []
    last = start_line
    if closer in rest:  # one line: "$$ x $$"; anything after the closer makes it inline math in a paragraph
        if not rest.endswith(closer) or closer in rest[: -len(closer)]:
            return False
        parts.append(rest[: -len(closer)])
    else:
        parts.append(rest)
        line = start_line + 1
        while True:
            if line >= end_line or line - start_line > MAX_BLOCK_LINES:
                return False
            text = src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]].rstrip()
            if not text or state.sCount[line] < state.blkIndent:
                return False
            if text.endswith(closer) and not _escaped(text, len(text) - len(closer)):
                parts.append(text[: -len(closer)])
                last = line
                break
            if closer in text:
                return False
            parts.append(text)
            line += 1
    content = "\n".join(parts).strip()
    if not content:
        return False
    if silent:
        return True
    state.line = last + 1
    token = state.push("math_block", "math", 0)
    token.block = True
    token.content = content
    token.markup = opener
    token.map = [start_line, state.line]
    return True


def install(md: MarkdownIt) -> None:
    """Add the math rules to a markdown-it parser."""
    md.inline.ruler.before("escape", "math_inline", math_inline_rule)
    md.block.ruler.before(
        "fence", "math_block", math_block_rule, {"alt": ["paragraph", "reference", "blockquote", "list"]}
    )


# --- LaTeX -> Unicode -----------------------------------------------------------------------------------

def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SUP = dict(
    zip(
        "0123456789+-−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWαβγδεθφχ′″*∗ '",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵅᵝᵞᵟᵋᶿᵠᵡ′″**\x00′",
        strict=True,
    )
)
_SUB = dict(
    zip(
        "0123456789+-−=()aehijklmnoprstuvxβγρφχ ",
        "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ\x00",
        strict=True,
    )
)
_FRACTIONS = {
    ("1", "2"): "½", ("1", "3"): "⅓", ("2", "3"): "⅔", ("1", "4"): "¼", ("3", "4"): "¾", ("1", "5"): "⅕",
    ("1", "6"): "⅙", ("1", "8"): "⅛",
}  # fmt: skip
_FUNCTIONS = _names(
    "sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth log ln lg exp lim liminf limsup max min "
    "sup inf det gcd lcm arg deg dim ker hom Pr tr rank sgn"
)
_TEXT_MACROS = _names(
    "text textrm textnormal textit textbf textsf texttt textup emph mbox hbox mathrm mathit mathsf mathtt "
    "mathnormal"
)
_STYLES = {
    "mathbb": "DOUBLE-STRUCK", "mathbf": "BOLD", "boldsymbol": "BOLD", "bm": "BOLD", "mathcal": "SCRIPT",
    "mathscr": "SCRIPT", "mathfrak": "FRAKTUR",
}  # fmt: skip
_ACCENTS = {
    "hat": "\u0302", "widehat": "\u0302", "bar": "\u0305", "overline": "\u0305", "vec": "\u20d7",
    "overrightarrow": "\u20d7", "dot": "\u0307", "ddot": "\u0308", "tilde": "\u0303", "widetilde": "\u0303",
    "acute": "\u0301", "grave": "\u0300", "check": "\u030c", "breve": "\u0306", "underline": "\u0332",
}  # fmt: skip
_DROPPED = _names(
    "left right big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr middle displaystyle textstyle "
    "scriptstyle scriptscriptstyle limits nolimits nonumber notag strut mathstrut allowbreak"
)
_DROP_ARG = _names("label vspace color phantom vphantom hphantom")
_MATRICES = {
    "matrix": ("", ""), "pmatrix": ("(", ")"), "bmatrix": ("[", "]"), "Bmatrix": ("{", "}"),
    "vmatrix": ("|", "|"), "Vmatrix": ("‖", "‖"), "smallmatrix": ("", ""),
}  # fmt: skip
_OVERRIDES = {
    "ne": "≠", "neq": "≠", "le": "≤", "ge": "≥", "leq": "≤", "geq": "≥", "leqslant": "⩽", "geqslant": "⩾",
    "cdot": "·", "cdotp": "·", "times": "×", "div": "÷", "pm": "±", "mp": "∓", "infty": "∞", "to": "→",
    "rightarrow": "→", "leftarrow": "←", "gets": "←", "Rightarrow": "⇒", "Leftarrow": "⇐", "implies": "⟹",
    "impliedby": "⟸", "iff": "⟺", "leftrightarrow": "↔", "Leftrightarrow": "⇔", "approx": "≈", "equiv": "≡",
    "sim": "∼", "simeq": "≃", "propto": "∝", "ll": "≪", "gg": "≫", "prime": "′", "|": "‖", "lVert": "‖",
    "rVert": "‖", "Vert": "‖", "vert": "|", "lvert": "|", "rvert": "|", "mid": "|", "land": "∧", "lor": "∨",
    "neg": "¬", "bot": "⊥", "top": "⊤", "models": "⊨", "Re": "ℜ", "Im": "ℑ", "S": "§", "P": "¶", "%": "%",
    "$": "$", "&": "&", "#": "#", "_": "_", "{": "{", "}": "}", "lbrace": "{", "rbrace": "}", "ldots": "…",
    "dots": "…", "dotsc": "…", "dotsb": "⋯", "cdots": "⋯", "vdots": "⋮", "ddots": "⋱", "colon": ":",
    "setminus": "∖", "emptyset": "∅", "varnothing": "∅", "partial": "∂", "nabla": "∇", "forall": "∀",
    "exists": "∃", "nexists": "∄", "in": "∈", "notin": "∉", "ni": "∋", "subset": "⊂", "subseteq": "⊆",
    "supset": "⊃", "supseteq": "⊇", "cup": "∪", "cap": "∩", "sum": "∑", "prod": "∏", "coprod": "∐",
    "int": "∫", "iint": "∬", "iiint": "∭", "oint": "∮", "circ": "∘", "bullet": "•", "star": "⋆",
    "ast": "∗", "hbar": "ħ", "ell": "ℓ", "aleph": "ℵ", "angle": "∠", "triangle": "△", "square": "□",
    "coloneqq": "≔", "triangleq": "≜", "mapsto": "↦", "longmapsto": "⟼", "langle": "⟨", "rangle": "⟩",
    "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "backslash": "\\", "quad": "\u2003",
    "qquad": "\u2003\u2003", ",": "\u2009", ":": "\u2009", ";": "\u2009", ">": "\u2009", " ": " ", "!": "",
    "newline": "\n", "cr": "\n", "lbrack": "[", "rbrack": "]", "bmod": " mod ", "not": "",
    "uparrow": "↑", "downarrow": "↓", "perp": "⊥", "parallel": "∥", "oplus": "⊕", "otimes": "⊗",
    "wedge": "∧", "vee": "∨", "cong": "≅", "dagger": "†", "degree": "°", "checkmark": "✓",
}  # fmt: skip
_NEGATED = {"=": "≠", "in": "∉", "equiv": "≢", "subset": "⊄", "exists": "∄", "<": "≮", ">": "≯", "sim": "≁"}

_FUNCTION_MARK = "\x03"
_CELL = "\x01"
_ROW = "\x02"
_TOKEN = re.compile(r"\\(?:[A-Za-z]+\*?|.)|\s+|.", re.DOTALL)
_SPACES = re.compile(r"[ \t]{2,}")
_ATOM = re.compile(r"[\w.′″]+|\(.*\)|√\S+|[^\s]")


@lru_cache(maxsize=1)
def _symbols() -> dict[str, str]:
    """Macro name -> replacement text: pylatexenc's table of argument-free macros, then the overrides."""
    table: dict[str, str] = {}
    try:
        from pylatexenc.latex2text import get_default_latex_context_db

        for spec in get_default_latex_context_db().iter_macro_specs():
            repl = getattr(spec, "simplify_repl", None)
            if isinstance(repl, str) and "%" not in repl and not getattr(spec, "args_parser", None):
                table[spec.macroname] = repl
    except Exception:  # pragma: no cover - pylatexenc missing or changed: the overrides still cover the basics
        table = {}
    for name in (*_FUNCTIONS, *_TEXT_MACROS, *_STYLES, *_ACCENTS):
        table.pop(name, None)
    table.update(_OVERRIDES)
    return table


@lru_cache(maxsize=512)
def _styled(style: str, char: str) -> str:
    """``char`` in a mathematical alphabet (double-struck, bold, script, fraktur) when Unicode has it."""
    if not ("A" <= char <= "Z" or "a" <= char <= "z"):
        return char
    case = "CAPITAL" if char.isupper() else "SMALL"
    names = [f"MATHEMATICAL {style} {case} {char.upper()}", f"{style} {case} {char.upper()}"]
    if style == "FRAKTUR":
        names.append(f"BLACK-LETTER {case} {char.upper()}")
    for name in names:
        try:
            return unicodedata.lookup(name)
        except KeyError:
            continue
    return char


class _TooDeep(Exception):
    pass


def _script(text: str, table: dict[str, str], mark: str) -> str:
    """``text`` as a super/subscript: Unicode script characters when all have one, else ``^(text)``."""
    text = text.strip()
    if not text:
        return ""
    if all(c in table for c in text):
        return "".join(table[c] for c in text).replace("\x00", "")
    return f"{mark}{text}" if len(text) == 1 else f"{mark}({text})"


def _atomic(text: str) -> bool:
    return _ATOM.fullmatch(text) is not None and (not text.startswith("(") or _balanced(text))


def _balanced(text: str) -> bool:
    """Whether ``text``'s outer parentheses enclose all of it: "(a+b)" yes, "(a)(b)" no."""
    depth = 0
    for i, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if depth == 0 and i < len(text) - 1:
            return False
    return depth == 0


def _wrap(text: str) -> str:
    text = text.strip()
    return text if _atomic(text) else f"({text})"


class _Converter:
    """One conversion: a recursive descent over the tokens, depth-limited."""

    def __init__(self, source: str, display: bool) -> None:
        self.tokens = _TOKEN.findall(source)
        self.i = 0
        self.display = display
        self.symbols = _symbols()
        self.depth = 0
        self.environments = 0  # inside \begin...\end, "\\" separates rows

    def run(self) -> str:
        return self.seq(None)

    # helpers

    def _peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _skip_space(self) -> None:
        while self.i < len(self.tokens) and self.tokens[self.i].isspace():
            self.i += 1

    def _raw_group(self) -> str:
        """The source text of a ``{...}`` argument (environment names, colours)."""
        self._skip_space()
        if self._peek() != "{":
            return ""
        self.i += 1
        depth, out = 1, []
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            self.i += 1
            depth += (token == "{") - (token == "}")
            if depth == 0:
                break
            out.append(token)
        return "".join(out)

    def arg(self) -> str:
        """One argument: a group, a macro (with its own arguments) or a single character."""
        self._skip_space()
        token = self._peek()
        if token is None or token == "}":
            return ""
        self.i += 1
        if token == "{":
            return self.seq("}")
        if token.startswith("\\"):
            return self.macro(token[1:])
        return self.char(token)

    def optional(self) -> str | None:
        """An optional ``[...]`` argument, rendered, or None."""
        self._skip_space()
        if self._peek() != "[":
            return None
        self.i += 1
        return self.seq("]")

    def char(self, token: str) -> str:
        if token.isspace():
            return " "
        return {"-": "−", "'": "′", "~": "\u00a0", "&": _CELL, "{": "", "}": ""}.get(token, token)

    # structure

    def seq(self, stop: str | None) -> str:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _TooDeep
        out: list[str] = []
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            self.i += 1
            if token == stop:
                if stop == "\\end":
                    self._raw_group()
                break
            if token == "}":
                continue  # stray closer
            if token in ("^", "_"):
                piece = _script(self.arg(), _SUP if token == "^" else _SUB, token)
                if out and out[-1].endswith(_FUNCTION_MARK):
                    out[-1] = out[-1][:-1] + piece + _FUNCTION_MARK
                else:
                    out.append(piece)
            elif token == "{":
                out.append(self.seq("}"))
            elif token == "\\end":
                self._raw_group()  # an \end without its \begin
            elif token.startswith("\\"):
                out.append(self.macro(token[1:]))
            else:
                out.append(self.char(token))
        self.depth -= 1
        return "".join(out)

    def macro(self, name: str) -> str:
        starred = name.endswith("*") and len(name) > 1
        if starred:
            name = name[:-1]
        if name in ("frac", "dfrac", "tfrac", "cfrac"):
            top, bottom = self.arg().strip(), self.arg().strip()
            special = _FRACTIONS.get((top, bottom))
            return special or f"{_wrap(top)}/{_wrap(bottom)}"
        if name in ("binom", "dbinom", "tbinom"):
            top, bottom = self.arg().strip(), self.arg().strip()
            return f"C({top}, {bottom})"
        if name == "sqrt":
            index = self.optional()
            body = _wrap(self.arg())
            index = (index or "").strip()
            sign = {"": "√", "2": "√", "3": "∛", "4": "∜"}.get(index) or _script(index, _SUP, "^") + "√"
            return sign + body
        if name in _TEXT_MACROS or name == "operatorname":
            text = self.arg()
            return text + _FUNCTION_MARK if name == "operatorname" else text
        if name in _STYLES:
            return "".join(_styled(_STYLES[name], c) for c in self.arg())
        if name in _ACCENTS:
            body, mark = self.arg(), _ACCENTS[name]
            if name in ("bar", "overline", "underline") or len(body) <= 1:
                return "".join(c + mark for c in body) if len(body) > 1 else body + mark
            return body + mark
        if name in _FUNCTIONS:
            return name + _FUNCTION_MARK
        if name == "\\":
            return _ROW if self.environments else ("\n" if self.display else " ")
        if name == "begin":
            return self.environment(self._raw_group().strip())
        if name in _DROPPED:
            if name in ("left", "right", "middle") or name.startswith(("big", "Big")):
                self._skip_space()
                if self._peek() == ".":
                    self.i += 1
            return ""
        if name in _DROP_ARG:
            self._raw_group()
            return ""
        if name in ("hspace", "hskip"):
            self._raw_group()
            return " "
        if name == "textcolor":
            self._raw_group()
            return self.arg()
        if name == "tag":
            return f"\u2003({self._raw_group()})"
        if name == "pmod":
            return f" (mod {self.arg().strip()})"
        if name == "not":
            self._skip_space()
            following = self._peek() or ""
            self.i += 1 if following else 0
            key = following[1:] if following.startswith("\\") else following
            if key in _NEGATED:
                return _NEGATED[key]
            return (self.symbols.get(key, key) if following.startswith("\\") else following) + "\u0338"
        symbol = self.symbols.get(name)
        if symbol is not None:
            return symbol
        return name  # an unknown macro: its name, so nothing silently disappears

    def environment(self, name: str) -> str:
        base = name.rstrip("*")
        if base == "array":
            self._raw_group()  # column spec
        self.environments += 1
        try:
            body = self.seq("\\end")
        finally:
            self.environments -= 1
        rows = [row for row in (r.strip() for r in body.split(_ROW)) if row]
        if base in _MATRICES:
            left, right = _MATRICES[base]
            cells = ["  ".join(c.strip() for c in row.split(_CELL)) for row in rows]
            return f"{left}{'; '.join(cells)}{right}"
        cells = [", ".join(c.strip() for c in row.split(_CELL)) if base == "cases" else row.replace(_CELL, "")
                 for row in rows]
        joined = "\n".join(cells) if self.display else "; ".join(cells)
        return "{ " + joined if base == "cases" else joined


def _finish(text: str) -> str:
    def mark(match: re.Match[str]) -> str:
        following = text[match.end() : match.end() + 1]
        return " " if following and (following.isalnum() or following in "√∂") else ""

    text = re.sub(_FUNCTION_MARK, mark, text)
    text = text.replace(_CELL, " ").replace(_ROW, "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


@lru_cache(maxsize=2048)
def latex_to_unicode(source: str, display: bool = False) -> str:
    """Readable Unicode for a LaTeX formula (without its delimiters); the source itself when it is too long
    or too deep to convert. Inline results (``display=False``) are one line; display results may have several.
    """
    if len(source) > MAX_MATH_CHARS:
        return source
    try:
        text = _Converter(source, display).run()
    except (_TooDeep, RecursionError):
        return source
    except Exception:  # a converter bug must never break rendering: show the source
        return source
    result = _finish(text)
    return result if display else result.replace("\n", " ")
