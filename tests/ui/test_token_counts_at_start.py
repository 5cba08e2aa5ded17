"""A second start counts the conversation shown from the counts kept by the first: no tokenizer at idle."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiktoken
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_assistant.app import SPELL_LATER_CHARS, enable_spelling
from desktop_assistant.core import tokens
from desktop_assistant.core.models import Role, Status
from desktop_assistant.core.token_counts import MEMO
from tests.conftest import ended, threads_quiet, until
from tests.fake_openai.fixture import fake_openai  # noqa: F401
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> dict[str, tiktoken.Encoding]:
    """No encoding built and nothing remembered in memory, as in a new process."""
    cache: dict[str, tiktoken.Encoding] = {}
    monkeypatch.setattr(tokens, "_encodings", cache)
    MEMO.forget()
    return cache


async def test_second_start_needs_no_tokenizer_until_the_person_acts(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot,  # noqa: F811
        fresh_process: dict[str, tiktoken.Encoding]) -> None:
    fake_openai.enqueue(Reply(text="Four, as **always**.\n\n```python\nprint(2 + 2)\n```\n"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        qtbot.keyClicks(parts.window.composer.edit, "What is 2 + 2?")
        qtbot.keyClick(parts.window.composer.edit, Qt.Key.Key_Return)
        await until(lambda: len(parts.chat.path) == 2 and parts.chat.path[-1].status is Status.COMPLETE)
        await until(lambda: parts.estimates.last is not None and parts.estimates.last.draft_tokens == 0
                    and parts.estimates.last.prompt_tokens > 20)
        # the last count has finished (a count still running on its thread at close is not saved)
        await until(lambda: ended(parts.runner, "estimate") and not parts.estimates._timer.isActive())
        first = parts.estimates.last
        assert first is not None and "o200k_base" in fresh_process  # the first start counted with the tokenizer
        await parts.lifecycle.shutdown()  # saves what was counted

    # what the closed app (or an earlier test) left on worker threads has finished: it loads nothing from here on
    await threads_quiet()
    fresh_process.clear()
    MEMO.forget()
    async with built_app(tmp_path, fake_openai.base_url) as again:
        assert [m.role for m in again.chat.path] == [Role.USER, Role.ASSISTANT]
        assert again.estimates.last is None
        started: list[str] = []
        again.runner.started.connect(started.append)
        await start(again)
        await until(lambda: again.estimates.last is not None)
        estimate = again.estimates.last
        assert (estimate.prompt_tokens, estimate.exact, estimate.fits) == (first.prompt_tokens, first.exact, True)
        # counted from the kept counts: the tokenizer was not loaded, nor the dictionary, while nobody is there
        # (unless an input event reached the app, seen once on a loaded machine: then they load for it, as they should)
        if "prepare writing" not in started:
            assert fresh_process == {}
            assert again.window.composer.edit.spelling is None
        # the person's first key press loads both (on worker threads), before any new words are counted
        qtbot.keyClick(again.window.composer.edit, Qt.Key.Key_Shift)
        await until(lambda: "o200k_base" in fresh_process and again.window.composer.edit.spelling is not None)
        qtbot.keyClicks(again.window.composer.edit, "And 3 + 3?")
        await until(lambda: again.estimates.last is not None and again.estimates.last.draft_tokens > 0)
        assert again.estimates.last.prompt_tokens > first.prompt_tokens


async def test_start_up_work_goes_on_when_the_counts_cannot_be_pruned(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:  # noqa: F811
    """Pruning the kept counts is housekeeping: a failure (a full disk) must not stop the after-first-paint work
    that follows it (the usage figures, backups, extraction and the lab are set up there)."""
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        store = parts.store
        store.call_sync(lambda: store.conn.execute("DROP TABLE token_counts"))  # any failure of the write
        await start(parts)
        assert parts.lab is not None


async def test_a_long_first_paste_is_spell_checked_once_the_draft_is_short_again(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        composer = parts.window.composer
        composer.set_text("Teh quick brown fox. " * (SPELL_LATER_CHARS // 20))  # checking it all would stall
        await enable_spelling(parts)
        assert composer.edit.spelling is None
        composer.set_text("Teh quick brown fox.")
        assert composer.edit.spelling is not None
        composer.set_text("x" * (SPELL_LATER_CHARS + 1))  # on from now on: later long drafts are checked as typed
        assert composer.edit.spelling is not None
