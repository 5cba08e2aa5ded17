"""The prompt lab's tables: prompts and their immutable versions, test sets, and runs with their cells.

Every method runs on the store's own thread through ``Store.read`` / ``Store.write``. A saved version gets the
next number inside the write transaction, so two saves never share one. A run keeps a copy of its cases (with
their keys), so it reopens exactly as it ran and compares by key with a later run of an edited set.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from desktop_assistant.core.lab_checks import CheckError, CheckResult, check_from_dict, check_to_dict
from desktop_assistant.core.lab_report import Cell, Run, RunColumn
from desktop_assistant.core.lab_testset import LabCase, case_to_dict
from desktop_assistant.core.models import LedgerEntry
from desktop_assistant.core.prompts import PromptVersion
from desktop_assistant.services.store import Store


@dataclass(frozen=True)
class RunSummary:
    """An earlier run, as the runs list shows it."""

    id: int
    set_name: str
    columns: tuple[RunColumn, ...]
    cases: int
    status: str
    created_at: float


@dataclass(frozen=True)
class StoredRun:
    """A run read back: its id, status and the run itself."""

    id: int
    status: str
    created_at: float
    run: Run


def new_key() -> str:
    """A key for a new case (it stays the same across edits of the set)."""
    return uuid.uuid4().hex[:12]


def with_keys(cases: Sequence[LabCase]) -> list[LabCase]:
    """``cases`` with a key for every case that has none."""
    return [c if c.key else replace(c, key=new_key()) for c in cases]


def _case_json(case: LabCase) -> dict[str, Any]:
    return {**case_to_dict(case), "key": case.key}


def _case_from(data: Any) -> LabCase:
    checks = []
    for raw in data.get("checks", []):
        try:
            checks.append(check_from_dict(raw))
        except CheckError:
            continue  # a check this version cannot read is left out, never a failure to open the set
    values = {str(k): str(v) for k, v in dict(data.get("vars", {})).items()}
    return LabCase(values, tuple(checks), str(data.get("label", "")), str(data.get("key", "")))


def _cases(text: str) -> tuple[LabCase, ...]:
    return tuple(_case_from(d) for d in json.loads(text))


def _column_json(column: RunColumn) -> dict[str, Any]:
    return {"prompt": column.prompt, "version": column.version, "model": column.model}


def _columns(text: str) -> tuple[RunColumn, ...]:
    return tuple(RunColumn(int(d["version"]), str(d["model"]), str(d.get("prompt", ""))) for d in json.loads(text))


def _version(row: sqlite3.Row) -> PromptVersion:
    return PromptVersion(name=row["name"], version=row["version"], system_prompt=row["system_prompt"],
                         user_template=row["user_template"], model=row["model"], temperature=row["temperature"],
                         max_output_tokens=row["max_output_tokens"], note=row["note"], created_at=row["created_at"])


def _insert_cell(conn: sqlite3.Connection, run_id: int, column_index: int, cell: Cell) -> None:
    checks = json.dumps([{"check": check_to_dict(r.check), "passed": r.passed, "reason": r.reason}
                         for r in cell.checks], ensure_ascii=False)
    now = time.time()
    conn.execute("""INSERT OR REPLACE INTO lab_cells(run_id, column_index, case_index, output, checks, input_tokens,
                    output_tokens, cost_micros, latency_ms, error, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
                 (run_id, column_index, cell.case, cell.output, checks, cell.input_tokens, cell.output_tokens,
                  cell.cost_micros, cell.latency_ms, cell.error, now))
    conn.execute("UPDATE lab_runs SET updated_at=? WHERE id=?", (now, run_id))


_VERSIONS = """SELECT p.name, v.* FROM lab_prompt_versions v JOIN lab_prompts p ON p.id = v.prompt_id"""


