"""The prompt lab's tables on a real SQLite file: immutable versions, test sets with keys, runs that reopen."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop_assistant.core.lab_checks import CheckKind, make_check, run_checks
from desktop_assistant.core.lab_report import Cell, CellStatus, Run, RunColumn, compare_runs
from desktop_assistant.core.lab_testset import LabCase
from desktop_assistant.core.prompts import PromptVersion
from desktop_assistant.services.lab_store import LabStore
from desktop_assistant.services.store import Store


def _v(system: str, **kw: object) -> PromptVersion:
    return PromptVersion(name="Support", version=0, system_prompt=system, **kw)  # type: ignore[arg-type]


async def test_every_save_is_a_new_numbered_version_and_old_ones_cannot_change(store: Store) -> None:
    lab = LabStore(store)
    first = await lab.save_version(_v("Be brief.", note="first"))
    second = await lab.save_version(_v("Be brief and kind.", temperature=0.2, user_template="Q: {{question}}"))
    await lab.save_version(PromptVersion(name="Other", version=0, system_prompt="x"))
    assert (first.version, second.version) == (1, 2)
    assert second.created_at >= first.created_at > 0
    versions = await lab.versions("Support")
    assert [(v.version, v.system_prompt, v.note) for v in versions] == [(1, "Be brief.", "first"),
                                                                       (2, "Be brief and kind.", "")]
    assert versions[1].temperature == 0.2 and versions[1].user_template == "Q: {{question}}"
    assert [(v.name, v.version) for v in await lab.latest_versions()] == [("Other", 1), ("Support", 2)]
    assert await lab.version("Support", 1) == versions[0]
    assert await lab.version("Support", 9) is None
    with pytest.raises(sqlite3.IntegrityError, match="cannot be changed"):
        await store.write(lambda c: c.execute("UPDATE lab_prompt_versions SET system_prompt='hacked'"))
    assert (await lab.versions("Support"))[0].system_prompt == "Be brief."


async def test_a_test_set_keeps_its_case_keys_and_checks(store: Store) -> None:
    lab = LabStore(store)
    cases = [LabCase({"question": "Refund?"}, (make_check(CheckKind.CONTAINS, "refund", ignore_case=True),
                                                make_check(CheckKind.MAX_TOKENS, "50")), "refund"),
             LabCase({"question": "Hi"}, (make_check(CheckKind.JSON),))]
    saved = await lab.save_set("Questions", cases)
    assert all(c.key for c in saved) and len({c.key for c in saved}) == 2
    again = await lab.save_set("Questions", [*saved, LabCase({"question": "New"})])
    assert [c.key for c in again[:2]] == [c.key for c in saved]  # an edit keeps the keys
    loaded = await lab.load_set("Questions")
    assert loaded == again
    assert await lab.set_names() == ["Questions"]
    await lab.delete_set("Questions")
    assert await lab.load_set("Questions") is None


async def test_a_run_and_its_cells_reopen_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "lab.sqlite3"
    store = Store(path)
    store.open()
    lab = LabStore(store)
    cases = tuple(await lab.save_set("S", [LabCase({"input": "a"}, (make_check(CheckKind.CONTAINS, "yes"),)),
                                           LabCase({"input": "b"}, (make_check(CheckKind.CONTAINS, "yes"),))]))
    columns = (RunColumn(1, "gpt-4o-mini", "P"), RunColumn(1, "gpt-4o", "P"))
    run_id = await lab.create_run(Run(cases, columns, (), "S"))
    good = Cell(columns[0], 0, "yes", run_checks(cases[0].checks, "yes", len), 10, 1, 3, 120)
    await lab.add_cell(run_id, 0, good)
    await lab.add_cell(run_id, 1, Cell(columns[1], 0, error="The model is unavailable."))
    await lab.add_cell(run_id, 1, Cell(columns[1], 0, "no", run_checks(cases[0].checks, "no", len), 10, 1, 40, 90))
    store.close_sync()

    reopened = Store(path)
    reopened.open()
    try:
        lab = LabStore(reopened)
        assert await lab.interrupted() == 1  # left "running": it reads as cancelled now
        (summary,) = await lab.runs("S")
        assert (summary.id, summary.cases, summary.columns, summary.status) == (run_id, 2, columns, "cancelled")
        stored = await lab.load_run(run_id)
        assert stored is not None and stored.run.cases == cases and stored.run.columns == columns
        run = stored.run
        assert run.cell(columns[0], 0) == good
        assert run.status(columns[1], 0) is CellStatus.FAILED  # the retried cell replaced the error
        assert run.status(columns[0], 1) is CellStatus.NOT_RUN
        later = Run(cases, columns, (Cell(columns[0], 0, "no", run_checks(cases[0].checks, "no", len)),), "S")
        sentences = [r.sentence() for r in compare_runs(run, later)]
        assert sentences[0].startswith("This run fails 1 case that the earlier run passed: case 1.")
        assert await lab.runs("other") == []
        assert await lab.load_run(run_id + 1) is None
    finally:
        reopened.close_sync()
