"""`create_emulator_app`: the Flask app that plays Salesforce.

One app serves the login host (`/services/oauth2/*` including the browser's consent page
at `/services/oauth2/authorize`, `/id/*`) and the org's instance at once: the REST API
and Bulk API 2.0 (`/services/data/*`), Bulk API 1.0 (`/services/async/*`) and a canned
Apex REST service (`/services/apexrest/*`), plus the `/_emulator/*` test knobs.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from . import (
    admin,
    apex_rest,
    authorize,
    bulk1,
    bulk2_ingest,
    bulk2_query,
    describe,
    identity,
    query,
    rest,
    sobject_collections,
    sobject_rows,
    token_endpoint,
    token_management,
)
from .config import EmulatorConfig
from .context import EXTENSION_KEY, EmulatorContext, current
from .credential_log import CREDENTIAL_HEADERS, CREDENTIAL_PARAMETER
from .org_data import org_rows
from .responses import not_found, rest_error
from .rest_session import refusal_without_activity
from .state import EmulatorState


def _rest_http_error(error: HTTPException) -> Response | HTTPException:
    """Unrouted paths and methods under the REST API get its JSON error shape, after the
    session check Salesforce makes first."""
    if not request.path.startswith("/services/data/"):
        return error
    refused = refusal_without_activity()
    if refused is not None:
        return refused
    if isinstance(error, MethodNotAllowed):
        listed = set(error.valid_methods or ()) - {"HEAD", "OPTIONS"}
        allowed = ",".join(sorted(listed))
        message = f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}"
        return rest_error("METHOD_NOT_ALLOWED", message, 405)
    if error.code == 404:
        return not_found()
    return error


def _note_credentials() -> None:
    """Log every credential presented that the emulator never issued (see credential_log)."""
    if request.path.startswith("/_emulator/"):
        return
    presented = [
        (name, request.headers[name]) for name in CREDENTIAL_HEADERS if name in request.headers
    ]
    presented += [
        (CREDENTIAL_PARAMETER, value) for value in request.values.getlist(CREDENTIAL_PARAMETER)
    ]
    current().state.credentials.check(presented, request.path)


def create_emulator_app(config: EmulatorConfig, state: EmulatorState | None = None) -> Flask:
    """A Flask app emulating one org for `config`; pass `state` to inspect it from a test."""
    app = Flask(__name__)
    state = state or EmulatorState()
    state.records.install_org(org_rows(config))
    app.extensions[EXTENSION_KEY] = EmulatorContext(config, state)
    blueprints = (authorize, token_endpoint, token_management, identity, rest, describe)
    bulk = (bulk2_ingest, bulk2_query, bulk1)
    records = (sobject_rows, sobject_collections, query)
    for module in (*blueprints, *records, *bulk, apex_rest, admin):
        app.register_blueprint(module.blueprint)
    app.before_request(_note_credentials)
    app.register_error_handler(HTTPException, _rest_http_error)
    return app
