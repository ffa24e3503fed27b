"""Bulk API 2.0 query jobs under `/services/data/vXX.X/jobs/query`.

Emulates the "Bulk API 2.0 and Bulk API Developer Guide" query resources:

- `POST /jobs/query` `{"operation": "query"|"queryAll", "query": SOQL}` creates a job
  (state `UploadComplete`); the SOQL runs at once, so it is `JobComplete` on the next read;
- `GET /jobs/query/{id}`: status (`jobType: V2Query`, `numberRecordsProcessed`);
- `GET /jobs/query/{id}/results[?maxRecords=N&locator=L]`: CSV, columns in the order the
  query names them (API 50.0+), with `Sforce-NumberOfRecords` and `Sforce-Locator` (the
  next set's locator, or the string `null` after the last);
- `GET /jobs/query`: every query job; `PATCH` `{"state": "Aborted"}`; `DELETE` (204).

Bad SOQL is refused when the job is created, with the REST API's error codes.
"""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, request

from .bulk2_ingest import bad_request, find_job, job_info
from .bulk_csv import DELIMITERS, LINE_ENDINGS, write_rows
from .bulk_jobs import QUERY_OPERATIONS, TERMINAL_STATES, Job, new_job_id
from .context import current
from .field_values import json_body
from .responses import json_response, rest_error
from .rest_session import api_version, authenticate, report_usage, session
from .soql import SoqlError, parse
from .soql_eval import QueryError, resolve, run

blueprint = Blueprint("bulk2_query", __name__, url_prefix="/services/data")
blueprint.before_request(authenticate)
blueprint.after_request(report_usage)

ROOT = "/<segment>/jobs/query"
# Records per result set when the client sets no maxRecords.
DEFAULT_MAX_RECORDS = 50000


def _locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _offset(locator: str) -> int | None:
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


@blueprint.post(ROOT)
def create_job(segment: str) -> Response:
    body = json_body()
    if isinstance(body, Response):
        return body
    operation = body.get("operation", "query")
    if operation not in QUERY_OPERATIONS:
        return bad_request(f"InvalidJob : Invalid operation: {operation}")
    delimiter = body.get("columnDelimiter", "COMMA")
    line_ending = body.get("lineEnding", "LF")
    if delimiter not in DELIMITERS or line_ending not in LINE_ENDINGS:
        return bad_request("InvalidJob : invalid columnDelimiter or lineEnding")
    try:
        sobject, query = resolve(parse(str(body.get("query", ""))))
    except SoqlError as error:
        return rest_error("MALFORMED_QUERY", str(error), 400)
    except QueryError as error:
        return rest_error(error.error_code, str(error), 400)
    if query.is_count:
        return rest_error("INVALIDJOB", "InvalidJob : COUNT() is not supported", 400)
    emulator = current()
    now = emulator.config.clock()
    job = Job(
        new_job_id(),
        str(operation),
        sobject.name,
        session().user_id,
        now,
        api_version(),
        line_ending=line_ending,
        column_delimiter=delimiter,
        query=str(body["query"]),
    )
    job.state = "UploadComplete"
    answer = job_info(job)
    rows = emulator.state.records.all_of(sobject.name, include_deleted=operation == "queryAll")
    job.columns = list(query.fields)
    job.rows = [row.values() for row in run(query, sobject, rows)]
    job.state = "JobComplete"
    emulator.state.bulk_jobs.add(job)
    return json_response(answer)


@blueprint.get(ROOT)
def list_jobs(segment: str) -> Response:
    jobs = [job_info(job) for job in current().state.bulk_jobs.all() if not job.classic]
    queries = [info for info in jobs if info["operation"] in QUERY_OPERATIONS]
    return json_response({"done": True, "records": queries, "nextRecordsUrl": None})


@blueprint.get(f"{ROOT}/<job_id>")
def status(segment: str, job_id: str) -> Response:
    job = find_job(job_id, query=True)
    return job if isinstance(job, Response) else json_response(job_info(job, detailed=True))


@blueprint.get(f"{ROOT}/<job_id>/results")
def results(segment: str, job_id: str) -> Response:
    job = find_job(job_id, query=True)
    if isinstance(job, Response):
        return job
    if job.state != "JobComplete":
        message = f"can only download query results of a completed job: {job.state}"
        return rest_error("JOB_NOT_COMPLETE", message, 412)
    if job.api_version != api_version():
        return rest_error("API_VERSION_MISMATCH", "use the API version the job has", 409)
    text_max = request.args.get("maxRecords", str(DEFAULT_MAX_RECORDS))
    start = _offset(request.args["locator"]) if "locator" in request.args else 0
    if not text_max.isdigit() or int(text_max) < 1 or start is None:
        return rest_error("INVALID_PARAMETER", "invalid maxRecords or locator", 400)
    end = start + int(text_max)
    chosen = job.rows[start:end]
    rows = [[values.get(name) for name in job.columns] for values in chosen]
    text = write_rows(job.columns, rows, job.column_delimiter, job.line_ending)
    response = Response(text, 200, content_type="text/csv")
    response.headers["Sforce-NumberOfRecords"] = str(len(chosen))
    response.headers["Sforce-Locator"] = _locator(end) if end < len(job.rows) else "null"
    return response


@blueprint.patch(f"{ROOT}/<job_id>")
def abort(segment: str, job_id: str) -> Response:
    job = find_job(job_id, query=True)
    if isinstance(job, Response):
        return job
    body = json_body()
    if isinstance(body, Response):
        return body
    if body.get("state") != "Aborted" or job.state in TERMINAL_STATES - {"JobComplete"}:
        return rest_error("INVALIDJOBSTATE", "only an unfinished job can be aborted", 400)
    job.state = "Aborted"
    return json_response(job_info(job))


@blueprint.delete(f"{ROOT}/<job_id>")
def delete_job(segment: str, job_id: str) -> Response:
    job = find_job(job_id, query=True)
    if isinstance(job, Response):
        return job
    current().state.bulk_jobs.remove(job.id)
    return Response(status=204)
