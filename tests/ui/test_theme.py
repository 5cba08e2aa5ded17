"""Light and dark: the palette, tooltips, disabled controls and menus look right, and a change of scheme (the
system's, or the person's choice in Settings) reaches everything already shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSize
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QRadioButton,
    QStyle,
    QStyleOptionButton,
    QToolTip,
)
from pytestqt.qtbot import QtBot

from desktop_assistant.app import AppParts
from desktop_assistant.core import render_code
from desktop_assistant.core.models import Role
from desktop_assistant.services.paths import AppPaths
from desktop_assistant.services.settings import SettingsStore
from desktop_assistant.ui import theme
from tests.conftest import until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start

fake_openai = fixture.fake_openai

REPLY = "Use `pathlib` here, see [the docs](https://docs.python.org).\n\n```python\nprint('hi')\n```\n"


@pytest.fixture(autouse=True)
def system_scheme(qapp: QApplication) -> Iterator[None]:
    """Each test starts and ends following the system (light here: offscreen has no scheme)."""
    theme.set_appearance("system")
    theme.apply_palette(qapp)
    yield
    theme.set_appearance("system")
    theme.apply(qapp)


def ink(icon: QIcon) -> str:
    """The colour an icon is drawn in (its most opaque pixel), as ``#rrggbb``."""
    image = icon.pixmap(QSize(16, 16)).toImage()
    pixels = [image.pixelColor(x, y) for y in range(16) for x in range(16)]
    return max(pixels, key=lambda color: color.alpha()).name()


async def answered(parts: AppParts) -> None:
    """The app started, a question asked and answered (with :data:`REPLY`, enqueued by the test)."""
    await start(parts)
    await parts.chat.send("a question")
    await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)


@pytest.mark.parametrize("appearance", ["light", "dark"])
def test_tooltips_and_disabled_controls_follow_the_scheme(qapp: QApplication, appearance: str) -> None:
    theme.set_appearance(appearance)
    colors = theme.apply_palette(qapp)
    assert colors.dark is (appearance == "dark")
    tips = QToolTip.palette()
    assert tips.color(QPalette.ColorRole.ToolTipBase) == QColor(colors.base)
    assert tips.color(QPalette.ColorRole.ToolTipText) == QColor(colors.text)
    palette = qapp.palette()
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        active = palette.color(QPalette.ColorGroup.Active, role)
        disabled = palette.color(QPalette.ColorGroup.Disabled, role)
        assert active == QColor(colors.text) and disabled == QColor(colors.disabled)  # a greyed-out control looks it
    # a field that cannot be used now has the window's background, not an input's
    assert palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Base) == QColor(colors.window)
    assert palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Base) == QColor(colors.base)


async def test_a_reply_s_context_menu_has_the_window_s_background(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                 qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text=REPLY))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await answered(parts)
        view = parts.window.transcript.views[parts.chat.path[-1].id]
        menu = view.body.createStandardContextMenu(QPoint(4, 4))
        qtbot.addWidget(menu)
        image = menu.grab().toImage()
        background = image.pixelColor(image.width() // 2, image.height() - 3)
        # the body's transparent background once reached its menu too: dark text on black
        assert background.lightness() > 200, background.name()


async def test_choosing_dark_in_settings_redraws_what_is_shown_and_is_kept(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                         qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text=REPLY))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await answered(parts)
        window = parts.window
        reply, question = (window.transcript.views[m.id] for m in reversed(parts.chat.path))
        assert question.message.role is Role.USER
        await until(lambda: render_code.LIGHT.code_bg in reply.body.toHtml())
        assert ink(window.sidebar.new_button.icon()) == QColor(theme.LIGHT.text).name()

        window.open_settings()
        dialog = window.settings_dialog
        assert dialog is not None
        dialog.appearance.setCurrentIndex(dialog.appearance.findData("dark"))
        dialog._save()

        assert theme.is_dark()
        assert QApplication.palette().color(QPalette.ColorRole.Window) == QColor(theme.DARK.window)
        html = reply.body.toHtml()
        assert render_code.DARK.code_bg in html and render_code.LIGHT.code_bg not in html
        assert render_code.DARK.inline_code_bg in html  # inline code on a dark box, readable
        assert reply.body.document().defaultStyleSheet() == render_code.document_css(True)
        # the icons of the window and of a message's tools are drawn again in the dark colours
        assert ink(window.sidebar.new_button.icon()) == QColor(theme.DARK.text).name()
        assert ink(reply.copy_button.icon()) == QColor(theme.DARK.muted).name()
        assert ink(window.composer.send_button.icon()) == QColor("#ffffff").name()  # a fixed colour stays
        await until(lambda: parts.endpoint.settings.appearance == "dark")
    assert SettingsStore(AppPaths.under(tmp_path).settings_file).load().appearance == "dark"

    # the next start is dark from its first paint
    theme.set_appearance("system")
    theme.apply_palette(QApplication.instance())  # type: ignore[arg-type]
    async with built_app(tmp_path, fake_openai.base_url) as again:
        assert theme.is_dark()
        assert QApplication.palette().color(QPalette.ColorRole.Window) == QColor(theme.DARK.window)
        assert ink(again.window.sidebar.new_button.icon()) == QColor(theme.DARK.text).name()
        shown = again.window.transcript.views[max(again.window.transcript.views)]
        await until(lambda: render_code.DARK.code_bg in shown.body.toHtml())

        again.window.open_settings()
        dialog = again.window.settings_dialog
        assert dialog is not None and dialog.appearance.currentData() == "dark"
        dialog.appearance.setCurrentIndex(dialog.appearance.findData("system"))
        dialog._save()
        assert not theme.is_dark()  # the system's scheme again (offscreen: light)
        assert render_code.LIGHT.code_bg in shown.body.toHtml()
        assert ink(again.window.sidebar.new_button.icon()) == QColor(theme.LIGHT.text).name()


