"""The token endpoint's `authorization_code` and `refresh_token` grants.

Emulates the research notes, sections 2 and 3 (REST API Developer Guide, "Understanding the
Web Server OAuth Authentication Flow" and "... Refresh Token OAuth Authentication Flow"):

- Client: `client_id` must be the consumer key (`invalid_client_id`, "client identifier
  invalid"). With "Require Secret for Web Server Flow / Refresh Token Flow" on and a
  consumer secret configured, `client_secret` must match (`invalid_client`, "invalid client
  credentials"); a wrong secret is refused even when none is required.
- Code: single-use, consumed by the first attempt that authenticates the client
  (`invalid_grant`, "invalid authorization code"), valid for `code_lifetime` (`invalid_grant`,
  "expired authorization code"); `redirect_uri` must repeat the authorize request's
  (`redirect_uri_mismatch`, "redirect_uri must match configuration").
- PKCE: the challenge is base64url(SHA-256(verifier)) without padding, S256 only. A challenge
  without a verifier is `invalid_grant`, a wrong verifier `invalid_request`; the RFC 7636
  length cap is not enforced, because jsforce's 171-character verifiers work on Salesforce.
- Refresh: an unknown, revoked or rotated-out refresh token is `invalid_grant`, "expired
  access/refresh token". A new refresh token comes back only with rotation on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .assertion import CLIENT_IDENTIFIER_INVALID, GrantError
from .context import EmulatorContext
from .issuance import mint_token, new_grant_id, new_refresh_token, token_response_body
from .state import IssuedToken, RefreshGrant

AUTHORIZATION_CODE_GRANT = "authorization_code"
REFRESH_TOKEN_GRANT = "refresh_token"  # noqa: S105 - a grant type, not a password

INVALID_CLIENT_CREDENTIALS = "invalid client credentials"
INVALID_CODE = "invalid authorization code"
EXPIRED_CODE = "expired authorization code"
REDIRECT_URI_MISMATCH = "redirect_uri must match configuration"
INVALID_CODE_VERIFIER = "invalid code verifier"
UNEXPECTED_CODE_VERIFIER = "code_verifier without code_challenge"
EXPIRED_REFRESH_TOKEN = "expired access/refresh token"  # noqa: S105 - an error text

# Scopes that make the code exchange return a refresh token (research notes, section 2).
_REFRESH_SCOPES = frozenset({"refresh_token", "offline_access"})

Form = Mapping[str, str]


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def authenticate_client(emulator: EmulatorContext, form: Form) -> None:
    """Refuse a request that is not from the connected app, as Salesforce does."""
    config = emulator.config
    if not _same(form.get("client_id", ""), config.consumer_key):
        raise GrantError("invalid_client_id", CLIENT_IDENTIFIER_INVALID)
    secret = form.get("client_secret")
    if config.consumer_secret is None:
        return
    if secret is None and not config.secret_required:
        return
    if secret is None or not _same(secret, config.consumer_secret):
        raise GrantError("invalid_client", INVALID_CLIENT_CREDENTIALS)


def pkce_challenge(verifier: str) -> str:
    """base64url(SHA-256(verifier)) without padding: the S256 `code_challenge`."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _check_verifier(challenge: str | None, verifier: str | None) -> None:
    if challenge is None:
        if verifier:
            raise GrantError("invalid_request", UNEXPECTED_CODE_VERIFIER)
        return
    if not verifier:
        raise GrantError("invalid_grant", INVALID_CODE_VERIFIER)
    if not _same(pkce_challenge(verifier), challenge):
        raise GrantError("invalid_request", INVALID_CODE_VERIFIER)


def redeem_code(emulator: EmulatorContext, form: Form, base: str, now: datetime) -> dict[str, Any]:
    """`grant_type=authorization_code`: the success body, or raise `GrantError`."""
    config = emulator.config
    authenticate_client(emulator, form)
    code = emulator.state.take_code(form.get("code", ""))
    if code is None or code.client_id != config.consumer_key:
        raise GrantError("invalid_grant", INVALID_CODE)
    if now >= code.expires_at:
        raise GrantError("invalid_grant", EXPIRED_CODE)
    if form.get("redirect_uri") != code.redirect_uri:
        raise GrantError("redirect_uri_mismatch", REDIRECT_URI_MISMATCH)
    _check_verifier(code.code_challenge, form.get("code_verifier"))
    grant_id = new_grant_id()
    session = mint_token(config, code.username, base, now, scope=code.scope, grant_id=grant_id)
    refresh = None
    if _REFRESH_SCOPES & set(code.scope.split()):
        refresh = RefreshGrant(new_refresh_token(), grant_id, code.username, code.scope)
    emulator.state.issue(session, refresh)
    return token_response_body(
        config,
        session,
        base,
        refresh_token=None if refresh is None else refresh.refresh_token,
        always_issued_at=True,
    )


def refresh_session(
    emulator: EmulatorContext, form: Form, base: str, now: datetime
) -> dict[str, Any]:
    """`grant_type=refresh_token`: the success body, or raise `GrantError`."""
    config = emulator.config
    authenticate_client(emulator, form)
    rotate_to = new_refresh_token() if config.rotate_refresh_tokens else None

    def mint(grant: RefreshGrant) -> IssuedToken:
        return mint_token(
            config, grant.username, base, now, scope=grant.scope, grant_id=grant.grant_id
        )

    result = emulator.state.refresh(form.get("refresh_token", ""), mint, rotate_to)
    if result is None:
        raise GrantError("invalid_grant", EXPIRED_REFRESH_TOKEN)
    session, _ = result
    return token_response_body(
        config, session, base, refresh_token=rotate_to, always_issued_at=True
    )