class LabStore:
    """The prompt lab's part of one :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # -- prompts --------------------------------------------------------------------------------------------

    async def save_version(self, version: PromptVersion) -> PromptVersion:
        """Save ``version`` as the next version of its prompt (made when new); returns it as stored."""
        def do(conn: sqlite3.Connection) -> PromptVersion:
            now = time.time()
            conn.execute("INSERT INTO lab_prompts(name, created_at, updated_at) VALUES (?,?,?) "
                         "ON CONFLICT(name) DO UPDATE SET updated_at=excluded.updated_at", (version.name, now, now))
            prompt_id = conn.execute("SELECT id FROM lab_prompts WHERE name=?", (version.name,)).fetchone()[0]
            number = conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM lab_prompt_versions WHERE prompt_id=?",
                                  (prompt_id,)).fetchone()[0]
            saved = replace(version, version=int(number), created_at=now)
            conn.execute("""INSERT INTO lab_prompt_versions(prompt_id, version, system_prompt, user_template, model,
                            temperature, max_output_tokens, note, created_at) VALUES (?,?,?,?,?,?,?,?,?)""",
                         (prompt_id, saved.version, saved.system_prompt, saved.user_template, saved.model,
                          saved.temperature, saved.max_output_tokens, saved.note, now))
            return saved
        return await self._store.write(do)

    async def latest_versions(self) -> list[PromptVersion]:
        """The newest version of every prompt, by name."""
        def do(conn: sqlite3.Connection) -> list[PromptVersion]:
            rows = conn.execute(f"""{_VERSIONS} WHERE v.version = (SELECT MAX(version) FROM lab_prompt_versions
                                    WHERE prompt_id = v.prompt_id) ORDER BY p.name COLLATE NOCASE""")
            return [_version(r) for r in rows]
        return await self._store.read(do)

    async def versions(self, name: str) -> list[PromptVersion]:
        """Every version of the prompt ``name``, oldest first."""
        def do(conn: sqlite3.Connection) -> list[PromptVersion]:
            return [_version(r) for r in conn.execute(f"{_VERSIONS} WHERE p.name=? ORDER BY v.version", (name,))]
        return await self._store.read(do)

    async def version(self, name: str, number: int) -> PromptVersion | None:
        """One version, or None."""
        def do(conn: sqlite3.Connection) -> PromptVersion | None:
            row = conn.execute(f"{_VERSIONS} WHERE p.name=? AND v.version=?", (name, number)).fetchone()
            return _version(row) if row else None
        return await self._store.read(do)

    # -- test sets ------------------------------------------------------------------------------------------

    async def save_set(self, name: str, cases: Sequence[LabCase]) -> list[LabCase]:
        """Save (or replace) the test set ``name``; returns its cases with their keys."""
        keyed = with_keys(cases)

        def do(conn: sqlite3.Connection) -> None:
            now = time.time()
            conn.execute("""INSERT INTO lab_test_sets(name, cases, created_at, updated_at) VALUES (?,?,?,?)
                            ON CONFLICT(name) DO UPDATE SET cases=excluded.cases, updated_at=excluded.updated_at""",
                         (name, json.dumps([_case_json(c) for c in keyed], ensure_ascii=False), now, now))
        await self._store.write(do)
        return keyed

    async def set_names(self) -> list[str]:
        """The names of the saved test sets, alphabetical."""
        def do(conn: sqlite3.Connection) -> list[str]:
            return [r[0] for r in conn.execute("SELECT name FROM lab_test_sets ORDER BY name COLLATE NOCASE")]
        return await self._store.read(do)

    async def load_set(self, name: str) -> list[LabCase] | None:
        """The cases of the test set ``name``, or None when there is none."""
        def do(conn: sqlite3.Connection) -> list[LabCase] | None:
            row = conn.execute("SELECT cases FROM lab_test_sets WHERE name=?", (name,)).fetchone()
            return list(_cases(row[0])) if row else None
        return await self._store.read(do)

    async def delete_set(self, name: str) -> None:
        """Forget a test set (runs over it keep their own copy of its cases)."""
        await self._store.write(lambda c: c.execute("DELETE FROM lab_test_sets WHERE name=?", (name,)))

    # -- runs -----------------------------------------------------------------------------------------------

    async def create_run(self, run: Run) -> int:
        """Store a new run (its cases and columns; no cells yet) and return its id."""
        def do(conn: sqlite3.Connection) -> int:
            now = time.time()
            cursor = conn.execute(
                "INSERT INTO lab_runs(set_name, cases, columns, status, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                (run.set_name, json.dumps([_case_json(c) for c in run.cases], ensure_ascii=False),
                 json.dumps([_column_json(c) for c in run.columns]), "running", now, now))
            return int(cursor.lastrowid or 0)
        return await self._store.write(do)

    async def add_cell(self, run_id: int, column_index: int, cell: Cell) -> None:
        """Store one cell (a retried cell replaces the earlier one)."""
        await self._store.write(lambda conn: _insert_cell(conn, run_id, column_index, cell))

    async def set_status(self, run_id: int, status: str) -> None:
        """Mark a run ``running``, ``finished`` or ``cancelled``."""
        await self._store.write(lambda c: c.execute("UPDATE lab_runs SET status=?, updated_at=? WHERE id=?",
                                                    (status, time.time(), run_id)))

    async def runs(self, set_name: str | None = None) -> list[RunSummary]:
        """Earlier runs, newest first (of one test set when ``set_name`` is given)."""
        def do(conn: sqlite3.Connection) -> list[RunSummary]:
            where, args = ("WHERE set_name=?", (set_name,)) if set_name is not None else ("", ())
            rows = conn.execute(f"""SELECT id, set_name, columns, json_array_length(cases) AS n, status, created_at
                                    FROM lab_runs {where} ORDER BY created_at DESC, id DESC""", args)
            return [RunSummary(r["id"], r["set_name"], _columns(r["columns"]), r["n"], r["status"], r["created_at"])
                    for r in rows]
        return await self._store.read(do)

    async def load_run(self, run_id: int) -> StoredRun | None:
        """A stored run with every cell, or None."""
        def do(conn: sqlite3.Connection) -> StoredRun | None:
            row = conn.execute("SELECT * FROM lab_runs WHERE id=?", (run_id,)).fetchone()
            if row is None:
                return None
            columns = _columns(row["columns"])
            cells = []
            for c in conn.execute("SELECT * FROM lab_cells WHERE run_id=? ORDER BY created_at, rowid", (run_id,)):
                if not 0 <= c["column_index"] < len(columns):
                    continue
                results = []
                for d in json.loads(c["checks"]):
                    try:
                        results.append(CheckResult(check_from_dict(d["check"]), bool(d["passed"]), str(d["reason"])))
                    except CheckError:
                        continue
                cells.append(Cell(columns[c["column_index"]], c["case_index"], c["output"], tuple(results),
                                  c["input_tokens"], c["output_tokens"], c["cost_micros"], c["latency_ms"],
                                  c["error"]))
            run = Run(_cases(row["cases"]), columns, tuple(cells), row["set_name"])
            return StoredRun(row["id"], row["status"], row["created_at"], run)
        return await self._store.read(do)

    async def interrupted(self) -> int:
        """Mark runs left ``running`` by an earlier session as ``cancelled``; returns how many."""
        def do(conn: sqlite3.Connection) -> int:
            return conn.execute("UPDATE lab_runs SET status='cancelled' WHERE status='running'").rowcount
        return await self._store.write(do)

    # -- Batch API jobs -------------------------------------------------------------------------------------

    async def insert_batch(self, batch_id: str, run_id: int, input_file_id: str, status: str) -> None:
        """Record a newly created batch of a run (so a restarted app picks it up again)."""
        def do(conn: sqlite3.Connection) -> None:
            now = time.time()
            conn.execute("""INSERT INTO lab_batch_jobs(id, run_id, input_file_id, status, created_at, updated_at)
                            VALUES (?,?,?,?,?,?)""", (batch_id, run_id, input_file_id, status, now, now))
            conn.execute("UPDATE lab_runs SET status='batch', updated_at=? WHERE id=?", (now, run_id))
        await self._store.write(do)

    async def update_batch(self, batch_id: str, status: str, output_file_id: str | None,
                           error_file_id: str | None) -> None:
        """Store the latest status and files of a batch."""
        await self._store.write(lambda c: c.execute(
            "UPDATE lab_batch_jobs SET status=?, output_file_id=?, error_file_id=?, updated_at=? WHERE id=?",
            (status, output_file_id, error_file_id, time.time(), batch_id)))

    async def open_batches(self) -> list[tuple[str, int]]:
        """(batch id, run id) of the batches whose results were not collected yet, oldest first."""
        def do(conn: sqlite3.Connection) -> list[tuple[str, int]]:
            rows = conn.execute("SELECT id, run_id FROM lab_batch_jobs WHERE collected_at IS NULL ORDER BY created_at")
            return [(str(r[0]), int(r[1])) for r in rows]
        return await self._store.read(do)

    async def collect_batch(self, batch_id: str, run_id: int, cells: Sequence[tuple[int, Cell]],
                            entries: Sequence[LedgerEntry]) -> bool:
        """Store a finished batch's cells and their ledger rows in one transaction; False if already collected."""
        def do(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT collected_at FROM lab_batch_jobs WHERE id=?", (batch_id,)).fetchone()
            if row is None or row[0] is not None:
                return False
            for column_index, cell in cells:
                _insert_cell(conn, run_id, column_index, cell)
            for entry in entries:
                u = entry.usage
                conn.execute(
                    """INSERT INTO usage_ledger(created_at, feature, model, input_tokens, cached_input_tokens,
                       output_tokens, reasoning_tokens, estimated, cost_micros, job, batch)
                       VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
                    (entry.created_at or time.time(), entry.feature, entry.model, u.input_tokens,
                     u.cached_input_tokens, u.output_tokens, u.reasoning_tokens, int(u.estimated), entry.cost_micros,
                     entry.job, int(entry.batch)))
            now = time.time()
            conn.execute("UPDATE lab_batch_jobs SET collected_at=?, updated_at=? WHERE id=?", (now, now, batch_id))
            conn.execute("UPDATE lab_runs SET status='finished', updated_at=? WHERE id=?", (now, run_id))
            return True
        return await self._store.write(do)
