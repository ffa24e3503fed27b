"""Bulk API 1.0 under `/services/async/XX.X/`.

Emulates the Bulk API 1.0 part of the "Bulk API 2.0 and Bulk API Developer Guide":

- `POST /job` (a `jobInfo` in XML or JSON) creates an `Open` job: 201 with its JobInfo;
- `POST /job/{jobId}/batch` adds a batch of CSV, JSON or XML records: 201 with a
  BatchInfo in state `Queued`; the batch is processed at once, so the next read says
  `Completed`;
- `GET /job/{jobId}`, `GET /job/{jobId}/batch`, `GET /job/{jobId}/batch/{batchId}`:
  JobInfo, BatchInfo list, BatchInfo;
- `GET .../batch/{batchId}/result`: per record `Id`, `Success`, `Created`, `Error`
  (CSV), or `{"success", "created", "id", "errors"}` (JSON), or `<results>` (XML);
- `POST /job/{jobId}` with `state` `Closed` or `Aborted` closes or aborts the job.

Query jobs (`query`, `queryAll`) and their results: see `bulk1_query`.

The session travels in `X-SFDC-Session` (an OAuth access token works there, as does
`Authorization: Bearer`). A missing, expired or revoked one is HTTP 400 `InvalidSessionId`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, g, request

from .api_versions import API_VERSIONS, version_number
from .bulk1_format import FormatError, answer, error, read_object, read_records
from .bulk1_query import new_result_id, result, result_list, run_batch
from .bulk_csv import CsvError, read_rows, write_rows
from .bulk_jobs import (
    INGEST_OPERATIONS,
    QUERY_OPERATIONS,
    Job,
    Outcome,
    new_batch_id,
    new_job_id,
    process_record,
)
from .context import current
from .credential_log import token_of
from .records import format_datetime
from .schema import sobject_type
from .state import IssuedToken

blueprint = Blueprint("bulk1", __name__, url_prefix="/services/async/<version>")

CONTENT_TYPES = {"CSV": "text/csv", "JSON": "application/json", "XML": "application/xml"}


@dataclass
class Batch:
    id: str
    created: datetime
    outcomes: list[Outcome] = field(default_factory=list)
    state: str = "Completed"
    message: str = ""
    records: list[dict[str, Any]] = field(default_factory=list)  # a query batch's rows
    result_id: str = ""  # a query batch's one result

    @property
    def processed(self) -> int:
        return len(self.outcomes) or len(self.records)


@blueprint.url_value_preprocessor
def _version(endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.bulk_version = (values or {}).pop("version", "")


@blueprint.before_request
def _authenticate() -> Response | None:
    if g.bulk_version not in dict(API_VERSIONS):
        return error("InvalidUrl", f"Unsupported API version: {g.bulk_version}", 404)
    value = request.headers.get("X-SFDC-Session") or request.headers.get("Authorization", "")
    emulator = current()
    clock, timeout = emulator.config.clock(), emulator.config.session_timeout
    session = emulator.state.use(token_of(value), clock, timeout) if value else None
    if session is None:
        return error("InvalidSessionId", "Invalid session id")
    g.bulk_session = session
    return None


def _stamp(moment: datetime) -> str:
    return format_datetime(moment).replace("+0000", "Z")


def job_info(job: Job) -> dict[str, Any]:
    batches: list[Batch] = list(job.batches.values())
    outcomes = [o for batch in batches for o in batch.outcomes]
    info: dict[str, Any] = {
        "id": job.id,
        "operation": job.operation,
        "object": job.sobject,
        "createdById": job.created_by,
        "createdDate": _stamp(job.created),
        "systemModstamp": _stamp(job.modified or job.created),
        "state": job.state,
    }
    if job.external_id_field:
        info["externalIdFieldName"] = job.external_id_field
    info.update(
        {
            "concurrencyMode": "Parallel",
            "contentType": job.content_type,
            "numberBatchesQueued": 0,
            "numberBatchesInProgress": 0,
            "numberBatchesCompleted": sum(1 for b in batches if b.state == "Completed"),
            "numberBatchesFailed": sum(1 for b in batches if b.state == "Failed"),
            "numberBatchesTotal": len(batches),
            "numberRecordsProcessed": sum(batch.processed for batch in batches),
            "numberRetries": 0,
            "apiVersion": version_number(job.api_version),
            "numberRecordsFailed": sum(1 for o in outcomes if o.error is not None),
            "totalProcessingTime": 0,
            "apiActiveProcessingTime": 0,
            "apexProcessingTime": 0,
        }
    )
    return info


def batch_info(job: Job, batch: Batch, state: str | None = None) -> dict[str, Any]:
    info = {"id": batch.id, "jobId": job.id, "state": state or batch.state}
    if batch.message:
        info["stateMessage"] = batch.message
    return {
        **info,
        "createdDate": _stamp(batch.created),
        "systemModstamp": _stamp(batch.created),
        "numberRecordsProcessed": batch.processed,
        "numberRecordsFailed": sum(1 for o in batch.outcomes if o.error is not None),
        "totalProcessingTime": 0,
        "apiActiveProcessingTime": 0,
        "apexProcessingTime": 0,
    }


def _job(job_id: str) -> Job | Response:
    job = current().state.bulk_jobs.get(job_id)
    if job is None or not job.classic:
        return error("InvalidJob", f"Unable to find job: {job_id}")
    return job


@blueprint.post("/job")
def create_job() -> Response:
    try:
        body = read_object(request.get_data())
    except FormatError as problem:
        return error("InvalidJob" if request.is_json else "InvalidXML", str(problem))
    sobject = sobject_type(body.get("object", ""))
    operation = body.get("operation", "")
    if operation not in INGEST_OPERATIONS | QUERY_OPERATIONS:
        return error("InvalidJob", f"Invalid operation: {operation}")
    if sobject is None:
        return error("InvalidEntity", f"Entity '{body.get('object')}' is not supported")
    content_type = body.get("contentType", "XML" if not request.is_json else "JSON")
    if content_type not in CONTENT_TYPES:
        return error("InvalidJob", f"Invalid content type: {content_type}")
    external = body.get("externalIdFieldName") or None
    if operation == "upsert" and (sobject.field(external or "") is None):
        return error("InvalidJob", f"External ID field not found: {external}")
    session: IssuedToken = g.bulk_session
    now = current().config.clock()
    job = Job(new_job_id(), operation, sobject.name, session.user_id, now, g.bulk_version)
    job.external_id_field, job.content_type, job.classic = external, content_type, True
    current().state.bulk_jobs.add(job)
    return answer("jobInfo", job_info(job), 201)


@blueprint.route("/job/<job_id>", methods=["GET", "POST"])
def job_resource(job_id: str) -> Response:
    job = _job(job_id)
    if isinstance(job, Response):
        return job
    if request.method == "GET":
        return answer("jobInfo", job_info(job))
    try:
        wanted = read_object(request.get_data()).get("state")
    except FormatError as problem:
        return error("InvalidJob", str(problem))
    if wanted not in {"Closed", "Aborted"} or job.state != "Open":
        return error("InvalidJobState", f"Can't change state from {job.state} to {wanted}")
    job.state, job.modified = wanted, current().config.clock()
    return answer("jobInfo", job_info(job))


def _records(job: Job) -> list[dict[str, str]]:
    data = request.get_data()
    if job.content_type == "CSV":
        return read_rows(data.decode("utf-8"))[1]
    return read_records(data, job.content_type)


@blueprint.route("/job/<job_id>/batch", methods=["GET", "POST"])
def batches(job_id: str) -> Response:
    job = _job(job_id)
    if isinstance(job, Response):
        return job
    if request.method == "GET":
        infos = [batch_info(job, batch) for batch in job.batches.values()]
        return answer("batchInfoList", {"batchInfo": infos})
    if job.state != "Open":
        return error("InvalidJobState", f"Job {job.id} is not open for adding batches")
    emulator = current()
    now = emulator.config.clock()
    batch = Batch(new_batch_id(), now)
    sobject = sobject_type(job.sobject)
    assert sobject is not None
    if job.operation in QUERY_OPERATIONS:
        soql = request.get_data().decode("utf-8", errors="replace").strip()
        batch.records, batch.message = run_batch(job, soql, emulator.state)
        batch.state, batch.result_id = (
            ("Failed", "") if batch.message else ("Completed", new_result_id())
        )
        job.batches[batch.id] = batch
        return answer("batchInfo", batch_info(job, batch, "Queued"), 201)
    try:
        for record in _records(job):
            batch.outcomes.append(process_record(emulator.state.records, sobject, job, record, now))
    except (CsvError, FormatError, UnicodeDecodeError) as problem:
        batch.state, batch.message = "Failed", f"InvalidBatch : {problem}"
    job.batches[batch.id] = batch
    return answer("batchInfo", batch_info(job, batch, "Queued"), 201)


def _batch(job_id: str, batch_id: str) -> tuple[Job, Batch] | Response:
    job = _job(job_id)
    if isinstance(job, Response):
        return job
    batch = job.batches.get(batch_id)
    if batch is None:
        return error("InvalidBatch", f"Unable to find batch: {batch_id}")
    return job, batch


@blueprint.get("/job/<job_id>/batch/<batch_id>")
def batch_status(job_id: str, batch_id: str) -> Response:
    found = _batch(job_id, batch_id)
    return found if isinstance(found, Response) else answer("batchInfo", batch_info(*found))


@blueprint.get("/job/<job_id>/batch/<batch_id>/result")
def batch_result(job_id: str, batch_id: str) -> Response:
    found = _batch(job_id, batch_id)
    if isinstance(found, Response):
        return found
    job, batch = found
    if job.operation in QUERY_OPERATIONS:
        if batch.state != "Completed":
            return error("InvalidBatch", f"Batch {batch.id} has no results: {batch.message}")
        return result_list(job, batch.result_id)
    if job.content_type == "CSV":
        rows = [[o.id, o.error is None, o.created, o.error_text] for o in batch.outcomes]
        text = write_rows(["Id", "Success", "Created", "Error"], rows)
        return Response(text, 200, content_type="text/csv")
    results = [
        {
            "id": o.id or None,
            "success": o.error is None,
            "created": o.created,
            "errors": []
            if o.error is None
            else [{"fields": o.error.fields or [], "message": o.error.message,
                   "statusCode": o.error.code}],
        }
        for o in batch.outcomes
    ]  # fmt: skip
    return answer("results", results, item="result")


@blueprint.get("/job/<job_id>/batch/<batch_id>/result/<result_id>")
def query_result(job_id: str, batch_id: str, result_id: str) -> Response:
    found = _batch(job_id, batch_id)
    if isinstance(found, Response):
        return found
    job, batch = found
    if job.operation not in QUERY_OPERATIONS or not batch.result_id or result_id != batch.result_id:
        return error("InvalidBatch", f"Unable to find result: {result_id}")
    return result(job, batch.records)
