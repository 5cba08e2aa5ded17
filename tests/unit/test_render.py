"""Markdown -> safe HTML for Qt rich text: structure, safety, hygiene, limits and streaming."""

from __future__ import annotations

import html as html_lib
import random
import re
import time
from html.parser import HTMLParser

import pytest
from pygments.styles import get_style_by_name
from pygments.token import STANDARD_TYPES

from desktop_assistant.core.render import (
    BREAK_HINT,
    LIST_SPLIT_CHARS,
    MAX_UNBROKEN_RUN,
    Labels,
    StreamRenderer,
    clean_text,
    code_blocks,
    document_css,
    render_markdown,
    safe_href,
    split_stable,
    strip_break_hints,
)
from desktop_assistant.core.render_code import DARK, LIGHT, Palette
from desktop_assistant.core.render_text import Breaker

# --- helpers --------------------------------------------------------------------------------------------

ALLOWED_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li", "table", "thead", "tbody",
    "tr", "th", "td", "pre", "code", "i", "b", "s", "br", "hr", "span", "a",
}  # fmt: skip
ALLOWED_ATTRS = {"href", "style", "start", "align", "border", "cellspacing", "cellpadding"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def text_of(html: str) -> str:
    """The visible text of rendered HTML, without break hints."""
    return strip_break_hints("".join(parsed(html).text)).strip()


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def hrefs(html: str) -> list[str]:
    return [attrs["href"] or "" for tag, attrs in parsed(html).tags if tag == "a" and "href" in attrs]


def assert_safe(html: str) -> None:
    lowered = html.lower()
    for bad in ("<img", "<script", "<style", "<iframe", "<object", "<embed", "<link", "<meta"):
        assert bad not in lowered, bad
    for tag, attrs in parsed(html).tags:
        assert tag in ALLOWED_TAGS, tag
        assert set(attrs) <= ALLOWED_ATTRS, attrs
        assert "url(" not in (attrs.get("style") or "")
        assert not any(name.startswith("on") for name in attrs)
    for href in hrefs(html):
        assert re.match(r"(https?://[^/]|mailto:.|copy-(code|math):\d+$)", href, re.IGNORECASE), href
    for char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\x1b\x00":
        assert char not in html


def max_unbroken_run(text: str) -> int:
    return max((len(run) for run in re.split(f"[ \t\n{BREAK_HINT}]", text)), default=0)


# --- structure ------------------------------------------------------------------------------------------


def test_headings_and_paragraphs() -> None:
    html = render_markdown("# One\n\n## Two\n\n###### Six\n\nBody *em* **strong** ~~gone~~")
    assert "<h1>One</h1>" in html and "<h2>Two</h2>" in html and "<h6>Six</h6>" in html
    assert "<p>Body <i>em</i> <b>strong</b> <s>gone</s></p>" in html
    assert_safe(html)


def test_lists_nested_and_numbered() -> None:
    html = render_markdown("- a\n- b\n  - c\n\n3. three\n4. four\n")
    assert "<ul><li>a</li>" in html and "<li>b<ul><li>c</li>" in html.replace("\n", "")
    assert '<ol start="3"><li>three</li>' in html
    assert "<p>" not in html  # tight lists: no paragraphs inside items
    assert "<li><p>x</p>" in render_markdown("- x\n\n- y").replace("\n", "")  # loose list


def test_table_with_alignment() -> None:
    html = render_markdown("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n")
    assert '<table border="1"' in html
    assert '<th align="left">a</th><th align="center">b</th><th align="right">c</th>' in html
    assert '<td align="right">3</td>' in html
    assert_safe(html)


def test_inline_code_is_escaped() -> None:
    html = render_markdown("use `<b>x</b> & y` here")
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y</code>" in html
    assert text_of(html) == "use <b>x</b> & y here"


def test_fenced_code_with_language_is_highlighted_with_header() -> None:
    text = "```python\ndef f():\n    return '<x>'\n```\n"
    html = render_markdown(text)
    assert '<a href="copy-code:0"' in html and ">Copy</a>" in html
    assert "python&nbsp;" in html
    pre = html[html.index("<pre") :]
    assert '<span style="color:' in pre
    assert "&lt;x&gt;" in pre and "<x>" not in pre
    assert "return '<x>'" in text_of(html)
    assert code_blocks(text) == ["def f():\n    return '<x>'"]
    assert_safe(html)


def test_fenced_code_without_or_with_unknown_language_is_plain() -> None:
    for info in ("", "nosuchlanguage", "x<script>"):
        html = render_markdown(f"```{info}\n<script>alert(1)</script>\n```")
        pre = html[html.index("<pre") :]
        assert "<span" not in pre
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pre
        assert_safe(html)
    assert "code&nbsp;" in render_markdown("```\nx\n```")


def test_dark_theme_uses_other_colours() -> None:
    text = "```python\nimport os\n```\n\nand `x`"
    light, dark = render_markdown(text), render_markdown(text, dark=True)
    assert light != dark
    assert LIGHT.code_bg in light and DARK.code_bg in dark
    assert_safe(dark)


def test_labels_are_translatable() -> None:
    labels = Labels(copy="Kopieren", image="Bild", code="Quelltext")
    html = render_markdown("```\nx\n```\n\n![cat](http://x/c.png)", labels=labels)
    assert ">Kopieren</a>" in html and "[Bild: cat]" in html and "Quelltext&nbsp;" in html


def test_copy_indices_follow_code_blocks_order_including_nested_fences() -> None:
    text = "```a\n1\n```\n\n- item\n\n  ```b\n  2\n\n  still 2\n  ```\n\n> ```c\n> 3\n> ```\n\n    indented\n"
    html = render_markdown(text)
    assert hrefs(html) == ["copy-code:0", "copy-code:1", "copy-code:2"]
    assert code_blocks(text) == ["1", "2\n\nstill 2", "3"]  # indented code has no copy link


def test_document_css_is_small_and_has_no_remote_references() -> None:
    for dark in (False, True):
        css = document_css(dark)
        assert "a {" in css and "url(" not in css and "@import" not in css


def _luminance(colour: str) -> float:
    value = colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("pal", [LIGHT, DARK], ids=["light", "dark"])
def test_code_colours_have_good_contrast(pal: Palette) -> None:
    style = get_style_by_name(pal.pygments_style)
    for ttype in STANDARD_TYPES:
        colour = style.style_for_token(ttype)["color"]
        if colour and not any(part in str(ttype) for part in ("Error", "Generic", "Whitespace")):
            assert _contrast("#" + colour, pal.code_bg) >= 4.5, (ttype, colour)
    assert _contrast(pal.code_fg, pal.code_bg) >= 7
    assert _contrast(pal.header_fg, pal.header_bg) >= 4.5
    assert _contrast(pal.link, pal.header_bg) >= 4.5


# --- safety ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a?b=c&d=e",
        "http://example.com",
        "mailto:someone@example.com",
        "HTTPS://EXAMPLE.COM",
    ],
)
def test_links_with_allowed_schemes_are_kept(url: str) -> None:
    html = render_markdown(f"[site]({url})")
    assert len(hrefs(html)) == 1
    assert text_of(html) == "site"
    assert_safe(html)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "vbscript:msgbox",
        "file:///etc/passwd",
        "data:text/html;base64,PHNjcmlwdD4=",
        "qrc:/icons/app.png",
        "./relative/path.md",
        "/absolute/path",
        "ftp://example.com/x",
        "https:///no-host",
        "copy-code:0",
        "#anchor",
        "about:blank",
    ],
)
def test_links_with_other_targets_become_text(url: str) -> None:
    html = render_markdown(f"[click me]({url}) and <{url}>")
    assert hrefs(html) == []
    assert "click me" in text_of(html)
    assert_safe(html)


