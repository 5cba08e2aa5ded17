"""Many attachments never widen the window: the row of chips scrolls, each chip keeps its natural size.

Built from the composer alone (no app, no network, no estimate running): what is tested is the layout.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QFrame, QMainWindow
from pytestqt.qtbot import QtBot

from desktop_assistant.controllers.files import FileAttachment
from desktop_assistant.controllers.images import MAX_IMAGES, Attachment
from desktop_assistant.ui.chat.composer import Composer


def visible_in_bar(chip: QFrame) -> bool:
    """Whether the whole of ``chip`` is inside the bar's scrolled viewport."""
    viewport = chip.parentWidget().parentWidget()  # the chips' container sits in the scroll area's viewport
    top_left = chip.mapTo(viewport, chip.rect().topLeft())
    bottom_right = chip.mapTo(viewport, chip.rect().bottomRight())
    return viewport.rect().contains(top_left) and viewport.rect().contains(bottom_right)


def images(count: int) -> tuple[list[Attachment], dict[str, QImage]]:
    items, thumbnails = [], {}
    for i in range(count):
        sha = f"{i:064x}"
        items.append(Attachment(sha, "image/png", 400 + i, 300, f"screenshot number {i:02}.png"))
        thumb = QImage(96, 72, QImage.Format.Format_RGB32)
        thumb.fill(QColor(f"#{(i * 12345) % 0xffffff:06x}"))
        thumbnails[sha] = thumb
    return items, thumbnails


def files(count: int) -> list[FileAttachment]:
    return [FileAttachment(f"{i:064x}", f"notes about the project {i}.txt", "note\n" * 20, "text", 100)
            for i in range(count)]


def test_many_attachments_scroll_instead_of_widening_the_window(qtbot: QtBot) -> None:
    window = QMainWindow()
    composer = Composer()
    window.setCentralWidget(composer)
    qtbot.addWidget(window)
    window.resize(1180, 300)
    window.show()
    qtbot.waitExposed(window)
    empty_minimum = window.minimumSizeHint().width()
    bar = composer.attachments
    items, thumbnails = images(MAX_IMAGES)
    bar.set_items(items, thumbnails)
    bar.set_files(files(4))
    bar.set_costs({a.sha256: "~8,500 tok · ~$0.0013" for a in items})
    qtbot.waitUntil(lambda: bar.isVisible() and len(bar.chips) == MAX_IMAGES and len(bar.file_chips) == 4)
    # the window's minimum does not grow with the chips (it was 6,570 px with these): the row scrolls instead
    assert window.minimumSizeHint().width() == empty_minimum < 1000
    assert window.width() == 1180
    chips: list[QFrame] = [*bar.chips, *bar.file_chips]
    # each chip keeps its natural size (once laid out): name, detail, price and ✕ readable
    qtbot.waitUntil(lambda: all(c.width() >= c.sizeHint().width() and c.height() >= c.sizeHint().height()
                                for c in chips))
    assert bar.height() < 200  # one row of chips, not the whole composer
    assert not visible_in_bar(chips[-1])
    bar.ensure_visible(chips[-1])
    qtbot.waitUntil(lambda: visible_in_bar(chips[-1]))
    assert not visible_in_bar(chips[0])
    bar.set_items(items[1:], thumbnails)  # fewer chips: still fine
    assert window.minimumSizeHint().width() == empty_minimum and window.width() == 1180


def test_one_chip_fits_and_the_bar_hides_when_empty(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.resize(900, 200)
    composer.show()
    bar = composer.attachments
    items, thumbnails = images(1)
    bar.set_items(items, thumbnails)
    qtbot.waitUntil(lambda: bar.isVisible() and len(bar.chips) == 1)
    chip = bar.chips[0]
    qtbot.waitUntil(lambda: visible_in_bar(chip))
    assert chip.width() >= chip.sizeHint().width() and bar.height() >= chip.height()
    bar.set_items([], thumbnails)
    qtbot.waitUntil(lambda: not bar.isVisible())
