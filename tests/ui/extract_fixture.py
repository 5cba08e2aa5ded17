"""The Extract workspace built over an app from ``built_app`` (the lead wires it into the window itself)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from desktop_assistant.app import AppParts
from desktop_assistant.controllers.batches import BatchController
from desktop_assistant.controllers.extraction import ExtractionController
from desktop_assistant.ui.extraction.workspace import ExtractWorkspace
from tests.ui.app_fixture import built_app, start


@dataclass
class Extract:
    """The extraction controllers and their workspace."""

    extraction: ExtractionController
    batches: BatchController
    workspace: ExtractWorkspace


def extract_parts(parts: AppParts) -> Extract:
    """Controllers and workspace for ``parts``; reuses the app's own when it already has them."""
    existing = getattr(parts, "extraction", None)
    if isinstance(existing, ExtractionController):
        batches = cast(Any, parts).batches
        workspace = parts.window.findChild(ExtractWorkspace, "extract")
        assert workspace is not None
        return Extract(existing, batches, workspace)
    extraction = ExtractionController(parts.store, parts.endpoint, parts.runner, parts.usage)
    batches = BatchController(parts.store, parts.endpoint, parts.runner, parts.usage, extraction)
    workspace = ExtractWorkspace(extraction, batches, parts.endpoint, parts.runner)
    workspace.setParent(parts.window)
    return Extract(extraction, batches, workspace)


@asynccontextmanager
async def started_extract(root: Path, base_url: str) -> AsyncIterator[tuple[AppParts, Extract]]:
    """The app over ``root`` started, with its Extract parts; batches are checked every 10 ms."""
    async with built_app(root, base_url) as parts:
        await start(parts)
        x = extract_parts(parts)
        x.batches.poll_seconds = 0.01
        yield parts, x
