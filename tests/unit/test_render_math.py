"""LaTeX math in replies: delimiters, money, code, escaping, hostile input, streaming, copy links, speed."""

from __future__ import annotations

import random
import time

import pytest

from desktop_assistant.core import render_math
from desktop_assistant.core.render import (
    StreamRenderer,
    code_blocks,
    latex_to_unicode,
    math_sources,
    render_markdown,
)
from tests.unit.test_render import assert_safe, hrefs, max_unbroken_run, squash, text_of

MATH_STYLE = "font-style:italic"


def math_hrefs(html: str) -> list[int]:
    return [int(h.split(":")[1]) for h in hrefs(html) if h.startswith("copy-math:")]


# --- delimiters ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Euler: $e^{i\\pi} + 1 = 0$.", "Euler: e^(iπ) + 1 = 0."),
        ("Area \\(\\pi r^2\\) here", "Area π r² here"),
        ("Inline display $$x_i$$ too", "Inline display xᵢ too"),
        ("Bracket \\[a \\leq b\\] inline", "Bracket a ≤ b inline"),
    ],
)
def test_inline_delimiters(text: str, shown: str) -> None:
    html = render_markdown(text)
    assert text_of(html) == shown
    assert MATH_STYLE in html and "serif" in html
    assert math_hrefs(html) == [0]
    assert_safe(html)


@pytest.mark.parametrize(
    "text",
    [
        "Roots:\n\n$$\nx = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}\n$$\n\nDone.",
        "Roots:\n$$x = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}$$\nDone.",  # interrupts the paragraph
        "Roots:\n\\[\nx = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}\n\\]\nDone.",
        "Roots:\n\n\\[ x = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a} \\]\n\nDone.",
    ],
)
def test_display_delimiters_make_a_centred_block(text: str) -> None:
    html = render_markdown(text)
    assert '<p align="center"' in html
    assert "x = (−b ± √(b²−4ac))/2a" in text_of(html)
    assert text_of(html).startswith("Roots:") and text_of(html).endswith("Done.")
    assert math_hrefs(html) == [0]
    assert math_sources(text) == ["x = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}"]
    assert_safe(html)


def test_display_rows_are_lines() -> None:
    html = render_markdown("$$\n\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}\n$$")
    assert "a = b<br>c = d" in html


@pytest.mark.parametrize(
    ("latex", "readable"),
    [
        ("x^2", "x²"),
        ("x_i", "xᵢ"),
        ("x^{n+1}", "xⁿ⁺¹"),
        ("e^{i\\pi}", "e^(iπ)"),  # no superscript π: spelled out
        ("\\sqrt{x}", "√x"),
        ("\\sqrt{x+1}", "√(x+1)"),
        ("\\sqrt[3]{8}", "∛8"),
        ("\\frac{a}{b}", "a/b"),
        ("\\frac{a+b}{c+d}", "(a+b)/(c+d)"),
        ("\\frac12", "½"),
        ("a \\cdot b \\times c", "a · b × c"),
        ("a \\leq b \\geq c \\neq d", "a ≤ b ≥ c ≠ d"),
        ("n \\to \\infty", "n → ∞"),
        ("A \\rightarrow B \\Rightarrow C", "A → B ⇒ C"),
        ("\\alpha + \\beta = \\Gamma", "α + β = Γ"),
        ("\\sum_{i=1}^{n} i", "∑ᵢ₌₁ⁿ i"),
        ("\\int_0^1 f(x)\\,dx", "∫₀¹ f(x)\u2009dx"),
        ("\\mathbb{R}^n", "ℝⁿ"),
        ("\\sin^2\\theta + \\cos^2\\theta", "sin² θ + cos² θ"),
        ("\\lim_{x \\to 0} \\frac{\\sin x}{x}", "lim_(x → 0) (sin x)/x"),
        ("\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}", "(a b; c d)"),
        ("\\left( \\frac{1}{2} \\right)", "( ½ )"),
        ("\\text{cost} = 5", "cost = 5"),
        ("\\hat{x}", "x\u0302"),
        ("A^T", "Aᵀ"),
        ("\\not\\in", "∉"),
        ("\\unknownmacro{x}", "unknownmacrox"),
    ],
)
def test_latex_to_unicode(latex: str, readable: str) -> None:
    assert latex_to_unicode(latex) == readable


