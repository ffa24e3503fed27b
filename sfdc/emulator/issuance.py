"""Minting sessions and writing the token endpoint's success body, for every grant.

Access tokens look like Salesforce's: `<15-char org id>!<opaque>`. Refresh tokens and
authorization codes are opaque random strings. The body carries `access_token`, `scope`,
`instance_url`, `id` and `token_type`, plus `issued_at` (epoch milliseconds, as a string)
and `signature` (research notes, section 7.2), and `refresh_token` when one was issued.
`id_token` (the `openid` scope) is not emulated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from datetime import datetime
from typing import Any

from .config import EmulatorConfig
from .ids import organization_id, user_id
from .state import IssuedToken

# What Salesforce's access tokens are made of after the `!`: letters, digits, `.` and `_`
# (never `-`). Clients rely on it: the `sf` CLI takes a string as an access token only
# if it matches `^00D\w{12,15}![.\w]*$` (sfdx-core's `matchesAccessToken`).
_TOKEN_ALPHABET = string.ascii_letters + string.digits + "._"
_TOKEN_LENGTH = 96


def _new_access_token(org_id: str) -> str:
    # Salesforce tokens are "<15-char org id>!<opaque>"; clients must not parse the rest.
    opaque = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(_TOKEN_LENGTH))
    return f"{org_id[:15]}!{opaque}"


def new_refresh_token() -> str:
    """An opaque refresh token; `5Aep` is the prefix Salesforce's refresh tokens show."""
    return f"5Aep{secrets.token_urlsafe(64)}"


def new_authorization_code() -> str:
    """An opaque, URL-safe authorization code."""
    return f"aPrx{secrets.token_urlsafe(48)}"


def new_grant_id() -> str:
    """Names one approval (see `RefreshGrant`); never shown to clients."""
    return secrets.token_hex(16)


def mint_token(
    config: EmulatorConfig,
    username: str,
    base: str,
    now: datetime,
    *,
    scope: str | None = None,
    grant_id: str | None = None,
) -> IssuedToken:
    """A new session for `username`, with identity URL on host `base`.

    `scope` defaults to the JWT grant's fixed `config.scope`; `grant_id` ties the session
    to an approval whose refresh token can revoke it."""
    org_id = organization_id(config)
    uid = user_id(config, username)
    return IssuedToken(
        access_token=_new_access_token(org_id),
        username=username,
        organization_id=org_id,
        user_id=uid,
        identity_url=f"{base}/id/{org_id}/{uid}",
        scope=config.scope if scope is None else scope,
        issued_at=now,
        expires_at=now + config.session_timeout,
        grant_id=grant_id,
    )


def signature(identity_url: str, issued_at: str, consumer_secret: str) -> str:
    """Base64 HMAC-SHA256 of `id` + `issued_at`, keyed with the consumer secret."""
    mac = hmac.new(consumer_secret.encode(), (identity_url + issued_at).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def token_response_body(
    config: EmulatorConfig,
    token: IssuedToken,
    base: str,
    *,
    refresh_token: str | None = None,
    always_issued_at: bool = False,
) -> dict[str, Any]:
    """The success body.

    `signature` only when a consumer secret is set. `issued_at` as well for the JWT grant,
    where whether Salesforce sends them is unconfirmed and a JWT client could not check the
    signature anyway; the web-server and refresh grants (`always_issued_at`) always send it.
    """
    body: dict[str, Any] = {"access_token": token.access_token}
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    body.update(
        {
            "scope": token.scope,
            "instance_url": base,
            "id": token.identity_url,
            "token_type": "Bearer",
        }
    )
    issued_at = str(int(token.issued_at.timestamp() * 1000))
    if always_issued_at or config.consumer_secret is not None:
        body["issued_at"] = issued_at
    if config.consumer_secret is not None:
        body["signature"] = signature(token.identity_url, issued_at, config.consumer_secret)
    return body
