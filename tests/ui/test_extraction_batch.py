"""The Batch API lifecycle: price beside the synchronous one, upload, create, poll, restart, collect, ledger."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from desktop_assistant.core.extraction import BatchJob, RowState
from desktop_assistant.ui.extraction.workspace import ExtractWorkspace
from tests.conftest import ended, next_emission, until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start
from tests.ui.extract_fixture import extract_parts, started_extract

fake_openai = fixture.fake_openai
TASK = {"title": "Call Bob", "priority": "low", "due_date": None, "assignee": None, "tags": []}
USAGE = {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}


async def test_batch_survives_a_restart_and_fills_the_table(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.batches.auto_advance = False
    inputs = ["call Bob", "email Ann", "book the room"]
    async with started_extract(tmp_path, fake_openai.base_url) as (parts, x):
        x.workspace.input.edit.setPlainText("\n".join(inputs))
        quoted = next_emission(x.batches.quoted.connect)
        x.workspace.quote_batch()
        sync, batch = await quoted
        assert sync is not None and batch is not None and abs(batch * 2 - sync) <= 3  # rounded per request
        assert "with the Batch API (50 % off)" in x.workspace.input.batch_price.text()
        x.workspace.input.edit.appendPlainText("one more")  # the price was for three inputs: it goes
        assert x.workspace.input.batch_price.text() == ""
        job = await x.batches.submit(inputs)
        assert job is not None and job.status == "validating" and job.total == 3
        upload = next(r for r in fake_openai.requests if r.path == "/v1/files")
        assert upload.headers["content-type"].startswith("multipart/form-data")
        created = next(r for r in fake_openai.requests if r.path == "/v1/batches").json
        assert created["endpoint"] == "/v1/chat/completions" and created["completion_window"] == "24h"
        lines = [json.loads(line) for line in fake_openai.batches.content(created["input_file_id"]).splitlines()]
        assert [line["custom_id"] for line in lines] == ["row-0", "row-1", "row-2"]
        assert lines[0]["body"]["response_format"]["json_schema"]["strict"] is True
        assert lines[0]["body"]["messages"][1]["content"] == "call Bob"
        await until(lambda: sum(1 for r in fake_openai.requests if r.path.startswith("/v1/batches/")) >= 2)
        assert "validating" in x.workspace.bulk.batch_status.text()
        assert [r.state for r in x.extraction.rows] == [RowState.PENDING] * 3
        # the app closes while the batch runs
        await parts.lifecycle.shutdown()
    fake_openai.batches.advance()
    assert fake_openai.batches.status(job.id) == "in_progress"
    fake_openai.enqueue(Reply(text=json.dumps(TASK), usage=USAGE), Reply(refusal="I can't."),
                        Reply(text='{"title": 3}', usage=USAGE))

    async with built_app(tmp_path, fake_openai.base_url) as again:
        await start(again)
        y = extract_parts(again)
        y.batches.poll_seconds = 0.01
        changed = next_emission(y.batches.jobChanged.connect)
        resumed = await y.batches.resume()
        assert [j.id for j in resumed] == [job.id]
        await changed
        await until(lambda: "in progress" in y.workspace.bulk.batch_status.text())
        collected = next_emission(y.batches.collected.connect)
        fake_openai.batches.advance()
        (batch_id,) = await collected
        assert batch_id == job.id
        assert y.workspace.bulk.batch_status.text() == "Batch completed · 3 answered, 0 failed of 3"
        rows = y.extraction.rows
        assert [r.state for r in rows] == [RowState.DONE, RowState.REFUSED, RowState.INVALID]
        assert rows[0].outcome is not None and rows[0].outcome.values == TASK
        table = y.workspace.bulk.table
        assert table.rowCount() == 3 and table.item(0, 3).text() == "Call Bob"
        assert table.item(1, 1).text() == "refused"
        ledger = await again.store.ledger()
        assert {(e.feature, e.batch) for e in ledger} == {("batch", True)} and len(ledger) == 3
        # gpt-4o-mini at half price: (1000 x 0.15 + 100 x 0.60) / 1M / 2 = $0.000105
        assert ledger[0].cost_micros == 105 and ledger[0].job == job.run_id
        # collected once: another resume finds nothing to do
        assert await y.batches.resume() == []
        shown = await y.batches.show_collected(job.id)
        assert [r.state for r in shown] == [RowState.DONE, RowState.REFUSED, RowState.INVALID]


async def test_a_batch_is_checked_against_the_limit_as_a_whole(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(monthly_limit_usd="0.001")
        x = extract_parts(parts)
        messages: list[str] = []
        x.batches.refused.connect(messages.append)
        assert await x.batches.submit([f"task {i}" for i in range(5)]) is None
        (message,) = messages
        assert "this batch of 5 requests" in message
        assert not [r for r in fake_openai.requests if r.path in ("/v1/files", "/v1/batches")]


async def test_failed_batch_lines_are_row_errors(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text=json.dumps(TASK)), Reply(status=500))
    async with started_extract(tmp_path, fake_openai.base_url) as (_parts, x):
        collected = next_emission(x.batches.collected.connect)
        await x.batches.submit(["a", "b"])
        await collected
        assert [r.state for r in x.extraction.rows] == [RowState.DONE, RowState.FAILED]
        assert "server had an error" in (x.extraction.rows[1].outcome.error or "")


async def test_clicks_while_work_is_on_its_way_are_never_paid_twice(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.batches.auto_advance = False
    async with started_extract(tmp_path, fake_openai.base_url) as (parts, x):
        ws = x.workspace
        ws.input.edit.setPlainText("call Bob\nemail Ann")
        ws.submit_batch()
        ws.submit_batch()  # a double click
        await until(lambda: ended(parts.runner, "batch-submit"))
        assert sum(1 for r in fake_openai.requests if r.method == "POST" and r.path == "/v1/batches") == 1
        assert ws.input.batch_button.isEnabled()  # free again once submitted
        # the batch's rows are on their way: Retry asks nothing (it would pay for them twice, at full price)
        assert [r.state for r in x.extraction.rows] == [RowState.PENDING] * 2
        ws.bulk.table.selectRow(0)
        assert not ws.bulk.retry_button.isEnabled()
        x.extraction.retry_row(0)
        await until(lambda: ended(parts.runner, "extraction-bulk:retry:0"))
        assert not any(r.path == "/v1/chat/completions" for r in fake_openai.requests)

        # one Extract, however often it is clicked before its answer arrives
        fake_openai.enqueue(Reply(text=json.dumps(TASK), usage=USAGE, first_byte_delay=0.3))
        ws.input.edit.setPlainText("call Bob")
        ws.extract()
        ws.extract()
        await until(lambda: not ws.input.extract_button.isEnabled())  # and the button says so while it runs
        await until(lambda: not x.extraction.running and ws.result_view.values == TASK)
        assert sum(1 for r in fake_openai.requests if r.path == "/v1/chat/completions") == 1
        assert ws.input.extract_button.isEnabled()


async def test_a_second_bulk_run_waits_for_the_first(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        x = extract_parts(parts)
        ws = x.workspace
        fake_openai.enqueue(*[Reply(text=json.dumps(TASK), usage=USAGE, first_byte_delay=0.3) for _ in range(2)])
        ws.input.edit.setPlainText("call Bob\nemail Ann")
        ws.run_bulk()
        await until(lambda: x.extraction.running)
        assert not ws.input.bulk_button.isEnabled() and not ws.input.batch_button.isEnabled()
        x.extraction.start_bulk(["book the room"])  # reached another way while the first runs
        assert "still going" in ws.refusal.text() and ws.refusal.isVisibleTo(ws)
        x.batches.start_submit(["call Bob", "email Ann"])  # nor the same inputs as a batch meanwhile
        assert not any(r.path == "/v1/batches" for r in fake_openai.requests)
        await until(lambda: not x.extraction.running and not x.extraction.bulk_running)
        assert [r.state for r in x.extraction.rows] == [RowState.DONE, RowState.DONE]
        assert sum(1 for r in fake_openai.requests if r.path == "/v1/chat/completions") == 2
        await until(lambda: ws.input.bulk_button.isEnabled())  # once the run has ended (it records its usage)


async def test_paid_answers_are_not_replaced_by_a_new_run_without_a_word(tmp_path: Path,
                                                                        fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        x = extract_parts(parts)
        ws = x.workspace
        fake_openai.enqueue(*[Reply(text=json.dumps(TASK), usage=USAGE) for _ in range(2)])
        ws.input.edit.setPlainText("call Bob\nemail Ann")
        ws.run_bulk()
        await until(lambda: len(x.extraction.rows) == 2 and not x.extraction.running and not x.extraction.bulk_running
                    and all(r.state is RowState.DONE for r in x.extraction.rows))
        first = x.extraction.run_id
        ws.input.edit.setPlainText("book the room")
        ws.run_bulk()  # the two answers were paid for and not exported: said, and kept
        assert "2 answers not exported" in ws.refusal.text() and ws.refusal.isVisibleTo(ws)
        assert x.extraction.run_id == first and len(x.extraction.rows) == 2
        await x.extraction.export(str(tmp_path / "kept.csv"))  # exported: a new run may replace them
        fake_openai.enqueue(Reply(text=json.dumps(TASK), usage=USAGE))
        ws.run_bulk()
        await until(lambda: x.extraction.run_id != first and not x.extraction.running and not x.extraction.bulk_running
                    and [r.state for r in x.extraction.rows] == [RowState.DONE])
        ws.input.edit.setPlainText("call Bob")
        ws.run_bulk()  # said once; a second click replaces them
        assert "1 answer not exported" in ws.refusal.text()
        fake_openai.enqueue(Reply(text=json.dumps(TASK), usage=USAGE))
        second = x.extraction.run_id
        ws.run_bulk()
        await until(lambda: x.extraction.run_id != second and not x.extraction.bulk_running)


async def test_a_batch_that_finishes_later_waits_while_the_table_holds_other_answers(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.batches.auto_advance = False
    async with started_extract(tmp_path, fake_openai.base_url) as (_parts, x):
        ws = x.workspace
        job = await x.batches.submit(["call Bob"])
        assert job is not None
        fake_openai.enqueue(Reply(text=json.dumps(TASK), usage=USAGE))  # a bulk run meanwhile, not exported
        ws.input.edit.setPlainText("email Ann")
        ws.run_bulk()
        await until(lambda: x.extraction.run_id != job.run_id and not x.extraction.bulk_running
                    and [r.state for r in x.extraction.rows] == [RowState.DONE])
        bulk_run = x.extraction.run_id
        fake_openai.enqueue(Reply(text=json.dumps(TASK), usage=USAGE))  # the batch's answer
        collected = next_emission(x.batches.collected.connect)
        fake_openai.batches.complete(job.id)
        await collected
        assert x.extraction.run_id == bulk_run  # the bulk run's answers stay in view
        assert ws.bulk.waiting_button.isVisibleTo(ws)
        ws.bulk.waiting_button.click()  # first: what would be replaced is said
        assert "1 answer not exported" in ws.refusal.text() and x.extraction.run_id == bulk_run
        ws.bulk.waiting_button.click()
        await until(lambda: x.extraction.run_id == job.run_id)
        assert [r.text for r in x.extraction.rows] == ["call Bob"] and not ws.bulk.waiting_button.isVisibleTo(ws)
        # an earlier batch is shown again from the list of batches collected, at no cost
        await until(lambda: ws.bulk.earlier_button.isVisibleTo(ws) and len(ws.bulk.earlier_menu.actions()) == 1)
        (line,) = [a.text() for a in ws.bulk.earlier_menu.actions()]
        assert "1 input · gpt-4o-mini · completed" in line
        await x.extraction.export(str(tmp_path / "batch.csv"))  # exported: a new run replaces it at once
        fake_openai.enqueue(Reply(text=json.dumps(TASK), usage=USAGE))
        ws.input.edit.setPlainText("email Cy")
        ws.run_bulk()
        await until(lambda: x.extraction.run_id not in (job.run_id, bulk_run) and not x.extraction.bulk_running
                    and [r.state for r in x.extraction.rows] == [RowState.DONE])
        requests_before = len(fake_openai.requests)
        ws.bulk.earlier_menu.actions()[0].trigger()  # first: what would be replaced is said
        assert "1 answer not exported" in ws.refusal.text() and x.extraction.run_id != job.run_id
        ws.bulk.earlier_menu.actions()[0].trigger()
        await until(lambda: x.extraction.run_id == job.run_id)
        assert [r.text for r in x.extraction.rows] == ["call Bob"] and len(fake_openai.requests) == requests_before


async def test_a_batch_on_its_way_can_be_cancelled(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.batches.auto_advance = False
    async with started_extract(tmp_path, fake_openai.base_url) as (parts, x):
        ws = x.workspace
        ws.input.edit.setPlainText("call Bob\nemail Ann")
        ws.submit_batch()
        await until(lambda: ws.bulk.cancel_batch_button.isVisibleTo(ws))
        job_id = ws._batch_job
        collected = next_emission(x.batches.collected.connect)
        ws.bulk.cancel_batch_button.click()
        assert not ws.bulk.cancel_batch_button.isEnabled()  # asked once
        await collected
        assert any(r.path == f"/v1/batches/{job_id}/cancel" for r in fake_openai.requests)
        assert fake_openai.batches.status(job_id) == "cancelled"
        assert [r.state for r in x.extraction.rows] == [RowState.FAILED, RowState.FAILED]
        assert ws.bulk.batch_status.text() == "Batch cancelled · 0 answered, 2 failed of 2"  # as the rows say
        assert not ws.bulk.cancel_batch_button.isVisibleTo(ws)
        assert await parts.store.ledger() == []  # nothing was answered, nothing is paid


async def test_a_batch_leaves_none_of_the_texts_on_the_server(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    """What was uploaded for a batch, and what the batch wrote, is deleted once the answers are kept here; a
    batch that could not be created leaves no upload behind."""
    fake_openai.enqueue(Reply(text=json.dumps(TASK)), Reply(status=500))
    async with started_extract(tmp_path, fake_openai.base_url) as (parts, x):
        parts.endpoint.update_settings(max_retries=0)
        failures: list[str] = []
        x.batches.submitFailed.connect(failures.append)
        fake_openai.batches.fail_next("create", 400, "Too many batches are running.")
        assert await x.batches.submit(["a", "b"]) is None
        assert "Too many batches are running." in failures[0]
        assert fake_openai.batches.files == {}  # the upload was deleted
        fake_openai.batches.fail_next("create", 400, "Too many batches are running.")
        fake_openai.batches.fail_next("delete", 500, "The server had an error.")
        assert await x.batches.submit(["a", "b"]) is None  # a delete that fails is housekeeping: said nowhere
        assert len(failures) == 2 and len(fake_openai.batches.files) == 1
        fake_openai.batches.files.clear()

        collected = next_emission(x.batches.collected.connect)
        job = await x.batches.submit(["a", "b"])
        assert job is not None
        await collected
        assert [r.state for r in x.extraction.rows] == [RowState.DONE, RowState.FAILED]
        assert fake_openai.batches.files == {}  # the input, the answers and the errors
        deleted = {r.path.rsplit("/", 1)[-1] for r in fake_openai.requests if r.method == "DELETE"}
        assert {job.input_file_id} < deleted and len(deleted) == 2 + 3  # two refused batches, this one
        assert fake_openai.violations == []


async def test_a_batch_status_line_never_widens_the_window(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.batches.auto_advance = False
    async with started_extract(tmp_path, fake_openai.base_url) as (parts, x):
        ws = x.workspace
        parts.window.show_workspace(1)
        ws.results.setCurrentWidget(ws.bulk)
        await until(lambda: ws.isVisible())
        narrowest, width = parts.window.minimumSizeHint().width(), parts.window.width()
        ws.input.edit.setPlainText("call Bob\nemail Ann")
        ws.quote_batch()
        await until(lambda: "Batch API" in ws.input.batch_price.text())
        assert ws.input.batch_price.minimumSizeHint().width() < 200  # the quote wraps too
        ws.submit_batch()
        await until(lambda: "validating" in ws.bulk.batch_status.text() and ws.bulk.batch_status.isVisible())
        assert len(ws.bulk.batch_status.text()) > 150  # a long sentence: it wraps, asking only for its longest word
        assert ws.bulk.batch_status.minimumSizeHint().width() < 200
        assert parts.window.minimumSizeHint().width() <= narrowest
        assert parts.window.width() == width


async def test_a_failed_status_check_does_not_stop_following_the_batch(tmp_path: Path,
                                                                       fake_openai: FakeOpenAI) -> None:
    fake_openai.batches.auto_advance = False
    async with started_extract(tmp_path, fake_openai.base_url) as (parts, x):
        parts.endpoint.update_settings(max_retries=0)
        ws = x.workspace
        ws.input.edit.setPlainText("call Bob\nemail Ann")
        ws.submit_batch()
        await until(lambda: "validating" in ws.bulk.batch_status.text())
        job_id = ws._batch_job

        def slow_down(job: BatchJob) -> None:  # after the failure, only Check now asks again
            if job.check_problem:
                x.batches.poll_seconds = 3600.0
        x.batches.jobChanged.connect(slow_down)
        fake_openai.batches.fail_next("retrieve", 503, "The server is overloaded.", type="server_error")
        await until(lambda: "the last status check failed" in ws.bulk.batch_status.text())
        assert "trying again at" in ws.bulk.batch_status.text()
        assert "validating" in ws.bulk.batch_status.text()  # the last status known stays
        assert parts.runner.find(f"batch-poll:{job_id}") is not None  # still followed
        assert ws.bulk.check_now_button.isVisibleTo(ws)
        fake_openai.enqueue(Reply(text=json.dumps(TASK), usage=USAGE), Reply(text=json.dumps(TASK), usage=USAGE))
        fake_openai.batches.complete(job_id)
        collected = next_emission(x.batches.collected.connect)
        ws.bulk.check_now_button.click()
        await collected
        assert [r.state for r in x.extraction.rows] == [RowState.DONE, RowState.DONE]
        assert ws.bulk.batch_status.text() == "Batch completed · 2 answered, 0 failed of 2"
        assert not ws.bulk.check_now_button.isVisibleTo(ws)


async def test_a_refused_submission_and_an_export_are_said_in_extract(tmp_path: Path,
                                                                      fake_openai: FakeOpenAI) -> None:
    async with started_extract(tmp_path, fake_openai.base_url) as (parts, x):
        parts.endpoint.update_settings(max_retries=0)
        ws = x.workspace
        ws.input.edit.setPlainText("call Bob\nemail Ann")
        notices = len(parts.notices.history)
        fake_openai.batches.fail_next("upload", 400, "File is too large.")
        ws.submit_batch()
        await until(lambda: ended(parts.runner, "batch-submit") and ws.bulk.note.text() != "")
        assert ws.bulk.note.text().startswith("The batch was not submitted (nothing is charged): ")
        assert ws.bulk.note.text().endswith("File is too large.")
        assert ws.bulk.note.isVisibleTo(ws) and ws.results.currentWidget() is ws.bulk
        fake_openai.batches.fail_next("create", 500, "The server had an error.", type="server_error")
        ws.submit_batch()
        await until(lambda: ended(parts.runner, "batch-submit") and "File is too large" not in
                    ws.bulk.note.text())
        assert ws.bulk.note.text().startswith("The batch was not submitted (nothing is charged): ")
        assert not fake_openai.batches.batches  # none was created
        assert len(parts.notices.history) == notices  # said in Extract, not in a banner of the Chat workspace

        fake_openai.enqueue(*[Reply(text=json.dumps(TASK), usage=USAGE) for _ in range(2)])
        collected = next_emission(x.batches.collected.connect)
        ws.submit_batch()
        await collected
        assert not ws.bulk.note.isVisibleTo(ws)  # it was about the submission that failed
        missing = tmp_path / "no such folder" / "results.csv"
        ws.choose_export_file()
        assert ws._export_dialog is not None
        ws._export_dialog.fileSelected.emit(str(missing))
        await until(lambda: ws.bulk.note.text() != "")
        assert ws.bulk.note.text() == (f"Not exported: the folder {missing.parent} does not exist. "
                                       "Choose another folder.")
        assert len(parts.notices.history) == notices and not missing.parent.exists()
        ws._export_dialog.fileSelected.emit(str(tmp_path / "results.csv"))
        await until(lambda: ws.bulk.note.text().startswith("Exported"))
        assert ws.bulk.note.text() == f"Exported 2 rows to {tmp_path / 'results.csv'}"
        assert (tmp_path / "results.csv").read_text().startswith("input,status,")


async def test_a_batch_is_shown_and_exported_under_its_own_schema(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    contact = {"name": "Ann Lee", "email": "ann@example.com", "phone": None, "company": "Acme", "role": None}
    headers = ["Input", "Status", "Problems", *contact]

    def shown_headers(ws: ExtractWorkspace) -> list[str]:
        table = ws.bulk.table
        return [table.horizontalHeaderItem(i).text() for i in range(table.columnCount())]

    async with started_extract(tmp_path, fake_openai.base_url) as (parts, x):
        ws = x.workspace
        ws.schema_editor.template.setCurrentText("Contact")
        fake_openai.enqueue(Reply(text=json.dumps(contact), usage=USAGE))
        collected = next_emission(x.batches.collected.connect)
        ws.input.edit.setPlainText("Ann Lee, Acme, ann@example.com")
        ws.submit_batch()
        await collected
        assert shown_headers(ws) == headers and ws.bulk.table.item(0, 3).text() == "Ann Lee"
        ws.schema_editor.template.setCurrentText("Task")  # the editor moves on: the batch's rows keep theirs
        assert shown_headers(ws) == headers and ws.bulk.table.item(0, 3).text() == "Ann Lee"
        await parts.lifecycle.shutdown()

    async with built_app(tmp_path, fake_openai.base_url) as again:
        await start(again)
        y = extract_parts(again)
        ws = y.workspace
        assert ws.schema_editor.schema.name == "task"
        await until(lambda: len(ws.bulk.earlier_menu.actions()) == 1)
        ws.bulk.earlier_menu.actions()[0].trigger()
        await until(lambda: y.extraction.run_id != "" and ws.bulk.table.rowCount() == 1)
        assert shown_headers(ws) == headers and ws.bulk.table.item(0, 3).text() == "Ann Lee"
        await y.extraction.export(str(tmp_path / "contacts.csv"))
        with (tmp_path / "contacts.csv").open(newline="") as fh:
            (row,) = list(csv.DictReader(fh))
        assert row["name"] == "Ann Lee" and row["company"] == "Acme" and "title" not in row


async def test_a_batch_row_is_asked_again_under_the_batch_schema(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    """Retrying a row the batch did not answer asks with the schema the batch used, not the one the editor holds
    now: the answer fits the table's columns."""
    contact = {"name": "Ann Lee", "email": "ann@example.com", "phone": None, "company": "Acme", "role": None}
    async with started_extract(tmp_path, fake_openai.base_url) as (parts, x):
        parts.endpoint.update_settings(max_retries=0)
        ws = x.workspace
        ws.schema_editor.template.setCurrentText("Contact")
        fake_openai.enqueue(Reply(text=json.dumps(contact), usage=USAGE), Reply(status=500))
        collected = next_emission(x.batches.collected.connect)
        ws.input.edit.setPlainText("Ann Lee, Acme, ann@example.com\nBob, Initech")
        ws.submit_batch()
        await collected
        assert [r.state for r in x.extraction.rows] == [RowState.DONE, RowState.FAILED]
        ws.schema_editor.template.setCurrentText("Task")  # the editor moves on
        bob = {**contact, "name": "Bob", "email": None, "company": "Initech"}
        fake_openai.enqueue(Reply(text=json.dumps(bob), usage=USAGE))
        ws.bulk.table.selectRow(1)
        ws.bulk.retry_button.click()
        await until(lambda: x.extraction.rows[1].state is RowState.DONE)
        sent = [r.json for r in fake_openai.requests if r.path == "/v1/chat/completions"][-1]
        assert sent["response_format"]["json_schema"]["name"] == "contact"
        assert set(sent["response_format"]["json_schema"]["schema"]["properties"]) == set(contact)
        assert ws.bulk.table.item(1, 3).text() == "Bob"  # under the table's own "name" column
        assert fake_openai.violations == []


