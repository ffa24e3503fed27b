"""Client for Salesforce's OAuth 2.0 token endpoint, ``/services/oauth2/token``.

Implements the JWT bearer grant of "OAuth 2.0 JWT Bearer Flow for
Server-to-Server Integration" (RFC 7523): a form POST of ``grant_type`` and
``assertion``, no client id or secret. Success is HTTP 200 with a JSON object
holding at least ``access_token`` and ``instance_url``; failure is HTTP 400
with ``{"error", "error_description"}`` (research file §1.5-1.6). Anything
else (an HTML error page, an empty body) becomes ``UpstreamProtocolError``,
never a crash. ``parse_token_response`` is pure so each case is unit-tested.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sfdc.errors import SalesforceRefusal, SalesforceUnavailable, UpstreamProtocolError
from sfdc.salesforce.refusals import refusal
from sfdc.salesforce.transport import NO_RETRY, RetryPolicy, Transport, is_transient

TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a path, not a password
INTROSPECT_PATH = "/services/oauth2/introspect"
REVOKE_PATH = "/services/oauth2/revoke"
AUTHORIZE_PATH = "/services/oauth2/authorize"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Cookies Salesforce sets on the token endpoint are for browsers, not callers.
_DROPPED_HEADERS = frozenset({"set-cookie"})


@dataclass(frozen=True)
class TokenResponse:
    """Salesforce's answer to a successful grant: headers and parsed body."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any] = field(repr=False)


def _unreadable(status: int, content_type: str, content: bytes, endpoint: str) -> Exception:
    what = "an empty body" if not content.strip() else f"{len(content)} bytes of {content_type!r}"
    return UpstreamProtocolError(
        f"{endpoint} answered HTTP {status} with {what}, not Salesforce's JSON.",
        hint="Something other than Salesforce may be answering (a proxy, a maintenance "
        "page): check SFDC_LOGIN_URL and any egress proxy, then retry.",
    )


def parse_token_response(
    status: int, headers: Mapping[str, str], content: bytes, *, endpoint: str
) -> TokenResponse:
    """The token response, or the error that explains why there is none."""
    content_type = headers.get("Content-Type", headers.get("content-type", ""))
    if 300 <= status < 400:
        target = urlsplit(headers.get("Location", headers.get("location", ""))).hostname
        raise UpstreamProtocolError(
            f"{endpoint} answered HTTP {status}, redirecting to {target or 'nowhere'}; "
            "redirects are not followed, so the assertion goes only to the configured host.",
            hint=f"If {target} is your org's login host (e.g. after a My Domain change), set "
            "SFDC_LOGIN_URL to it."
            if target
            else "Check SFDC_LOGIN_URL.",
        )
    try:
        body = json.loads(content) if content.strip() else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if is_transient(status):
        raise SalesforceUnavailable(
            f"{endpoint} kept answering HTTP {status}.",
            hint="Salesforce is busy or degraded (status.salesforce.com); retry in a minute.",
        )
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        raw = body.get("error_description")
        description = raw if isinstance(raw, str) else ""
        raise refusal(body["error"], description, upstream_status=status)
    if not isinstance(body, dict):
        raise _unreadable(status, content_type, content, endpoint)
    if status != 200:
        raise UpstreamProtocolError(
            f"{endpoint} answered HTTP {status} with JSON that is not an OAuth error.",
            hint="Check that SFDC_LOGIN_URL is a Salesforce login host.",
        )
    missing = [k for k in ("access_token", "instance_url") if not isinstance(body.get(k), str)]
    if missing:
        raise UpstreamProtocolError(
            f"{endpoint} answered 200 without {' and '.join(missing)}.",
            hint="Check that SFDC_LOGIN_URL is a Salesforce login host.",
        )
    kept = {k: v for k, v in headers.items() if k.lower() not in _DROPPED_HEADERS}
    return TokenResponse(status=status, headers=kept, body=body)


