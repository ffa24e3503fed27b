"""sObject Collections: `/services/data/vXX.X/composite/sobjects`.

Emulates the REST API Developer Guide's "sObject Collections" (jsforce uses it whenever a
client creates, updates or deletes a list of records):

- `POST` `{"allOrNone": bool, "records": [{"attributes": {"type": ...}, ...}]}` creates,
  `PATCH` (records with `Id`) updates; `DELETE ?ids=a,b[&allOrNone=true]` deletes;
  `GET /composite/sobjects/{type}?ids=a,b&fields=A,B` (or `POST` with `{"ids",
  "fields"}`, as jsforce sends it) retrieves, null for a missing ID;
- each write answers 200 with one `{"id", "success", "errors": [{"statusCode",
  "message", "fields"}]}` per record, in order; at most 200 records
  (`EXCEEDED_ID_LIMIT`);
- with `allOrNone`, one failure rolls the whole request back: the other records report
  `ALL_OR_NONE_OPERATION_ROLLED_BACK` and nothing is written.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from .context import current
from .field_values import FieldError, is_record_id, json_body, validate
from .responses import json_response, rest_error
from .rest_session import api_version, authenticate, report_usage, session
from .schema import sobject_type, type_of_id

blueprint = Blueprint("sobject_collections", __name__, url_prefix="/services/data")
blueprint.before_request(authenticate)
blueprint.after_request(report_usage)

ROOT = "/<segment>/composite/sobjects"
MAX_RECORDS = 200
MAX_RETRIEVE = 2000  # IDs per retrieve (the guide: up to 2,000)
_ROLLED_BACK = FieldError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not all records were valid"
)

# (record id or "", the error) per record; a plan is checked before anything is written.
Planned = tuple[str, FieldError | None, Any]


def _result(record_id: str, failure: FieldError | None) -> dict[str, Any]:
    if failure is None:
        return {"id": record_id, "success": True, "errors": []}
    error = {"statusCode": failure.code, "message": failure.message,
             "fields": failure.fields or []}  # fmt: skip
    return {"id": record_id or None, "success": False, "errors": [error]}


def _plan_write(record: Any, creating: bool) -> Planned:
    """What one record of a POST/PATCH would do: (id, error, (type, fields))."""
    if not isinstance(record, dict):
        return "", FieldError("JSON_PARSER_ERROR", "each record must be a JSON object"), None
    attributes = record.get("attributes")
    sobject = (
        sobject_type(str(attributes.get("type", ""))) if isinstance(attributes, dict) else None
    )
    if sobject is None:
        return "", FieldError("INVALID_TYPE", "Must specify a type in attributes"), None
    body = {key: value for key, value in record.items() if key not in {"attributes", "Id", "id"}}
    record_id = str(record.get("Id") or record.get("id") or "")
    if not creating:
        store = current().state.records
        found = store.get(sobject.name, record_id) if is_record_id(record_id) else None
        if found is None:
            message = f"invalid cross reference id: {record_id}"
            return record_id, FieldError("INVALID_CROSS_REFERENCE_KEY", message), None
    checked = validate(sobject, body, creating=creating)
    if isinstance(checked, FieldError):
        return record_id, checked, None
    return record_id, None, (sobject.name, checked)


def _apply(plans: list[Planned], all_or_none: bool, creating: bool) -> Response:
    failed = any(failure is not None for _, failure, _ in plans)
    emulator = current()
    now = emulator.config.clock()
    results = []
    for record_id, failure, change in plans:
        if failure is not None or (all_or_none and failed):
            results.append(_result(record_id, failure or _ROLLED_BACK))
            continue
        name, fields = change
        if creating:
            record_id = emulator.state.records.create(name, fields, now, session().user_id).id
        else:
            emulator.state.records.update(name, record_id, fields, now)
        results.append(_result(record_id, None))
    return json_response(results)


@blueprint.route(ROOT, methods=["POST", "PATCH"])
def write(segment: str) -> Response:
    body = json_body()
    if isinstance(body, Response):
        return body
    records = body.get("records")
    if not isinstance(records, list):
        return rest_error("JSON_PARSER_ERROR", "records must be a JSON array", 400)
    if len(records) > MAX_RECORDS:
        message = f"record limit reached. cannot submit more than {MAX_RECORDS} records"
        return rest_error("EXCEEDED_ID_LIMIT", message, 400)
    creating = request.method == "POST"
    plans = [_plan_write(record, creating) for record in records]
    return _apply(plans, bool(body.get("allOrNone", False)), creating)


def _ids() -> list[str] | Response:
    ids = [part for part in request.args.get("ids", "").split(",") if part]
    if not ids:
        return rest_error("MISSING_ARGUMENT", "ids parameter is required", 400)
    if len(ids) > MAX_RECORDS:
        return rest_error("EXCEEDED_ID_LIMIT", "too many ids", 400)
    return ids


@blueprint.delete(ROOT)
def delete(segment: str) -> Response:
    ids = _ids()
    if isinstance(ids, Response):
        return ids
    store = current().state.records
    found = []
    for record_id in ids:
        kind = type_of_id(record_id)
        row = store.get(kind.name, record_id) if kind and is_record_id(record_id) else None
        found.append((record_id, row))
    missing = FieldError("ENTITY_IS_DELETED", "entity is deleted")
    all_or_none = request.args.get("allOrNone", "").lower() == "true"
    plans: list[Planned] = [(i, None if row else missing, row) for i, row in found]
    if all_or_none and any(failure for _, failure, _ in plans):
        return json_response([_result(i, failure or _ROLLED_BACK) for i, failure, _ in plans])
    now = current().config.clock()
    for _, failure, row in plans:
        if failure is None:
            store.delete(row.sobject, row.id, now)
    return json_response([_result(i, failure) for i, failure, _ in plans])


def _listed(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(part) for part in value]
    return [part for part in str(value or "").split(",") if part]


@blueprint.route(f"{ROOT}/<name>", methods=["GET", "POST"])
def retrieve(segment: str, name: str) -> Response:
    """GET with `ids`/`fields` parameters, or POST `{"ids": [...], "fields": [...]}` for
    lists too long for a URL."""
    sobject = sobject_type(name)
    if sobject is None:
        return rest_error("NOT_FOUND", "The requested resource does not exist", 404)
    if request.method == "POST":
        body = json_body()
        if isinstance(body, Response):
            return body
        ids, wanted = _listed(body.get("ids")), _listed(body.get("fields"))
    else:
        ids, wanted = _listed(request.args.get("ids")), _listed(request.args.get("fields"))
    if not ids or not wanted:
        return rest_error("MISSING_ARGUMENT", "ids and fields are required", 400)
    if len(ids) > MAX_RETRIEVE:
        return rest_error("EXCEEDED_ID_LIMIT", "too many ids", 400)
    names = []
    for field_name in wanted:
        field = sobject.field(field_name)
        if field is None:
            message = f"No such column '{field_name}' on entity '{sobject.name}'"
            return rest_error("INVALID_FIELD", message, 400)
        names.append(field.name)
    store = current().state.records
    rows = [store.get(sobject.name, i) if is_record_id(i) else None for i in ids]
    return json_response([row.as_json(api_version(), names) if row else None for row in rows])
