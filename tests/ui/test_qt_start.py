"""The cheaper source check in PySide6's import hook gives the answers PySide6's own check gives."""

from __future__ import annotations

import inspect
import json
import types

import desktop_assistant.app  # installs the check, as the app does
import desktop_assistant.core.search
import desktop_assistant.ui.chat.sidebar
from desktop_assistant import _qt_start


def _pyside_answer(module: types.ModuleType) -> bool:
    """PySide6's own rule: the module's source mentions PySide6 (no source: no)."""
    try:
        return "PySide6" in inspect.getsource(module)
    except (TypeError, OSError, SyntaxError):
        return False


def test_the_hook_uses_the_cheaper_check() -> None:
    import shibokensupport.feature as feature

    assert feature._mod_uses_pyside is _qt_start._uses_pyside


def test_same_answers_as_pyside() -> None:
    for module in (desktop_assistant.ui.chat.sidebar, desktop_assistant.core.search, json, types, inspect):
        assert _qt_start._uses_pyside(module) == _pyside_answer(module), module.__name__
    assert _qt_start._uses_pyside(desktop_assistant.ui.chat.sidebar)
    assert not _qt_start._uses_pyside(desktop_assistant.core.search)
    assert not _qt_start._uses_pyside(types.ModuleType("made_up"))  # no file at all
