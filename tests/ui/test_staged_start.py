"""Start-up paints the last conversation before the controllers exist; binding them keeps what is shown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import desktop_assistant
from desktop_assistant.app import FirstScreen, build
from desktop_assistant.core.branches import active_path
from desktop_assistant.services.first_screen import FirstScreenCache
from desktop_assistant.services.paths import AppPaths
from desktop_assistant.services.settings import SettingsStore
from desktop_assistant.services.store import Store
from tests.services.data_helpers import seed

ROOT = Path(desktop_assistant.__file__).resolve().parent.parent


def test_importing_the_app_leaves_the_event_loop_and_the_controllers_for_later() -> None:
    code = "import json, sys; import desktop_assistant.app; print(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    loaded = set(json.loads(out.splitlines()[-1]))
    later = {"asyncio", "qasync", "openai", "desktop_assistant.controllers.chat", "desktop_assistant.services.gateway",
             "desktop_assistant.ui.usage.usage_panel", "desktop_assistant.ui.chat.spelling"}
    assert not loaded & later


async def test_the_first_screen_shows_what_the_bound_window_shows(tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path)
    paths.ensure()
    store = Store(paths.database)
    store.open()
    trip, _second = await seed(store)  # an edited first question: its messages have alternatives
    await store.close()
    settings = SettingsStore(paths.settings_file)
    settings.save(settings.load().copy(last_conversation_id=trip, onboarded=True))

    first = build(paths, quit=lambda: None, environ={"OPENAI_API_KEY": "sk-test"},
                  keyring_service=f"desktop-assistant-test-{uuid.uuid4().hex[:8]}", staged=True)
    assert isinstance(first, FirstScreen)
    window = first.window
    assert not hasattr(window, "chat")  # nothing bound yet
    window.show()
    shown = dict(window.transcript.views)
    branches = {mid: (view.branch_label.text(), view.branch_label.isVisibleTo(view)) for mid, view in shown.items()}
    title = window.header.title.text()
    assert shown and title == "Trip to Lisbon"
    assert any(label == ("1/2", True) for label in branches.values())
    parts = first.complete()
    try:
        assert parts.window is window and window.chat is parts.chat
        assert all(window.transcript.views.get(mid) is view for mid, view in shown.items())  # kept, not rebuilt
        assert {mid: (view.branch_label.text(), view.branch_label.isVisibleTo(view))
                for mid, view in shown.items()} == branches
        assert window.header.title.text() == title
    finally:
        window.hide()
        await parts.lifecycle.shutdown()
        window.deleteLater()


PAINT_ONLY = """
import json, sys
from pathlib import Path
from PySide6 import QtWidgets
from PySide6.QtCore import QEventLoop
from desktop_assistant.app import build, make_application
from desktop_assistant.services.paths import AppPaths
app = make_application(["desktop-assistant"])
first = build(AppPaths.under(Path(sys.argv[1])), quit=app.quit, environ={"OPENAI_API_KEY": "sk-test"},
              keyring_service="desktop-assistant-test-none", staged=True)
views = first.window.transcript.views
viewport = views[max(views)].body.viewport()  # what the start benchmark watches for its paint
first.window.show()
app.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
made = {name for name in ("QCalendarWidget", "QStyle") if name in vars(QtWidgets)}
loaded = sorted(name for name in ("markdown_it", "desktop_assistant.core.render") if name in sys.modules)
print(json.dumps({"made": sorted(made), "viewport": viewport.objectName(), "views": len(views),
                  "loaded": loaded, "style": app.style().name(), "shown": views[max(views)].body.toPlainText()}))
"""


async def test_the_first_paint_leaves_pyside_classes_it_does_not_need_uncreated(tmp_path: Path) -> None:
    # a viewport Qt made would be handed over unwrapped, and PySide would create ~70 widget classes to type it;
    # QStyle with its enums (~7 ms) is not needed either, yet the style is Fusion; nor is the markdown renderer
    paths = AppPaths.under(tmp_path)
    paths.ensure()
    store = Store(paths.database)
    store.open()
    trip, _second = await seed(store)
    conversation = store.call_sync(store.get_conversation_sync, trip)
    assert conversation is not None
    path = active_path(store.call_sync(store.messages_sync, trip), conversation.current_leaf_id)
    await FirstScreenCache(store).save(path, dark=False)  # as the app does at close
    await store.close()
    settings = SettingsStore(paths.settings_file)
    settings.save(settings.load().copy(last_conversation_id=trip, onboarded=True))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", PAINT_ONLY, str(tmp_path)], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True).stdout
    result = json.loads(out.splitlines()[-1])
    assert result["views"] > 0
    assert result["viewport"] == "qt_scrollarea_viewport"
    assert result["made"] == []
    assert result["style"] == "fusion"
    assert result["loaded"] == []  # the reply was painted from the HTML kept at the last close
    assert result["shown"].strip() == "Try Time Out Market."
