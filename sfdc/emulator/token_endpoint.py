"""`POST /services/oauth2/token` for the JWT bearer grant.

Emulates Salesforce Help, "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration":
a form-encoded `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and `assertion`,
answered with `access_token`, `scope`, `instance_url`, `id` and `token_type`, and never a
refresh token or `expires_in`. The refresh-token and authorization-code grants are not
emulated yet and get `unsupported_grant_type`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from .assertion import GrantError, verify_assertion
from .config import EmulatorConfig
from .context import base_url, current
from .failures import failure_response
from .ids import organization_id, user_id
from .responses import json_response, oauth_error
from .state import IssuedToken

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

blueprint = Blueprint("token", __name__)


def _new_access_token(org_id: str) -> str:
    # Salesforce tokens are "<15-char org id>!<opaque>"; clients must not parse the rest.
    return f"{org_id[:15]}!{secrets.token_urlsafe(72)}"


def mint_token(config: EmulatorConfig, username: str, base: str, now: datetime) -> IssuedToken:
    """A new session for `username`, with identity URL on host `base`."""
    org_id = organization_id(config)
    uid = user_id(config, username)
    return IssuedToken(
        access_token=_new_access_token(org_id),
        username=username,
        organization_id=org_id,
        user_id=uid,
        identity_url=f"{base}/id/{org_id}/{uid}",
        scope=config.scope,
        issued_at=now,
        expires_at=now + config.session_timeout,
    )


def signature(identity_url: str, issued_at: str, consumer_secret: str) -> str:
    """Base64 HMAC-SHA256 of `id` + `issued_at`, keyed with the consumer secret."""
    mac = hmac.new(consumer_secret.encode(), (identity_url + issued_at).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def token_response_body(config: EmulatorConfig, token: IssuedToken, base: str) -> dict[str, Any]:
    """The success body. `issued_at` and `signature` only when a consumer secret is set:
    whether Salesforce sends them for this grant is unconfirmed, and without the secret a
    JWT client could not check the signature anyway."""
    body: dict[str, Any] = {
        "access_token": token.access_token,
        "scope": token.scope,
        "instance_url": base,
        "id": token.identity_url,
        "token_type": "Bearer",
    }
    if config.consumer_secret is not None:
        issued_at = str(int(token.issued_at.timestamp() * 1000))
        body["issued_at"] = issued_at
        body["signature"] = signature(token.identity_url, issued_at, config.consumer_secret)
    return body


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
    grant_type = request.form.get("grant_type")
    if grant_type != JWT_BEARER_GRANT:
        emulator.state.count_grant_error()
        return oauth_error("unsupported_grant_type", "grant type not supported")
    now = emulator.config.clock()
    try:
        username = verify_assertion(request.form.get("assertion", ""), emulator.config, now)
    except GrantError as refused:
        emulator.state.count_grant_error()
        return oauth_error(refused.error, refused.description)
    issued = mint_token(emulator.config, username, base_url(), now)
    emulator.state.issue(issued)
    return json_response(token_response_body(emulator.config, issued, base_url()), no_store=True)
