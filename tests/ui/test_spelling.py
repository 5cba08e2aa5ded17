"""Spelling in the composer: underlines, what is skipped, suggestions, the words file, typing speed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QContextMenuEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from desktop_assistant.core import spelling as core_spelling
from desktop_assistant.core.spelling import (
    SpellDictionary,
    fence_state,
    load_dictionary,
    pick_language,
    words_to_check,
)
from desktop_assistant.ui.chat.composer import Composer, ComposerEdit
from desktop_assistant.ui.chat.spelling import MAX_CHECKED_CHARS, SpellingHighlighter

SPELL_CHECK = QTextCharFormat.UnderlineStyle.SpellCheckUnderline


@pytest.fixture(scope="module")
def english() -> SpellDictionary:
    loaded = load_dictionary("en")
    assert isinstance(loaded, SpellDictionary), loaded
    return loaded


@pytest.fixture
def dictionary(english: SpellDictionary) -> SpellDictionary:
    """A fresh dictionary (no personal words) sharing the loaded word list."""
    return SpellDictionary(english.words, english.language)


@pytest.fixture
def edit(qtbot: QtBot, dictionary: SpellDictionary, tmp_path: Path) -> ComposerEdit:
    widget = ComposerEdit()
    qtbot.addWidget(widget)
    widget.resize(600, 300)
    assert widget.enable_spelling(tmp_path / "config" / "words.txt", dictionary) is None
    return widget


def underlined(edit: ComposerEdit) -> list[str]:
    """The underlined words of the whole draft, in order."""
    assert edit.spelling is not None
    edit.spelling.rehighlight()
    words = []
    block = edit.document().firstBlock()
    while block.isValid():
        text = block.text()
        for fmt in block.layout().formats():
            if fmt.format.underlineStyle() == SPELL_CHECK:
                words.append(text[fmt.start : fmt.start + fmt.length])
        block = block.next()
    return words


def test_misspelled_word_is_underlined_and_correct_one_is_not(edit: ComposerEdit) -> None:
    edit.setPlainText("This sentense has one mistake.\nAnother lien with a speling error.")
    assert underlined(edit) == ["sentense", "speling"]  # "lien" is a real word
    assert edit.spelling is not None
    fmt = edit.spelling.misspelled_format
    assert fmt.underlineStyle() == SPELL_CHECK and fmt.underlineColor().red() > 200


def test_correct_text_has_no_underline(edit: ComposerEdit) -> None:
    edit.setPlainText("Don't worry, it's a perfectly ordinary sentence; the model's answer was fine.")
    assert underlined(edit) == []


def test_code_urls_and_names_are_skipped(edit: ComposerEdit) -> None:
    edit.setPlainText(
        "Run `pip instal foobarr` now.\n"
        "```python\n"
        "def fooo(): retrn bazz\n"
        "```\n"
        "See https://exampel.com/pathh?qury=1 or www.exampel.org and mail someone@exampel.com\n"
        "Open src/modulle/fiel.py and config.yamll\n"
        "camelCaseWurd HTTPX NASAA word2vec snake_case_wurd iPhonee\n"
        + "a" * 31 + " end\n"
        "    indented codde line\n"
        "Finally a mistaek."
    )
    assert underlined(edit) == ["mistaek"]


def test_word_being_typed_is_not_underlined_until_finished(qtbot: QtBot, edit: ComposerEdit) -> None:
    edit.show()
    qtbot.waitExposed(edit)
    qtbot.keyClicks(edit, "helo")
    assert edit.spelling is not None
    block = edit.document().firstBlock()
    assert not [f for f in block.layout().formats() if f.format.underlineStyle() == SPELL_CHECK]
    qtbot.keyClicks(edit, " ")
    formats = [f for f in block.layout().formats() if f.format.underlineStyle() == SPELL_CHECK]
    assert [(f.start, f.length) for f in formats] == [(0, 4)]
    qtbot.keyClicks(edit, "wrld")
    assert [(f.start, f.length) for f in block.layout().formats() if f.format.underlineStyle() == SPELL_CHECK] == [
        (0, 4)]
    edit.moveCursor(QTextCursor.MoveOperation.Start)  # leaving the word checks it
    assert [(f.start, f.length) for f in block.layout().formats() if f.format.underlineStyle() == SPELL_CHECK] == [
        (0, 4), (5, 4)]


def _menu_on(edit: ComposerEdit, word: str) -> QMenu:
    cursor = edit.document().find(word)
    assert not cursor.isNull()
    middle = QTextCursor(edit.document())
    middle.setPosition(cursor.selectionStart() + 1)
    pos = edit.cursorRect(middle).center()
    return edit.context_menu(pos)


def test_suggestions_are_offered_and_replace_the_word(edit: ComposerEdit) -> None:
    edit.setPlainText("I will recieve the package tomorow.")
    menu = _menu_on(edit, "recieve")
    labels = [a.text() for a in menu.actions()]
    assert labels[0] == "receive"
    assert len([a for a in menu.actions() if a.font().bold()]) <= 5
    assert any(label.startswith("Add “recieve”") for label in labels)
    assert any("Copy" in label or "Paste" in label or "Select" in label for label in labels)  # the usual menu
    menu.actions()[0].trigger()
    assert edit.toPlainText() == "I will receive the package tomorow."
    edit.undo()
    assert edit.toPlainText() == "I will recieve the package tomorow."  # one undo step
    menu = _menu_on(edit, "tomorow")
    assert menu.actions()[0].text() == "tomorrow"


def test_suggestions_keep_capitals_and_are_few(dictionary: SpellDictionary) -> None:
    assert dictionary.suggestions("Recieve")[0] == "Receive"
    assert 1 <= len(dictionary.suggestions("teh")) <= 5
    start = time.perf_counter()
    assert dictionary.suggestions("definatelly")  # two edits away
    dictionary.suggestions("qwxzvbnmkjhgfd")  # nothing near: still quick
    assert time.perf_counter() - start < 1.0


def test_no_menu_entries_on_a_correct_word(edit: ComposerEdit) -> None:
    edit.setPlainText("Everything here is correct.")
    menu = _menu_on(edit, "correct")
    assert not any("dictionary" in a.text() for a in menu.actions())


def test_add_to_dictionary_persists(edit: ComposerEdit, tmp_path: Path, qtbot: QtBot,
                                    english: SpellDictionary) -> None:
    edit.setPlainText("Ask Zorbulon about it.\nZorbulon knows.")
    assert underlined(edit) == ["Zorbulon", "Zorbulon"]
    menu = _menu_on(edit, "Zorbulon")
    add = next(a for a in menu.actions() if a.objectName() == "add_to_dictionary")
    add.trigger()
    assert underlined(edit) == []
    words_file = tmp_path / "config" / "words.txt"
    assert words_file.read_text(encoding="utf-8").splitlines() == ["Zorbulon"]

    # a new composer reads the file
    other = ComposerEdit()
    qtbot.addWidget(other)
    assert other.enable_spelling(words_file, SpellDictionary(english.words, english.language)) is None
    other.setPlainText("Zorbulon again, and a mistaek.")
    assert underlined(other) == ["mistaek"]


def test_context_menu_is_a_popup_not_a_nested_loop(qtbot: QtBot, edit: ComposerEdit,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    edit.setPlainText("A mistaek.")
    edit.show()
    qtbot.waitExposed(edit)
    shown: list[QMenu] = []
    monkeypatch.setattr(QMenu, "exec", lambda *_: pytest.fail("exec() must not be used"))
    original_popup = QMenu.popup

    def popup(menu: QMenu, *args: object) -> None:
        shown.append(menu)
        original_popup(menu, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(QMenu, "popup", popup)
    cursor = edit.document().find("mistaek")
    middle = QTextCursor(edit.document())
    middle.setPosition(cursor.selectionStart() + 2)
    pos = edit.cursorRect(middle).center()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, edit.viewport().mapToGlobal(pos))
    QApplication.sendEvent(edit.viewport(), event)
    assert len(shown) == 1 and shown[0].actions()[0].text() == "mistake"
    shown[0].hide()


def test_no_dictionary_leaves_the_composer_alone(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    monkeypatch.setattr(core_spelling, "available_languages", lambda: [])
    message = load_dictionary("en")
    assert isinstance(message, str) and "no spelling dictionary" in message
    composer = Composer()
    qtbot.addWidget(composer)
    tooltip = composer.edit.toolTip()
    assert composer.enable_spelling(tmp_path / "words.txt", message) == message
    assert composer.edit.spelling is None and composer.edit.toolTip() == tooltip
    assert composer.edit.context_menu(QPoint(5, 5)) is not None  # the usual menu still works


def test_language_follows_the_system_when_a_dictionary_ships(english: SpellDictionary) -> None:
    assert pick_language("de_DE") == "de"
    assert pick_language("pt-BR") == "pt"
    assert pick_language("ja_JP") == "en"  # no Japanese dictionary: English
    assert pick_language("C") == "en"
    assert english.language.name == "English"


def test_tooltip_names_the_language(edit: ComposerEdit) -> None:
    assert "English" in edit.toolTip()


def test_words_to_check_rules() -> None:
    line = "Fix `codee` at http://x.y/zz, e.g. teh camelCase ALLCAPS R2D2 it's"
    assert [w for _, _, w in words_to_check(line)] == ["Fix", "at", "teh", "it's"]
    assert fence_state("```python", -1) == (1003, True)
    assert fence_state("code", 1003) == (1003, True)
    assert fence_state("```", 1003) == (0, True)
    assert fence_state("~~~~", -1) == (2004, True)
    assert fence_state("```", 2004) == (2004, True)  # a tilde fence closes only with tildes


def test_very_long_line_is_checked_near_the_cursor() -> None:
    text = "word " * 10_000
    start, end = SpellingHighlighter.checked_range(text, 30_000)
    assert start <= 30_000 <= end and end - start <= MAX_CHECKED_CHARS + 64
    assert SpellingHighlighter.checked_range("short", 2) == (0, 5)


# Keystroke timings in a 100,000-character draft (lines, or one long line) are measured, against the composer
# without spelling, in benchmarks/bench_spelling.py: timings are noisy on a shared machine and live there.