def test_source_stays_copyable() -> None:
    text = "First $a^2$, then \\(b_1\\).\n\n$$\\frac{1}{x}$$\n\n- item \\[c^2\\]\n"
    assert math_sources(text) == ["a^2", "b_1", "\\frac{1}{x}", "c^2"]
    html = render_markdown(text)
    assert math_hrefs(html) == [0, 1, 2, 3]
    assert "Copy LaTeX" in text_of(html)
    # the readable form is the text that a selection copies; the LaTeX is behind the links
    assert "a²" in text_of(html) and "a^2" not in text_of(html)


def test_math_and_code_indices_are_independent() -> None:
    text = "$x$\n\n```\n$y$\n```\n\n$$z$$\n"
    html = render_markdown(text)
    assert math_hrefs(html) == [0, 1]
    assert math_sources(text) == ["x", "z"]
    assert code_blocks(text) == ["$y$"]


def test_math_inside_a_link_is_not_a_second_link() -> None:
    html = render_markdown("[see $x$](https://example.com)")
    assert hrefs(html) == ["https://example.com"]
    assert math_sources("[see $x$](https://example.com)") == ["x"]


# --- what is not math ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "It costs $5 and $10.",
        "Between $5-$10 a month",
        "Prices: $1,000 or $2,000",
        "$5.00 to $10.00",
        "US$5 and US$7",
        "Pay $ 5 and 6 $ later",
        "Only one $ sign",
        "Tip: $5/month vs. $10/month",
        "$x$5 is not math (digit after the closing dollar)",
    ],
)
def test_money_is_not_math(text: str) -> None:
    html = render_markdown(text)
    assert text_of(html) == text
    assert math_sources(text) == [] and math_hrefs(html) == []


@pytest.mark.parametrize(
    "text",
    [
        "Use `$x$` in code",
        "```\n$x$ and $$y$$\n```",
        "```tex\n\\[ x \\]\n$$\nz\n$$\n```",
        "    $indented$ code",
        "$a `b$` c",  # the closing $ is inside a code span
    ],
)
def test_code_is_never_math(text: str) -> None:
    assert math_sources(text) == []
    assert "$" in text_of(render_markdown(text)) or "\\[" in text_of(render_markdown(text))


def test_escaped_brackets_in_prose_stay_brackets() -> None:
    assert text_of(render_markdown("See \\[1\\] and \\[2\\].")) == "See [1] and [2]."
    assert math_sources("See \\[1\\] and \\[x^2\\].") == ["x^2"]


def test_escaped_dollar_stays_a_dollar() -> None:
    assert text_of(render_markdown("\\$x\\$ and \\$y$")) == "$x$ and $y$"
    assert math_sources("\\$x\\$") == []
    assert math_sources("$a \\$ b$") == ["a \\$ b"]  # an escaped dollar does not close math
    assert latex_to_unicode("a \\$ b") == "a $ b"


def test_unclosed_display_math_is_plain_text() -> None:
    html = render_markdown("Intro\n\n$$\nx^2\n\nmore")
    assert math_sources("Intro\n\n$$\nx^2\n\nmore") == []
    assert "$$" in text_of(html) and "x^2" in text_of(html)


# --- hostile input ---------------------------------------------------------------------------------------

HOSTILE_MATH = [
    "$<script>alert(1)</script>$",
    "$$<img src=x onerror=alert(1)>$$",
    "\\(<a href='javascript:alert(1)'>x</a>\\)",
    "$$\n</p><script>\n$$",
    "$\\text{<b>bold</b>}$ and $\\mathrm{\"quoted\" & 'x'}$",
    "$\x1b[31mred\u202e$",
    "$" * 10_000,
    "$$" * 5_000,
    "\\(" * 5_000,
    "\\[" * 5_000 + "\n",
    "$$\n" * 3_000,
    "$a" * 5_000 + "$",
    "{" * 5_000,
    "$" + "{" * 5_000 + "$",
    "$" + "\\frac" * 3_000 + "$",
    "$" + "x^" * 3_000 + "$",
    "$" + "\\sqrt" * 3_000 + "$",
    "$" + "\\begin{pmatrix}" * 500 + "$",
    "$" + "a" * 20_000 + "$",
]


@pytest.mark.parametrize("sample", HOSTILE_MATH, ids=range(len(HOSTILE_MATH)))
def test_hostile_math_is_safe_and_fast(sample: str) -> None:
    start = time.perf_counter()
    html = render_markdown(sample)
    sources = math_sources(sample)
    elapsed = time.perf_counter() - start
    assert_safe(html)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert math_hrefs(html) == list(range(len(sources)))
    assert max_unbroken_run(html) <= 300
    assert elapsed < 1.0, elapsed


