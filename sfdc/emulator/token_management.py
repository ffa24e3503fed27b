"""`/services/oauth2/revoke` and `/services/oauth2/introspect`.

Revoke emulates Salesforce Help, "Revoke OAuth Tokens" and the Mobile SDK guide's "Revoking
OAuth Tokens": `token=` in a form POST (or the query of a GET) ends that session, or, for a
refresh token, revokes it together with every access token issued from it; success is
HTTP 200, every failure HTTP 400 `invalid_token`. Introspect emulates "OpenID Connect Token
Introspection Endpoint": the app authenticates with its consumer key and secret and learns
whether a token is active, with `exp`/`iat`/`nbf` in epoch seconds.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, request

from .context import current
from .responses import json_response, oauth_error

blueprint = Blueprint("token_management", __name__)

INVALID_CLIENT = "invalid client credentials"


@blueprint.route("/services/oauth2/revoke", methods=["GET", "POST"])
def revoke() -> Response:
    parameters = request.form if request.method == "POST" else request.args
    token = parameters.get("token", "")
    if not token or not current().state.revoke(token):
        # The error body's content type is unconfirmed; JSON matches the token endpoint.
        return oauth_error("invalid_token", "Token was invalid")
    return Response(b"", 200)


def _client_error(*, used_header: bool) -> Response:
    # RFC 6749 section 5.2, which introspection (RFC 7662) defers to: a client that
    # authenticated with the Authorization header MUST get 401 and a challenge; otherwise
    # 400. Salesforce's own statuses here are undocumented, so the RFC decides.
    if used_header:
        response = oauth_error("invalid_client", INVALID_CLIENT, status=401)
        response.headers["WWW-Authenticate"] = 'Basic realm="salesforce"'
        return response
    return oauth_error("invalid_client", INVALID_CLIENT)


def _client_authenticated() -> tuple[bool, bool]:
    """(whether the caller is the connected app, whether it used the Basic header)."""
    config = current().config
    used_header = "Authorization" in request.headers
    if used_header:
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return False, True
        client_id, client_secret = auth.username or "", auth.password or ""
    else:
        client_id = request.form.get("client_id", "")
        client_secret = request.form.get("client_secret", "")
    if config.consumer_secret is None:
        return False, used_header
    matches = hmac.compare_digest(client_id.encode(), config.consumer_key.encode())
    matches &= hmac.compare_digest(client_secret.encode(), config.consumer_secret.encode())
    return matches, used_header


@blueprint.post("/services/oauth2/introspect")
def introspect() -> Response:
    authenticated, used_header = _client_authenticated()
    if not authenticated:
        return _client_error(used_header=used_header)
    token = request.form.get("token", "")
    if not token:
        return oauth_error("invalid_request", "token parameter is required")
    emulator = current()
    # Introspection is a question about the session, not activity in it: no timer reset.
    session = emulator.state.find(token, emulator.config.clock())
    if session is None:
        return json_response({"active": False}, no_store=True)
    return json_response(
        {
            "active": True,
            "scope": session.scope,
            "client_id": emulator.config.consumer_key,
            "username": session.username,
            "sub": session.identity_url,
            "token_type": "access_token",
            "exp": int(session.expires_at.timestamp()),
            "iat": int(session.issued_at.timestamp()),
            "nbf": int(session.issued_at.timestamp()),
        },
        no_store=True,
    )
