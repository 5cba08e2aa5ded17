"""Shared fixtures: every async test runs on the real qasync loop, offscreen."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtWidgets import QApplication

from desktop_assistant.controllers.event_loop import make_event_loop


def _qasync_loop() -> asyncio.AbstractEventLoop:
    app = QApplication.instance() or QApplication([])
    return make_event_loop(app)


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_gui_thread() -> Iterator[None]:
    """Collect garbage between tests on this (the GUI) thread.

    Python's collector runs on whichever thread allocates; a closed qasync loop's Qt timers destroyed on the
    fake server's thread crash Qt later. Collecting here keeps every Qt object's death on the GUI thread. What
    the app moved out of the collector's reach (``gc.freeze`` after start-up) is handed back first, so a
    test's garbage never outlives it.
    """
    yield
    gc.unfreeze()
    gc.collect()


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    """Run async tests on qasync's loop, so Qt signals and asyncio tasks share one loop as in the app."""
    return {"qasync": _qasync_loop}


async def next_emission(connect: Callable[[Callable[..., None]], Any], timeout: float = 10.0) -> tuple[Any, ...]:
    """Await the next emission of a signal (pass its ``connect``); returns the signal's arguments."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[tuple[Any, ...]] = loop.create_future()

    def slot(*args: Any) -> None:
        if not future.done():
            future.set_result(args)

    connect(slot)
    return await asyncio.wait_for(future, timeout)


def _package_dir(module: Any) -> str:
    return os.path.dirname(os.path.abspath(module.__file__))


async def threads_quiet(timeout: float = 10.0) -> None:
    """Wait until no other thread runs the app's or tiktoken's code: work a closed app (or an earlier test) left
    on worker threads has finished, so what happens next is the doing of what the test does next."""
    import tiktoken

    import desktop_assistant

    dirs = tuple(_package_dir(m) + os.sep for m in (desktop_assistant, tiktoken))
    me = threading.get_ident()

    def busy() -> bool:
        for ident, frame in sys._current_frames().items():
            f = None if ident == me else frame
            while f is not None:
                if os.path.abspath(f.f_code.co_filename).startswith(dirs):
                    return True
                f = f.f_back
        return False

    await until(lambda: not busy(), timeout)


def shown_tip(tip: str) -> str:
    """The text a tooltip shows (rich text read as a person sees it)."""
    from PySide6.QtGui import QTextDocument

    document = QTextDocument()
    document.setHtml(tip)
    return document.toPlainText()


def ended(runner: Any, key: str) -> bool:
    """No operation started with ``key`` is left in ``runner``: it has ended and its ``finished`` was emitted
    (``runner.find`` stops seeing a task as soon as it is done, a turn of the loop before that)."""
    return all(op.key != key for op in runner.operations)


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the loop run until ``predicate()`` holds; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)  # wait-ok: yields to the loop while polling a condition
