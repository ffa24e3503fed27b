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
from dataclasses import dataclass, field
from typing import Any

from flask import Response, request

from .responses import rest_error
from .schema import Field, SObjectType

_ID = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?")
_READ_ONLY_MESSAGE = (
    "Unable to create/update fields: {names}. Please check the security settings of this "
    "field and verify that it is read/write for your profile or permission set."
)


@dataclass(frozen=True)
class FieldError:
    """Why a write was refused: Salesforce's status code, message and fields at fault."""

    code: str
    message: str
    fields: list[str] | None = field(default=None)

    def response(self) -> Response:
        return rest_error(self.code, self.message, 400, self.fields)


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


def _type_error(field: Field, value: Any) -> FieldError | None:
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
        return FieldError("INVALID_TYPE_ON_FIELD_IN_RECORD", message, [field.name])
    if kind in {"reference", "id"} and not is_record_id(value):
        message = f"{field.label}: id value of incorrect type: {value}"
        return FieldError("MALFORMED_ID", message, [field.name])
    if field.length and isinstance(value, str) and len(value) > field.length:
        message = f"{field.label}: data value too large: {value} (max length={field.length})"
        return FieldError("STRING_TOO_LONG", message, [field.name])
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def validate(
    sobject: SObjectType, body: dict[str, Any], *, creating: bool
) -> dict[str, Any] | FieldError:
    """`body` with canonical field names, or why Salesforce would refuse it."""
    given: dict[str, tuple[Field, Any]] = {}
    for name, value in body.items():
        if name == "attributes":
            continue
        found = sobject.field(name)
        if found is None:
            message = f"No such column '{name}' on sobject of type {sobject.name}"
            return FieldError("INVALID_FIELD", message)
        given[found.name] = (found, value)
    read_only = [
        name for name, (f, _) in given.items() if not (f.createable if creating else f.updateable)
    ]
    if read_only:
        message = _READ_ONLY_MESSAGE.format(names=", ".join(read_only))
        return FieldError("INVALID_FIELD_FOR_INSERT_UPDATE", message, read_only)
    for found, value in given.values():
        error = _type_error(found, value)
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
        return FieldError("REQUIRED_FIELD_MISSING", message, missing)
    return fields


def checked_fields(
    sobject: SObjectType, body: dict[str, Any], *, creating: bool
) -> dict[str, Any] | Response:
    """`validate`, with a refusal as the REST API's error response."""
    fields = validate(sobject, body, creating=creating)
    return fields.response() if isinstance(fields, FieldError) else fields