class OAuthClient:
    """Grants against one login host, through the shared ``Transport``."""

    def __init__(self, login_url: str, transport: Transport) -> None:
        self.token_url = login_url.rstrip("/") + TOKEN_PATH
        self.introspect_url = login_url.rstrip("/") + INTROSPECT_PATH
        self.revoke_url = login_url.rstrip("/") + REVOKE_PATH
        self.transport = transport

    def _grant(self, form: dict[str, str], retry: RetryPolicy | None = None) -> TokenResponse:
        response = self.transport.request(
            "POST", self.token_url, data=form, headers={"Accept": "application/json"}, retry=retry
        )
        return parse_token_response(
            response.status_code, response.headers, response.content, endpoint=self.token_url
        )

    def jwt_bearer(self, assertion: str) -> TokenResponse:
        """Exchange a signed assertion for an access token."""
        return self._grant({"grant_type": JWT_BEARER_GRANT, "assertion": assertion})

    def authorization_code(
        self, code: str, *, client_id: str, client_secret: str, redirect_uri: str, verifier: str
    ) -> TokenResponse:
        """Redeem a web-server flow code with its PKCE verifier (research §3).

        Not retried: a code is single-use, so a retry after a lost answer could
        only be refused; the person asks for a new link instead.
        """
        return self._grant(
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            retry=NO_RETRY,
        )

    def refresh(self, refresh_token: str, *, client_id: str, client_secret: str) -> TokenResponse:
        """A new access token for a stored refresh token (research §2).

        Retried like any grant: a 5xx or a refused connection means the token
        was not used. With rotation on, an answer lost after Salesforce issued
        it cannot be recovered; the retry is then refused and the connection
        needs consent again, which the caller is told.
        """
        return self._grant(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": client_id,
                "client_secret": client_secret,
            }
        )

    def revoke(self, token: str) -> bool:
        """Revoke a refresh token (and its access tokens): True, or False if already invalid.

        Salesforce answers 200, or 400 ``invalid_token`` for a token it no longer
        knows (research §5.1); that is the state we wanted, so it is not an error.
        """
        response = self.transport.request(
            "POST", self.revoke_url, data={"token": token}, headers={"Accept": "application/json"}
        )
        if response.status_code == 200:
            return True
        if response.status_code == 400 and b"invalid_token" in response.content:
            return False
        if is_transient(response.status_code):
            raise SalesforceUnavailable(
                f"{self.revoke_url} kept answering HTTP {response.status_code}.",
                hint="Salesforce is busy or degraded; retry in a minute. Nothing was deleted.",
            )
        raise UpstreamProtocolError(
            f"{self.revoke_url} answered HTTP {response.status_code}; the token may still be "
            "valid.",
            hint="Retry; if it persists, revoke the connection in Salesforce (Setup > Connected "
            "Apps OAuth Usage) and delete it again.",
        )

    def introspect(
        self, access_token: str, *, client_id: str, client_secret: str
    ) -> dict[str, Any]:
        """Salesforce's description of a token: ``active``, ``exp`` in seconds (research §5.2)."""
        response = self.transport.request(
            "POST",
            self.introspect_url,
            data={
                "token": access_token,
                "token_type_hint": "access_token",
                "client_id": client_id,
                "client_secret": client_secret,
            },
            headers={"Accept": "application/json"},
            retry=NO_RETRY,  # on failure we fall back to the configured maximum age
        )
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            raise SalesforceRefusal(
                body["error"],
                f"Introspection was refused: {body['error']} "
                f"({body.get('error_description') or 'no description'}).",
                hint="Check SFDC_CONSUMER_SECRET (the connected app's Consumer Secret).",
                retryable=False,
                upstream_status=response.status_code,
            )
        if response.status_code != 200 or not isinstance(body, dict):
            raise UpstreamProtocolError(
                f"{self.introspect_url} answered HTTP {response.status_code} without a token "
                "description.",
                hint="Check SFDC_CONSUMER_SECRET, and that the connected app may introspect "
                "its own tokens.",
            )
        return body
