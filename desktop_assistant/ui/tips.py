"""Tooltips holding untrusted text (a file name, a title a model wrote, a model name a server sent).

Qt shows a tooltip as rich text when it merely looks like HTML, and a tooltip cannot be set to plain text: the
text is escaped and wrapped in a paragraph, so it is shown exactly as it is, never as markup.
"""

from __future__ import annotations

import html


def plain_tip(text: str) -> str:
    """``text`` as a tooltip shows it literally ("" stays "": no tooltip)."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>" if text else ""
