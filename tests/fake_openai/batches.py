"""Files and the Batch API for the fake server: uploads, batches that progress, JSONL output files.

A batch goes ``validating`` -> ``in_progress`` -> ``completed``: one step per ``GET /v1/batches/{id}`` while
``auto_advance`` is set, else only when a test calls :meth:`FakeBatches.advance` or :meth:`complete`. On
completion every input line is answered like a synchronous request (the server's scripted replies, in order):
200 answers go to the output file, others to the error file, both JSONL as OpenAI writes them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .wire import new_id, openai_error

Answer = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]  # request body -> (status, response body)
STEPS = ("validating", "in_progress", "completed")


@dataclass
class StoredFile:
    """An uploaded (or generated) file."""

    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int = field(default_factory=lambda: int(time.time()))

    def object(self) -> dict[str, Any]:
        """The ``file`` object OpenAI returns."""
        return {"id": self.id, "object": "file", "bytes": len(self.data), "created_at": self.created_at,
                "filename": self.filename, "purpose": self.purpose, "status": "processed", "expires_at": None,
                "status_details": None}


class FakeBatches:
    """The state of ``/v1/files`` and ``/v1/batches`` (thread-safe: tests drive it from their own thread)."""

    def __init__(self, answer: Answer, check_line: Callable[[dict[str, Any]], list[str]]) -> None:
        self.files: dict[str, StoredFile] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.auto_advance = True
        self.violations: list[str] = []
        self._failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}  # see fail_next
        self._answer = answer
        self._check_line = check_line
        self._lock = threading.RLock()

    def fail_next(self, operation: str, status: int, message: str, **error: Any) -> None:
        """Answer the next ``operation`` (``upload``, ``create``, ``retrieve`` or ``delete``) with an OpenAI
        error."""
        with self._lock:
            self._failures.setdefault(operation, []).append((status, openai_error(message, **error)))

    def _failure(self, operation: str) -> tuple[int, dict[str, Any]] | None:
        with self._lock:
            queued = self._failures.get(operation)
            return queued.pop(0) if queued else None

    # -- files ----------------------------------------------------------------------------------------------
    def upload(self, filename: str, purpose: str, data: bytes) -> tuple[int, dict[str, Any]]:
        """``POST /v1/files``; a batch file's lines are checked against the spec here."""
        if (failure := self._failure("upload")) is not None:
            return failure
        if purpose == "batch":
            problems = self._check_jsonl(data)
            if problems:
                self.violations.extend(f"batch input {filename}: {p}" for p in problems)
        stored = StoredFile(new_id("file-"), filename, purpose, data)
        with self._lock:
            self.files[stored.id] = stored
        return 200, stored.object()

    def _check_jsonl(self, data: bytes) -> list[str]:
        problems: list[str] = []
        seen: set[str] = set()
        for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                problems.append(f"line {number}: not JSON ({exc})")
                continue
            if not isinstance(item, dict) or set(item) != {"custom_id", "method", "url", "body"}:
                problems.append(f"line {number}: needs exactly custom_id, method, url and body")
                continue
            if item["custom_id"] in seen:
                problems.append(f"line {number}: duplicate custom_id {item['custom_id']!r}")
            seen.add(item["custom_id"])
            if item["method"] != "POST" or item["url"] != "/v1/chat/completions":
                problems.append(f"line {number}: method/url must be POST /v1/chat/completions")
            if isinstance(item["body"], dict) and item["body"].get("stream"):
                problems.append(f"line {number}: batch requests cannot stream")
            problems.extend(f"line {number}: {p}" for p in self._check_line(item["body"]))
        return problems

    def content(self, file_id: str) -> bytes | None:
        """The bytes of a file, or None."""
        with self._lock:
            stored = self.files.get(file_id)
        return stored.data if stored else None

    def file(self, file_id: str) -> dict[str, Any] | None:
        """The file object, or None."""
        with self._lock:
            stored = self.files.get(file_id)
        return stored.object() if stored else None

    def delete(self, file_id: str) -> tuple[int, dict[str, Any]]:
        """``DELETE /v1/files/{id}``."""
        if (failure := self._failure("delete")) is not None:
            return failure
        with self._lock:
            stored = self.files.pop(file_id, None)
        if stored is None:
            return 404, openai_error(f"No such File object: {file_id}", param="id")
        return 200, {"id": file_id, "object": "file", "deleted": True}

    # -- batches --------------------------------------------------------------------------------------------
    def create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``POST /v1/batches``."""
        if (failure := self._failure("create")) is not None:
            return failure
        file_id = str(body.get("input_file_id", ""))
        with self._lock:
            stored = self.files.get(file_id)
            if stored is None:
                return 404, openai_error(f"No such File object: {file_id}", param="input_file_id")
            if stored.purpose != "batch":
                return 400, openai_error("The input file must be uploaded with purpose 'batch'.",
                                         param="input_file_id")
            lines = [json.loads(line) for line in stored.data.decode().splitlines() if line.strip()]
            now = int(time.time())
            batch: dict[str, Any] = {
                "id": new_id("batch_"), "object": "batch", "endpoint": body.get("endpoint"), "errors": None,
                "input_file_id": file_id, "completion_window": body.get("completion_window"),
                "status": "validating", "output_file_id": None, "error_file_id": None, "created_at": now,
                "in_progress_at": None, "expires_at": now + 86400, "finalizing_at": None, "completed_at": None,
                "failed_at": None, "expired_at": None, "cancelling_at": None, "cancelled_at": None,
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
                "metadata": body.get("metadata"),
            }
            self.batches[batch["id"]] = batch
            return 200, dict(batch)

    def retrieve(self, batch_id: str) -> tuple[int, dict[str, Any]]:
        """``GET /v1/batches/{id}`` (one step further first, while ``auto_advance``)."""
        if (failure := self._failure("retrieve")) is not None:
            return failure
        with self._lock:
            if batch_id not in self.batches:
                return 404, openai_error(f"No batch found with id '{batch_id}'.")
            if self.auto_advance:
                self.advance(batch_id)
            return 200, json.loads(json.dumps(self.batches[batch_id]))

    def cancel(self, batch_id: str) -> tuple[int, dict[str, Any]]:
        """``POST /v1/batches/{id}/cancel``: cancelled at once (nothing was answered)."""
        with self._lock:
            batch = self.batches.get(batch_id)
            if batch is None:
                return 404, openai_error(f"No batch found with id '{batch_id}'.")
            if batch["status"] in ("validating", "in_progress"):
                batch["status"], batch["cancelled_at"] = "cancelled", int(time.time())
            return 200, dict(batch)

    def advance(self, batch_id: str | None = None) -> None:
        """Move one batch (or every unfinished one) a step on: validating -> in_progress -> completed."""
        with self._lock:
            for bid in [batch_id] if batch_id else list(self.batches):
                batch = self.batches[bid]
                if batch["status"] == "validating":
                    batch["status"], batch["in_progress_at"] = "in_progress", int(time.time())
                elif batch["status"] == "in_progress":
                    self._finish(batch)

    def complete(self, batch_id: str | None = None) -> None:
        """Run one batch (or every unfinished one) to ``completed`` now."""
        with self._lock:
            for bid in [batch_id] if batch_id else list(self.batches):
                while self.batches[bid]["status"] in ("validating", "in_progress"):
                    self.advance(bid)

    def fail(self, batch_id: str, message: str, code: str = "invalid_request") -> None:
        """End one batch as ``failed`` before any line was answered, with the reason OpenAI gives in ``errors``."""
        with self._lock:
            batch = self.batches[batch_id]
            batch.update(status="failed", failed_at=int(time.time()),
                         errors={"object": "list", "data": [{"code": code, "message": message, "param": None,
                                                             "line": None}]})

    def status(self, batch_id: str) -> str:
        """The batch's status now."""
        with self._lock:
            return str(self.batches[batch_id]["status"])

    def _finish(self, batch: dict[str, Any]) -> None:
        stored = self.files[batch["input_file_id"]]
        ok: list[str] = []
        failed: list[str] = []
        for line in stored.data.decode().splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            status, response = self._answer(item["body"])
            out = {"id": new_id("batch_req_"), "custom_id": item["custom_id"],
                   "response": {"status_code": status, "request_id": new_id("req_"), "body": response},
                   "error": None}
            (ok if status == 200 else failed).append(json.dumps(out))
        for kind, lines in (("output_file_id", ok), ("error_file_id", failed)):
            if lines:
                generated = StoredFile(new_id("file-"), f"{batch['id']}_{kind[:-8]}.jsonl", "batch_output",
                                       ("\n".join(lines) + "\n").encode())
                self.files[generated.id] = generated
                batch[kind] = generated.id
        now = int(time.time())
        batch.update(status="completed", finalizing_at=now, completed_at=now,
                     request_counts={"total": len(ok) + len(failed), "completed": len(ok), "failed": len(failed)})