async def test_find_marks_and_search_hits_follow_a_change_of_scheme(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                    qtbot: QtBot) -> None:
    from desktop_assistant.core.search import MATCH_END, MATCH_START, SearchHit

    fake_openai.enqueue(Reply(text="Tides rise twice a day; tides fall twice a day."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await answered(parts)
        window = parts.window
        reply = window.transcript.views[parts.chat.path[-1].id]
        window.find_bar.open_bar(parts.chat.path)
        qtbot.keyClicks(window.find_bar.field, "tides")
        await until(lambda: len(window.find_bar.matches) == 2)
        window.find_bar.step(1)  # on the second match
        results = window.sidebar.results
        hit = SearchHit(parts.chat.path[-1].id, parts.chat.path[-1].conversation_id, "Tides", "assistant", 0.0,
                        f"{MATCH_START}Tides{MATCH_END} rise")
        results.show_hits("tides", [hit])

        def marks() -> list[str]:
            return [s.format.background().color().name() for s in reply.body.extraSelections()]

        assert marks() == ["#fff2a8", QColor(theme.ACCENT).name()]
        assert theme.LIGHT.muted in str(results.list.item(0).text())

        theme.set_appearance("dark")
        window.follow_scheme()

        assert marks() == ["#5c5020", QColor(theme.ACCENT).name()]  # still on the second match, marked for dark
        assert window.find_bar.current == 1
        assert theme.DARK.muted in str(results.list.item(0).text())
        assert theme.LIGHT.muted not in str(results.list.item(0).text())


def test_a_toggle_button_that_is_on_looks_on(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QToolButton

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme.apply_style_sheet(app, theme.colors())
    button = QToolButton()
    button.setCheckable(True)
    button.setText("Options")
    qtbot.addWidget(button)
    button.resize(80, 28)
    button.show()
    qtbot.waitExposed(button)
    off = button.grab().toImage()
    button.setChecked(True)  # the Options panel is open: the button says so
    on = button.grab().toImage()
    assert on.pixelColor(3, 14) != off.pixelColor(3, 14)


@pytest.mark.parametrize("appearance", ["light", "dark"])
def test_the_sidebar_s_scroll_track_is_drawn_not_black(qapp: QApplication, qtbot: QtBot, appearance: str) -> None:
    import time

    from desktop_assistant.core.models import Conversation
    from desktop_assistant.ui.chat.sidebar import Sidebar

    theme.set_appearance(appearance)
    theme.apply(qapp)
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    sidebar.resize(260, 300)
    sidebar.show()
    now = time.time()
    sidebar.set_conversations([Conversation(i, f"Chat {i}", "gpt-4o-mini", updated_at=now - i * 86_400)
                               for i in range(1, 60)])
    bar = sidebar.list.verticalScrollBar()
    qtbot.waitUntil(bar.isVisible)
    image = bar.grab().toImage()
    track = [image.pixelColor(image.width() // 2, y).name() for y in range(image.height() // 2, image.height() - 20)]
    assert "#000000" not in track  # a transparent list left the track under the handle unpainted: solid black


def _contrast(a: QColor, b: QColor) -> float:
    def luminance(colour: QColor) -> float:
        def channel(value: float) -> float:
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
        return (0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF())
                + 0.0722 * channel(colour.blueF()))
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_an_unchecked_box_or_radio_can_be_seen(qapp: QApplication, qtbot: QtBot, scheme: str) -> None:
    """Its edge stands out from the window at 3:1 at least (WCAG for controls); Fusion's dark edge was 1.2:1."""
    theme.set_appearance(scheme)
    c = theme.apply(qapp)
    for button in (QCheckBox("Send with Enter"), QRadioButton("Low detail")):
        qtbot.addWidget(button)
        button.resize(200, 30)
        button.show()
        image = button.grab().toImage()
        window = QColor(c.window)
        indicator = button.style().subElementRect(
            QStyle.SubElement.SE_CheckBoxIndicator if isinstance(button, QCheckBox)
            else QStyle.SubElement.SE_RadioButtonIndicator, _option(button), button)
        edge = max((image.pixelColor(x, y) for x in range(indicator.left(), indicator.right() + 1)
                    for y in range(indicator.top(), indicator.bottom() + 1)), key=lambda p: _contrast(p, window))
        assert _contrast(edge, window) >= 3, (scheme, type(button).__name__, edge.name())


def _option(button: QAbstractButton) -> QStyleOptionButton:
    option = QStyleOptionButton()
    button.initStyleOption(option)  # type: ignore[attr-defined]
    return option


def test_greyed_out_text_can_still_be_read() -> None:
    """A control that cannot be used now is lighter than the rest, and still readable (3:1 or more on the window
    and on the page: Settings greys out whole forms whose labels explain what to do)."""
    for colors in (theme.LIGHT, theme.DARK):
        for ground in (colors.window, colors.base):
            assert _contrast(QColor(colors.disabled), QColor(ground)) >= 3, (colors.dark, ground)
        assert _contrast(QColor(colors.muted), QColor(colors.window)) > _contrast(QColor(colors.disabled),
                                                                                  QColor(colors.window))


def test_nothing_shown_needs_an_emoji_font() -> None:
    """Emoji show as empty boxes where no emoji font is installed (many Linux desktops, the frozen app's own)."""
    import desktop_assistant

    root = Path(desktop_assistant.__file__).parent
    found = [f"{path.relative_to(root)}:{number}" for path in sorted(root.rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if any(ord(char) >= 0x1F000 for char in line)]
    assert found == []