def test_safe_href() -> None:
    assert safe_href("https://example.com/x") == "https://example.com/x"
    assert safe_href("mailto:a@b.c") == "mailto:a@b.c"
    for bad in (
        None,
        3,
        "",
        "http://",
        "http:// x.com",
        "javascript:x",
        "https://a.com\\@b.com",
        "http://[::1",
    ):
        assert safe_href(bad) is None, bad


def test_link_titles_are_dropped() -> None:
    html = render_markdown('[a](https://example.com "<b>tip</b>")')
    assert "title" not in html and "tip" not in html


def test_images_are_never_loaded() -> None:
    samples = [
        "![a cat](http://evil.example/cat.png)",
        "![](https://evil.example/pixel.gif)",
        "![x](file:///etc/passwd)",
        "![x](data:image/png;base64,iVBORw0KGgo=)",
        "![x](qrc:/icon.png)",
        "![x](javascript:alert(1))",
        "![*styled* alt ![inner](http://a/b.png)](http://a/c.png)",
        "[![badge](http://img.example/b.svg)](https://ci.example)",
        '<img src="http://evil.example/x.png" onerror="alert(1)">',
    ]
    for sample in samples:
        html = render_markdown(sample)
        assert_safe(html)
    html = render_markdown(samples[0])
    assert text_of(html) == "[image: a cat]"
    assert hrefs(html) == ["http://evil.example/cat.png"]  # opens in the browser only on a click
    assert text_of(render_markdown(samples[1])) == "[image]"
    assert hrefs(render_markdown(samples[2])) == []
    assert hrefs(render_markdown(samples[7])) == ["https://ci.example"]  # no link inside a link
    assert "[image: styled alt inner]" in text_of(render_markdown(samples[6]))


