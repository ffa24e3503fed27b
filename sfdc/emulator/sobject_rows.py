"""sObject Rows and sObject Rows by External ID.

Emulates the REST API Developer Guide resources:

- `POST /sobjects/{type}`: create; 201 `{"id", "success": true, "errors": []}`.
- `GET /sobjects/{type}/{id}[?fields=A,B]`: the row (all fields, or the ones listed).
- `PATCH /sobjects/{type}/{id}`: update, 204 with no body. `DELETE`: 204.
- `GET /sobjects/{type}/{field}/{value}`: a row by external ID; 300 with the matching rows'
  URLs when the value is not unique.
- `PATCH /sobjects/{type}/{field}/{value}`: upsert ("Insert or Update (Upsert) a Record
  Using an External ID"). No match creates the row (201, `created: true`); one match
  updates it; several give 300 and change nothing. Since API version 46.0 an update
  answers 200 with `{"id", "success", "errors", "created": false}`; before, 204. With
  `updateOnly=true` a missing value is 404 instead of an insert.

An unknown type or row is 404 `NOT_FOUND`; a path segment that is neither an ID nor an
external-ID field is 404 "Provided external ID field does not exist or is not accessible"
(Salesforce's observed wording). Field errors come from `field_values`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from .api_versions import version_number
from .context import current
from .field_values import checked_fields, is_record_id, json_body
from .records import SObjectRecord
from .responses import json_response, not_found, rest_error
from .rest_session import api_version, authenticate, report_usage, session
from .schema import SObjectType, sobject_type

blueprint = Blueprint("sobject_rows", __name__, url_prefix="/services/data")
blueprint.before_request(authenticate)
blueprint.after_request(report_usage)

# From this version on, an upsert that updates answers 200 with a body instead of 204.
UPSERT_BODY_SINCE = 46.0


def _no_external_id(name: str) -> Response:
    message = f"Provided external ID field does not exist or is not accessible: {name}"
    return rest_error("NOT_FOUND", message, 404)


def _insert(sobject: SObjectType, extra: dict[str, Any] | None = None) -> SObjectRecord | Response:
    if not sobject.createable:
        message = f"entity type {sobject.name} does not support insert"
        return rest_error("INVALID_TYPE_FOR_OPERATION", message, 400)
    body = json_body()
    if isinstance(body, Response):
        return body
    fields = checked_fields(sobject, {**body, **(extra or {})}, creating=True)
    if isinstance(fields, Response):
        return fields
    emulator = current()
    now = emulator.config.clock()
    return emulator.state.records.create(sobject.name, fields, now, session().user_id)


def _update(sobject: SObjectType, row: SObjectRecord) -> Response | None:
    body = json_body()
    if isinstance(body, Response):
        return body
    fields = checked_fields(sobject, body, creating=False)
    if isinstance(fields, Response):
        return fields
    emulator = current()
    emulator.state.records.update(sobject.name, row.id, fields, emulator.config.clock())
    return None


def _selected(sobject: SObjectType, row: SObjectRecord) -> Response:
    listed = request.args.get("fields")
    if listed is None:
        return json_response(row.as_json(api_version()))
    names = []
    for name in (part.strip() for part in listed.split(",") if part.strip()):
        field = sobject.field(name)
        if field is None:
            message = f"No such column '{name}' on entity '{sobject.name}'."
            return rest_error("INVALID_FIELD", message, 400)
        names.append(field.name)
    return json_response(row.as_json(api_version(), names))


@blueprint.post("/<segment>/sobjects/<name>")
@blueprint.post("/<segment>/sobjects/<name>/")
def create(segment: str, name: str) -> Response:
    sobject = sobject_type(name)
    if sobject is None:
        return not_found()
    row = _insert(sobject)
    if isinstance(row, Response):
        return row
    return json_response({"id": row.id, "success": True, "errors": []}, 201)


@blueprint.route("/<segment>/sobjects/<name>/<record_id>", methods=["GET", "PATCH", "DELETE"])
def sobject_row(segment: str, name: str, record_id: str) -> Response:
    sobject = sobject_type(name)
    if sobject is None:
        return not_found()
    if not is_record_id(record_id):
        return _no_external_id(record_id)
    emulator = current()
    row = emulator.state.records.get(sobject.name, record_id)
    if row is None:
        return not_found()
    if request.method == "GET":
        return _selected(sobject, row)
    if request.method == "DELETE":
        if not sobject.deletable:
            return rest_error("INVALID_TYPE_FOR_OPERATION", "entity type cannot be deleted", 400)
        emulator.state.records.delete(sobject.name, row.id, emulator.config.clock())
        return Response(status=204)
    error = _update(sobject, row)
    return error if error is not None else Response(status=204)


@blueprint.route("/<segment>/sobjects/<name>/<field_name>/<path:value>", methods=["GET", "PATCH"])
def by_external_id(segment: str, name: str, field_name: str, value: str) -> Response:
    sobject = sobject_type(name)
    if sobject is None:
        return not_found()
    field = sobject.field(field_name)
    if field is None or not field.external_id:
        return _no_external_id(field_name)
    matches = current().state.records.find_by(sobject.name, field.name, value)
    if len(matches) > 1:
        return json_response([row.attributes(api_version())["url"] for row in matches], 300)
    if request.method == "GET":
        return not_found() if not matches else _selected(sobject, matches[0])
    newer = version_number(api_version()) >= UPSERT_BODY_SINCE
    if matches:
        error = _update(sobject, matches[0])
        if error is not None:
            return error
        if not newer:
            return Response(status=204)
        body = {"id": matches[0].id, "success": True, "errors": [], "created": False}
        return json_response(body, 200)
    if request.args.get("updateOnly", "").lower() == "true":
        return not_found()
    row = _insert(sobject, {field.name: value})
    if isinstance(row, Response):
        return row
    created: dict[str, Any] = {"id": row.id, "success": True, "errors": []}
    if newer:
        created["created"] = True
    return json_response(created, 201)
