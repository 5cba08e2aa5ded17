"""Build the real app (real store file, real loopback server) for window tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from desktop_assistant.app import AppParts, after_first_paint, build
from desktop_assistant.services.paths import AppPaths
from desktop_assistant.services.settings import SettingsStore


@asynccontextmanager
async def built_app(root: Path, base_url: str, key: str | None = "sk-test", *,
                    titles: bool = False) -> AsyncIterator[AppParts]:
    """The app's parts over ``root``, talking to ``base_url``; the window is shown; closed at the end.

    Automatic titles are off unless ``titles``: they would take a scripted reply from the test server.
    """
    paths = AppPaths.under(root)
    store = SettingsStore(paths.settings_file)
    store.save(store.load().copy(auto_titles=titles))
    environ = {"OPENAI_BASE_URL": base_url}
    if key:
        environ["OPENAI_API_KEY"] = key
    quits: list[bool] = []
    parts = build(paths, quit=lambda: quits.append(True), environ=environ,
                  keyring_service=f"desktop-assistant-test-{uuid.uuid4().hex[:8]}")
    parts.window.show()
    try:
        yield parts
    finally:
        parts.window.hide()
        if not parts.lifecycle.done:
            await parts.lifecycle.shutdown()
        parts.window.deleteLater()


async def start(parts: AppParts) -> None:
    """Run what the app runs after its first paint."""
    await after_first_paint(parts)
