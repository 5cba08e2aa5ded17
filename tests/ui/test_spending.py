"""The spending limit holds before anything is sent; the usage panel and export show what was spent."""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QPushButton
from pytestqt.qtbot import QtBot

from desktop_assistant.core.models import Status
from desktop_assistant.core.usage import Breakdown, Totals
from desktop_assistant.ui.usage.usage_panel import breakdown_table, fill_table
from tests.conftest import until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start

fake_openai = fixture.fake_openai
USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}


def chat_requests(server: FakeOpenAI) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/chat/completions"))


async def test_over_the_limit_nothing_is_sent_and_the_draft_stays(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                   qtbot: QtBot) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        # gpt-4o-mini: 4,096 output tokens at $0.60/1M is about $0.0025 at worst; allow only $0.001
        parts.endpoint.update_settings(monthly_limit_usd="0.001")
        composer = parts.window.composer
        qtbot.keyClicks(composer.edit, "An expensive question")
        qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
        await until(lambda: composer.refusal.isVisibleTo(composer))
        assert "Not sent" in composer.refusal.text() and "draft is kept" in composer.refusal.text()
        banner = parts.window.banner
        assert banner.isVisibleTo(parts.window)  # the numbers, wrapped, with the way forward beside them
        message = banner.label.text()
        assert "Not sent" in message and "$0.001" in message and "monthly limit" in message
        assert banner.action.text() == "Open settings" and banner.action.isVisibleTo(parts.window)
        assert composer.text == "An expensive question"
        assert chat_requests(fake_openai) == 0
        assert parts.chat.conversation is None  # nothing stored either

        # raised in Settings, typed with a decimal comma as many people write it: $2.50, not $250
        banner.action.click()
        dialog = parts.window.settings_dialog
        assert dialog is not None and dialog.isVisible()
        assert dialog.tabs.currentWidget() is dialog.spending  # where the limit is, whatever tab was shown last
        dialog.spending.monthly.setText("2,50")
        dialog._save()
        await until(lambda: parts.endpoint.settings.monthly_limit_usd == "2.5")
        assert parts.usage.limits.monthly_micros == 2_500_000
        await until(lambda: not composer.refusal.isVisibleTo(composer))  # the refusal no longer holds: gone
        # the status line and Usage show the new limits at once (not at the next reply), the daily one too
        await until(lambda: parts.window.month_label.text().endswith("of $2.50"))
        dialog.open()
        dialog.spending.daily.setText("0.50")
        dialog._save()
        parts.window.show_workspace(3)
        await until(lambda: parts.window.month_label.text().endswith("of $2.50 · today $0.00 of $0.50"))
        limit_line = parts.window.usage_panel.limit_label
        await until(lambda: "daily limit" in limit_line.text())
        assert "of your $2.50 limit" in limit_line.text() and "of your $0.50 daily limit" in limit_line.text()
        parts.window.show_workspace(0)
        dialog.open()
        dialog.spending.monthly.setText("0,150")  # neither cents nor thousands: refused, not guessed
        dialog._save()
        assert "not an amount in dollars" in dialog.spending.problem.text() and dialog.isVisible()
        assert parts.endpoint.settings.monthly_limit_usd == "2.5"
        dialog.spending.monthly.textEdited.emit("0.15")  # being corrected: what was said about it goes
        assert dialog.spending.problem.text() == ""
        prices = dialog.spending.prices
        rows = prices.rowCount()
        dialog.spending.findChild(QPushButton, "add_price_button").click()  # a new row, its model name being typed
        assert prices.rowCount() == rows + 1 and prices.currentRow() == rows and prices.currentColumn() == 0
        assert prices.state() == QAbstractItemView.State.EditingState
        assert "Dollars per 1M output tokens" in prices.horizontalHeaderItem(3).toolTip()


async def test_eighty_percent_warns_and_sends(tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="fine"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(monthly_limit_usd="0.003", default_max_output_tokens=4096)
        qtbot.keyClicks(parts.window.composer.edit, "hello")
        qtbot.keyClick(parts.window.composer.edit, Qt.Key.Key_Return)
        await until(lambda: len(parts.chat.path) == 2 and parts.chat.path[-1].status is Status.COMPLETE
                    and not parts.chat.streaming)
        assert parts.window.banner.isVisibleTo(parts.window)
        assert "Near your monthly limit: with this request" in parts.window.banner.label.text()
        assert chat_requests(fake_openai) == 1
        parts.window.new_chat()  # about a request of that conversation: it goes with it
        assert not parts.window.banner.isVisibleTo(parts.window)
        parts.endpoint.update_settings(monthly_limit_usd="0.001")
        qtbot.keyClicks(parts.window.composer.edit, "hello again")
        qtbot.keyClick(parts.window.composer.edit, Qt.Key.Key_Return)  # now past the limit: refused
        await until(lambda: "Not sent" in parts.window.banner.label.text() and parts.window.banner.isVisible())
        parts.window._on_model_chosen("gpt-4.1-nano")  # a cheaper model: the refusal was about the one before
        assert not parts.window.banner.isVisibleTo(parts.window) and not parts.window.composer.refusal.isVisible()


async def test_regenerate_is_checked_too(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="first", usage=USAGE))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send("hello")
        await until(lambda: len(parts.chat.path) == 2 and parts.chat.path[-1].status is Status.COMPLETE
                    and not parts.chat.streaming)
        parts.endpoint.update_settings(daily_limit_usd="0.0001")
        await parts.chat.regenerate()
        await until(lambda: not parts.chat.streaming and parts.chat.path[-1].status is Status.ERROR)
        assert "daily limit" in (parts.chat.path[-1].error or "")
        assert chat_requests(fake_openai) == 1


