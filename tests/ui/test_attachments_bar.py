"""Many attachments never widen the window: the row of chips scrolls, each chip keeps its natural size."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication, QFrame

from desktop_assistant.app import AppParts
from desktop_assistant.controllers.images import MAX_IMAGES
from tests.conftest import until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI
from tests.ui.app_fixture import built_app, start
from tests.ui.test_vision import png_file

fake_openai = fixture.fake_openai


def visible_in_bar(chip: QFrame) -> bool:
    """Whether the whole of ``chip`` is inside the bar's scrolled viewport."""
    viewport = chip.parentWidget().parentWidget()  # the chips' container sits in the scroll area's viewport
    top_left = chip.mapTo(viewport, chip.rect().topLeft())
    bottom_right = chip.mapTo(viewport, chip.rect().bottomRight())
    return viewport.rect().contains(top_left) and viewport.rect().contains(bottom_right)


async def estimate_settled(parts: AppParts, images: int) -> None:
    """Wait for the draft's estimate to count ``images``."""
    await until(lambda: parts.estimates.last is not None and len(parts.estimates.last.images) == images
                and parts.runner.find("estimate") is None)


async def test_many_attachments_scroll_instead_of_widening_the_window(tmp_path: Path,
                                                                       fake_openai: FakeOpenAI) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    images = [png_file(folder, f"screenshot number {i:02}.png", 400 + i, 300, f"#{(i * 12345) % 0xffffff:06x}")
              for i in range(MAX_IMAGES)]
    texts = []
    for i in range(4):
        texts.append(folder / f"notes about the project {i}.txt")
        texts[-1].write_text(f"note {i}\n" * 20)
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        window = parts.window
        window.resize(1180, 760)
        await until(lambda: window.width() == 1180)
        empty_minimum = window.minimumSizeHint().width()
        await parts.attachments.add_files(images + texts)
        bar = window.composer.attachments
        await until(lambda: len(bar.chips) == MAX_IMAGES and len(bar.file_chips) == 4)
        await until(lambda: all(c.cost.text() for c in bar.chips)
                    and all(c.cost.text() for c in bar.file_chips))
        QApplication.processEvents()
        assert window.minimumSizeHint().width() < 1000
        assert window.minimumSizeHint().width() <= empty_minimum + 50  # independent of the attachments
        assert window.minimumWidth() < 1000 and window.composer.minimumSizeHint().width() < 1000
        assert window.width() == 1180  # the window did not grow
        chips: list[QFrame] = [*bar.chips, *bar.file_chips]
        for chip in chips:  # each chip keeps its natural size: name, detail, price and ✕ readable
            assert chip.width() >= chip.sizeHint().width(), chip.attachment.name  # type: ignore[attr-defined]
            assert chip.height() >= chip.sizeHint().height()
        assert bar.height() < 200  # one row of chips, not the whole composer
        assert not visible_in_bar(chips[-1])
        bar.ensure_visible(chips[-1])
        await until(lambda: visible_in_bar(chips[-1]))
        assert not visible_in_bar(chips[0])

        await estimate_settled(parts, images=MAX_IMAGES)
        parts.attachments.remove(bar.chips[0].attachment.sha256)  # fewer chips: still fine
        await until(lambda: len(bar.chips) == MAX_IMAGES - 1)
        assert window.width() == 1180
        await estimate_settled(parts, images=MAX_IMAGES - 1)


async def test_one_chip_fits_and_the_bar_hides_when_empty(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    shot = png_file(tmp_path, "one.png", 300, 200)
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        await parts.attachments.add_files([shot])
        bar = parts.window.composer.attachments
        await until(lambda: len(bar.chips) == 1 and bar.chips[0].cost.text() != "")
        QApplication.processEvents()
        chip = bar.chips[0]
        assert bar.isVisibleTo(parts.window) and visible_in_bar(chip)
        assert chip.width() >= chip.sizeHint().width() and bar.height() >= chip.height()
        await estimate_settled(parts, images=1)
        parts.attachments.remove(chip.attachment.sha256)
        await until(lambda: not bar.chips)
        assert not bar.isVisibleTo(parts.window)
        await estimate_settled(parts, images=0)
