"""The Query and QueryAll resources: `GET /services/data/vXX.X/query?q=SOQL` and
`/queryAll?q=SOQL`.

Emulates the REST API Developer Guide's "Query", "QueryAll", "Query More Results",
"Query Options Header" and "Query Performance Feedback":

- the answer is `{"totalSize", "done", "records"}`, each record with `attributes`
  (`type`, `url`) followed by the selected fields; `SELECT COUNT()` gives `totalSize` and
  no records;
- more rows than the batch size (2,000, or `Sforce-Query-Options: batchSize=N` with N
  from 200 to 2,000) give `done: false` and a `nextRecordsUrl` that serves the next batch;
- `queryAll` also returns deleted rows, with `IsDeleted: true`;
- `explain=SOQL` (instead of `q`) answers `{"plans": [...]}` without running the query;
- bad SOQL is 400 `MALFORMED_QUERY`, an unknown object `INVALID_TYPE`, an unknown field
  `INVALID_FIELD`.

`columns=true` is not in the guide, but Salesforce's own CLI (`sf data query`) sends it
and reads `columnMetadata` (`columnName`, `joinColumns`, `aggregate`, ...) and
`entityName` from the answer; the emulator answers that shape, without records.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, request

from .context import current
from .query_locators import Cursor
from .records import SObjectRecord
from .responses import json_response, rest_error
from .rest_session import api_version, authenticate, report_usage, version_root
from .schema import SObjectType
from .soql import SoqlError, parse
from .soql_eval import QueryError, resolve, run

blueprint = Blueprint("query", __name__, url_prefix="/services/data")
blueprint.before_request(authenticate)
blueprint.after_request(report_usage)

DEFAULT_BATCH_SIZE = 2000
MIN_BATCH_SIZE = 200
_BATCH_OPTION = re.compile(r"(?:^|[;,\s])batchSize\s*=\s*(\d+)", re.IGNORECASE)
_LOCATOR = re.compile(r"(01g[A-Za-z0-9]{15})-(\d+)")


def _batch_size() -> int:
    """The batch size from `Sforce-Query-Options`, clamped to what Salesforce allows."""
    found = _BATCH_OPTION.search(request.headers.get("Sforce-Query-Options", ""))
    if found is None:
        return DEFAULT_BATCH_SIZE
    return min(max(int(found.group(1)), MIN_BATCH_SIZE), DEFAULT_BATCH_SIZE)


def _page(resource: str, locator: str, cursor: Cursor, start: int) -> dict[str, Any]:
    end = start + cursor.batch_size
    body: dict[str, Any] = {
        "totalSize": len(cursor.records),
        "done": end >= len(cursor.records),
    }
    if not body["done"]:
        body["nextRecordsUrl"] = f"{version_root()}/{resource}/{locator}-{end}"
    body["records"] = list(cursor.records[start:end])
    return body


def _record(row: SObjectRecord, fields: tuple[str, ...]) -> dict[str, Any]:
    return row.as_json(api_version(), fields)


def _explain(soql: str) -> Response:
    try:
        sobject, query = resolve(parse(soql))
    except SoqlError as error:
        return rest_error("MALFORMED_QUERY", str(error), 400)
    except QueryError as error:
        return rest_error(error.error_code, str(error), 400)
    count = len(current().state.records.all_of(sobject.name))
    plan = {
        "cardinality": len(run(query, sobject, current().state.records.all_of(sobject.name))),
        "fields": [],
        "leadingOperationType": "TableScan",
        "notes": [],
        "relativeCost": 1.0,
        "sobjectCardinality": count,
        "sobjectType": sobject.name,
    }
    return json_response({"plans": [plan]})


_APEX_TYPES = {
    "id": "Id",
    "reference": "Id",
    "boolean": "Boolean",
    "int": "Integer",
    "double": "Double",
    "currency": "Decimal",
    "datetime": "Datetime",
    "date": "Date",
}


def _columns(sobject: SObjectType, fields: tuple[str, ...]) -> Response:
    """The column metadata the Salesforce CLI asks for with `columns=true`."""
    columns = []
    for name in fields:
        field = sobject.field(name)
        assert field is not None  # resolved
        numeric = field.type in {"int", "double", "currency"}
        columns.append(
            {
                "aggregate": False,
                "apexType": _APEX_TYPES.get(field.type, "String"),
                "booleanType": field.type == "boolean",
                "columnName": field.name,
                "custom": field.custom,
                "displayName": field.name,
                "foreignKeyName": None,
                "insertable": field.createable,
                "joinColumns": [],
                "numberType": numeric,
                "textType": not numeric and field.type not in {"boolean", "date", "datetime"},
                "updatable": field.updateable,
            }
        )
    return json_response(
        {
            "columnMetadata": columns,
            "entityName": sobject.name,
            "groupBy": False,
            "idSelected": "Id" in fields,
            "keyPrefix": sobject.key_prefix,
        }
    )


def _run(resource: str, include_deleted: bool) -> Response:
    if "explain" in request.args and "q" not in request.args:
        return _explain(request.args["explain"])
    try:
        sobject, query = resolve(parse(request.args.get("q", "")))
    except SoqlError as error:
        return rest_error("MALFORMED_QUERY", str(error), 400)
    except QueryError as error:
        return rest_error(error.error_code, str(error), 400)
    if request.args.get("columns", "").lower() == "true":
        return _columns(sobject, query.fields)
    rows = current().state.records.all_of(sobject.name, include_deleted=include_deleted)
    selected = run(query, sobject, rows)
    if query.is_count:
        return json_response({"totalSize": len(selected), "done": True, "records": []})
    records = tuple(_record(row, query.fields) for row in selected)
    cursor = Cursor(records, _batch_size())
    if len(records) <= cursor.batch_size:
        return json_response({"totalSize": len(records), "done": True, "records": list(records)})
    locator = current().state.query_locators.open(cursor)
    return json_response(_page(resource, locator, cursor, 0))


def _more(resource: str, tail: str) -> Response:
    found = _LOCATOR.fullmatch(tail)
    cursor = None if found is None else current().state.query_locators.get(found.group(1))
    if found is None or cursor is None or int(found.group(2)) >= len(cursor.records):
        return rest_error("INVALID_QUERY_LOCATOR", "invalid query locator", 400)
    return json_response(_page(resource, found.group(1), cursor, int(found.group(2))))


@blueprint.get("/<segment>/query")
@blueprint.get("/<segment>/query/")
def query(segment: str) -> Response:
    return _run("query", include_deleted=False)


@blueprint.get("/<segment>/queryAll")
@blueprint.get("/<segment>/queryAll/")
def query_all(segment: str) -> Response:
    return _run("queryAll", include_deleted=True)


@blueprint.get("/<segment>/query/<tail>")
def query_more(segment: str, tail: str) -> Response:
    return _more("query", tail)


@blueprint.get("/<segment>/queryAll/<tail>")
def query_all_more(segment: str, tail: str) -> Response:
    return _more("queryAll", tail)