async def test_usage_panel_prices_overrides_and_csv(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="one", usage=USAGE), Reply(text="two", usage=USAGE))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send("first")
        await until(lambda: len(parts.chat.path) == 2 and parts.chat.path[-1].status is Status.COMPLETE
                    and not parts.chat.streaming)
        # gpt-4o-mini: 1000 x $0.15/1M + 500 x $0.60/1M = $0.00045
        assert parts.chat.path[-1].cost_micros == 450
        # the person's own price wins from the next call on
        settings = parts.endpoint.settings.copy(
            price_overrides={"gpt-4o-mini": {"input": "1.00", "output": "2.00"}})
        await parts.endpoint.save(settings, None)
        await parts.chat.send("second")
        await until(lambda: len(parts.chat.path) == 4 and parts.chat.path[-1].status is Status.COMPLETE
                    and not parts.chat.streaming)
        assert parts.chat.path[-1].cost_micros == 2000
        parts.window.show_workspace(2)
        report = await parts.usage.refresh()
        assert report.month.cost_micros == 2450 and report.month.calls == 2
        panel = parts.window.usage_panel
        assert panel.month.amount.text() == "$0.0025"
        assert panel.month.detail.text().startswith("2 calls ·")
        assert panel.by_model.item(0, 0).text() == "gpt-4o-mini"
        assert panel.by_feature.item(0, 0).text() == "Chat"  # as the app names it, not the ledger's key
        # the chart's figures in a table too: today's spend, readable without a mouse over a bar
        assert panel.by_day.rowCount() == 1 and panel.by_day.item(0, 1).text() == "$0.0025"
        assert panel.by_day.item(0, 0).text() == report.daily[-1][0].strftime("%a %d %b %Y")
        assert "this month $0.0025" in parts.window.month_label.text()
        target = tmp_path / "usage.csv"
        await parts.usage.export_csv(str(target))
        rows = list(csv.DictReader(target.open()))
        assert [r["cost_usd"] for r in rows] == ["0.000450", "0.002000"]
        assert {r["feature"] for r in rows} == {"chat"}


async def test_a_whole_job_is_checked_as_one(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(monthly_limit_usd="1")
        one = parts.usage.prices.worst_case_micros("gpt-4o-mini", 1000, 1000, batch=True)
        assert one is not None
        assert (await parts.usage.check_total(one * 1000)).allowed  # $0.375 of $1
        refused = await parts.usage.check_total(one * 3000)  # $1.125
        assert not refused.allowed and "$1.13" in refused.message
        # a request without a price: a local server (this loopback one) bills nothing, so it may go
        assert (await parts.usage.check_total(None)).allowed


async def test_breakdown_period(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="one", usage=USAGE))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send("first")
        await until(lambda: len(parts.chat.path) == 2 and parts.chat.path[-1].status is Status.COMPLETE
                    and not parts.chat.streaming)
        panel = parts.window.usage_panel
        panel.period.setCurrentIndex(panel.period.findData("today"))
        await until(lambda: parts.usage.breakdown_period == "today")
        report = await parts.usage.refresh()
        assert [b.name for b in report.by_model] == ["gpt-4o-mini"]


async def test_a_limit_that_cannot_be_read_holds_sends_back_and_says_why(tmp_path: Path,
                                                                        fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        # kept by an older version that read it differently: never taken as "no limit"
        parts.endpoint.update_settings(monthly_limit_usd="0,150")
        await parts.chat.send("An expensive question")
        assert chat_requests(fake_openai) == 0 and parts.chat.conversation is None
        assert parts.window.banner.isVisibleTo(parts.window)
        said = [n.text for n in parts.notices.history if "cannot be read" in n.text]
        assert len(said) == 1 and "“0,150”" in said[0] and "Settings → Spending and prices" in said[0]
        await parts.chat.send("Another question")  # still held back, not said again
        assert chat_requests(fake_openai) == 0
        assert len([n for n in parts.notices.history if "cannot be read" in n.text]) == 1


def test_a_cost_with_unpriced_calls_stays_on_one_line_and_says_why(qtbot: QtBot) -> None:
    table = breakdown_table("usage_by_model", "Model")
    qtbot.addWidget(table)
    table.resize(520, 200)
    table.show()
    fill_table(table, [Breakdown("my-local-model", Totals(calls=3, cost_micros=12_300, unpriced_calls=2)),
                       Breakdown("gpt-4o-mini", Totals(calls=1, cost_micros=100))])
    cost = table.item(0, 4)
    assert cost.text() == "$0.0123 + unpriced"
    assert "2 of these calls used a model without a price" in cost.toolTip()
    assert table.item(1, 4).toolTip() == ""
    qtbot.waitUntil(lambda: table.columnWidth(4) >= table.fontMetrics().horizontalAdvance(cost.text()))
    assert not table.wordWrap()
    # as tall as its two rows: no block of empty grid under them, and no scroll bar either
    rows = table.rowHeight(0) + table.rowHeight(1)
    assert rows <= table.viewport().height() < rows + table.rowHeight(0)
    assert not table.verticalScrollBar().isVisible()


def test_one_call_is_said_as_one_call() -> None:
    from desktop_assistant.core.usage import Totals
    from desktop_assistant.ui.usage.usage_panel import totals_text

    assert totals_text(Totals(calls=1, input_tokens=11, output_tokens=3)).startswith("1 call · 11 in / 3 out")
    assert totals_text(Totals(calls=2)).startswith("2 calls ·")
