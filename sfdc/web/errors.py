"""One JSON error handler for every endpoint.

Every failure, ours, Salesforce's or an unexpected bug, leaves as the
contract's ``{"error", "error_description", "hint", "retryable"}``. A bug is
logged with its traceback for the operator; the caller gets no trace.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from sfdc.errors import SfdcError

log = logging.getLogger(__name__)


def _reply(
    status: int, body: dict[str, object], headers: list[tuple[str, str]] | None = None
) -> tuple[Response, int]:
    response = jsonify(body)
    for name, value in headers or []:
        if name.lower() != "content-type":
            response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="sfdc-token-service"'
    return response, status


def _sfdc_error(exc: SfdcError) -> tuple[Response, int]:
    return _reply(exc.status, exc.to_dict())


_HINTS = {
    408: "Send the body as one stream without pauses; the service drops an upload that falls "
    "behind instead of holding a worker for it. Retry the request.",
    413: "Proxied request bodies are limited to 64 MiB; for larger files use Salesforce's "
    "Bulk API or multipart uploads in smaller parts.",
}


def _http_error(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    return _reply(
        status,
        {
            "error": (exc.name or "error").lower().replace(" ", "_"),
            "error_description": exc.description or "",
            "hint": _HINTS.get(
                status, "See the README's endpoint table for what this service serves."
            ),
            "retryable": status == 408,  # a body that came too slowly may come in time next
        },
        exc.get_headers(),  # e.g. Allow on a 405
    )


def _unexpected(exc: Exception) -> tuple[Response, int]:
    log.exception("unexpected error while serving a request")
    return _reply(
        500,
        {
            "error": "internal_error",
            "error_description": "The service failed unexpectedly.",
            "hint": "Retry; if it persists, read the service's logs (`cf logs APP --recent`).",
            "retryable": True,
        },
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(SfdcError, _sfdc_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
