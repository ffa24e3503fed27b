"""Response shapes Salesforce uses, one builder each.

- OAuth endpoints: JSON objects `{"error": ..., "error_description": ...}` with HTTP 400 and
  `Cache-Control: no-store` (Salesforce Help, "OAuth 2.0 Flow Errors").
- Identity URL and UserInfo: plain-text error codes such as `Bad_OAuth_Token` with 403.
- REST data API: a JSON array of `{"message": ..., "errorCode": ...}` (REST API Developer
  Guide, "Status Codes and Error Responses").
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"


def json_response(body: Any, status: int = 200, *, no_store: bool = False) -> Response:
    """`body` as JSON with Salesforce's exact Content-Type."""
    # Compact separators, as Salesforce writes JSON.
    text = json.dumps(body, separators=(",", ":"))
    response = Response(text, status, content_type=JSON_CONTENT_TYPE)
    if no_store:
        response.headers["Cache-Control"] = "no-store"
    return response


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    """An OAuth endpoint's error, as Salesforce's token endpoint sends it."""
    return json_response({"error": error, "error_description": description}, status, no_store=True)


def plain_text(text: str, status: int) -> Response:
    """A bare error code in a text/plain body (identity URL, UserInfo)."""
    return Response(text, status, content_type="text/plain;charset=UTF-8")


def rest_error(
    error_code: str, message: str, status: int, fields: list[str] | None = None
) -> Response:
    """A REST data API error: one-element JSON array; `fields` names the fields at fault
    for field-level errors (REQUIRED_FIELD_MISSING, MALFORMED_ID, ...)."""
    error: dict[str, Any] = {"message": message, "errorCode": error_code}
    if fields is not None:
        error["fields"] = fields
    return json_response([error], status)


def invalid_session() -> Response:
    """What the REST data API answers for a missing, expired or revoked token."""
    return rest_error("INVALID_SESSION_ID", "Session expired or invalid", 401)


def not_found() -> Response:
    return rest_error("NOT_FOUND", "The requested resource does not exist", 404)
