"""The operation runner on the real qasync loop."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtWidgets import QDialog

from desktop_assistant.controllers.notices import Level, Notice, NoticeBus
from desktop_assistant.controllers.runner import OperationRunner
from desktop_assistant.core.errors import ErrorKind, UserFacingError
from tests.conftest import next_emission


@pytest.fixture
def bus() -> NoticeBus:
    return NoticeBus()


@pytest.fixture
def runner(bus: NoticeBus) -> OperationRunner:
    return OperationRunner(bus)


async def test_runs_on_qasync_loop() -> None:
    import qasync

    assert isinstance(asyncio.get_running_loop(), qasync.QEventLoop)


async def test_cancel_keeps_partial_result(runner: OperationRunner, bus: NoticeBus) -> None:
    kept: list[str] = []
    got_two = asyncio.Event()

    async def produce() -> None:
        parts: list[str] = []
        try:
            for word in ["one", "two", "three", "four"]:
                parts.append(word)
                if word == "two":
                    got_two.set()
                await asyncio.Event().wait() if word == "two" else None
        finally:
            kept.append(" ".join(parts))

    op = runner.start("produce", produce(), key="chat:1")
    await got_two.wait()
    assert runner.cancel("chat:1")
    await asyncio.wait([op.task])
    assert op.task.cancelled()
    assert kept == ["one two"]
    assert bus.history == []  # cancelling is not an error


async def test_exception_reaches_notice_channel(runner: OperationRunner, bus: NoticeBus) -> None:
    seen: list[Notice] = []
    bus.subscribe(seen.append)

    async def fail() -> None:
        raise ValueError("boom")

    runner.start("fail", fail())
    (notice,) = await next_emission(bus.posted.connect)
    assert notice.level is Level.ERROR
    assert notice.kind is ErrorKind.INTERNAL
    assert "boom" in notice.text
    assert "Traceback" not in notice.text and "Traceback" in (notice.detail or "")
    assert seen == [notice]


async def test_user_facing_error_keeps_its_message(runner: OperationRunner, bus: NoticeBus) -> None:
    async def fail() -> None:
        raise UserFacingError(ErrorKind.BAD_KEY, "The API key was refused.")

    bus.subscribe(lambda n: None)
    runner.start("fail", fail())
    (notice,) = await next_emission(bus.posted.connect)
    assert notice.text == "The API key was refused."
    assert notice.kind is ErrorKind.BAD_KEY


async def test_notices_before_subscribe_are_replayed(bus: NoticeBus) -> None:
    bus.info("hello")
    seen: list[Notice] = []
    bus.subscribe(seen.append)
    assert [n.text for n in seen] == ["hello"]


async def test_shutdown_waits_for_pending_work(runner: OperationRunner) -> None:
    saved: list[str] = []
    started = asyncio.Event()

    async def long_job() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0.01)  # wait-ok: simulates a flush that takes a moment
            saved.append("flushed")

    runner.start("long", long_job())
    await started.wait()
    await runner.shutdown()
    assert saved == ["flushed"]
    assert runner.operations == []
    with pytest.raises(RuntimeError):
        runner.start("late", long_job())


async def test_busy_signal(runner: OperationRunner) -> None:
    states: list[bool] = []
    runner.busyChanged.connect(states.append)
    gate = asyncio.Event()

    async def job() -> None:
        await gate.wait()

    op = runner.start("job", job())
    gate.set()
    await op.task
    await asyncio.sleep(0)  # wait-ok: let the done-callback run
    assert states == [True, False]


async def test_ask_awaits_dialog_without_nested_loop(runner: OperationRunner, qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = QDialog()
    qtbot.addWidget(dialog)
    asyncio.get_running_loop().call_soon(dialog.accept)
    code = await runner.ask(dialog)
    assert code == QDialog.DialogCode.Accepted


def test_busy_count_reports_only_the_edges() -> None:
    from desktop_assistant.controllers.runner import BusyCount

    seen: list[bool] = []
    busy = BusyCount(seen.append)
    busy.add(1)
    busy.add(1)  # a second part while one runs: still busy, nothing new to say
    busy.add(-1)
    assert busy.active and seen == [True]
    busy.add(-1)
    assert not busy.active and seen == [True, False]


async def test_work_asked_for_while_closing_starts_nothing_and_raises_nothing() -> None:
    runner = OperationRunner(NoticeBus())
    ran: list[bool] = []

    async def work() -> None:
        ran.append(True)

    op = runner.start_unless_closing("before", work())
    assert op is not None
    await op.task
    await runner.shutdown()
    assert runner.start_unless_closing("during the close", work()) is None  # the coroutine is closed, unstarted
    assert ran == [True] and runner.operations == []
