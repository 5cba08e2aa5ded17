"""CI runs the suite against the installed wheel: check that is what was imported, and that it is whole."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pytest

import desktop_assistant


@pytest.mark.skipif(os.environ.get("DA_TEST_INSTALLED") != "1", reason="only when testing the installed wheel")
def test_suite_imports_the_installed_wheel() -> None:
    assert "site-packages" in Path(desktop_assistant.__file__).parts
    assert desktop_assistant.__version__ != "0.0.0"


def test_resources_ship_with_the_package() -> None:
    folder = resources.files("desktop_assistant") / "resources"
    names = {p.name for p in (folder / "tiktoken").iterdir()}
    assert {"o200k_base.tiktoken", "cl100k_base.tiktoken"} <= names


def test_the_resources_path_is_where_importlib_resources_finds_them() -> None:
    # the app reads its files from desktop_assistant.RESOURCES (a plain path, quicker to start with)
    folder = resources.files("desktop_assistant") / "resources"
    assert Path(str(folder)) == desktop_assistant.RESOURCES
    for name in ("pricing.json", "icons/app.svg", "tiktoken/o200k_base.tiktoken"):
        assert (desktop_assistant.RESOURCES / name).is_file(), name