async def test_the_reason_a_batch_failed_is_shown(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.batches.auto_advance = False
    reason = "Invalid schema for response_format 'person': 'required' is required to be supplied."
    async with started_extract(tmp_path, fake_openai.base_url) as (parts, x):
        ws = x.workspace
        ws.input.edit.setPlainText("call Bob\nemail Ann")
        ws.submit_batch()
        await until(lambda: "validating" in ws.bulk.batch_status.text())
        collected = next_emission(x.batches.collected.connect)
        fake_openai.batches.fail(ws._batch_job, reason)
        await collected
        assert ws.bulk.batch_status.text().startswith("Batch failed")
        assert reason in ws.bulk.batch_status.text()
        assert [r.state for r in x.extraction.rows] == [RowState.FAILED, RowState.FAILED]
        assert reason in ws.bulk.table.item(0, 2).text()  # each row says why, in its Problems cell
        await x.extraction.export(str(tmp_path / "failed.csv"))
        assert reason in (tmp_path / "failed.csv").read_text()
        await parts.lifecycle.shutdown()
    async with started_extract(tmp_path, fake_openai.base_url) as (_again, y):  # after a restart, still said
        ws = y.workspace
        await until(lambda: len(ws.bulk.earlier_menu.actions()) == 1)
        ws.bulk.earlier_menu.actions()[0].trigger()
        await until(lambda: ws.bulk.batch_status.text().startswith("Batch failed"))
        assert reason in ws.bulk.batch_status.text()


async def test_the_batch_status_line_agrees_with_the_rows_shown(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.batches.auto_advance = False
    async with started_extract(tmp_path, fake_openai.base_url) as (_parts, x):
        ws = x.workspace
        fake_openai.enqueue(*[Reply(text=json.dumps(TASK), usage=USAGE) for _ in range(2)])
        ws.input.edit.setPlainText("call Bob\nemail Ann")
        ws.submit_batch()
        await until(lambda: "validating" in ws.bulk.batch_status.text())
        first = ws._batch_job
        collected = next_emission(x.batches.collected.connect)
        fake_openai.batches.complete(first)
        output = fake_openai.batches.batches[first]["output_file_id"]
        fake_openai.batches.files[output].data = b'{"custom_id": "row-0", "respo'  # unreadable
        await collected
        assert [r.state for r in x.extraction.rows] == [RowState.FAILED, RowState.FAILED]
        assert ws.bulk.batch_status.text() == "Batch completed · 0 answered, 2 failed of 2"  # the server: 2 answered

        await x.extraction.export(str(tmp_path / "first.csv"))
        second = await x.batches.submit(["book the room"])
        assert second is not None
        await until(lambda: "validating" in ws.bulk.batch_status.text() and ws.bulk.cancel_batch_button.isVisibleTo(ws))
        await until(lambda: len(ws.bulk.earlier_menu.actions()) == 1)
        ws.bulk.earlier_menu.actions()[0].trigger()  # the first batch again, while the second is on its way
        await until(lambda: x.extraction.run_id != second.run_id)
        assert ws.bulk.batch_status.text() == "Batch completed · 0 answered, 2 failed of 2"
        assert not ws.bulk.cancel_batch_button.isVisibleTo(ws)
        checks = sum(1 for r in fake_openai.requests if r.path == f"/v1/batches/{second.id}")
        await until(lambda: sum(1 for r in fake_openai.requests if r.path == f"/v1/batches/{second.id}") > checks + 2)
        assert ws.bulk.batch_status.text() == "Batch completed · 0 answered, 2 failed of 2"  # not the other's line
        assert not ws.bulk.cancel_batch_button.isVisibleTo(ws)
