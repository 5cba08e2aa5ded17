"""Fixtures shared by the service tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_assistant.services.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An open store on a real SQLite file in ``tmp_path``, closed afterwards."""
    s = Store(tmp_path / "db.sqlite3")
    s.open()
    yield s
    s.close_sync()
