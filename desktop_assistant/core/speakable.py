"""A reply as it should be read aloud: its words, without the markdown that would be spoken as symbols.

Speech is paid per character and a voice reads what it is given: fences, asterisks, table bars and whole URLs
would be read out (and paid for). Code blocks and display formulas are not read: a short sentence says one is
there. Pure and Qt-free.
"""

from __future__ import annotations

import functools
import re

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*\n.*?(?:^[ \t]*\1[ \t]*$|\Z)",
                    re.DOTALL | re.MULTILINE)
# the patterns below are bounded (a span of at most a few hundred characters, on one line where markdown keeps
# it): an unclosed marker on a long line costs a short look ahead, not a scan of the rest of the reply
_INLINE_CODE = re.compile(r"(`+)([^`\n]{1,500})\1")
_DISPLAY_MATH = re.compile(r"\$\$[^$]{1,5000}?\$\$|\\\[.{1,5000}?\\\]", re.DOTALL)
_INLINE_MATH = re.compile(r"(?<![\\$\w])\$(?=\S)([^$\n]{1,500}?)(?<=\S)\$(?![\w$])|\\\(([^\n]{1,500}?)\\\)")
_IMAGE = re.compile(r"!\[([^\]\n]{0,500})\]\([^()\n]{0,2000}\)")
_LINK = re.compile(r"\[([^\]\n]{1,500})\]\((?:[^()\n]|\([^()\n]*\)){0,2000}\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_URL = re.compile(r"\bhttps?://[^\s<>()\[\]]+[^\s<>()\[\].,;:!?'\"]")
_HTML_TAG = re.compile(r"</?(?:a|abbr|b|big|blockquote|br|code|dd|del|details|div|dl|dt|em|font|h[1-6]|hr|i|img|ins|"
                       r"kbd|li|mark|ol|p|pre|q|s|samp|small|span|strike|strong|sub|summary|sup|table|tbody|td|th|"
                       r"thead|tr|tt|u|ul|var)(?:\s[^<>\n]*)?/?>", re.IGNORECASE)
_STRONG = re.compile(r"(?<![\w*])\*\*(?=\S)([^*\n]{1,500}?)(?<=\S)\*\*(?![\w*])|"
                     r"(?<![\w_])__(?=\S)([^_\n]{1,500}?)(?<=\S)__(?![\w_])")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]{1,500}?)(?<=\S)\*(?![\w*])|"
                       r"(?<![\w_])_(?=\S)([^_\n]{1,500}?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"~~([^~\n]{1,500})~~")
_CODE_MARK = "\x00"
_CODE_SLOT = re.compile("\x00(\\d+)\x00")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_RULE = re.compile(r"^[ \t]{0,3}([-*_])([ \t]*\1){2,}[ \t]*$", re.MULTILINE)
_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE)
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+(\[[ xX]\][ \t]+)?", re.MULTILINE)
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$", re.MULTILINE)
_TABLE_ROW = re.compile(r"^[ \t]*\|(.*)\|[ \t]*$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")
_ENDS_SENTENCE = (".", "!", "?", ":", ";", "…")


@functools.lru_cache(maxsize=32)
def speakable(text: str) -> str:
    """``text`` (a reply in markdown) as words to read aloud (the last few answers are remembered: the button's
    tip asks for the price of the same reply at each hover)."""
    text = text.replace(_CODE_MARK, "").replace("\r\n", "\n").replace("\r", "\n")
    text = _FENCE.sub(_code_block, text)
    spans: list[str] = []  # inline code, kept as written: nothing in it is markdown

    def keep(match: re.Match[str]) -> str:
        spans.append(match.group(2).strip())
        return f"{_CODE_MARK}{len(spans) - 1}{_CODE_MARK}"

    text = _INLINE_CODE.sub(keep, text)
    text = _DISPLAY_MATH.sub("\nHere the reply shows a formula.\n", text)
    text = _INLINE_MATH.sub(lambda m: m.group(1) or m.group(2) or "", text)
    text = _IMAGE.sub(lambda m: m.group(1), text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _AUTOLINK.sub(lambda m: m.group(1), text)
    text = _URL.sub(_link_to, text)
    text = _HTML_TAG.sub("", text)
    text = _STRONG.sub(lambda m: m.group(1) or m.group(2), text)
    text = _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)
    text = _STRIKE.sub(lambda m: m.group(1), text)
    text = _HEADING.sub(lambda m: _sentence(m.group(1)), text)
    text = _RULE.sub("", text)
    text = _QUOTE.sub("", text)
    text = _BULLET.sub(r"\1", text)
    text = _TABLE_RULE.sub("", text)
    text = _TABLE_ROW.sub(lambda m: _sentence(", ".join(c.strip() for c in m.group(1).split("|") if c.strip())),
                          text)
    text = _CODE_SLOT.sub(lambda m: spans[int(m.group(1))], text)
    text = "\n".join(line.strip() for line in text.splitlines())
    return _BLANK_RUNS.sub("\n\n", text).strip()


_LANGUAGES = {"py": "Python", "python": "Python", "python3": "Python", "js": "JavaScript", "javascript": "JavaScript",
              "ts": "TypeScript", "typescript": "TypeScript", "sh": "shell", "bash": "shell", "zsh": "shell",
              "shell": "shell", "console": "shell", "ps1": "PowerShell", "powershell": "PowerShell", "c": "C",
              "cpp": "C++", "c++": "C++", "cs": "C#", "csharp": "C#", "java": "Java", "go": "Go", "rs": "Rust",
              "rust": "Rust", "rb": "Ruby", "ruby": "Ruby", "php": "PHP", "sql": "SQL", "html": "HTML", "css": "CSS",
              "json": "JSON", "yaml": "YAML", "yml": "YAML", "toml": "TOML", "xml": "XML", "kotlin": "Kotlin",
              "swift": "Swift", "r": "R", "md": "Markdown", "markdown": "Markdown", "diff": "diff"}
"""Names of the languages code blocks are most often marked with, as a voice should say them."""


def _code_block(match: re.Match[str]) -> str:
    mark = match.group(2).strip().lower()
    language = _LANGUAGES.get(mark, "" if mark in ("", "text", "plaintext", "txt") else mark)
    return f"\nHere the reply shows some {language} code.\n" if language else "\nHere the reply shows some code.\n"


def _link_to(match: re.Match[str]) -> str:
    host = re.sub(r"^https?://(www\.)?", "", match.group(0)).split("/", 1)[0].split("?", 1)[0]
    return f"a link to {host}"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith(_ENDS_SENTENCE) else f"{text}."
