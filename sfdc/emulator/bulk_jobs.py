"""Bulk jobs and what processing their records does, shared by Bulk API 2.0 and 1.0.

Emulates the "Bulk API 2.0 and Bulk API Developer Guide": a job names an object and an
operation (`insert`, `update`, `upsert`, `delete`, `hardDelete`, or `query`/`queryAll`),
moves through the states `Open` -> `UploadComplete` -> `JobComplete` (or `Aborted`,
`Failed`), and each record ends up successful (with its ID and whether it was created),
failed (with `STATUS_CODE:message:fields --`) or unprocessed. Job IDs start with `750`,
Bulk API 1.0 batch IDs with `751`. Records are processed synchronously when the upload
is complete, so the next status read already shows the final counts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .field_values import FieldError, is_record_id, validate
from .ids import case_safe, random_id
from .records import RecordStore
from .schema import SObjectType

JOB_PREFIX = "750"
BATCH_PREFIX = "751"
INGEST_OPERATIONS = frozenset({"insert", "update", "upsert", "delete", "hardDelete"})
QUERY_OPERATIONS = frozenset({"query", "queryAll"})
TERMINAL_STATES = frozenset({"JobComplete", "Aborted", "Failed"})


def new_job_id() -> str:
    return case_safe(random_id(JOB_PREFIX))


def new_batch_id() -> str:
    return case_safe(random_id(BATCH_PREFIX))


@dataclass(frozen=True)
class Outcome:
    """What happened to one record: `error` is None on success."""

    record: dict[str, str]
    id: str = ""
    created: bool = False
    error: FieldError | None = None

    @property
    def error_text(self) -> str:
        """Bulk API's `sf__Error` / `Error` column: `CODE:message:fields --`."""
        if self.error is None:
            return ""
        return f"{self.error.code}:{self.error.message}:{','.join(self.error.fields or [])} --"


@dataclass
class Job:
    """One job (mutable; guarded by the `BulkJobs` lock)."""

    id: str
    operation: str
    sobject: str
    created_by: str
    created: datetime
    api_version: str
    external_id_field: str | None = None
    line_ending: str = "LF"
    column_delimiter: str = "COMMA"
    content_type: str = "CSV"
    query: str = ""
    state: str = "Open"
    error_message: str = ""
    classic: bool = False  # a Bulk API 1.0 job
    modified: datetime | None = None
    uploads: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    unprocessed: list[dict[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # query results
    batches: dict[str, Any] = field(default_factory=dict)  # Bulk API 1.0 batches

    @property
    def processed(self) -> int:
        return len(self.outcomes) if self.operation in INGEST_OPERATIONS else len(self.rows)

    @property
    def failed(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.error is not None)


class BulkJobs:
    """Thread-safe job ID -> job."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._jobs: dict[str, Job] = {}

    def add(self, job: Job) -> None:
        with self.lock:
            self._jobs[job.id] = job

    def get(self, job_id: str) -> Job | None:
        with self.lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        with self.lock:
            return list(self._jobs.values())

    def remove(self, job_id: str) -> None:
        with self.lock:
            self._jobs.pop(job_id, None)

    def reset(self) -> None:
        with self.lock:
            self._jobs.clear()


def _typed(sobject: SObjectType, record: dict[str, str]) -> dict[str, Any]:
    """CSV text as field values: empty means "not set", `#N/A` means null."""
    values: dict[str, Any] = {}
    for name, text in record.items():
        found = sobject.field(name)
        if text == "" or found is None:
            if found is None:
                values[name] = text
            continue
        if text == "#N/A":
            values[name] = None
        elif found.type == "boolean":
            values[name] = text.lower() in {"true", "1", "yes"}
        elif found.type == "int":
            values[name] = int(text) if text.lstrip("-").isdigit() else text
        elif found.type in {"double", "currency"}:
            try:
                values[name] = float(text)
            except ValueError:
                values[name] = text
        else:
            values[name] = text
    return values


def process_record(
    store: RecordStore,
    sobject: SObjectType,
    job: Job,
    record: dict[str, str],
    now: datetime,
) -> Outcome:
    """Apply the job's operation to one record (its values as text)."""
    values = {k: v for k, v in _typed(sobject, record).items() if k.lower() != "id"}
    record_id = next((text for name, text in record.items() if name.lower() == "id"), "")
    if job.operation in {"update", "delete", "hardDelete"}:
        row = store.get(sobject.name, record_id) if is_record_id(record_id) else None
        if row is None:
            message = (
                f"invalid cross reference id: {record_id}" if record_id else "Id not specified"
            )
            return Outcome(
                record, record_id, error=FieldError("INVALID_CROSS_REFERENCE_KEY", message)
            )
        if job.operation != "update":
            store.delete(sobject.name, row.id, now)
            return Outcome(record, row.id)
        checked = validate(sobject, values, creating=False)
        if isinstance(checked, FieldError):
            return Outcome(record, row.id, error=checked)
        store.update(sobject.name, row.id, checked, now)
        return Outcome(record, row.id)
    matches = []
    if job.operation == "upsert" and job.external_id_field:
        key = sobject.field(job.external_id_field)
        wanted = values.get(key.name) if key is not None else None
        matches = [] if key is None else store.find_by(sobject.name, key.name, wanted)
        if len(matches) > 1:
            message = f"Duplicate external id specified: {wanted}"
            return Outcome(record, error=FieldError("DUPLICATE_EXTERNAL_ID", message))
    if matches:
        checked = validate(sobject, values, creating=False)
        if isinstance(checked, FieldError):
            return Outcome(record, matches[0].id, error=checked)
        store.update(sobject.name, matches[0].id, checked, now)
        return Outcome(record, matches[0].id)
    checked = validate(sobject, values, creating=True)
    if isinstance(checked, FieldError):
        return Outcome(record, error=checked)
    row = store.create(sobject.name, checked, now, job.created_by)
    return Outcome(record, row.id, created=True)
