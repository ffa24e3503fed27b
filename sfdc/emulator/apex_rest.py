"""A canned Apex REST service under `/services/apexrest/` (not a Salesforce built-in).

Orgs expose their own Apex classes there ("Apex Developer Guide", "Exposing Apex Classes
as REST Web Services"); the emulator has one, `/services/apexrest/echo`, which answers
any method with what it received: `{"method", "path", "params", "headers", "body"}`
(an Apex class reads the headers from `RestContext.request.headers`); and
`/services/apexrest/moved`, which answers 301 with an absolute `Location` on this
instance pointing at `echo` (as a class setting `RestContext.response` headers would). It is
authenticated like the REST API (401 `INVALID_SESSION_ID` for a dead session, usage in
`Sforce-Limit-Info`); other paths get Apex REST's 404 `NOT_FOUND` "Could not find a match
for URL", so proxies can be tested end to end.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, g, request

from .context import base_url, current, presented_credential
from .responses import invalid_session, json_response, rest_error
from .rest_session import report_usage

blueprint = Blueprint("apex_rest", __name__, url_prefix="/services/apexrest")
blueprint.after_request(report_usage)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@blueprint.before_request
def _authenticate() -> Response | None:
    credential = presented_credential(allow_parameter=False)
    if credential.kind == "malformed":
        return rest_error("INVALID_AUTH_HEADER", "INVALID_HEADER_TYPE", 401)
    emulator = current()
    clock, timeout = emulator.config.clock(), emulator.config.session_timeout
    session = emulator.state.use(credential.token, clock, timeout) if credential.token else None
    if session is None:
        return invalid_session()
    g.api_usage = emulator.state.count_api_call()
    return None


@blueprint.route("/echo", methods=METHODS)
def echo() -> Response:
    text = request.get_data(as_text=True)
    body: Any = text
    if request.is_json:
        try:
            body = json.loads(text or "null")
        except ValueError:
            return rest_error("JSON_PARSER_ERROR", "Unexpected character in the body", 400)
    params = {name: request.args.getlist(name) for name in request.args}
    shown = {name: values[0] if len(values) == 1 else values for name, values in params.items()}
    return json_response(
        {
            "method": request.method,
            "path": request.path,
            "params": shown,
            "headers": dict(request.headers.items()),
            "body": body,
        }
    )


@blueprint.route("/moved", methods=METHODS)
def moved() -> Response:
    return Response(b"", 301, headers={"Location": f"{base_url()}/services/apexrest/echo"})


@blueprint.route("/<path:rest>", methods=METHODS)
def unknown(rest: str) -> Response:
    return rest_error("NOT_FOUND", f"Could not find a match for URL /{rest}", 404)
