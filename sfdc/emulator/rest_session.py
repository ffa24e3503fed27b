"""The REST API's session check, shared by every blueprint under `/services/data/`.

Emulates the REST API Developer Guide's "Status Codes and Error Responses": a call needs
`Authorization: Bearer <access token>`; a missing, expired or revoked token gets HTTP 401
`[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]`, a header
that is not `Bearer ...` gets 401 `INVALID_AUTH_HEADER`. Bulk API 2.0 lives under the same
prefix and answers the same way. Each authenticated call counts against the daily API
allocation and reports it in `Sforce-Limit-Info: api-usage=N/M`.
"""

from __future__ import annotations

from typing import cast

from flask import Response, g, request

from .api_versions import version_from_segment
from .context import current, presented_credential
from .responses import invalid_session, not_found, rest_error
from .state import DAILY_API_LIMIT, IssuedToken

# Endpoints anyone may call (the Versions resource).
PUBLIC_ENDPOINTS = frozenset({"rest.versions"})


def authenticate() -> Response | None:
    """A `before_request` hook: the error response, or None with `g.session` and
    `g.api_version` set."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    credential = presented_credential(allow_parameter=False)
    if credential.kind == "malformed":
        return rest_error("INVALID_AUTH_HEADER", "INVALID_HEADER_TYPE", 401)
    emulator = current()
    session = None
    if credential.kind == "token":
        clock, timeout = emulator.config.clock(), emulator.config.session_timeout
        session = emulator.state.use(credential.token, clock, timeout)
    if session is None:
        return invalid_session()
    g.api_usage = emulator.state.count_api_call()
    version = version_from_segment((request.view_args or {}).get("segment", ""))
    if version is None:
        return not_found()
    g.session = session
    g.api_version = version
    return None


def refusal_without_activity() -> Response | None:
    """The 401 a request without a live session gets, checked without counting as use
    (for paths no endpoint serves: Salesforce checks the session before the path)."""
    credential = presented_credential(allow_parameter=False)
    if credential.kind == "malformed":
        return rest_error("INVALID_AUTH_HEADER", "INVALID_HEADER_TYPE", 401)
    emulator = current()
    if credential.kind == "token" and emulator.state.find(
        credential.token, emulator.config.clock()
    ):
        return None
    return invalid_session()


def report_usage(response: Response) -> Response:
    """An `after_request` hook: the `Sforce-Limit-Info` header on authenticated calls."""
    if "api_usage" in g:
        response.headers["Sforce-Limit-Info"] = f"api-usage={g.api_usage}/{DAILY_API_LIMIT}"
    return response


def session() -> IssuedToken:
    """The session of this (authenticated) request."""
    return cast(IssuedToken, g.session)


def api_version() -> str:
    """The API version of this request's URL, e.g. `62.0`."""
    return cast(str, g.api_version)


def version_root() -> str:
    """`/services/data/vXX.X`, the relative root Salesforce's own URLs use."""
    return f"/services/data/v{api_version()}"