def test_raw_html_is_shown_as_text() -> None:
    text = '<b>bold?</b>\n\n<div onclick="x()">hi</div>\n\n<!-- comment --> &lt;tag&gt; &amp;'
    html = render_markdown(text)
    assert "<b>bold?</b>" in text_of(html)
    assert '<div onclick="x()">hi</div>' in text_of(html)
    assert "<!-- comment --> <tag> &" in text_of(html)
    assert "<b>" not in html and "<div" not in html
    assert_safe(html)


HOSTILE = [
    "<script>alert(1)</script>",
    "<ScRiPt src=//evil></ScRiPt>",
    "<style>body{background:url(http://evil/x)}</style>",
    '<iframe src="http://evil"></iframe>',
    '<a href="javascript:alert(1)" onmouseover="alert(2)">x</a>',
    '<svg onload="alert(1)"><image href="http://evil/x"/></svg>',
    "[x](javascript:alert(1)) [y](<javascript:alert(1)>) [z]( javascript:alert(1) )",
    '[a](https://ok.example/" onmouseover="alert(1))',
    '[a](https://ok.example/"><script>alert(1)</script>)',
    "```<script>\ncode\n```",
    "``` onload=alert(1)\ncode\n```",
    "| <script> | b |\n|---|---|\n| <iframe> | ![x](http://e/x) |",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "&lt;img src=x onerror=alert(1)&gt;",
    "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\",
    "> <script>\n> - <style>\n>   1. <iframe>",
    "\u202eevil\u202c and &#x202E;entity&#x202C; and \u2066iso\u2069",
]


@pytest.mark.parametrize("sample", HOSTILE)
def test_hostile_input_never_yields_active_content(sample: str) -> None:
    for dark in (False, True):
        html = render_markdown(sample, dark=dark)
        assert_safe(html)
        assert "<script" not in html and "onmouseover" not in hrefs(html)


def test_random_input_is_always_safe() -> None:
    rng = random.Random(1234)
    alphabet = [*"<>&\"'`*_[]()!#|-~=:/\\ \n\tabcx123", "http://", "javascript:", "<img ", "on", "\x1b["]
    alphabet += ["\u202e", "\u200b", "\u200d", "```", "> ", "1. ", "- ", "![", "](", "<script>", "&#", "\r"]
    for _ in range(300):
        sample = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120)))
        assert_safe(render_markdown(sample))
        code_blocks(sample)


