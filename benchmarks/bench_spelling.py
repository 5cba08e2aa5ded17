"""Spelling while typing: keystrokes in a 100,000-character draft with spell checking on, against the same
composer with it off, for a draft of ordinary lines and for one single 100,000-character line (which Qt itself
is slow to lay out; the highlighter checks only a window of it, so spelling should add little).

Each keystroke is timed from the key event to the end of the repaint it causes (the events it posts
processed). Runs alternate between the two composers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import Figure, banner, median, quiet_environment, report

KEYS = "the quick brown fox jumsp over teh lazy dog "


def _draft(size: int, single_line: bool) -> str:
    line = "Here is a sentense with a few mistaeks and some ordinary words in it, typed quickly.\n"
    text = (line * (size // len(line) + 1))[:size]
    return text.replace("\n", " ") if single_line else text


def keystrokes(edit: object, draft: str, rounds: int) -> list[float]:
    """Milliseconds per keystroke typed into the middle of ``draft``."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    edit.setPlainText(draft)  # type: ignore[attr-defined]
    QApplication.processEvents()
    cursor = edit.textCursor()  # type: ignore[attr-defined]
    cursor.setPosition(len(draft) // 2)
    edit.setTextCursor(cursor)  # type: ignore[attr-defined]
    times = []
    for char in KEYS * rounds:
        key = Qt.Key.Key_Space if char == " " else Qt.Key(ord(char.upper()))
        event = QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier, char)
        start = time.perf_counter()
        QApplication.sendEvent(edit, event)
        QApplication.processEvents()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one round of keys")
    args = parser.parse_args()
    quiet_environment()
    from PySide6.QtWidgets import QApplication

    from desktop_assistant.core.spelling import SpellDictionary, load_dictionary
    from desktop_assistant.ui.chat.composer import ComposerEdit

    app = QApplication.instance() or QApplication([])
    rounds = 1 if args.quick else 3
    banner("Spelling while typing in a 100,000-character draft")
    dictionary = load_dictionary("en")
    assert isinstance(dictionary, SpellDictionary), dictionary
    with tempfile.TemporaryDirectory() as tmp:
        checked, plain = ComposerEdit(), ComposerEdit()
        for edit in (checked, plain):
            edit.resize(600, 300)
            edit.show()
        assert checked.enable_spelling(Path(tmp) / "words.txt", dictionary) is None
        for single_line, name in ((False, "lines"), (True, "one 100,000-character line")):
            draft = _draft(100_000, single_line)
            with_spelling: list[float] = []
            without: list[float] = []
            for i in range(2):
                pair = [(with_spelling, checked), (without, plain)]
                for into, edit in pair if i % 2 == 0 else list(reversed(pair)):
                    into.extend(keystrokes(edit, draft, rounds))
            report(Figure("spelling", f"{name}: keystroke with spelling (median)", median(with_spelling), "ms",
                          median(without), "adds < 4 ms", median(with_spelling) - median(without) < 4))
            report(Figure("spelling", f"{name}: slowest keystroke with spelling", max(with_spelling), "ms",
                          max(without), "" if single_line else "< 16 ms",
                          None if single_line else max(with_spelling) < 16))
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
