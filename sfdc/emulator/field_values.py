"""Checking the field values of an insert or update, as the REST API does.

Emulates the errors the REST API Developer Guide ("Status Codes and Error Responses") and
the SOAP API's StatusCode list name for record writes, each a JSON list of
`{"message", "errorCode", "fields"}` with HTTP 400:

- `JSON_PARSER_ERROR`: the body is not a JSON object;
- `INVALID_FIELD`: no such field on the object;
- `INVALID_FIELD_FOR_INSERT_UPDATE`: the field is read-only for this operation;
- `MALFORMED_ID`: an ID or lookup field holds something that is not a record ID;
- `INVALID_TYPE_ON_FIELD_IN_RECORD` / `STRING_TOO_LONG`: a value of the wrong type or size;
- `REQUIRED_FIELD_MISSING`: a required field is absent (insert) or set to null.

The message texts follow the wording Salesforce is seen to use; they are not documented.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Response, request

from .responses import rest_error
from .schema import Field, SObjectType

_ID = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?")
_READ_ONLY_MESSAGE = (
    "Unable to create/update fields: {names}. Please check the security settings of this "
    "field and verify that it is read/write for your profile or permission set."
)


def is_record_id(value: str) -> bool:
    """Whether `value` has the shape of a 15- or 18-character Salesforce ID."""
    return _ID.fullmatch(value) is not None


def json_body() -> dict[str, Any] | Response:
    """The request body as a JSON object, or Salesforce's JSON_PARSER_ERROR."""
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError as error:
        return rest_error("JSON_PARSER_ERROR", f"Unexpected character: {error}", 400)
    if not isinstance(body, dict):
        return rest_error("JSON_PARSER_ERROR", "The request body must be a JSON object", 400)
    return body


def _type_error(field: Field, value: Any) -> Response | None:
    if value is None:
        return None
    kind = field.type
    wrong = (
        (kind == "boolean" and not isinstance(value, bool))
        or (kind == "int" and (isinstance(value, bool) or not isinstance(value, int)))
        or (kind in {"double", "currency"} and not _is_number(value))
        or (kind not in {"boolean", "int", "double", "currency"} and not isinstance(value, str))
    )
    if wrong:
        message = f"{field.label}: value not of required type: {value}"
        return rest_error("INVALID_TYPE_ON_FIELD_IN_RECORD", message, 400, [field.name])
    if kind in {"reference", "id"} and not is_record_id(value):
        message = f"{field.label}: id value of incorrect type: {value}"
        return rest_error("MALFORMED_ID", message, 400, [field.name])
    if field.length and isinstance(value, str) and len(value) > field.length:
        message = f"{field.label}: data value too large: {value} (max length={field.length})"
        return rest_error("STRING_TOO_LONG", message, 400, [field.name])
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def checked_fields(
    sobject: SObjectType, body: dict[str, Any], *, creating: bool
) -> dict[str, Any] | Response:
    """`body` with canonical field names, or the error Salesforce would answer."""
    given: dict[str, tuple[Field, Any]] = {}
    for name, value in body.items():
        if name == "attributes":
            continue
        field = sobject.field(name)
        if field is None:
            message = f"No such column '{name}' on sobject of type {sobject.name}"
            return rest_error("INVALID_FIELD", message, 400)
        given[field.name] = (field, value)
    read_only = [
        name
        for name, (field, _) in given.items()
        if not (field.createable if creating else field.updateable)
    ]
    if read_only:
        message = _READ_ONLY_MESSAGE.format(names=", ".join(read_only))
        return rest_error("INVALID_FIELD_FOR_INSERT_UPDATE", message, 400, read_only)
    for field, value in given.values():
        error = _type_error(field, value)
        if error is not None:
            return error
    fields = {name: value for name, (_, value) in given.items()}
    missing = [
        f.name
        for f in sobject.fields
        if f.required_on_create and (f.name in fields or creating) and fields.get(f.name) is None
    ]
    if missing:
        message = f"Required fields are missing: [{', '.join(missing)}]"
        return rest_error("REQUIRED_FIELD_MISSING", message, 400, missing)
    return fields