# --- text hygiene ---------------------------------------------------------------------------------------


def test_ansi_escapes_are_stripped() -> None:
    text = "\x1b[31mred\x1b[0m \x1b[1;4mbold\x1b[m \x1b]0;title\x07x \x9b2Jy \x1bcz \x1b(Bw"
    assert clean_text(text) == "red bold x y z w"
    html = render_markdown("```\n\x1b[32mok\x1b[0m\n```\n\n\x1b]8;;http://e\x1b\\link\x1b]8;;\x1b\\")
    assert "\x1b" not in html and "ok" in text_of(html) and "link" in text_of(html)
    assert code_blocks("```\n\x1b[32mok\x1b[0m\n```") == ["ok"]


def test_bidi_controls_are_removed_everywhere() -> None:
    text = "a\u202eb\u202dc\u2066d\u2067e\u2068f\u2069g\u202ah\u202bi\u202cj"
    assert clean_text(text) == "abcdefghij"
    html = render_markdown(f"{text} `{text}` &#x202E;x&#8238;\n\n```\n{text}\n```")
    assert_safe(html)
    assert code_blocks(f"```\n{text}\n```") == ["abcdefghij"]


def test_invisible_characters() -> None:
    assert clean_text("pass\u200bword \ufeffx\u2060y\u00adz") == "password xyz"
    assert clean_text("pay\u200dpal") == "paypal"  # joiner between ASCII letters: removed
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_text(family) == family  # emoji ZWJ sequence kept
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    assert clean_text(persian) == persian  # ZWNJ inside a Persian word kept
    assert (
        clean_text("hi\U000e0069\U000e0067\U000e006e\U000e006f\U000e0072\U000e0065") == "hi"
    )  # ASCII smuggling
    flag = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
    assert clean_text(flag) == flag
    assert clean_text("\u2764\ufe0f") == "\u2764\ufe0f"
    assert (
        clean_text("a\ufe00\ufe01\ufe02\U000e0100\U000e0101") == "a\ufe00"
    )  # runs of selectors can hide bytes
    html = render_markdown("zero\u200bwidth &#x200B;x")
    assert BREAK_HINT not in html  # the input's own ZWSPs are gone; short text gets no hints


def test_controls_removed_and_lines_preserved() -> None:
    assert clean_text("a\x00b\x07c\x7fd\x85e\r\nf\rg\u2028h") == "abcde\nfg h"
    rng = random.Random(7)
    alphabet = [
        "a",
        "\n",
        "\r",
        "\r\n",
        "\x1b[",
        "\x1b]",
        "\x07",
        "\x1b",
        "m",
        "\u200d",
        "\u200b",
        "é",
        "\u2029",
    ]
    for _ in range(500):
        sample = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        cleaned = clean_text(sample)
        assert cleaned.count("\n") == sample.count("\n")
        assert clean_text(cleaned) == cleaned
        lines = sample.split("\n")  # each line is cleaned on its own
        assert "\n".join(clean_text(line) for line in lines) == cleaned


def test_breaker_caps_runs_across_pieces() -> None:
    breaker = Breaker(limit=10)
    out = "".join(breaker.feed(piece) for piece in ["abc", "defgh", "ijklmnopqrstu", " vw", "x" * 25])
    assert max_unbroken_run(out) <= 10
    assert out.replace(BREAK_HINT, "") == "abcdefghijklmnopqrstu vw" + "x" * 25


# --- limits ---------------------------------------------------------------------------------------------


def _timed(text: str) -> tuple[str, float]:
    start = time.perf_counter()
    html = render_markdown(text)
    return html, time.perf_counter() - start


