"""SQL for the extraction workspace: saved schemas and Batch API jobs (run through ``Store.read``/``write``)."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from desktop_assistant.core.extraction import BatchJob, CollectedBatch
from desktop_assistant.core.models import LedgerEntry


def save_schema(conn: sqlite3.Connection, name: str, schema: dict[str, Any]) -> None:
    """Insert or replace the schema called ``name``."""
    now = time.time()
    conn.execute("""INSERT INTO extraction_schemas(name, schema, created_at, updated_at) VALUES (?,?,?,?)
                    ON CONFLICT(name) DO UPDATE SET schema=excluded.schema, updated_at=excluded.updated_at""",
                 (name, json.dumps(schema), now, now))


def delete_schema(conn: sqlite3.Connection, name: str) -> None:
    """Forget the schema called ``name``."""
    conn.execute("DELETE FROM extraction_schemas WHERE name=?", (name,))


def list_schemas(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Saved schemas by name (alphabetical); unreadable rows are skipped."""
    out: dict[str, dict[str, Any]] = {}
    for row in conn.execute("SELECT name, schema FROM extraction_schemas ORDER BY name COLLATE NOCASE"):
        try:
            out[str(row[0])] = json.loads(row[1])
        except ValueError:
            continue
    return out


def insert_job(conn: sqlite3.Connection, job: BatchJob) -> None:
    """Record a newly created batch."""
    now = time.time()
    conn.execute(
        """INSERT INTO batch_jobs(id, run_id, model, mode, schema_name, schema, inputs, input_file_id, status, total,
           created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
        (job.id, job.run_id, job.model, job.mode, job.schema_name, json.dumps(job.schema), json.dumps(job.inputs),
         job.input_file_id, job.status, job.total, now, now))


def update_job(conn: sqlite3.Connection, job_id: str, *, status: str, total: int, completed: int, failed: int,
               output_file_id: str | None, error_file_id: str | None, errors: list[str] | None = None) -> None:
    """Store the latest status and counts of a batch (and why it failed, when it did)."""
    conn.execute("""UPDATE batch_jobs SET status=?, total=?, completed=?, failed=?, output_file_id=?, error_file_id=?,
                    errors=?, updated_at=? WHERE id=?""",
                 (status, total, completed, failed, output_file_id, error_file_id, json.dumps(errors or []),
                  time.time(), job_id))


def collect_job(conn: sqlite3.Connection, job_id: str, results: list[dict[str, Any]]) -> None:
    """Store a finished batch's results (its usage is recorded in the same transaction by the caller)."""
    conn.execute("UPDATE batch_jobs SET results=?, collected_at=?, updated_at=? WHERE id=?",
                 (json.dumps(results), time.time(), time.time(), job_id))


def _job(row: sqlite3.Row) -> BatchJob:
    return BatchJob(
        id=row["id"], run_id=row["run_id"], model=row["model"], mode=row["mode"], schema_name=row["schema_name"],
        schema=json.loads(row["schema"]), inputs=json.loads(row["inputs"]), input_file_id=row["input_file_id"],
        status=row["status"], total=row["total"], completed=row["completed"], failed=row["failed"],
        output_file_id=row["output_file_id"], error_file_id=row["error_file_id"],
        results=json.loads(row["results"]) if row["results"] else None, created_at=row["created_at"],
        collected_at=row["collected_at"], errors=json.loads(row["errors"]))


def open_jobs(conn: sqlite3.Connection) -> list[BatchJob]:
    """Batches whose results have not been collected yet (oldest first)."""
    return [_job(r) for r in conn.execute("SELECT * FROM batch_jobs WHERE collected_at IS NULL ORDER BY created_at")]


def collected_jobs(conn: sqlite3.Connection, limit: int = 30) -> list[CollectedBatch]:
    """Batches whose results were collected (newest first), to show again; their inputs are counted by SQLite,
    not read (a batch may hold thousands, with their answers)."""
    return [CollectedBatch(r["id"], r["created_at"], r["model"], r["status"], r["n"]) for r in conn.execute(
        "SELECT id, created_at, model, status, json_array_length(inputs) AS n FROM batch_jobs "
        "WHERE collected_at IS NOT NULL ORDER BY created_at DESC LIMIT ?", (limit,))]


def get_job(conn: sqlite3.Connection, job_id: str) -> BatchJob | None:
    """One batch job, or None."""
    row = conn.execute("SELECT * FROM batch_jobs WHERE id=?", (job_id,)).fetchone()
    return _job(row) if row else None


def collect_with_usage(conn: sqlite3.Connection, job_id: str, results: list[dict[str, Any]],
                       entries: list[LedgerEntry]) -> bool:
    """Store a finished batch's results and its ledger rows in one transaction; False if already collected."""
    row = conn.execute("SELECT collected_at FROM batch_jobs WHERE id=?", (job_id,)).fetchone()
    if row is None or row[0] is not None:
        return False
    for entry in entries:
        u = entry.usage
        conn.execute(
            """INSERT INTO usage_ledger(created_at, feature, model, input_tokens, cached_input_tokens, output_tokens,
               reasoning_tokens, estimated, cost_micros, job, batch) VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
            (entry.created_at or time.time(), entry.feature, entry.model, u.input_tokens, u.cached_input_tokens,
             u.output_tokens, u.reasoning_tokens, int(u.estimated), entry.cost_micros, entry.job, int(entry.batch)))
    collect_job(conn, job_id, results)
    return True
