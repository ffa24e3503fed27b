"""Bulk API 2.0 ingest jobs under `/services/data/vXX.X/jobs/ingest`.

Emulates the "Bulk API 2.0 and Bulk API Developer Guide" ingest resources:

- `POST /jobs/ingest` `{"object", "operation", "externalIdFieldName"?, "lineEnding"?,
  "columnDelimiter"?}` creates an `Open` job (200 with its info, `contentUrl` included);
- `PUT /jobs/ingest/{id}/batches` (`text/csv`) uploads data: 201, no body;
- `PATCH /jobs/ingest/{id}` `{"state": "UploadComplete"|"Aborted"}` closes or aborts it;
  records are processed right away, so the next `GET` says `JobComplete`;
- `GET /jobs/ingest/{id}`: status with `numberRecordsProcessed`/`numberRecordsFailed`;
- `GET .../successfulResults`, `.../failedResults`, `.../unprocessedrecords`: CSV;
- `DELETE /jobs/ingest/{id}`: 204 once the job is closed, aborted or done;
- `GET /jobs/ingest`: every job, `{"done", "records", "nextRecordsUrl"}`.

Errors use the REST API's list shape. A dead session gets the REST API's 401.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from .api_versions import version_number
from .bulk_csv import DELIMITERS, LINE_ENDINGS, CsvError, read_rows, write_rows
from .bulk_jobs import INGEST_OPERATIONS, TERMINAL_STATES, Job, new_job_id, process_record
from .context import current
from .field_values import json_body
from .records import format_datetime
from .responses import json_response, not_found, rest_error
from .rest_session import api_version, authenticate, report_usage, session
from .schema import sobject_type

blueprint = Blueprint("bulk2_ingest", __name__, url_prefix="/services/data")
blueprint.before_request(authenticate)
blueprint.after_request(report_usage)

ROOT = "/<segment>/jobs/ingest"


def job_info(job: Job, *, detailed: bool = False) -> dict[str, Any]:
    """A job as create/PATCH (`detailed=False`) or status reads (`True`) describe it."""
    info: dict[str, Any] = {
        "id": job.id,
        "operation": job.operation,
        "object": job.sobject,
        "createdById": job.created_by,
        "createdDate": format_datetime(job.created),
        "systemModstamp": format_datetime(job.modified or job.created),
        "state": job.state,
        "concurrencyMode": "Parallel",
        "contentType": job.content_type,
        "apiVersion": version_number(job.api_version),
    }
    if job.external_id_field:
        info["externalIdFieldName"] = job.external_id_field
    if job.operation not in {"query", "queryAll"}:
        info["contentUrl"] = f"services/data/v{job.api_version}/jobs/ingest/{job.id}/batches"
    info["lineEnding"] = job.line_ending
    info["columnDelimiter"] = job.column_delimiter
    if detailed:
        info.update(
            {
                "jobType": "V2Ingest" if "contentUrl" in info else "V2Query",
                "numberRecordsProcessed": job.processed,
                "retries": 0,
                "totalProcessingTime": 0,
            }
        )
        if "contentUrl" in info:
            info.update(
                {
                    "numberRecordsFailed": job.failed,
                    "apiActiveProcessingTime": 0,
                    "apexProcessingTime": 0,
                }
            )
    return info


def find_job(job_id: str, *, query: bool) -> Job | Response:
    job = current().state.bulk_jobs.get(job_id)
    if job is None or job.classic or (job.operation in {"query", "queryAll"}) != query:
        return rest_error("NOT_FOUND", "The requested resource does not exist", 404)
    return job


def bad_request(message: str, code: str = "INVALIDJOB") -> Response:
    return rest_error(code, message, 400)


@blueprint.post(ROOT)
def create_job(segment: str) -> Response:
    body = json_body()
    if isinstance(body, Response):
        return body
    sobject = sobject_type(str(body.get("object", "")))
    operation = body.get("operation")
    if operation not in INGEST_OPERATIONS:
        return bad_request(f"InvalidJob : Invalid operation: {operation}")
    if sobject is None:
        return bad_request(f"Entity '{body.get('object')}' is not supported", "INVALIDENTITY")
    external = body.get("externalIdFieldName")
    if operation == "upsert":
        found = sobject.field(str(external or ""))
        if found is None or not found.external_id:
            return bad_request(f"InvalidJob : External ID field not found: {external}")
        external = found.name
    delimiter = body.get("columnDelimiter", "COMMA")
    line_ending = body.get("lineEnding", "LF")
    if delimiter not in DELIMITERS or line_ending not in LINE_ENDINGS:
        return bad_request("InvalidJob : invalid columnDelimiter or lineEnding")
    if body.get("contentType", "CSV") != "CSV":
        return bad_request("InvalidJob : contentType must be CSV")
    now = current().config.clock()
    job = Job(
        new_job_id(),
        str(operation),
        sobject.name,
        session().user_id,
        now,
        api_version(),
        external if operation == "upsert" else None,
        line_ending,
        delimiter,
    )
    current().state.bulk_jobs.add(job)
    return json_response(job_info(job))


@blueprint.get(ROOT)
def list_jobs(segment: str) -> Response:
    jobs = [job_info(job) for job in current().state.bulk_jobs.all() if not job.classic]
    ingest = [info for info in jobs if "contentUrl" in info]
    return json_response({"done": True, "records": ingest, "nextRecordsUrl": None})


@blueprint.put(f"{ROOT}/<job_id>/batches")
def upload(segment: str, job_id: str) -> Response:
    job = find_job(job_id, query=False)
    if isinstance(job, Response):
        return job
    with current().state.bulk_jobs.lock:
        if job.state != "Open":
            return rest_error("INVALIDJOBSTATE", f"Job is not in the Open state: {job.state}", 409)
        job.uploads.append(request.get_data(as_text=True))
    return Response(status=201)


def _process(job: Job) -> None:
    """Run every uploaded record (the caller holds the jobs lock)."""
    emulator = current()
    sobject = sobject_type(job.sobject)
    assert sobject is not None
    now = emulator.config.clock()
    try:
        for upload_text in job.uploads:
            header, rows = read_rows(upload_text, job.column_delimiter)
            job.columns = job.columns or header
            for row in rows:
                outcome = process_record(emulator.state.records, sobject, job, row, now)
                job.outcomes.append(outcome)
    except CsvError as error:
        job.state = "Failed"
        job.modified = now
        job.error_message = f"InvalidBatch : {error}"
        return
    job.state = "JobComplete"
    job.modified = now


@blueprint.patch(f"{ROOT}/<job_id>")
def change_state(segment: str, job_id: str) -> Response:
    job = find_job(job_id, query=False)
    if isinstance(job, Response):
        return job
    body = json_body()
    if isinstance(body, Response):
        return body
    wanted = body.get("state")
    with current().state.bulk_jobs.lock:
        if wanted == "UploadComplete" and job.state == "Open":
            job.state = "UploadComplete"
            answer = job_info(job)
            _process(job)
            return json_response(answer)
        if wanted == "Aborted" and job.state not in TERMINAL_STATES:
            job.state = "Aborted"
            for upload_text in job.uploads:
                job.columns = job.columns or read_rows(upload_text, job.column_delimiter)[0]
                job.unprocessed += read_rows(upload_text, job.column_delimiter)[1]
            return json_response(job_info(job))
    return rest_error("INVALIDJOBSTATE", f"Can't change state from {job.state} to {wanted}", 400)


@blueprint.get(f"{ROOT}/<job_id>")
def status(segment: str, job_id: str) -> Response:
    job = find_job(job_id, query=False)
    if isinstance(job, Response):
        return job
    info = job_info(job, detailed=True)
    if job.state == "Failed":
        info["errorMessage"] = job.error_message
    return json_response(info)


def _csv(job: Job, header: list[str], rows: list[list[Any]]) -> Response:
    text = write_rows(header, rows, job.column_delimiter, job.line_ending)
    return Response(text, 200, content_type="text/csv")


@blueprint.get(f"{ROOT}/<job_id>/<kind>")
def results(segment: str, job_id: str, kind: str) -> Response:
    job = find_job(job_id, query=False)
    if isinstance(job, Response):
        return job
    columns = job.columns
    if kind == "successfulResults":
        good = [o for o in job.outcomes if o.error is None]
        rows = [[o.id, "true" if o.created else "false", *o.record.values()] for o in good]
        return _csv(job, ["sf__Id", "sf__Created", *columns], rows)
    if kind == "failedResults":
        bad = [o for o in job.outcomes if o.error is not None]
        rows = [[o.id, o.error_text, *o.record.values()] for o in bad]
        return _csv(job, ["sf__Id", "sf__Error", *columns], rows)
    if kind == "unprocessedrecords":
        return _csv(job, columns, [list(row.values()) for row in job.unprocessed])
    return not_found()


@blueprint.delete(f"{ROOT}/<job_id>")
def delete_job(segment: str, job_id: str) -> Response:
    job = find_job(job_id, query=False)
    if isinstance(job, Response):
        return job
    if job.state == "Open":
        return rest_error("INVALIDJOBSTATE", "Can't delete a job in the Open state", 400)
    current().state.bulk_jobs.remove(job.id)
    return Response(status=204)