@pytest.mark.parametrize(
    "line",
    [
        "a" * 1_000_000,
        "word " * 200_000,
        "*a_b[c](d)`e " * 80_000,
        "[" * 1_000_000,
        "é" * 1_000_000,
    ],
    ids=["letters", "words", "markup", "brackets", "unicode"],
)
def test_one_megabyte_line_is_fast_and_breakable(line: str) -> None:
    html, seconds = _timed(line)
    assert seconds < 1.0
    text = text_of(html)
    assert squash(text) == squash(line)
    assert max_unbroken_run("".join(parsed(html).text)) <= MAX_UNBROKEN_RUN


@pytest.mark.parametrize(
    "code", ["a.b+" * 250_000, "x = '" + "a" * 1_000_000 + "'"], ids=["tokens", "string"]
)
def test_one_megabyte_code_line_is_fast_and_breakable(code: str) -> None:
    html, seconds = _timed(f"```python\n{code}\n```\n")
    assert seconds < 1.0
    assert max_unbroken_run("".join(parsed(html).text)) <= MAX_UNBROKEN_RUN
    assert code_blocks(f"```python\n{code}\n```\n") == [code]


@pytest.mark.parametrize(
    "text",
    [
        ">" * 10_000 + " deep",
        "> " * 10_000 + "deep",
        "- " * 10_000 + "deep",
        "1. " * 10_000 + "deep",
        "".join(">" * i + " line\n" for i in range(1, 400)) + "deep",
        "".join("  " * i + "- item\n" for i in range(1000)) + "deep",
        "*" * 10_000 + "deep" + "*" * 10_000,
        "[" * 10_000 + "deep" + "](http://x)" * 10_000,
        "> - 1. " * 3_000 + "deep\n\n```\ncode\n```",
    ],
    ids=[
        "quotes",
        "spaced-quotes",
        "bullets",
        "numbers",
        "quote-lines",
        "indented-list",
        "emphasis",
        "links",
        "mix",
    ],
)
def test_deep_nesting_neither_crashes_nor_loses_text(text: str) -> None:
    html, seconds = _timed(text)
    assert seconds < 1.5
    assert "deep" in text_of(html)
    assert_safe(html)
    assert len(hrefs(html)) == len(code_blocks(text))  # no stray links; copy links match the code list


def test_twenty_kilobyte_reply_with_five_code_blocks_renders_quickly() -> None:
    html, seconds = _timed(SAMPLE_20K)
    assert len(SAMPLE_20K) >= 20_000 and len(code_blocks(SAMPLE_20K)) == 5
    assert seconds < 0.5
    assert hrefs(html).count("copy-code:4") == 1


# --- streaming ------------------------------------------------------------------------------------------

_PARA = "Some **bold** text with `code`, a [link](https://example.com) and more words to fill the line."
_CODE = (
    'def handler(event):\n    """Doc."""\n    if event:\n        return {"ok": True}  # fine\n'
    "    return None\n"
)
SAMPLE_20K = ""
while len(SAMPLE_20K) < 20_000 or SAMPLE_20K.count("```") < 10:
    n = SAMPLE_20K.count("```") // 2
    SAMPLE_20K += f"## Part {n}\n\n" + (_PARA + " ") * 12 + "\n\n- first point\n- second point\n\n"
    if n < 5:
        SAMPLE_20K += "```python\n" + _CODE * 6 + "```\n\n"
    SAMPLE_20K += "| a | b |\n|---|---|\n| 1 | 2 |\n\n> a quote\n\n"

