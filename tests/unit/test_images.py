"""Image token math against OpenAI's published rules (and the real usage in ../shared/data)."""

from __future__ import annotations

import pytest

from desktop_assistant.core.images import image_tokens, patch_size, tile_size, upload_size


@pytest.mark.parametrize(("size", "detail", "model", "tokens"), [
    # gpt-4o: 85 base + 170 per 512 px tile after fitting 2048 and short side 768
    ((100, 100), "high", "gpt-4o", 85 + 170 * 1),
    ((512, 512), "high", "gpt-4o", 85 + 170 * 1),
    ((1024, 1024), "high", "gpt-4o", 85 + 170 * 4),  # 768 x 768: 2 x 2 tiles (the guide's 765)
    ((2048, 4096), "high", "gpt-4o", 85 + 170 * 6),  # 768 x 1536: 2 x 3 tiles (the guide's 1105)
    ((4000, 3000), "high", "gpt-4o", 85 + 170 * 4),  # 2048 x 1536, short side to 768: 1024 x 768, 2 x 2 tiles
    ((3008, 2000), "auto", "gpt-4o", 1105),  # billed by the API for this image in a real request
    ((4000, 3000), "low", "gpt-4o", 85),
    ((100, 100), "low", "gpt-4o-mini", 2833),
    ((512, 512), "high", "gpt-4o-mini", 2833 + 5667),
    ((1024, 1024), "high", "gpt-4o-mini", 2833 + 5667 * 4),
    ((2048, 4096), "high", "gpt-4o-mini", 2833 + 5667 * 6),
    ((540, 360), "auto", "gpt-4.1-nano", 503),  # 17 x 12 patches x 2.46, + 1 as billed
    ((4000, 3000), "auto", "gpt-4.1-mini", 2354),  # scaled to 1408 x 1056 = 44 x 33 patches, x 1.62, + 1
    ((1800, 2400), "auto", "gpt-4.1-mini", 2354),  # the guide's example: 1056 x 1408, 1452 patches
    ((1024, 1024), "high", "gpt-4o-2024-08-06", 765),  # a dated snapshot follows its family
    # low detail on a patch model: the copy sent is fitted in 512 px, 512 x 288 = 16 x 9 patches, x 1.62, + 1
    ((2560, 1440), "low", "gpt-4.1-mini", 235),
    ((2560, 1440), "high", "gpt-4.1-mini", 2444),
])
def test_image_tokens(size: tuple[int, int], detail: str, model: str, tokens: int) -> None:
    assert image_tokens(*size, detail, model) == tokens


def test_sizes_the_api_would_use() -> None:
    assert tile_size(4000, 3000) == (1024, 768)
    assert tile_size(300, 200) == (300, 200)  # small images are not enlarged
    assert upload_size(4000, 3000, "low", "gpt-4o") == (512, 384)
    w, h = patch_size(4000, 3000)
    assert (w // 32 + (w % 32 > 0)) * (h // 32 + (h % 32 > 0)) <= 1536
    assert upload_size(4000, 3000, "high", "gpt-4.1-mini") == (w, h)


def test_bad_size_is_refused() -> None:
    with pytest.raises(ValueError):
        image_tokens(0, 10, "auto", "gpt-4o")
