"""`POST /services/oauth2/token`: the JWT bearer, authorization-code and refresh grants.

The JWT bearer grant emulates Salesforce Help, "OAuth 2.0 JWT Bearer Flow for
Server-to-Server Integration": a form-encoded
`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and `assertion`, answered with
`access_token`, `scope`, `instance_url`, `id` and `token_type`, and never a refresh token
or `expires_in`. `authorization_code` and `refresh_token` live in `user_grants`; any other
grant type gets `unsupported_grant_type`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from .assertion import GrantError, verify_assertion
from .context import EmulatorContext, base_url, current
from .failures import failure_response
from .issuance import mint_token, token_response_body
from .responses import json_response, oauth_error
from .user_grants import (
    AUTHORIZATION_CODE_GRANT,
    REFRESH_TOKEN_GRANT,
    redeem_code,
    refresh_session,
)

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

blueprint = Blueprint("token", __name__)

Grant = Callable[[EmulatorContext, Mapping[str, str], str, datetime], dict[str, Any]]


def _jwt_bearer(
    emulator: EmulatorContext, form: Mapping[str, str], base: str, now: datetime
) -> dict[str, Any]:
    username = verify_assertion(form.get("assertion", ""), emulator.config, now)
    issued = mint_token(emulator.config, username, base, now)
    emulator.state.issue(issued)
    return token_response_body(emulator.config, issued, base)


_GRANTS: dict[str, Grant] = {
    JWT_BEARER_GRANT: _jwt_bearer,
    AUTHORIZATION_CODE_GRANT: redeem_code,
    REFRESH_TOKEN_GRANT: refresh_session,
}


@blueprint.post("/services/oauth2/token")
def token() -> Response:
    emulator = current()
    failure = emulator.state.begin_token_request()
    if failure is not None:
        spoiled = failure_response(failure)
        if spoiled is not None:
            return spoiled
        emulator.state.wait_unless_shutdown(failure.seconds)
    # Only the form body counts: whether Salesforce reads the query string is unconfirmed.
    grant = _GRANTS.get(request.form.get("grant_type", ""))
    if grant is None:
        emulator.state.count_grant_error()
        return oauth_error("unsupported_grant_type", "grant type not supported")
    try:
        body = grant(emulator, request.form, base_url(), emulator.config.clock())
    except GrantError as refused:
        emulator.state.count_grant_error()
        return oauth_error(refused.error, refused.description)
    return json_response(body, no_store=True)