STREAM_SAMPLES = {
    "prose": "# Title\n\nFirst paragraph\nwith a soft break.\n\nSecond *one*.\n\n---\n\nLast line",
    "lists": "1. one\n2. two\n\n3. three\n\n- a\n\n  continued\n- b\n\nafter\n",
    "fences": "Intro\n\n```python\nx = 1\n\n\ny = 2\n```\n\nMiddle\n\n~~~\nplain\n\n~~~\n\n```js\nopen(",
    "nested": "- item\n\n  ```sh\n  echo 1\n\n  echo 2\n  ```\n\n> quote\n>\n> ```\n> q\n> ```\n\ntext",
    "table": "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n\nAfter table\n\n    indented\n\n    code\n\nend",
    "setext": "Heading\n=======\n\npara\n---\n\nfoo\nbar\n***\n",
    "interrupts": "para\na | b\n|---|---|\n| 1 | 2 |\n\n> quote\nlazy\n\n# h\nright after\n## h2\n"
    "*em\nacross* x\n",
    "hostile": "\x1b[31mred\x1b[0m\n\n<script>x</script>\n\n![i](http://e/i.png)\n\n\u202ebidi\n\n"
    "```\n\x1b[1mb\n```",
}


@pytest.mark.parametrize("name", sorted(STREAM_SAMPLES))
def test_split_stable_at_every_point_renders_the_same_content(name: str) -> None:
    text = STREAM_SAMPLES[name]
    final = render_markdown(text)
    for cut in range(len(text) + 1):
        partial = text[:cut]
        stable, tail = split_stable(partial)
        assert stable + tail == partial
        assert stable == "" or stable.endswith("\n")
        assert final.startswith(render_markdown(stable)), cut  # what is stable never changes later
        whole = text_of(render_markdown(partial))
        assert squash(text_of(render_markdown(stable)) + text_of(render_markdown(tail))) == squash(whole), cut


_SNIPPETS = [
    "para one", "para *two*\nwraps", "# Head", "Setext\n---", "- a\n- b", "1. x\n2. y", "3. z", "  indented",
    "    code", "```py\nx = 1\n\ny\n```", "```\nopen", "~~~\nt\n~~~", "> q\n> - l", "| a |\n|---|\n| 1 |",
    "a | b\n-|-", "---", "***", "\t- tab", "-", "1.", "[x](http://e)", "![i](http://e/i)", "<b>html</b>",
]  # fmt: skip


def test_split_stable_on_random_documents() -> None:
    rng = random.Random(99)
    for _ in range(40):
        parts = [rng.choice(_SNIPPETS) for _ in range(rng.randint(2, 8))]
        text = "".join(part + rng.choice(["\n", "\n\n", "\n\n\n"]) for part in parts)
        final = render_markdown(text)
        for cut in range(0, len(text) + 1, 2):
            stable, tail = split_stable(text[:cut])
            assert final.startswith(render_markdown(stable)), (text, cut)
            whole = squash(text_of(render_markdown(text[:cut])))
            assert squash(text_of(render_markdown(stable)) + text_of(render_markdown(tail))) == whole


def test_open_fence_stays_in_tail() -> None:
    stable, tail = split_stable("para\n\n```python\ncode\n\nmore code\n\n")
    assert stable == "para\n\n" and tail.startswith("```python")
    stable, tail = split_stable("- item\n\n  ```\n  a\n\n  b\n")  # a fence nested in a list
    assert stable == ""


def _copy_indices(html: str) -> list[int]:
    return [int(h.split(":")[1]) for h in hrefs(html) if h.startswith("copy-code:")]


def _stream(text: str, chunk: int) -> tuple[StreamRenderer, list[tuple[str, str]]]:
    renderer = StreamRenderer()
    frames = [renderer.feed(text[:end]) for end in range(chunk, len(text) + chunk, chunk)]
    return renderer, frames


@pytest.mark.parametrize("name", sorted(STREAM_SAMPLES))
@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_stream_renderer_matches_whole_render(name: str, chunk: int) -> None:
    text = STREAM_SAMPLES[name]
    final = render_markdown(text)
    renderer = StreamRenderer()
    appended = ""
    for end in range(chunk, len(text) + chunk, chunk):
        partial = text[:end]
        new, tail = renderer.feed(partial)
        appended += new
        assert appended == renderer.stable_html
        assert final.startswith(appended)  # appended blocks are final
        shown = appended + tail
        assert squash(text_of(shown)) == squash(text_of(render_markdown(partial)))
        assert _copy_indices(shown) == list(range(len(code_blocks(partial))))
    assert renderer.finish(text) == render_markdown(text)