def test_script_in_math_is_text() -> None:
    html = render_markdown("$<script>$")
    assert "&lt;script&gt;" in html and text_of(html) == "<script>"


def test_random_math_input_is_always_safe() -> None:
    rng = random.Random(99)
    alphabet = [*"$\\{}^_&<>\"' \nabx12()[]`", "\\frac", "\\sqrt", "\\begin{cases}", "\\end{cases}", "\\\\",
                "$$", "\\(", "\\)", "\\[", "\\]", "<script>", "\\text{", "\\left(", "\\right."]
    for _ in range(400):
        sample = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80)))
        html = render_markdown(sample)
        assert_safe(html)
        assert math_hrefs(html) == list(range(len(math_sources(sample))))


# --- streaming --------------------------------------------------------------------------------------------

MATH_STREAM = (
    "The roots are\n$$\nx = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}\n$$\nwhere $a \\neq 0$ and it costs $5 and $10.\n\n"
    "- item with \\(x_1\\)\n- item with \\[y^2\\]\n\n"
    "```python\nprice = '$5'  # $not math$\n```\n\n"
    "\\[\n\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}\n\\]\n\n"
    "Last: $$e^{i\\pi}$$ inline and an unclosed\n\n$$\nnever closed\n\nThe end $z$."
)


@pytest.mark.parametrize("chunk", [1, 5, 33])
def test_streaming_matches_whole_render(chunk: int) -> None:
    final = render_markdown(MATH_STREAM)
    renderer = StreamRenderer()
    appended = ""
    for end in range(chunk, len(MATH_STREAM) + chunk, chunk):
        partial = MATH_STREAM[:end]
        new, tail = renderer.feed(partial)
        appended += new
        assert final.startswith(appended)  # what was appended is final
        shown = appended + tail
        assert squash(text_of(shown)) == squash(text_of(render_markdown(partial)))
        assert math_hrefs(shown) == list(range(len(math_sources(partial))))
    assert renderer.finish(MATH_STREAM) == final


def test_open_display_math_is_plain_until_it_closes() -> None:
    renderer = StreamRenderer()
    _, tail = renderer.feed("Intro\n\n$$\n\\alpha^2\n")
    assert "$$" in text_of(tail) and "\\alpha^2" in text_of(tail) and 'align="center"' not in tail
    _, tail = renderer.feed("Intro\n\n$$\n\\alpha^2\n$$\n")
    assert "α²" in text_of(tail) and 'align="center"' in tail


# --- speed -----------------------------------------------------------------------------------------------


def _reply_with_formulas(count: int, size: int) -> str:
    formulas = ["e^{i\\pi}+1=0", "\\frac{a+b}{c}", "x = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}",
                "\\sum_{i=1}^{n} i^2 = \\frac{n(n+1)(2n+1)}{6}", "\\int_0^\\infty e^{-x^2}\\,dx",
                "\\alpha \\leq \\beta", "\\mathbb{R}^n", "\\lim_{x \\to 0} \\frac{\\sin x}{x} = 1"]
    rng = random.Random(7)
    words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "prices", "go", "from",
             "$5", "to", "$10", "today"]
    parts: list[str] = []
    n = 0
    while sum(map(len, parts)) < size:
        para = " ".join(rng.choice(words) for _ in range(60))
        if n < count:
            formula = formulas[n % len(formulas)] + "{}" * (n // len(formulas))  # all distinct: no cache hits
            para += f" where ${formula}$ holds." if n % 3 else f"\n\n$$\n{formula}\n$$\n"
            n += 1
        parts.append(para + "\n\n")
    return "".join(parts)


def test_math_adds_little_rendering_time() -> None:
    text = _reply_with_formulas(50, 20_000)
    assert len(math_sources(text)) == 50
    plain = text.replace("$", "")

    def best(sample: str) -> float:
        times = []
        for _ in range(5):
            render_math.latex_to_unicode.cache_clear()
            start = time.perf_counter()
            render_markdown(sample)
            times.append(time.perf_counter() - start)
        return min(times)

    extra = best(text) - best(plain)
    assert extra < 0.030, f"math added {extra * 1000:.1f} ms"
