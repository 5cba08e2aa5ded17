"""``desktop_assistant.__version__`` is read lazily and agrees with the installed metadata."""

from __future__ import annotations

import importlib.metadata

import pytest

import desktop_assistant


def test_version_matches_the_metadata() -> None:
    try:
        expected = importlib.metadata.version("desktop-assistant")
    except importlib.metadata.PackageNotFoundError:
        expected = "0.0.0"
    assert desktop_assistant._read_version() == expected
    assert desktop_assistant.__version__ == expected
    from desktop_assistant import __version__

    assert __version__ == expected


def test_unknown_attributes_still_raise() -> None:
    with pytest.raises(AttributeError):
        desktop_assistant.no_such_thing  # noqa: B018