def test_stream_renderer_20k_reply() -> None:
    renderer, frames = _stream(SAMPLE_20K, 50)
    appended = "".join(new for new, _ in frames)
    shown = appended + frames[-1][1]
    assert _copy_indices(shown) == [0, 1, 2, 3, 4]
    assert squash(text_of(shown)) == squash(text_of(render_markdown(SAMPLE_20K)))
    assert max(len(tail) for _, tail in frames) < 8_000  # the tail stays one block, not the reply
    assert renderer.finish(SAMPLE_20K) == render_markdown(SAMPLE_20K)


def test_open_fence_is_highlighted_once_closed() -> None:
    renderer = StreamRenderer()
    _, tail = renderer.feed("Intro\n\n```python\nimport os\n")
    assert "<span" not in tail[tail.index("<pre") :]
    _, tail = renderer.feed("Intro\n\n```python\nimport os\n```\n")
    assert "<span" in tail[tail.index("<pre") :]


def test_long_ordered_list_is_split_and_keeps_numbering() -> None:
    items = "".join(f"1. item number {i} " + "word " * 40 + "\n" for i in range(1, 41))
    text = "Intro\n\n" + items + "\nAfter"
    assert len(items) > 2 * LIST_SPLIT_CHARS
    renderer = StreamRenderer()
    appended = ""
    tails = []
    for end in range(0, len(text) + 40, 40):
        new, tail = renderer.feed(text[:end])
        appended += new
        tails.append(tail)
    assert max(len(tail) for tail in tails) < LIST_SPLIT_CHARS + 1_000
    shown = appended + tails[-1]
    starts = [int(attrs.get("start") or 1) for tag, attrs in parsed(shown).tags if tag == "ol"]
    counts = [part.count("<li>") for part in shown.split("<ol")[1:]]
    assert len(starts) > 1 and sum(counts) == 40
    assert starts == [1 + sum(counts[:i]) for i in range(len(counts))]  # continuous numbering
    assert squash(text_of(shown)) == squash(text_of(render_markdown(text)))
    final = renderer.finish(text)
    assert squash(text_of(final)) == squash(text_of(render_markdown(text)))


def test_stream_renderer_rejects_rewritten_text_and_resets() -> None:
    renderer = StreamRenderer()
    renderer.feed("one\n\ntwo\n\nthree")
    with pytest.raises(ValueError):
        renderer.feed("something else entirely")
    renderer.reset()
    new, tail = renderer.feed("something else")
    assert new == "" and "something else" in text_of(tail)


def test_partial_escape_sequence_at_a_chunk_end() -> None:
    renderer = StreamRenderer()
    renderer.feed("para\n\n\x1b[3")
    renderer.feed("para\n\n\x1b[31mred\x1b[0m\n\nnext\n")
    assert squash(text_of(renderer.stable_html)) == "parared"
    assert "[31m" not in text_of(renderer.html) and "red" in text_of(renderer.html)
    assert "\x1b" not in renderer.html
    assert html_lib.unescape(renderer.html).count("next") == 1


def test_finish_parts_completes_what_was_fed() -> None:
    text = "Intro.\n\n```python\nx = 1\n```\n\nMiddle para.\n\n```python\ndef f():\n    return 2\n"
    final = text + "```\n"
    renderer = StreamRenderer()
    stable: list[str] = []
    for end in range(0, len(text) + 1, 7):
        new, _tail = renderer.feed(text[:end])
        stable.append(new)
    assert renderer.can_continue(final) and not renderer.can_continue("Other")
    new, tail = renderer.finish_parts(final)
    assert "".join(stable) + new + tail == StreamRenderer().finish(final)
    assert "color:#" in tail  # the fence that closed at the end is highlighted
    assert renderer.stable_html == ""  # reset
