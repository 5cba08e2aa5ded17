"""Windows fit the screen they open on: a small laptop, large fonts (the layout reviewer's 1024 x 700 screen)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop_assistant.ui.screens import fitted
from desktop_assistant.ui.settings.settings_dialog import SettingsDialog


def test_a_size_is_made_to_fit_the_screen_s_free_area(qtbot: QtBot) -> None:
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    screen = dialog.screen()
    room = screen.availableGeometry()
    size = fitted(10_000, 10_000, screen)
    assert size.width() == room.width() * 95 // 100 and size.height() == room.height() * 90 // 100
    assert fitted(300, 200, screen).toTuple() == (300, 200)  # what fits is left as it is
    assert fitted(300, 200, None).toTuple() == (300, 200)


def test_settings_never_need_more_height_than_a_small_screen_has(qtbot: QtBot) -> None:
    """Every page scrolls inside the dialog (the Tools page alone asked for 794 px, past a 700 px screen)."""
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    room = dialog.screen().availableGeometry()
    assert dialog.height() <= room.height() * 90 // 100 and dialog.width() <= room.width() * 95 // 100
    assert dialog.minimumSizeHint().height() < 400
    assert dialog.mcp.minimumSizeHint().height() > 600  # a tall page, which scrolls
    pages = [dialog.tabs.widget(i) for i in range(dialog.tabs.count())]
    assert dialog.mcp in pages and dialog.spending in pages  # the pages, not the scroll areas around them
    dialog.tabs.setCurrentWidget(dialog.mcp)
    assert dialog.tabs.currentWidget() is dialog.mcp
