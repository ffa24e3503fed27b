"""One JSON error handler for every endpoint.

Every failure, ours, Salesforce's or an unexpected bug, leaves as the
contract's ``{"error", "error_description", "hint", "retryable"}``. A bug is
logged with its traceback for the operator; the caller gets no trace.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from sfdc.errors import (
    BadRequest,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RequestError,
    RequestTimeout,
    SfdcError,
)

log = logging.getLogger(__name__)

# What werkzeug raises before a view runs, by status. Another status from werkzeug
# would mean a path of Flask's this service does not know it takes: a bug, a 500.
_HTTP: dict[int, type[RequestError]] = {
    kind.status: kind
    for kind in (BadRequest, NotFound, MethodNotAllowed, RequestTimeout, PayloadTooLarge)
}
# What a 401 carries (RFC 6750 section 3): the scheme the API key is sent with.
CHALLENGE = 'Bearer realm="sfdc-token-service"'


def _reply(
    status: int, body: dict[str, object], headers: list[tuple[str, str]] | None = None
) -> tuple[Response, int]:
    response = jsonify(body)
    for name, value in headers or []:
        if name.lower() != "content-type":
            response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = CHALLENGE
    return response, status


def _sfdc_error(exc: SfdcError) -> tuple[Response, int]:
    return _reply(exc.status, exc.to_dict())


def _http_error(exc: HTTPException) -> tuple[Response, int]:
    kind = _HTTP.get(exc.code or 500)
    if kind is None:
        return _unexpected(exc)
    error = kind(exc.description or "")
    return _reply(error.status, error.to_dict(), exc.get_headers())  # e.g. Allow on a 405


def _unexpected(exc: Exception) -> tuple[Response, int]:
    log.exception("unexpected error while serving a request")
    return _sfdc_error(InternalError("The service failed unexpectedly."))


def init_app(app: Flask) -> None:
    app.register_error_handler(SfdcError, _sfdc_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
