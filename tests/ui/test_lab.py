"""The Lab workspace against the loopback server and a real SQLite file: versions and diffs, test sets typed and
imported, a two-model run with a failing cell (retry, ledger, export), cancel, reopen after a restart,
regressions, and the spending limit refusing a run."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTableWidgetItem

from desktop_assistant.app import AppParts
from desktop_assistant.core.lab_checks import CheckKind, make_check
from desktop_assistant.core.lab_report import CellStatus
from desktop_assistant.core.lab_testset import LabCase
from desktop_assistant.services.lab_store import LabStore
from desktop_assistant.ui.lab.testset_table import KEY_ROLE
from desktop_assistant.ui.lab.testset_table import TestSetEditor as SetEditor
from desktop_assistant.ui.lab.workspace import LabWorkspace
from tests.conftest import ended, next_emission, until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.fake_openai.wire import openai_error
from tests.ui.app_fixture import built_app, start

fake_openai = fixture.fake_openai
MODELS = ["gpt-4o-mini", "gpt-4o"]


def chat_bodies(server: FakeOpenAI) -> list[dict[str, Any]]:
    return [r.json for r in server.requests if r.path.endswith("/chat/completions")]


@asynccontextmanager
async def started_lab(root: Path, base_url: str, concurrency: int | None = None,
                      ) -> AsyncIterator[tuple[AppParts, LabWorkspace]]:
    """The app over ``root`` started, with the Lab shown and its tables read (``concurrency``: requests at once)."""
    async with built_app(root, base_url) as parts:
        await start(parts)
        assert parts.lab is not None
        if concurrency is not None:
            parts.lab.concurrency = concurrency
        yield parts, await open_lab(parts)


async def open_lab(parts: AppParts) -> LabWorkspace:
    """Show the Lab tab (built on first show) and wait until the controller has read its tables."""
    assert parts.lab is not None
    assert parts.window.findChild(LabWorkspace, "lab") is None  # not built at start-up
    loaded = next_emission(parts.lab.runsChanged.connect)
    parts.window.workspace_tabs.setCurrentIndex(2)
    await loaded
    ws = parts.window.findChild(LabWorkspace, "lab")
    assert ws is not None and parts.window.workspaces.currentWidget() is parts.window.lab_page
    assert ws.isVisible()
    return ws


async def save_prompt(ws: LabWorkspace, system: str, template: str = "Q: {{question}}", note: str = "") -> None:
    ed = ws.editor
    ed.name.setText("Support")
    ed.system.setPlainText(system)
    ed.template.setPlainText(template)
    ed.model.setCurrentText("gpt-4o-mini")
    ed.temperature.setValue(0.3)
    ed.max_tokens.setValue(200)
    ed.note.setText(note)
    shown = next_emission(ws.lab.versionsChanged.connect)
    ed.save_button.click()
    await shown


def two_cases(ws: LabWorkspace) -> None:
    contains_yes = make_check(CheckKind.CONTAINS, "yes")
    ws.test_set.set_cases([LabCase({"question": "Refund?"}, (contains_yes,), "refund"),
                           LabCase({"question": "Hours?"}, (contains_yes,))], "Questions")


async def run_all(parts: AppParts, ws: LabWorkspace, models: list[str]) -> None:
    assert parts.lab is not None
    rp = ws.run_panel
    rp.tick(rp.models, models)
    rp.run_button.click()
    await until(lambda: parts.lab is not None and parts.lab.run is not None and not parts.lab.running
                and ended(parts.runner, "lab-run"))


async def test_versions_diff_restore_and_use_in_chat(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        ws = await open_lab(parts)
        await save_prompt(ws, "Be brief.", note="first")
        await save_prompt(ws, "Be brief.\nBe kind.")
        assert ws.editor.prompts.count() == 1 and ws.editor.prompts.item(0).text() == "Support · v2"
        # saving unchanged makes no version
        refused = next_emission(ws.lab.refused.connect)
        ws.editor.save_button.click()
        (why,) = await refused
        assert "Nothing changed since Support v2" in why and ws.message.text() == why
        vv = ws.versions_view
        assert [vv.list.item(i).text() for i in range(vv.list.count())] == ["v2 · gpt-4o-mini",
                                                                            "v1 · gpt-4o-mini · first"]
        assert vv.summary.text() == "Version 1 → version 2: 1 line added."
        rows = [[vv.table.item(r, c).text() for c in range(4)] for r in range(vv.table.rowCount())]
        assert ["", "", "2", "Be kind."] in rows and ["1", "Be brief.", "1", "Be brief."] in rows
        vv.list.setCurrentRow(1)  # version 1
        shown = next_emission(ws.lab.versionsChanged.connect)
        vv.restore_button.click()
        (_name, versions) = await shown
        assert [(v.version, v.system_prompt, v.note) for v in versions][-1] == (3, "Be brief.",
                                                                               "Restored from version 1.")
        assert ws.editor.system.toPlainText() == "Be brief."
        # restoring what the newest already is makes no copy of it
        said: list[str] = []
        ws.lab.refused.connect(said.append)
        assert await ws.lab.restore("Support", 1) is None
        assert "already the same" in said[-1]
        assert [v.version for v in await parts.lab.show_versions("Support")] == [1, 2, 3]
        # a template typo is pointed out while typing
        ws.editor.template.setPlainText("Hi {{user name}}")
        assert "is not a variable" in ws.editor.problems.text()
        # a version as a new chat's system prompt
        opened = next_emission(parts.chat.conversationOpened.connect)
        ws.editor.template.setPlainText("")
        ws.editor.chat_button.click()
        await opened
        await until(lambda: parts.window.workspaces.currentIndex() == 0)
        options = parts.chat.options()  # a new chat (stored with its first message) with the version's options
        assert parts.chat.conversation is None and options.system_prompt == "Be brief."
        assert (options.temperature, options.max_output_tokens) == (0.3, 200)
        ws.editor.extraction_button.click()
        assert parts.extraction.instructions == "Be brief."
        # the Extract workspace shows them, and they can be edited or cleared there
        extract = parts.window.extract_workspace
        assert extract is not None and extract.instructions.toPlainText() == "Be brief."
        extract.instructions.clear()
        assert parts.extraction.instructions == ""


async def test_a_two_model_run_with_a_failing_cell_retry_ledger_and_export(tmp_path: Path,
                                                                          fake_openai: FakeOpenAI) -> None:
    usage = {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}
    fake_openai.enqueue(Reply(text="yes, refunds take 5 days", usage=usage),
                        Reply(status=404, error=openai_error("The model `gpt-4o` does not exist.",
                                                             code="model_not_found")),
                        Reply(text="Open 9 to 5", usage=usage),
                        Reply(text="yes <b>9-5</b>", usage=usage))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        assert parts.lab is not None
        parts.lab.concurrency = 1  # the scripted replies then meet the cells in grid order
        ws = await open_lab(parts)
        await save_prompt(ws, "Answer briefly.")
        two_cases(ws)
        await run_all(parts, ws, MODELS)
        run = parts.lab.run
        assert run is not None and [c.label for c in run.cases] == ["refund", ""]
        mini, big = run.columns
        assert (mini.model, big.model) == ("gpt-4o-mini", "gpt-4o")
        assert [run.status(c, k) for k in (0, 1) for c in run.columns] == [
            CellStatus.PASSED, CellStatus.ERROR, CellStatus.FAILED, CellStatus.PASSED]
        bodies = chat_bodies(fake_openai)
        assert [b["model"] for b in bodies] == ["gpt-4o-mini", "gpt-4o", "gpt-4o-mini", "gpt-4o"]
        assert bodies[0]["messages"] == [{"role": "system", "content": "Answer briefly."},
                                         {"role": "user", "content": "Q: Refund?"}]
        assert bodies[0]["temperature"] == 0.3 and bodies[0]["max_completion_tokens"] == 200
        assert "stream" not in bodies[0]
        grid = ws.run_panel.grid_model
        assert grid.rowCount() == 3 and grid.columnCount() == 2
        assert grid.headerData(0, Qt.Orientation.Vertical) == "1. Refund? (refund)"
        assert grid.headerData(1, Qt.Orientation.Horizontal) == "gpt-4o"
        first = grid.data(grid.index(0, 0))
        # gpt-4o-mini: 1000 x $0.15/1M + 100 x $0.60/1M = $0.00021
        assert first.startswith("yes, refunds take 5 days\n✓ · 1,000 tokens in, 100 out · $0.0002 · ")
        assert first.endswith(" s")
        assert grid.data(grid.index(0, 1)) == ("Error: The model “gpt-4o” is not available on this endpoint. "
                                               "Choose another model.")
        assert grid.data(grid.index(1, 1)).startswith("yes <b>9-5</b>\n")  # model output stays plain text
        assert grid.data(grid.index(2, 0)).startswith("1/2 checks (50%)\n$0.0004 ($0.0002 a case) · answers in ")
        assert ws.run_panel.verdict.text().startswith("gpt-4o-mini passes 1 of 2 checks")
        assert "1 request failed with an error." in ws.run_panel.verdict.text()
        assert ws.run_panel.progress.value() == 4 and ws.run_panel.progress.maximum() == 4
        assert ws.run_panel.progress.isVisibleTo(ws.run_panel)
        assert ws.run_panel.quote.text().startswith("4 requests; this run costs at most $")
        ledger = await parts.store.ledger()
        assert [e.feature for e in ledger] == ["lab"] * 3 and {e.job for e in ledger} == {f"lab-{parts.lab.run_id}"}
        assert sum(e.cost_micros or 0 for e in ledger if e.model == "gpt-4o-mini") == 420
        # the failed cell runs again
        fake_openai.enqueue(Reply(text="yes we refund", usage=usage))
        ws.run_panel.retry_button.click()
        ws.run_panel.retry_button.click()  # a double click: the cell is asked once
        await until(lambda: parts.lab is not None and parts.lab.run is not None
                    and parts.lab.run.status(big, 0) is CellStatus.PASSED and not parts.lab.running
                    and ended(parts.runner, "lab-run:retry"))
        assert len(chat_bodies(fake_openai)) == 5 and len(await parts.store.ledger()) == 4
        assert grid.data(grid.index(0, 1)).startswith("yes we refund\n✓")
        for kind in ("csv", "jsonl"):
            await parts.lab.export(str(tmp_path / f"run.{kind}"))
        rows = list(csv.DictReader(io.StringIO((tmp_path / "run.csv").read_text())))
        assert [(r["model"], r["status"]) for r in rows] == [("gpt-4o-mini", "passed"), ("gpt-4o", "passed"),
                                                             ("gpt-4o-mini", "failed"), ("gpt-4o", "passed")]
        lines = [json.loads(x) for x in (tmp_path / "run.jsonl").read_text().splitlines()]
        assert lines[0]["vars"] == {"question": "Refund?"} and lines[0]["cost_micros"] == 210


async def test_cancel_mid_run_keeps_the_finished_cells(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="yes"), Reply(text="yes", hold=True))
    async with started_lab(tmp_path, fake_openai.base_url, concurrency=1) as (parts, ws):
        await save_prompt(ws, "Answer.")
        two_cases(ws)
        ws.run_panel.tick(ws.run_panel.models, ["gpt-4o-mini"])
        ws.run_panel.run_button.click()
        await until(lambda: fake_openai.holding == 1)
        assert ws.run_panel.cancel_button.isEnabled()
        ws.run_panel.cancel_button.click()
        await until(lambda: parts.lab is not None and not parts.lab.running and ended(parts.runner, "lab-run"))
        run = parts.lab.run
        assert run is not None and [run.status(run.columns[0], k) for k in (0, 1)] == [CellStatus.PASSED,
                                                                                      CellStatus.NOT_RUN]
        assert ws.run_panel.grid_model.data(ws.run_panel.grid_model.index(1, 0)) == "not run"
        assert "1 cell has not run." in ws.run_panel.verdict.text()
        (summary,) = await parts.lab.refresh_runs("Questions")
        assert summary.status == "cancelled"
        assert not ws.run_panel.cancel_button.isEnabled()


async def test_a_run_reopens_after_a_restart_and_a_later_run_shows_regressions(tmp_path: Path,
                                                                              fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="yes"), Reply(text="yes"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        ws = await open_lab(parts)
        await save_prompt(ws, "Answer.")
        two_cases(ws)
        await run_all(parts, ws, ["gpt-4o-mini"])
        assert parts.lab is not None and parts.lab.run_id is not None
        first_id = parts.lab.run_id
    async with started_lab(tmp_path, fake_openai.base_url) as (parts, ws):
        assert ws.editor.prompts.count() == 1
        # the prompt saved last is open from the start: Run offers its versions (it was a dead end)
        await until(lambda: ws.versions_view.list.count() == 1 and ws.run_panel.versions.count() == 1)
        assert ws.editor.name.text() == "Support" and "Support" in ws.editor.prompts.currentItem().text()
        assert ws.test_set.set_name.findText("Questions") >= 0
        opened = next_emission(parts.lab.setLoaded.connect)
        ws.test_set.set_name.setCurrentText("Questions")
        ws.test_set.open_button.click()
        (_name, cases) = await opened
        assert [c.label for c in cases] == ["refund", ""] and all(c.key for c in cases)
        assert ws.run_panel.runs.count() == 1 and ws.run_panel.runs.item(0).text().startswith(f"Run {first_id} · ")
        assert " · Support: gpt-4o-mini · 2 cases" in ws.run_panel.runs.item(0).text()  # which prompt it ran
        assert ws.run_panel.runs_heading.text() == "Earlier runs of “Questions”"
        ws.run_panel.runs.setCurrentRow(0)
        ws.run_panel.open_button.click()
        await until(lambda: parts.lab is not None and parts.lab.run_id == first_id)
        assert ws.run_panel.verdict.text() == "gpt-4o-mini passes 2 of 2 checks for <$0.0001."
        # edit the set (keys stay), run again: case 1 now fails
        ws.test_set.table.insertRow(2)
        ws.test_set.table.setItem(2, 1, QTableWidgetItem("New?"))
        fake_openai.answers = {"Refund?": Reply(text="no"), "Hours?": Reply(text="yes"), "New?": Reply(text="yes")}
        ws.run_panel.run_button.click()  # the saved set would change under its earlier runs: the first click says so
        assert ws.message.text().startswith("A run saves the table as the test set “Questions”, replacing")
        assert parts.lab.run_id == first_id and len(chat_bodies(fake_openai)) == 2
        await run_all(parts, ws, ["gpt-4o-mini"])  # the second click goes on
        assert fake_openai.answers == {}  # each case got its own answer, whatever order the requests came in
        assert parts.lab.run_id != first_id and len(parts.lab.run.cases if parts.lab.run else ()) == 3
        await until(lambda: ws.run_panel.runs.count() == 2)
        ws.run_panel.runs.setCurrentRow(1)  # the first run (newest first)
        compared = next_emission(parts.lab.compared.connect)
        ws.run_panel.compare_button.click()
        (sentences,) = await compared
        assert sentences == ["This run fails 1 case that the earlier run passed: case 1 (refund). "
                             "1 case was not compared."]
        assert ws.run_panel.regressions.text() == sentences[0]


async def test_imported_cases_join_the_table_and_problems_name_their_line(tmp_path: Path,
                                                                          fake_openai: FakeOpenAI) -> None:
    source = tmp_path / "cases.csv"
    source.write_text("question,check:contains,check:max_tokens\nRefund?,yes,50\nHours?,,lots\n", encoding="utf-8")
    async with started_lab(tmp_path, fake_openai.base_url) as (parts, ws):
        await parts.lab.import_file(str(source))
        cases, problems = ws.test_set.cases()
        assert [c.values for c in cases] == [{"question": "Refund?"}, {"question": "Hours?"}] and problems == []
        assert [len(c.checks) for c in cases] == [2, 0]
        shown = ws.test_set.problems.toPlainText().splitlines()
        assert shown[0] == "Imported 2 cases." and shown[1].startswith("Line 3: check:max_tokens: the token limit")
        ws.test_set.table.setItem(0, 2, QTableWidgetItem("-4"))
        _cases, problems = ws.test_set.cases()
        assert problems and problems[0].startswith("Case 1: check:max_tokens")


async def test_the_spending_limit_refuses_a_run_before_anything_is_sent(tmp_path: Path,
                                                                         fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        assert parts.lab is not None
        parts.endpoint.update_settings(monthly_limit_usd="0.0001")
        ws = await open_lab(parts)
        await save_prompt(ws, "Answer.")
        two_cases(ws)
        refused = next_emission(parts.lab.refused.connect)
        ws.run_panel.tick(ws.run_panel.models, MODELS)
        ws.run_panel.run_button.click()
        (message,) = await refused
        assert "Not sent" in message and "these 4 requests" in message
        assert ws.message.text() == message
        assert ws.run_panel.quote.text().startswith("4 requests; this run costs at most $")
        assert chat_bodies(fake_openai) == [] and await parts.lab.refresh_runs() == []
        refused = next_emission(parts.lab.refused.connect)
        ws.run_panel.batch_button.click()
        (message,) = await refused
        assert "this batch of 4 requests" in message
        assert not [r for r in fake_openai.requests if r.path in ("/v1/files", "/v1/batches")]


async def test_a_case_without_a_template_value_is_a_cell_error_and_is_not_sent(tmp_path: Path,
                                                                              fake_openai: FakeOpenAI) -> None:
    async with started_lab(tmp_path, fake_openai.base_url) as (parts, ws):
        await save_prompt(ws, "Answer.", template="{{question}} (tone: {{tone}})")
        # (an empty table cell is an empty value; a JSONL line without the key has none)
        cases = [LabCase({"question": "Refund?", "tone": "warm"}), LabCase({"question": "Hours?"})]
        await parts.lab.run_set("Gaps", cases, ws.versions, ["gpt-4o-mini"])
        run = parts.lab.run
        assert run is not None
        assert [run.status(run.columns[0], k) for k in (0, 1)] == [CellStatus.ANSWERED, CellStatus.ERROR]  # no checks
        cell = run.cell(run.columns[0], 1)
        assert cell is not None and cell.error is not None and 'No value for the template variable "tone"' in cell.error
        assert "1 cell lacks a value for a template variable" in ws.run_panel.quote.text()
        assert [b["messages"][-1]["content"] for b in chat_bodies(fake_openai)] == ["Refund? (tone: warm)"]
        # no case can be sent at all: nothing is run (nor kept as a run of errors)
        runs = len(await parts.lab.refresh_runs())
        said: list[str] = []
        parts.lab.refused.connect(said.append)
        assert await parts.lab.run_set("Gaps", [LabCase({"question": "Hours?"})], ws.versions, ["gpt-4o-mini"]) is None
        assert "Nothing to send" in said[-1] and len(await parts.lab.refresh_runs()) == runs
        assert len(chat_bodies(fake_openai)) == 1


async def test_a_batch_run_survives_a_restart_and_fills_the_grid_at_half_price(tmp_path: Path,
                                                                               fake_openai: FakeOpenAI) -> None:
    fake_openai.batches.auto_advance = False
    async with started_lab(tmp_path, fake_openai.base_url) as (parts, ws):
        await save_prompt(ws, "Answer.")
        two_cases(ws)
        ws.run_panel.tick(ws.run_panel.models, ["gpt-4o-mini"])
        status = next_emission(parts.lab.batches.statusChanged.connect)
        ws.run_panel.batch_button.click()
        (batch_id, state) = await status
        assert state == "validating" and "The grid fills when it completes" in ws.message.text()
        assert ws.run_panel.quote.text().startswith("2 requests; this run costs at most $")
        created = next(r for r in fake_openai.requests if r.path == "/v1/batches").json
        content = fake_openai.batches.content(created["input_file_id"])
        assert content is not None
        lines = [json.loads(line) for line in content.splitlines()]
        assert [line["custom_id"] for line in lines] == ["row-0", "row-1"]
        assert lines[1]["body"]["messages"][1] == {"role": "user", "content": "Q: Hours?"}
        assert chat_bodies(fake_openai) == []
        run_id = parts.lab.run_id
        assert run_id is not None and (await parts.lab.refresh_runs())[0].status == "batch"
        # its cells are on their way: they say so, and running them again (paying twice, at full price) is not
        # offered, nor done when asked
        rp = ws.run_panel
        await until(lambda: rp.retry_button.text() == "Cells fill in when the batch is ready")
        assert not rp.retry_button.isEnabled()
        assert rp.grid_model.data(rp.grid_model.index(0, 0)) == "in the batch…"
        refused = next_emission(parts.lab.refused.connect)
        parts.lab.start_retry()
        (message,) = await refused
        assert "still on its way" in message and chat_bodies(fake_openai) == []
        await parts.lifecycle.shutdown()
    usage = {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}
    fake_openai.enqueue(Reply(text="yes", usage=usage), Reply(text="no", usage=usage))
    async with built_app(tmp_path, fake_openai.base_url) as again:
        await start(again)  # picks the batch up again
        assert again.lab is not None and again.runner.find(f"lab-batch-poll:{batch_id}") is not None
        again_rp = (await open_lab(again)).run_panel
        await again.lab.open_run(run_id)  # shown again after the restart: still in the batch
        grid = again_rp.grid_model
        await until(lambda: grid.data(grid.index(1, 0)) == "in the batch…" and not again_rp.retry_button.isEnabled())
        collected: list[int] = []
        again.lab.batches.collected.connect(collected.append)
        fake_openai.batches.complete(batch_id)
        assert await again.lab.batches.check(batch_id, run_id)  # the poll may collect first: either way, once
        await until(lambda: collected == [run_id])
        run = await again.lab.open_run(run_id)
        assert run is not None
        assert [run.status(run.columns[0], k) for k in (0, 1)] == [CellStatus.PASSED, CellStatus.FAILED]
        await until(lambda: grid.data(grid.index(1, 0)).startswith("no\n"))  # its answer, in place of the wait
        ledger = await again.store.ledger()
        assert [(e.feature, e.batch, e.job) for e in ledger] == [("lab", True, f"lab-{run_id}")] * 2
        # gpt-4o-mini at half price: (1000 x 0.15 + 100 x 0.60) / 1M / 2 = $0.000105
        assert [e.cost_micros for e in ledger] == [105, 105]
        assert await again.lab.batches.resume() == []  # collected once
        (summary,) = await again.lab.refresh_runs()
        assert summary.status == "finished"
        # the answers are kept here: the uploaded requests and the answers' file are deleted from the server
        await until(lambda: fake_openai.batches.files == {})
        assert sum(1 for r in fake_openai.requests if r.method == "DELETE") >= 2


async def test_an_empty_test_set_takes_the_prompts_variables_as_columns(tmp_path: Path,
                                                                        fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        ws = await open_lab(parts)
        table = ws.test_set.table
        headers = lambda: [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]  # noqa: E731
        assert headers() == ["input"]
        await save_prompt(ws, "Answer with the capital only.", "Capital of {{country}} ({{continent}})?")
        assert headers() == ["country", "continent"]
        two_cases(ws)  # a table with cases keeps its own columns
        await save_prompt(ws, "Answer with the capital city only.", "Capital of {{nation}}?")
        assert "question" in headers() and "nation" not in headers()


async def test_what_is_typed_in_the_prompt_form_is_never_replaced_unasked(tmp_path: Path,
                                                                         fake_openai: FakeOpenAI) -> None:
    async with started_lab(tmp_path, fake_openai.base_url) as (parts, ws):
        ed = ws.editor
        assert ed.empty_hint.isVisibleTo(ws) and "1. Write a prompt" in ed.empty_hint.text()  # where to begin
        ws.run_panel.run_button.click()  # nothing saved yet: Run says where to begin too
        assert "Write a prompt on the Prompt page" in ws.message.text()
        await save_prompt(ws, "Be brief.")
        assert not ed.empty_hint.isVisibleTo(ws)
        ed.name.setText("Greeting")  # a second prompt
        ed.system.setPlainText("Say hello.")
        shown = next_emission(ws.lab.versionsChanged.connect)
        ed.save_button.click()
        await shown
        assert not ed.unsaved() and not ed.unsaved_note.isVisibleTo(ws)
        ed.system.setPlainText("Say hello. Always sign as Anna.")
        assert ed.unsaved()
        # another prompt chosen in the list: the form keeps the changes and says how to go on
        support = next(ed.prompts.item(i) for i in range(ed.prompts.count()) if "Support" in ed.prompts.item(i).text())
        ed.prompts.setCurrentItem(support)
        assert ed.system.toPlainText() == "Say hello. Always sign as Anna."
        assert ed.unsaved_note.isVisibleTo(ws) and "Greeting" in ed.unsaved_note.text()
        assert "Greeting" in ed.prompts.currentItem().text()  # the list still shows where the changes belong
        # New prompt waits too
        ed.new_button.click()
        assert ed.name.text() == "Greeting" and ed.unsaved_note.isVisibleTo(ws)
        # a run would use the saved version, not what is typed: it is refused, nothing is sent
        two_cases(ws)
        ws.run_panel.tick(ws.run_panel.models, ["gpt-4o-mini"])
        ws.run_panel.tick(ws.run_panel.versions, ["1"])
        ws.run_panel.run_button.click()
        assert "not saved as a version" in ws.message.text() and chat_bodies(fake_openai) == []
        assert ended(parts.runner, "lab-run")
        # Discard changes: then the prompt chosen opens
        shown = next_emission(ws.lab.versionsChanged.connect)
        ed.prompts.setCurrentItem(support)
        ed.discard_button.click()
        (name, _versions) = await shown
        assert name == "Support" and ed.system.toPlainText() == "Be brief." and not ed.unsaved()
        assert not ed.unsaved_note.isVisibleTo(ws)
        # Tab moves on from the system prompt (a tab character is not what a form expects)
        assert ed.system.tabChangesFocus() and ed.template.tabChangesFocus()


async def test_a_check_that_cannot_be_read_stays_in_the_table_to_correct(tmp_path: Path,
                                                                        fake_openai: FakeOpenAI) -> None:
    async with started_lab(tmp_path, fake_openai.base_url) as (parts, ws):
        ts = ws.test_set
        ts.set_cases([LabCase({"question": "Refund?"}, (make_check(CheckKind.REGEX, "yes"),))], "Questions")
        headers = [ts.table.horizontalHeaderItem(c).text() for c in range(ts.table.columnCount())]
        regex = headers.index("check:regex")
        ts.table.setItem(0, regex, QTableWidgetItem("[0-9"))  # a typo: the pattern is not closed
        saved = next_emission(parts.lab.setsChanged.connect)
        ts.save_button.click()
        await saved
        await until(lambda: "Saved test set" in ws.message.text())
        assert ts.table.item(0, regex).text() == "[0-9"  # still there to be corrected (it was erased)
        assert "not valid" in ts.problems.toPlainText()
        # where the problems are, and that the table is not reported as saved while the set lacks the check
        assert "below the table" in ws.message.text() and "above" not in ws.message.text()
        assert ts.unsaved() and ts.unsaved_note.isVisibleTo(ts) and "not all saved" in ts.unsaved_note.text()
        head = ts.table.verticalHeaderItem(0)
        key = head.data(KEY_ROLE) if head is not None else None
        (kept,) = await parts.lab.open_set("Questions")
        assert kept.values == {"question": "Refund?"} and kept.checks == ()
        assert kept.key and key == kept.key  # the row is the saved case: a run matches it across runs
        assert ts.table.item(0, regex).text() == "[0-9"  # the set opened does not replace it either
        ts.table.setItem(0, regex, QTableWidgetItem("[0-9]"))  # corrected and saved again: all saved
        saved = next_emission(parts.lab.setLoaded.connect)
        ts.save_button.click()
        await saved
        assert ws.message.text() == "Saved test set “Questions”."
        assert not ts.unsaved() and not ts.unsaved_note.isVisibleTo(ts) and not ts.problems.isVisibleTo(ts)


async def test_what_a_run_would_cost_shows_before_run_is_clicked(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with started_lab(tmp_path, fake_openai.base_url) as (_parts, ws):
        await save_prompt(ws, "Answer.")
        two_cases(ws)
        rp = ws.run_panel
        ws.pages.setCurrentWidget(rp)
        rp.tick(rp.models, ["gpt-4o-mini"])
        await until(lambda: rp.quote.text().startswith("Before running: 2 requests; this run costs at most $"))
        assert "As a batch: at most $" in rp.quote.text()
        rp.tick(rp.models, MODELS)  # a second model: twice the requests, worked out again
        await until(lambda: rp.quote.text().startswith("Before running: 4 requests"))
        rp.tick(rp.models, [])  # nothing that can run: no figure rather than a stale one
        await until(lambda: rp.quote.text() == "")
        assert chat_bodies(fake_openai) == []


async def test_unsaved_changes_to_a_prompt_come_back_at_the_next_start(tmp_path: Path,
                                                                       fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        ws = await open_lab(parts)
        await save_prompt(ws, "Be brief.")
        ws.editor.system.setPlainText("Be brief. Always sign as Anna.")  # and the app is closed before saving
    async with built_app(tmp_path, fake_openai.base_url) as again:
        await start(again)
        ws = await open_lab(again)
        ed = ws.editor
        await until(lambda: ed.system.toPlainText() == "Be brief. Always sign as Anna.")
        await until(lambda: ws.run_panel.versions.count() == 1)  # its prompt is open: Run offers its version
        assert ed.name.text() == "Support" and ed.unsaved() and ed.unsaved_note.isVisibleTo(ws)
        shown = next_emission(ws.lab.versionsChanged.connect)
        ed.save_button.click()
        await shown
        assert not ed.unsaved()
        await again.texts.flush()  # type: ignore[union-attr]
    async with built_app(tmp_path, fake_openai.base_url) as third:  # saved: nothing is put back
        await start(third)
        ws = await open_lab(third)
        await until(lambda: ws.editor.name.text() == "Support")
        assert ws.editor.system.toPlainText() == "Be brief. Always sign as Anna." and not ws.editor.unsaved()


async def test_the_test_table_is_never_replaced_unsaved_and_is_kept_at_close(tmp_path: Path,
                                                                          fake_openai: FakeOpenAI) -> None:
    async with started_lab(tmp_path, fake_openai.base_url) as (parts, ws):
        ts = ws.test_set
        ws.pages.setCurrentWidget(ts)
        for name, question in (("Billing", "Refund?"), ("Hours", "Open on Sunday?")):
            await parts.lab.save_set(name, [LabCase({"question": question})])
        assert ts.set_name.currentText() == "Hours" and not ts.unsaved()
        ts.table.setItem(0, 0, QTableWidgetItem("Open on Monday?"))
        assert ts.unsaved()
        # opening another set waits: the edit is not lost by a click on Open
        ts.set_name.setCurrentText("Billing")
        ts.open_button.click()
        assert ts.unsaved_note.isVisible() and "Your changes to the test set “Hours” are not saved" in (
            ts.unsaved_note.text())
        assert ts.table.item(0, 0).text() == "Open on Monday?"
        # saving over another saved set asks for a second click
        ts.save_button.click()
        assert ws.message.text().startswith("A test set named “Billing” is saved already.")
        billing = await LabStore(parts.store).load_set("Billing") or []
        assert [c.values for c in billing] == [{"question": "Refund?"}]  # not replaced by the first click
        ts.set_name.setCurrentText("Sunday hours")  # another name: saved at once, and the table is saved
        saved = next_emission(parts.lab.setLoaded.connect)
        ts.save_button.click()
        await saved
        assert not ts.unsaved() and not ts.unsaved_note.isVisible()
        # an edit not saved when the app closes is back at the next start
        ts.table.setItem(0, 0, QTableWidgetItem("Open at night?"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        ws = await open_lab(parts)
        ts = ws.test_set
        ws.pages.setCurrentWidget(ts)
        await until(lambda: ts.table.rowCount() == 1)
        assert ts.table.item(0, 0).text() == "Open at night?" and ts.set_name.currentText() == "Sunday hours"
        assert ts.unsaved() and "from the last session are here, not saved yet" in ts.unsaved_note.text()
        # Discard changes after a wait opens what was asked for
        ts.set_name.setCurrentText("Billing")
        ts.open_button.click()
        opened = next_emission(parts.lab.setLoaded.connect)
        ts.unsaved_note.button.click()
        await opened
        assert ts.table.item(0, 0).text() == "Refund?" and not ts.unsaved() and not ts.unsaved_note.isVisible()


def test_checks_are_added_from_a_list_in_plain_words(qtbot: Any) -> None:
    editor = SetEditor()
    qtbot.addWidget(editor)
    menu = editor.add_check_button.menu()
    assert menu is not None
    words = {action.text(): action for action in menu.actions()}
    assert set(words) >= {"The answer contains this text", "The answer is valid JSON"}
    words["The answer contains this text"].trigger()
    header = [editor.table.horizontalHeaderItem(c).text() for c in range(editor.table.columnCount())]
    assert header[-1] == "check:contains"
    editor.table.setRowCount(1)
    editor.table.setItem(0, 0, QTableWidgetItem("Refund?"))
    editor.table.setItem(0, header.index("check:contains"), QTableWidgetItem("yes"))
    cases, problems = editor.cases()
    assert problems == [] and [c.kind for c in cases[0].checks] == [CheckKind.CONTAINS]


def test_the_runs_list_says_which_test_set_its_runs_are_of(qtbot: Any) -> None:
    from desktop_assistant.services.lab_store import RunSummary
    from desktop_assistant.ui.lab.run_panel import RunPanel

    panel = RunPanel()
    qtbot.addWidget(panel)
    runs = [RunSummary(2, "Billing", (), 3, "finished", 1.7e9), RunSummary(1, "Hours", (), 5, "finished", 1.7e9)]
    panel.set_runs(runs)  # at start, before a set is opened: every set's runs, each line naming its set
    assert panel.runs_heading.text() == "Earlier runs (every test set)"
    assert panel.runs.item(0).text().endswith(" · Billing") and panel.runs.item(1).text().endswith(" · Hours")
    panel.set_runs(runs[:1])
    assert panel.runs_heading.text() == "Earlier runs of “Billing”"
    assert not panel.runs.item(0).text().endswith("Billing")


async def test_use_as_extraction_instructions_never_loses_what_was_written_in_extract(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with started_lab(tmp_path, fake_openai.base_url) as (parts, ws):
        await save_prompt(ws, "Be brief.")
        box = parts.window.extract_workspace.instructions  # type: ignore[union-attr]
        box.insertPlainText("Dates as YYYY-MM-DD.")  # typed in Extract
        assert parts.extraction.instructions == "Dates as YYYY-MM-DD."
        # the first click replaces nothing: it says what would be replaced and how to go on
        ws.editor.extraction_button.click()
        assert box.toPlainText() == "Dates as YYYY-MM-DD." and parts.extraction.instructions == box.toPlainText()
        assert "“Dates as YYYY-MM-DD.”" in ws.message.text() and "again" in ws.message.text()
        ws.editor.extraction_button.click()  # the second click goes on
        assert box.toPlainText() == "Be brief." and parts.extraction.instructions == "Be brief."
        assert "Ctrl+Z" in ws.message.text()
        box.undo()  # and the words written in Extract come back
        assert box.toPlainText() == "Dates as YYYY-MM-DD." and parts.extraction.instructions == box.toPlainText()
        # the same text again, or an empty box, needs no second click
        box.clear()
        ws.editor.extraction_button.click()
        assert box.toPlainText() == "Be brief."


async def test_messages_name_the_version_the_form_came_from(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with started_lab(tmp_path, fake_openai.base_url) as (parts, ws):
        for system in ("One.", "Two.", "Three."):
            await save_prompt(ws, system)
        box = parts.window.extract_workspace.instructions  # type: ignore[union-attr]
        ws.editor.extraction_button.click()
        assert ws.message.text() == "Extraction now follows Support v3's system prompt as its instructions."
        ws.versions_view.openRequested.emit(ws.versions[0])  # version 1 opened from the Versions page
        assert ws.editor.system.toPlainText() == "One." and not ws.editor.unsaved()
        box.clear()
        ws.editor.extraction_button.click()
        assert ws.message.text() == "Extraction now follows Support v1's system prompt as its instructions."
        ws.editor.system.setPlainText("One, changed.")  # not saved as a version: no version number is named
        box.clear()
        ws.editor.extraction_button.click()
        assert ws.message.text() == ("Extraction now follows the unsaved system prompt of the Prompt page as its "
                                     "instructions.")
        ws.editor.system.setPlainText("One.")  # as version 1 again
        opened = next_emission(parts.chat.conversationOpened.connect)
        ws.editor.chat_button.click()
        await opened
        await until(lambda: ws.message.text() == "A new chat uses Support v1's system prompt.")


async def test_run_again_says_what_it_sends_and_costs_waits_for_a_run_and_says_what_still_fails(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    gone = Reply(status=404, error=openai_error("The model `gpt-4o-mini` does not exist.", code="model_not_found"))
    fake_openai.enqueue(gone, Reply(text="yes", hold=True))
    async with started_lab(tmp_path, fake_openai.base_url, concurrency=1) as (parts, ws):
        await save_prompt(ws, "Answer.")
        contains_yes = make_check(CheckKind.CONTAINS, "yes")
        ws.test_set.set_cases([LabCase({"question": q}, (contains_yes,)) for q in ("Refund?", "Hours?", "Why?")],
                              "Questions")
        rp = ws.run_panel
        rp.tick(rp.models, ["gpt-4o-mini"])
        rp.run_button.click()
        await until(lambda: fake_openai.holding == 1)
        # the first cell failed while the run goes on: nothing can be run again until it ends
        assert parts.lab.run is not None and parts.lab.run.status(parts.lab.run.columns[0], 0) is CellStatus.ERROR
        assert not rp.retry_button.isEnabled()
        rp.cancel_button.click()
        await until(lambda: not parts.lab.running and ended(parts.runner, "lab-run"))  # type: ignore[union-attr]
        # it names what it sends, failed and never run apart, and the most they cost, before the click
        await until(lambda: "at most $" in rp.retry_button.text())
        assert rp.retry_button.text().startswith("Run the 1 failed and 2 remaining cells (at most $")
        assert rp.retry_button.isEnabled()
        fake_openai.enqueue(gone, Reply(text="yes"), Reply(text="yes"))
        rp.retry_button.click()
        await until(lambda: parts.lab is not None and not parts.lab.sending)
        assert rp.quote.text().startswith("3 requests; this run costs at most $")  # checked as a run is
        # and afterwards: how many still fail, and why
        assert ws.message.text() == ("Ran 3 cells again: 2 answered; 1 still fails (The model “gpt-4o-mini” is not "
                                     "available on this endpoint. Choose another model).")
        await until(lambda: rp.retry_button.text().startswith("Run the 1 failed cell again (at most $"))


async def test_the_run_page_says_when_the_prompt_form_has_changes_a_run_leaves_out(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        ws = await open_lab(parts)
        await save_prompt(ws, "Be brief.")
        rp = ws.run_panel
        ws.pages.setCurrentWidget(rp)
        assert not rp.unsaved_note.isVisibleTo(ws)
        ws.pages.setCurrentWidget(ws.editor)
        ws.editor.system.setPlainText("Be brief. Sign as Anna.")
        ws.pages.setCurrentWidget(rp)
        assert rp.unsaved_note.isVisibleTo(ws)
        assert rp.unsaved_note.text().startswith("Your prompt “Support” has unsaved changes on the Prompt page")
        ws.pages.setCurrentWidget(ws.editor)
        await save_prompt(ws, "Be brief. Sign as Anna.")  # saved: a run can test it, nothing is left out
        ws.pages.setCurrentWidget(rp)
        assert not rp.unsaved_note.isVisibleTo(ws)


async def test_the_run_page_shows_no_leftovers_of_earlier_runs_as_current(tmp_path: Path,
                                                                         fake_openai: FakeOpenAI) -> None:
    fake_openai.batches.auto_advance = False
    fake_openai.enqueue(Reply(text="yes", hold=True))
    async with started_lab(tmp_path, fake_openai.base_url, concurrency=1) as (parts, ws):
        await save_prompt(ws, "Answer.")
        two_cases(ws)
        rp, grid = ws.run_panel, ws.run_panel.grid_model
        rp.tick(rp.models, ["gpt-4o-mini"])
        rp.run_button.click()
        await until(lambda: fake_openai.holding == 1)
        # the cell being asked reads so, the next one waits: neither "not run"
        assert [grid.data(grid.index(k, 0)) for k in (0, 1)] == ["running…", "waiting…"]
        fake_openai.release()
        await until(lambda: parts.lab is not None and parts.lab.run is not None and not parts.lab.sending)
        assert rp.progress.text() == "2 of 2 cells" and "running" not in grid.data(grid.index(0, 0))
        # a batch starts at 0 of its own cells, not at the count of the run shown before
        await parts.lab.save_set("Three", [LabCase({"question": q}) for q in ("A?", "B?", "C?")])
        status = next_emission(parts.lab.batches.statusChanged.connect)
        ws.test_set.set_cases([LabCase({"question": q}) for q in ("A?", "B?", "C?")], "Three")
        rp.batch_button.click()
        await status
        assert rp.progress.text() == "0 of 3 cells" and grid.rowCount() == 4
        await until(lambda: parts.lab is not None and not parts.lab.sending)
        # another set opened: the grid, the progress and the earlier runs are no longer those of "Questions"
        await parts.lab.save_set("Empty", [LabCase({"question": "Z?"})])
        ws.test_set.set_name.setCurrentText("Empty")
        opened = next_emission(parts.lab.runsChanged.connect)
        ws.test_set.open_button.click()
        await opened
        assert grid.rowCount() == 0 and rp.progress.text() == "" and rp.runs.count() == 0
        assert not rp.progress.isVisibleTo(rp)  # no run to count: no empty bar that looks like a text field
        assert rp.runs_heading.text() == "Earlier runs" and rp.verdict.text() == "Pick versions and models, then Run."


async def test_a_whole_answer_can_be_read_and_copied_and_rows_show_their_case(tmp_path: Path,
                                                                              fake_openai: FakeOpenAI) -> None:
    long = "yes, " + " ".join(f"word{i}" for i in range(80)) + " THE END"
    fake_openai.enqueue(Reply(text=long), Reply(text="yes"))
    async with started_lab(tmp_path, fake_openai.base_url, concurrency=1) as (parts, ws):
        await save_prompt(ws, "Answer.")
        contains_yes = make_check(CheckKind.CONTAINS, "yes")
        ws.test_set.set_cases([LabCase({"question": "Can I get a refund for an order I placed last month?"},
                                       (contains_yes,)), LabCase({"question": "Hours?"}, (contains_yes,))], "Q")
        await run_all(parts, ws, ["gpt-4o-mini"])
        rp, grid = ws.run_panel, ws.run_panel.grid_model
        # rows say which case they are
        assert [grid.headerData(k, Qt.Orientation.Vertical) for k in range(3)] == [
            "1. Can I get a refund for an order…", "2. Hours?", "Totals"]
        assert "placed last month?" in grid.headerData(0, Qt.Orientation.Vertical, Qt.ItemDataRole.ToolTipRole)
        assert "THE END" not in grid.data(grid.index(0, 0))  # the grid shows the start only
        # a double-click opens the whole answer, read-only, with Copy
        rect = rp.grid.visualRect(grid.index(0, 0))
        for click in (QTest.mousePress, QTest.mouseRelease, QTest.mouseDClick):  # as a double-click comes
            click(rp.grid.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
        dialog = rp.cell_dialog
        assert dialog is not None and dialog.isVisible() and dialog.text.isReadOnly()
        assert dialog.text.toPlainText().startswith(long + "\n✓ ")
        assert dialog.windowTitle() == "gpt-4o-mini · 1. Can I get a refund for an order…"
        dialog.copy_button.click()
        assert QGuiApplication.clipboard().text() == dialog.text.toPlainText()
        dialog.close()


async def test_a_figure_asked_for_as_the_app_closes_starts_nothing(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    """The Lab's estimate (after a pause in typing) and a search (after a pause too) fire from timers: one that
    fires while the app closes starts nothing (it raised "the app is closing" in the Qt loop)."""
    async with started_lab(tmp_path, fake_openai.base_url) as (parts, ws):
        await parts.lifecycle.shutdown()
        ws._estimate_now()
        parts.search.search("anything")
        assert parts.runner.operations == []


async def test_an_intent_reaching_the_window_as_it_closes_starts_nothing(tmp_path: Path,
                                                                         fake_openai: FakeOpenAI) -> None:
    async with started_lab(tmp_path, fake_openai.base_url) as (parts, ws):
        await parts.lifecycle.shutdown()
        parts.window.sidebar.renameRequested.emit(1, "A late rename")  # (a click during the close)
        ws._run("lab", parts.lab.load())  # type: ignore[union-attr]
        assert parts.runner.operations == []


async def test_the_lab_tab_opened_before_the_lab_is_ready_stays_open(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        window = parts.window
        window.show_workspace(2)  # clicked during the start, before the lab's controller exists
        await start(parts)
        workspace = window.findChild(LabWorkspace, "lab")
        assert workspace is not None and window.workspaces.currentWidget() is window.lab_page
        assert window.workspace_tabs.currentIndex() == 2
