"""The ``fake_openai`` pytest fixture: a started FakeOpenAI that fails the test if a request broke the spec."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import FakeOpenAI

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_RELATIVE = Path("data/openai-openapi/openapi.normalized.json")


def openapi_spec_path() -> Path | None:
    """OpenAI's normalised OpenAPI document: ``$DA_SHARED_DIR`` (or ``<repo>/../shared``) + data/…, if present."""
    shared = Path(os.environ.get("DA_SHARED_DIR", str(REPO_ROOT.parent / "shared")))
    path = shared / SPEC_RELATIVE
    return path if path.is_file() else None


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A started loopback OpenAI server; at teardown it is stopped and its spec violations must be empty."""
    server = FakeOpenAI(spec_path=openapi_spec_path())
    server.start()
    try:
        yield server
    finally:
        server.stop()
    if server.violations:
        listing = "\n".join(f"  - {v}" for v in server.violations)
        pytest.fail(
            f"{len(server.violations)} request(s) to the fake OpenAI server broke OpenAI's API spec:\n{listing}",
            pytrace=False,
        )
