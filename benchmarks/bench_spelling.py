"""Spelling: the English dictionary's load time and memory, suggestions for a right-click, and keystrokes in a
100,000-character draft with spell checking on, against the same composer with it off, for a draft of ordinary
lines and for one single 100,000-character line (which Qt itself is slow to lay out; the highlighter checks
only a window of it, so spelling should add little).

The dictionary's memory is the growth of the resident size over its first load (after ``gc.collect()``).
Each keystroke is timed from the key event to the end of the repaint it causes (the events it posts
processed). Runs alternate between the two composers.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import Figure, banner, median, quiet_environment, report, rss_mb

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


def dictionary_figures(rounds: int) -> None:
    """Load time and memory of the English dictionary; time of a one-edit and a two-edit suggestion."""
    from desktop_assistant.core.spelling import SpellDictionary, load_dictionary

    banner("The English spelling dictionary")
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    dictionary = load_dictionary("en")
    loads = [(time.perf_counter() - start) * 1000]
    gc.collect()
    grown = rss_mb() - before
    assert isinstance(dictionary, SpellDictionary), dictionary
    for _ in range(rounds - 1):
        start = time.perf_counter()
        load_dictionary("en")
        loads.append((time.perf_counter() - start) * 1000)
    report(Figure("spelling", "dictionary: memory (RSS growth of the first load)", grown, "MB",
                  target="<= 10 MB", met=grown <= 10))
    report(Figure("spelling", "dictionary: load_dictionary('en') (median)", median(loads), "ms",
                  target="<= 300 ms", met=median(loads) <= 300))
    for word, what, limit in (("speling", "one edit", 5.0), ("definatelly", "two edits", 50.0)):
        times = []
        for _ in range(10 * rounds):
            start = time.perf_counter()
            found = dictionary.suggestions(word)
            times.append((time.perf_counter() - start) * 1000)
        print(f"  suggestions for {word!r}: {found}", flush=True)
        report(Figure("spelling", f"suggestions('{word}'), {what} away (median)", median(times), "ms",
                      target=f"< {limit:g} ms", met=median(times) < limit))


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
    dictionary_figures(rounds)
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
