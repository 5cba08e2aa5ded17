"""The Extract workspace against the loopback server: both modes, nested and list fields, refusals, invalid
answers, hand-edited schemas, the spending limit and a bulk run with a failing row (retry, cost, export)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QComboBox, QLineEdit, QPlainTextEdit
from pytestqt.qtbot import QtBot

from desktop_assistant.core.extraction import RowState
from desktop_assistant.core.requests import FUNCTION_NAME
from desktop_assistant.ui import theme
from desktop_assistant.ui.extraction.schema_editor import (
    ITEM_TYPES,
    ITEMS,
    NAME,
    REQUIRED,
    TYPE,
    TYPES,
    SchemaEditor,
)
from desktop_assistant.ui.extraction.workspace import price_text
from desktop_assistant.ui.lab.workspace import LabWorkspace
from tests.conftest import next_emission, until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.fake_openai.wire import openai_error
from tests.ui.app_fixture import built_app, start
from tests.ui.extract_fixture import extract_parts
from tests.ui.test_vision import drop, png_file

fake_openai = fixture.fake_openai
TASK = {"title": "Send the report", "priority": "high", "due_date": "2025-03-14", "assignee": "Ana",
        "tags": ["report", "finance"]}
INVOICE = {"invoice_number": "INV-7", "issue_date": "2025-01-31", "vendor": "Acme", "currency": "EUR",
           "line_items": [{"description": "Bolts", "quantity": 10, "unit_price": 0.5, "amount": 5.0},
                          {"description": "Nuts", "quantity": 4, "unit_price": 0.25, "amount": 1.0}],
           "total": 6.0}


def chat_bodies(server: FakeOpenAI) -> list[dict[str, Any]]:
    return [r.json for r in server.requests if r.path.endswith("/chat/completions")]


async def test_structured_outputs_fill_the_form_and_the_ledger(tmp_path: Path, fake_openai: FakeOpenAI,
                                                               qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text=json.dumps(TASK)))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        x = extract_parts(parts)
        ws = x.workspace
        qtbot.keyClicks(ws.input.edit, "Ana must send the finance report by March 14; it's urgent.")
        done = next_emission(x.extraction.resultReady.connect)
        qtbot.mouseClick(ws.input.extract_button, Qt.MouseButton.LeftButton)
        (outcome,) = await done
        assert outcome.state is RowState.DONE and outcome.values == TASK
        body = chat_bodies(fake_openai)[-1]
        assert body["response_format"]["type"] == "json_schema"
        spec = body["response_format"]["json_schema"]
        assert spec["strict"] is True and spec["name"] == "task"
        assert spec["schema"]["additionalProperties"] is False
        assert set(spec["schema"]["required"]) == set(TASK)
        assert spec["schema"]["properties"]["due_date"]["type"] == ["string", "null"]
        assert body["temperature"] == 0 and body["max_completion_tokens"] == 2048 and "stream" not in body
        assert ws.result_view.status.text().startswith("Valid")
        shown = {ws.result_view.form.topLevelItem(i).text(0): ws.result_view.form.topLevelItem(i).text(1)
                 for i in range(ws.result_view.form.topLevelItemCount())}
        assert shown["priority"] == "high" and shown["due_date"] == "2025-03-14"
        assert json.loads(ws.result_view.raw.toPlainText()) == TASK
        ledger = await parts.store.ledger()
        assert [(e.feature, e.batch) for e in ledger] == [("extraction", False)] and ledger[0].cost_micros
        assert ledger[0].job and ledger[0].job.startswith("extract-")
        # an edit in the form is checked against the schema (nothing is sent)
        item = ws.result_view.form.topLevelItem(1)
        item.setText(1, "urgent")
        assert "do not match" in ws.result_view.status.text() and "priority" in ws.result_view.status.text()
        ws.result_view.form.topLevelItem(2).setText(1, "2025-03-15")
        item.setText(1, "low")
        assert ws.result_view.status.text() == "Edited values are valid."
        # the JSON is what the form now says (what is copied from it is what was checked)
        assert json.loads(ws.result_view.raw.toPlainText()) == {**TASK, "priority": "low", "due_date": "2025-03-15"}
        assert ws.result_view.copy_button.isEnabled()
        ws.result_view.copy_button.click()  # one result, copied as edited
        copied = QGuiApplication.clipboard().text()
        assert json.loads(copied) == {**TASK, "priority": "low", "due_date": "2025-03-15"}
        assert len(chat_bodies(fake_openai)) == 1


async def test_function_calling_with_nested_and_list_fields(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(tool_arguments=json.dumps(INVOICE)))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        x = extract_parts(parts)
        ws = x.workspace
        ws.schema_editor.template.setCurrentText("Invoice")
        ws.mode.setCurrentIndex(ws.mode.findData("function"))
        ws.input.edit.setPlainText("Invoice INV-7 from Acme, 31 Jan 2025: 10 bolts at 0.50, 4 nuts at 0.25. EUR 6.")
        done = next_emission(x.extraction.resultReady.connect)
        ws.extract()
        (outcome,) = await done
        assert outcome.state is RowState.DONE, outcome.errors
        assert outcome.values["line_items"][1] == {"description": "Nuts", "quantity": 4, "unit_price": 0.25,
                                                   "amount": 1.0}
        body = chat_bodies(fake_openai)[-1]
        assert "response_format" not in body
        assert body["tool_choice"] == {"type": "function", "function": {"name": FUNCTION_NAME}}
        function = body["tools"][0]["function"]
        assert function["strict"] is True
        items = function["parameters"]["properties"]["line_items"]
        assert items["type"] == "array" and items["items"]["additionalProperties"] is False
        assert set(items["items"]["required"]) == {"description", "quantity", "unit_price", "amount"}
        # nested values show as a tree in the form
        line_items = ws.result_view.form.topLevelItem(4)
        assert line_items.text(0) == "line_items" and line_items.childCount() == 2
        assert line_items.child(0).child(0).text(1) == "Bolts"


async def test_a_refusal_is_shown_as_a_refusal(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(refusal="I'm sorry, I can't help with that request."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        x = extract_parts(parts)
        outcome = await x.extraction.run_one("something harmful")
        assert outcome is not None and outcome.state is RowState.REFUSED
        x.workspace.result_view.show_outcome(outcome)
        assert x.workspace.result_view.status.text() == (
            "The model refused: I'm sorry, I can't help with that request.")
        assert x.workspace.result_view.form.topLevelItemCount() == 0
        assert (await parts.store.ledger())[0].feature == "extraction"


async def test_invalid_output_shows_the_validation_errors(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    # a compatible endpoint that ignores the schema: wrong types, a missing field, then not JSON at all
    fake_openai.enqueue(Reply(text=json.dumps({"title": 42, "priority": "whenever", "tags": "x"})),
                        Reply(text="Sure! The task is to send the report."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        x = extract_parts(parts)
        first = await x.extraction.run_one("a task")
        assert first is not None and first.state is RowState.INVALID
        joined = " ".join(first.errors)
        assert "title" in joined and "priority" in joined and "due_date" in joined and "tags" in joined
        x.workspace.result_view.show_outcome(first)
        assert x.workspace.result_view.status.text().startswith("The answer does not match the schema")
        assert '"title": 42' in x.workspace.result_view.raw.toPlainText()
        second = await x.extraction.run_one("a task")
        assert second is not None and second.state is RowState.INVALID
        assert second.errors[0].startswith("The answer is not valid JSON")
        x.workspace.result_view.show_outcome(second)
        assert "Sure!" in x.workspace.result_view.raw.toPlainText()


async def test_a_hand_edited_schema_is_explained_before_anything_is_sent(tmp_path: Path,
                                                                         fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        x = extract_parts(parts)
        editor = x.workspace.schema_editor
        editor.json_edit.setPlainText(json.dumps({"type": "object", "properties": {
            "name": {"type": "string", "minLength": 2}, "age": {"type": "integer"}}, "required": ["name"]}))
        assert editor.apply_json() is False
        problems = editor.problems.text()
        assert "minLength" in problems and "additionalProperties" in problems and "missing: age" in problems
        refused = next_emission(x.extraction.refused.connect)
        x.workspace.input.edit.setPlainText("Bob, 42")
        x.workspace.extract()
        (message,) = await refused
        assert "cannot be used yet" in message and x.workspace.refusal.isVisibleTo(x.workspace)
        assert chat_bodies(fake_openai) == []
        # fixed by hand: used as it is, and saved for later
        fixed = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": ["integer", "null"]}},
                 "required": ["name", "age"], "additionalProperties": False}
        editor.name.setText("person")
        editor.json_edit.setPlainText(json.dumps(fixed))
        assert editor.apply_json() is True
        assert [editor.tree.topLevelItem(i).text(0) for i in range(editor.tree.topLevelItemCount())] == ["name", "age"]
        fake_openai.enqueue(Reply(text='{"name": "Bob", "age": 42}'))
        outcome = await x.extraction.run_one("Bob, 42")
        assert outcome is not None and outcome.values == {"name": "Bob", "age": 42}
        saved = next_emission(x.extraction.schemasChanged.connect)
        editor.save_button.click()
        await saved
        assert (await x.extraction.load_schemas()) == {"person": fixed}
        assert editor.template.findText("Saved: person") >= 0
        # chosen again, its fields come back in their order (not sorted on the way, as a QVariantMap would)
        editor.template.setCurrentIndex(0)
        editor.template.setCurrentIndex(editor.template.findText("Saved: person"))
        assert [editor.tree.topLevelItem(i).text(0) for i in range(editor.tree.topLevelItemCount())] == ["name", "age"]


async def test_form_editor_builds_nested_and_list_fields(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        editor = extract_parts(parts).workspace.schema_editor
        editor.tree.clear()
        editor.add_field()
        top = editor.tree.topLevelItem(0)
        top.setText(0, "people")
        top.setText(1, "list")
        editor.tree.setCurrentItem(top)
        editor.add_child()
        top.child(0).setText(0, "name")
        editor.add_child()
        child = top.child(1)
        child.setText(0, "rating")
        child.setText(1, "integer")
        child.setText(5, "1..5")
        child.setCheckState(4, Qt.CheckState.Unchecked)
        schema = editor.schema.json_schema()
        people = schema["properties"]["people"]
        assert people["type"] == "array" and people["items"]["type"] == "object"
        assert people["items"]["properties"]["rating"] == {"type": ["integer", "null"], "minimum": 1, "maximum": 5}
        assert people["items"]["required"] == ["name", "rating"]
        assert "ready" in editor.problems.text()
        assert json.loads(editor.json_edit.toPlainText()) == schema
        # a name the form points out as wrong holds the run back too: nothing is sent with it
        child.setText(0, "Total Cost")
        assert "field name" in editor.problems.text()
        x = extract_parts(parts)
        said: list[str] = []
        x.extraction.refused.connect(said.append)
        assert await x.extraction.run_one("Ana rated it 4") is None
        assert "cannot be used yet" in said[-1] and "Total Cost" in said[-1]
        assert not [r for r in fake_openai.requests if r.path.endswith("/chat/completions")]


async def test_a_dropped_image_goes_to_a_vision_model(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text=json.dumps({**TASK, "tags": []})))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        x = extract_parts(parts)
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(png_file(tmp_path, "note.png", 800, 600)))])
        drop(x.workspace.input.edit.viewport(), mime)
        assert x.workspace.input.image_path is not None and "note.png" in x.workspace.input.note.text()
        done = next_emission(x.extraction.resultReady.connect)
        x.workspace.extract()
        (outcome,) = await done
        assert outcome.state is RowState.DONE
        content = chat_bodies(fake_openai)[-1]["messages"][1]["content"]
        assert content[-1]["type"] == "image_url" and content[-1]["image_url"]["url"].startswith("data:image/")


async def test_bulk_run_with_a_failing_row_retry_cost_and_export(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    ok = [Reply(text=json.dumps({**TASK, "title": f"Task {i}"}), usage={"prompt_tokens": 1000,
          "completion_tokens": 100, "total_tokens": 1100}) for i in range(3)]
    bad = Reply(status=400, error=openai_error("Invalid schema for response_format 'task'.",
                                               param="response_format"))
    fake_openai.enqueue(ok[0], bad, ok[1])
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        x = extract_parts(parts)
        x.extraction.concurrency = 2
        ws = x.workspace
        ws.input.edit.setPlainText("first task\nsecond task\n\nthird task\n")
        ws.run_bulk()
        await until(lambda: len(x.extraction.rows) == 3 and not x.extraction.running)
        states = [r.state for r in x.extraction.rows]
        assert states.count(RowState.DONE) == 2 and states.count(RowState.FAILED) == 1
        failed = states.index(RowState.FAILED)
        assert "Invalid schema" in ws.bulk.table.item(failed, 2).text()
        ws.bulk.table.cellDoubleClicked.emit(failed, 0)  # a row opened: its answer, field by field, or its error
        assert ws.results.currentWidget() is ws.result_view
        assert ws.result_view.status.text().startswith("Failed:") and "Invalid schema" in ws.result_view.status.text()
        ws.results.setCurrentWidget(ws.bulk)
        assert ws.bulk.table.item(failed, 1).foreground().color() == QColor(theme.colors().error)  # it stands out
        theme.set_appearance("dark")
        try:
            parts.window.follow_scheme()  # and in the colour of the scheme now in use
            assert ws.bulk.table.item(failed, 1).foreground().color() == QColor(theme.DARK.error)
        finally:
            theme.set_appearance("system")
            parts.window.follow_scheme()
        assert ws.bulk.progress.value() == 3 and ws.bulk.progress.maximum() == 3
        # gpt-4o-mini: 1000 x $0.15/1M + 100 x $0.60/1M = $0.00021 per row
        assert sum(r.outcome.cost_micros or 0 for r in x.extraction.rows if r.outcome) == 420
        assert ws.bulk.cost.text() == "cost $0.0004"
        headers = [ws.bulk.table.horizontalHeaderItem(c).text() for c in range(ws.bulk.table.columnCount())]
        assert headers == ["Input", "Status", "Problems", "title", "priority", "due_date", "assignee", "tags"]
        fake_openai.enqueue(ok[2])
        ws.bulk.table.selectRow(failed)
        ws.bulk.retry_button.click()
        await until(lambda: x.extraction.rows[failed].state is RowState.DONE and not x.extraction.running)
        assert ws.bulk.table.item(failed, 3).text() == "Task 2"
        ledger = await parts.store.ledger()
        assert len(ledger) == 3 and {e.job for e in ledger} == {x.extraction.run_id}
        assert all(e.feature == "extraction" for e in ledger)
        await x.extraction.export(str(tmp_path / "out.csv"))
        rows = list(csv.reader(io.StringIO((tmp_path / "out.csv").read_text())))
        assert rows[0][:3] == ["input", "status", "title"] and [r[1] for r in rows[1:]] == ["done"] * 3
        await x.extraction.export(str(tmp_path / "out.jsonl"))
        lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
        assert [line["input"] for line in lines] == ["first task", "second task", "third task"]


async def test_bulk_cancel_keeps_finished_rows(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text=json.dumps(TASK)), Reply(text=json.dumps(TASK), hold=True))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        x = extract_parts(parts)
        x.extraction.concurrency = 1
        x.workspace.input.edit.setPlainText("a\nb\nc")
        x.workspace.run_bulk()
        await until(lambda: fake_openai.holding == 1)
        assert x.workspace.bulk.cancel_button.isEnabled()
        x.workspace.bulk.cancel_button.click()
        await until(lambda: not x.extraction.running)
        assert [r.state for r in x.extraction.rows] == [RowState.DONE, RowState.CANCELLED, RowState.CANCELLED]


async def test_a_bulk_run_is_checked_against_the_limit_as_a_whole(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        # one row's worst case (2,048 output tokens of gpt-4o-mini) is about $0.0013; ten are over $0.01
        parts.endpoint.update_settings(monthly_limit_usd="0.01")
        x = extract_parts(parts)
        refused = next_emission(x.extraction.refused.connect)
        x.extraction.start_bulk([f"task {i}" for i in range(10)])
        (message,) = await refused
        assert "Not sent" in message and "these 10 requests" in message
        assert chat_bodies(fake_openai) == []


async def test_schema_changes_wait_for_discard_before_another_template_opens(tmp_path: Path,
                                                                            fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        editor = extract_parts(parts).workspace.schema_editor
        assert editor.template.currentText() == "Task" and not editor.unsaved()
        editor.add_field()
        added = editor.tree.topLevelItem(editor.tree.topLevelItemCount() - 1)
        added.setText(0, "total_cost")
        assert editor.unsaved()
        editor.template.setCurrentText("Contact")
        # the Task with its new field stays, and the picker says so, with a way on
        assert editor.template.currentText() == "Task"
        names = [editor.tree.topLevelItem(i).text(0) for i in range(editor.tree.topLevelItemCount())]
        assert "total_cost" in names
        assert editor.unsaved_note.isVisibleTo(editor) and "Discard changes" in editor.unsaved_note.text()
        editor.discard_button.click()
        assert editor.template.currentText() == "Contact" and not editor.unsaved()
        assert not editor.unsaved_note.isVisibleTo(editor)
        # saved: the picker shows the schema saved, and choosing another needs no discarding
        editor.add_field()
        editor.tree.topLevelItem(editor.tree.topLevelItemCount() - 1).setText(0, "twitter")
        editor.name.setText("my_contact")
        saved = next_emission(parts.extraction.schemasChanged.connect)
        editor.save_button.click()
        await saved
        assert editor.template.currentText() == "Saved: my_contact" and not editor.unsaved()
        editor.template.setCurrentText("Task")
        assert editor.template.currentText() == "Task" and not editor.unsaved_note.isVisibleTo(editor)


async def test_a_csv_s_column_with_the_text_is_offered_first(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        panel = extract_parts(parts).workspace.input
        panel.edit.setPlainText("id,date,review\n1,2025-03-14,Great service and a fast reply\n2,2025-03-15,Rude\n")
        panel.source.setCurrentText("CSV column")
        assert panel.column.isVisibleTo(panel) and panel.column.currentText() == "review"  # not "id"
        assert panel.bulk_inputs()[0] == ["Great service and a fast reply", "Rude"]
        panel.column.setCurrentText("date")  # a choice made stays while the text changes
        panel.edit.appendPlainText("3,2025-03-16,Fine")
        assert panel.column.currentText() == "date"


async def test_a_saved_json_schema_the_form_cannot_hold_opens_as_json(tmp_path: Path,
                                                                     fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        x = extract_parts(parts)
        person = {"type": "object", "properties": {"first-name": {"type": "string"}},
                  "required": ["first-name"], "additionalProperties": False}  # valid in strict mode
        await x.extraction.save_schema("person", person)
        editor = x.workspace.schema_editor
        await until(lambda: editor.template.findText("Saved: person") >= 0)
        editor.template.setCurrentText("Saved: person")
        assert x.extraction.schema.json_schema() == person
        assert x.extraction.problems() == []  # usable as it was saved (the form's name rule is not its)


def test_a_field_type_is_chosen_from_a_list_and_required_is_a_check_box(qtbot: QtBot) -> None:
    editor = SchemaEditor()
    qtbot.addWidget(editor)
    editor.show()
    tree = editor.tree
    item = tree.topLevelItem(0)
    assert item is not None and item.text(TYPE) == "string"
    tree.setCurrentItem(item, TYPE)
    tree.editItem(item, TYPE)
    box = tree.findChild(QComboBox)
    assert box is not None and [box.itemText(i) for i in range(box.count())] == TYPES
    assert box.currentText() == "string"
    box.setCurrentIndex(box.findText("integer"))
    box.activated.emit(box.currentIndex())  # a click on "integer" in the list
    assert item.text(TYPE) == "integer"
    assert editor.schema.json_schema()["properties"][item.text(NAME)]["type"] == "integer"
    tree.editItem(item, ITEMS)
    lists = [b for b in tree.findChildren(QComboBox) if b.isVisible()]
    offered = [lists[0].itemText(i) for i in range(lists[0].count())] if lists else []
    assert offered == ["", *ITEM_TYPES] and "list" not in offered  # no list of lists
    lists[0].hidePopup()
    tree.closePersistentEditor(item, ITEMS)
    before = len(tree.findChildren(QLineEdit))
    tree.editItem(item, REQUIRED)  # no text editor for the check box's column
    assert len(tree.findChildren(QLineEdit)) == before


async def test_the_schema_its_choice_and_the_mode_come_back_after_a_restart(tmp_path: Path,
                                                                            fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        x = extract_parts(parts)
        ws, editor = x.workspace, x.workspace.schema_editor
        ws.mode.setCurrentIndex(ws.mode.findData("function"))
        editor.template.setCurrentText("Contact")
        editor.tree.topLevelItem(0).setText(NAME, "full_name")  # changed, not saved
        in_use = x.extraction.schema.json_schema()
        assert "full_name" in in_use["properties"]
        await parts.lifecycle.shutdown()

    async with built_app(tmp_path, fake_openai.base_url) as again:
        await start(again)
        y = extract_parts(again)
        ws, editor = y.workspace, y.workspace.schema_editor
        assert y.extraction.mode == "function" and ws.mode.currentData() == "function"
        assert y.extraction.schema.json_schema() == in_use and y.extraction.schema.name == "contact"
        assert editor.template.currentText() == "Contact" and editor.unsaved()  # still a change to the template
        assert editor.tree.topLevelItem(0).text(NAME) == "full_name"
        editor.name.setText("my_contact")
        assert y.extraction.schema.name == "my_contact"  # the name typed is the name sent (and saved)
        editor.save_button.click()
        await until(lambda: editor.template.currentText() == "Saved: my_contact")
        await again.lifecycle.shutdown()

    async with built_app(tmp_path, fake_openai.base_url) as third:
        await start(third)
        z = extract_parts(third)
        editor = z.workspace.schema_editor
        await until(lambda: editor.template.findText("Saved: my_contact") >= 0)
        assert editor.template.currentText() == "Saved: my_contact" and not editor.unsaved()
        assert z.extraction.schema.name == "my_contact" and z.extraction.schema.json_schema() == in_use


async def test_json_typed_but_not_applied_is_used_by_extract_or_refused(tmp_path: Path,
                                                                        fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        x = extract_parts(parts)
        ws, editor = x.workspace, x.workspace.schema_editor
        person = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": ["integer", "null"]}},
                  "required": ["name", "age"], "additionalProperties": False}
        editor.json_edit.setPlainText(json.dumps(person))  # typed; Use this JSON not clicked
        assert "not in use yet" in editor.problems.text() and "ready" not in editor.problems.text()
        fake_openai.enqueue(Reply(text='{"name": "Bob", "age": 42}'))
        ws.input.edit.setPlainText("Bob, 42")
        done = next_emission(x.extraction.resultReady.connect)
        ws.extract()
        (outcome,) = await done
        assert chat_bodies(fake_openai)[-1]["response_format"]["json_schema"]["schema"] == person
        assert outcome.values == {"name": "Bob", "age": 42} and x.extraction.schema.json_schema() == person
        assert editor.problems.text().startswith("The schema is ready")
        sent = len(chat_bodies(fake_openai))
        editor.json_edit.setPlainText('{"type": "object", "properties": {')  # cut short
        ws.extract()
        assert "cannot be read" in ws.refusal.text() and "Use this JSON" in ws.refusal.text()
        assert ws.refusal.isVisibleTo(ws) and x.extraction.schema.json_schema() == person
        ws.run_bulk()
        assert "cannot be read" in ws.refusal.text()
        await until(lambda: not x.extraction.running)
        assert len(chat_bodies(fake_openai)) == sent  # nothing was sent with the old schema


async def test_messages_about_an_earlier_schema_do_not_stay(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        x = extract_parts(parts)
        ws, editor = x.workspace, x.workspace.schema_editor
        ws.input.edit.setPlainText("Ana must send the finance report by March 14; it's urgent.")
        first = editor.tree.topLevelItem(0)
        first.setText(NAME, "the title")  # not a field name
        ws.extract()
        await until(lambda: ws.refusal.isVisibleTo(ws))
        assert ws.refusal.text().startswith("The schema cannot be used yet")
        first.setText(NAME, "title")  # fixed: the message goes
        assert not ws.refusal.isVisibleTo(ws)
        fake_openai.enqueue(Reply(text=json.dumps(TASK)))
        done = next_emission(x.extraction.resultReady.connect)
        ws.extract()
        await done
        assert ws.result_view.status.text().startswith("Valid")
        while editor.tree.topLevelItemCount():  # every field removed: the result is no longer said to be valid
            editor.tree.setCurrentItem(editor.tree.topLevelItem(0))
            editor.remove_field()
        assert not ws.result_view.status.text().startswith("Valid")
        assert "before your last change" in ws.result_view.status.text()


async def test_extract_fits_a_small_window_without_squeezing_its_buttons(tmp_path: Path,
                                                                         fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window = parts.window
        extract_parts(parts)
        window.show_workspace(1)
        # an 800 px wide window holds Extract at its minimum: the buttons were squeezed to "tun in bul" in one row
        workspace = extract_parts(parts).workspace
        width = workspace.minimumSizeHint().width()
        assert width <= 800, width
        # and it does not hold the window to it: snapped to half a 1366 px screen, it scrolls (Chat needs less)
        window.show_workspace(2)  # the Lab too
        await until(lambda: parts.window.findChild(LabWorkspace, "lab") is not None)
        minimum = window.minimumSizeHint()
        assert minimum.width() <= 683 and minimum.height() <= 500, minimum
        window.show_workspace(1)
        window.resize(683, 500)
        await until(lambda: workspace.width() >= workspace.minimumSizeHint().width())  # not squeezed: it scrolls
        editor = workspace.findChild(QPlainTextEdit, "schema_json")
        assert editor is not None and editor.tabChangesFocus()  # Tab moves on (it typed tabs into the schema)


def test_both_prices_of_a_batch_are_worst_cases() -> None:
    assert price_text(2_000, 1_000, 3) == ("3 requests · at most $0.001 with the Batch API (50 % off) · "
                                           "at most $0.002 run now")
