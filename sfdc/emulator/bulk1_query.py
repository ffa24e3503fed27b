"""Bulk API 1.0 query jobs (`operation` `query` or `queryAll`) under `/services/async/XX.X/`.

Emulates "Bulk API 2.0 and Bulk API Developer Guide", "Use Bulk Query" and "Walk Through a
Bulk Query Sample": a batch's body is one SOQL statement, whatever the job's content type;
the batch runs at once (so its next read says `Completed`); `GET .../batch/{id}/result`
lists the batch's result IDs (one here: JSON array, or XML `<result-list>` for XML and CSV
jobs); `GET .../result/{resultId}` returns the rows as CSV (a header of the selected
fields), JSON (records with `attributes`, as the REST API returns them) or XML
(`<queryResult>` of `<records>`). SOQL the emulator cannot run, `COUNT()` and a query on
another object than the job's fail the batch (`state` `Failed`, `stateMessage`
`InvalidBatch : ...`). Dates keep the REST API's format (real Bulk 1.0 JSON gives epoch
milliseconds): the emulator does not model that difference.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from flask import Response

from .bulk1_format import JSON_CONTENT_TYPE, NAMESPACE, XML_CONTENT_TYPE, to_xml
from .bulk_csv import write_rows
from .bulk_jobs import Job
from .ids import case_safe, random_id
from .soql import SoqlError, parse
from .soql_eval import QueryError, resolve, run
from .state import EmulatorState

# The key prefix Salesforce's query result IDs show (`752...`), as in the guide's sample.
RESULT_PREFIX = "752"


def run_batch(job: Job, soql: str, state: EmulatorState) -> tuple[list[dict[str, Any]], str]:
    """(the records, "") for a query the emulator runs, else ([], the batch's stateMessage)."""
    try:
        sobject, query = resolve(parse(soql))
    except (SoqlError, QueryError) as problem:
        return [], f"InvalidBatch : Failed to process query: {problem}"
    if query.is_count:
        return [], "InvalidBatch : Aggregate queries are not supported"
    if sobject.name != job.sobject:
        return [], f"InvalidBatch : The query is on {sobject.name}, the job on {job.sobject}"
    rows = state.records.all_of(sobject.name, include_deleted=job.operation == "queryAll")
    return [row.as_json(job.api_version, query.fields) for row in run(query, sobject, rows)], ""


def new_result_id() -> str:
    return case_safe(random_id(RESULT_PREFIX))


def result_list(job: Job, result_id: str) -> Response:
    """The batch's result IDs: a JSON array for JSON jobs, else `<result-list>`."""
    if job.content_type == "JSON":
        return Response(f'["{result_id}"]', 200, content_type=JSON_CONTENT_TYPE)
    document = ET.Element("result-list", {"xmlns": NAMESPACE})
    ET.SubElement(document, "result").text = result_id
    body = b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(document)
    return Response(body, 200, content_type=XML_CONTENT_TYPE)


def result(job: Job, records: list[dict[str, Any]]) -> Response:
    """One result's rows in the job's content type."""
    fields = [name for name in (records[0] if records else {}) if name != "attributes"]
    if job.content_type == "CSV":
        rows = [[record.get(name) for name in fields] for record in records]
        return Response(write_rows(fields, rows), 200, content_type="text/csv")
    if job.content_type == "JSON":
        return Response(json.dumps(records), 200, content_type=JSON_CONTENT_TYPE)
    entries = [
        {"type": record["attributes"]["type"], **{name: record.get(name) for name in fields}}
        for record in records
    ]
    return Response(
        to_xml("queryResult", entries, item="records"), 200, content_type=XML_CONTENT_TYPE
    )
