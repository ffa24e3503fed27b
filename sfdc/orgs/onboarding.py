"""Connecting an org: the connect link, and the callback that redeems it.

- ``link`` makes the authorize URL for a named connection: consumer key, our
  callback, the scopes, a signed single-use ``state`` and a PKCE challenge.
  The verifier and the redirect URI wait in the database. Reconnecting an
  existing connection is pinned to its org unless the caller asks to
  ``replace`` it, so a leaked link cannot quietly point a name elsewhere.
- ``complete`` is the callback: it takes the state's pending request (once),
  redeems the code with the consumer secret and the verifier, tests the new
  token through the identity URL, and stores the connection. If anything
  fails after Salesforce issued a refresh token, that token is revoked, since
  Salesforce keeps only five per user and app. A replaced connection's old
  refresh token is revoked at the host that issued it; one that needed
  consent raises the ``connection.recovered`` alert.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from sfdc.errors import (
    AccessDenied,
    InvalidRequest,
    InvalidState,
    NoRefreshToken,
    SalesforceRefusal,
    SfdcError,
    StateExpired,
    StateUnreadable,
    StateUsed,
)
from sfdc.orgs.alerts import Alerts
from sfdc.orgs.consent import StateSigner, pkce_pair
from sfdc.orgs.records import CONNECTED, NEEDS_CONSENT, check_name, describe
from sfdc.orgs.schema import ConnectionRow, ConsentRequestRow
from sfdc.orgs.store import ConnectionStore
from sfdc.salesforce.oauth import AUTHORIZE_PATH, OAuthClient, TokenResponse
from sfdc.salesforce.refusals import grant_refusal
from sfdc.salesforce.transport import Transport
from sfdc.settings.hosts import is_loopback, is_salesforce_host
from sfdc.settings.logins import login_url
from sfdc.settings.settings import Settings
from sfdc.telemetry import audit
from sfdc.tokens import identity
from sfdc.tokens.exchange import Exchange
from sfdc.tokens.sealing import ColumnSealer
from sfdc.tokens.service import learn_expiry
from sfdc.tokens.token import Token, token_from_response

log = logging.getLogger(__name__)

DEFAULT_SCOPES = "api refresh_token"
# Salesforce's scope names are short words; 30-odd exist. The bound keeps a request from
# storing an arbitrary blob in the connections table.
MAX_SCOPES_LENGTH = 500
# The column holding it is 255 characters; a DNS name has at most 253.
MAX_LOGIN_LENGTH = 255
# As JSON Schema (ECMA-262) and Python both read it; the OpenAPI document states it too.
SCOPES_PATTERN = r"^ *[A-Za-z0-9_.:-]+( +[A-Za-z0-9_.:-]+)* *$"
# In key scopes (sfdc.access.scopes) "jwt" is the JWT identity: no connection may be it.
RESERVED_NAME = "jwt"
LOGIN_ALIASES = {
    "production": "https://login.salesforce.com",
    "sandbox": "https://test.salesforce.com",
}


def check_scopes(raw: str | None) -> str:
    """The requested scopes as Salesforce names them (``api``, ``refresh_token``,
    ``cdp_query_api``...), separated by spaces (RFC 6749 §3.3): anything else is refused
    here rather than stored, sent to Salesforce, or refused by the database."""
    if raw is None:
        return DEFAULT_SCOPES
    if len(raw) > MAX_SCOPES_LENGTH or not re.fullmatch(SCOPES_PATTERN, raw):
        raise InvalidRequest(
            f"scopes must be OAuth scope names (letters, digits, '_', '.', ':', '-') "
            f"separated by spaces, at most {MAX_SCOPES_LENGTH} characters in all.",
            hint=f"Use the connected app's scope names, e.g. '{DEFAULT_SCOPES}', or leave "
            "scopes out for that default.",
        )
    return " ".join(scope for scope in raw.split(" ") if scope)


def resolve_login(raw: str | None, default: str, *, local: tuple[str, ...] = ()) -> str:
    """'production', 'sandbox' or a My Domain URL. A loopback URL only when it is one of
    ``local``, the local emulators this service was configured with: never another port on
    this machine, where a connect link could make the service post a code to any server."""
    if not raw:
        return default
    hint = (
        "Use 'production', 'sandbox', or your org's My Domain URL "
        "(https://MyDomain.my.salesforce.com)."
    )
    candidate = LOGIN_ALIASES.get(raw.strip().lower(), raw)
    if len(candidate) > MAX_LOGIN_LENGTH:
        raise InvalidRequest(
            f"login is {len(candidate)} characters long; a login URL has at most "
            f"{MAX_LOGIN_LENGTH}.",
            hint=hint,
        )
    try:
        url = login_url(candidate)
    except SfdcError:
        raise InvalidRequest(
            f"login '{raw[:100]}' is not 'production', 'sandbox' or an https login URL.",
            hint=hint,
        ) from None
    host = urlsplit(url).hostname or ""
    if is_loopback(host) and url in local:
        return url
    if not is_salesforce_host(host):
        raise InvalidRequest(f"login '{raw[:100]}' is not a Salesforce login host.", hint=hint)
    return url


@dataclass(frozen=True)
class ConnectLink:
    name: str
    url: str
    login_url: str
    scopes: str
    callback_url: str
    expires_at: datetime
    nonce: str = field(repr=False, default="")  # its pending request's key
    # Our page naming who asked and what will be bound, which goes on to ``url``.
    page_url: str = ""

    def on_page(self, base: str) -> ConnectLink:
        """This link, opened first at ``base``/connect/<nonce>."""
        return replace(self, page_url=f"{base.rstrip('/')}/connect/{self.nonce}")

    @property
    def connect_url(self) -> str:
        return self.page_url or self.url

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "connect_url": self.connect_url,
            "authorize_url": self.url,
            "login_url": self.login_url,
            "scopes": self.scopes,
            "callback_url": self.callback_url,
            "expires_at": self.expires_at.isoformat(),
        }


@dataclass
class Onboarding:
    settings: Settings
    consumer_secret: str
    store: ConnectionStore
    sealer: ColumnSealer
    signer: StateSigner
    transport: Transport
    clock: Callable[[], datetime]
    alerts: Alerts = field(default_factory=Alerts)

    def link(
        self,
        name: str,
        *,
        callback_url: str,
        login: str | None = None,
        scopes: str | None = None,
        replace: bool = False,
        client: str | None = None,
    ) -> ConnectLink:
        check_name(name)
        if name == RESERVED_NAME and self.store.get(name) is None:
            raise InvalidRequest(
                f"'{RESERVED_NAME}' names the service's own JWT identity in API key scopes "
                "(token:jwt, proxy:jwt), so no new connection may take it.",
                hint="Choose another name, e.g. jwt-org.",
            )
        existing = self.store.get(name)
        login = resolve_login(
            login,
            existing.login_url if existing else self.settings.login_url,
            local=self.settings.loopback_logins,
        )
        scopes = check_scopes(scopes)
        now = self.clock()
        state, nonce, expires_at = self.signer.issue(now)
        verifier, pkce_challenge = pkce_pair()
        pending = ConsentRequestRow(
            nonce=nonce,
            name=name,
            login_url=login,
            scopes=scopes,
            redirect_uri=callback_url,
            code_verifier=self.sealer.seal(verifier, name=nonce, purpose="code_verifier"),
            expires_at=expires_at,
            replace_org=replace,
            requested_by=client,
        )
        self.store.add_request(pending, now)
        log.info("connect link issued for connection %s at %s", name, login)
        url = self.authorize_url(pending, state, pkce_challenge)
        return ConnectLink(name, url, login, scopes, callback_url, expires_at, nonce)

    def authorize_url(self, pending: ConsentRequestRow, state: str, pkce_challenge: str) -> str:
        """Salesforce's authorize URL for a pending request."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings.consumer_key,
                "redirect_uri": pending.redirect_uri,
                "scope": pending.scopes,
                "state": state,
                "code_challenge": pkce_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{pending.login_url}{AUTHORIZE_PATH}?{query}"

    def complete(
        self,
        *,
        state: str | None,
        code: str | None,
        error: str | None = None,
        error_description: str | None = None,
    ) -> dict[str, Any]:
        """The stored connection, or the error saying why there is none."""
        now = self.clock()
        if not state:
            raise InvalidState("The callback carries no state; nothing was stored.")
        nonce = self.signer.nonce(state, now)
        pending = self.store.take_request(nonce)
        if pending is None:
            raise StateUsed("This connect link was already used; nothing more was stored.")
        if now >= pending.expires_at:
            raise StateExpired("This connect link has expired; nothing was stored.")
        if error:
            raise _declined(pending.name, error, error_description or "")
        if not code:
            raise InvalidRequest(
                "Salesforce sent the browser back without a code; nothing was stored.",
                hint="Open a new connect link; if it happens again, check the connected app's "
                "OAuth settings.",
            )
        verifier = self.sealer.open(pending.code_verifier, name=nonce, purpose="code_verifier")
        if verifier is None:
            raise StateUnreadable(
                "This connect link was sealed with an encryption key this service no longer "
                "holds; nothing was stored."
            )
        client = OAuthClient(pending.login_url, self.transport)
        try:
            response = client.authorization_code(
                code,
                client_id=self.settings.consumer_key,
                client_secret=self.consumer_secret,
                redirect_uri=pending.redirect_uri,
                verifier=verifier,
            )
        except SalesforceRefusal as exc:
            raise grant_refusal(
                exc.code, exc.description, upstream_status=exc.upstream_status, grant="code"
            ) from None
        except SfdcError as exc:
            raise _spent(exc) from None
        try:
            row = self._connected(pending, response, client)
            row.created_by = pending.requested_by
            replaced = self.store.replace(row, other_org=pending.replace_org)
        except Exception as exc:
            self._abandon(pending.login_url, response)
            if isinstance(exc, SfdcError):
                _spent(exc)
            raise
        log.info(
            "connection %s stored: %s in org %s at %s",
            row.name,
            row.username,
            row.org_id,
            row.instance_url,
        )
        rebound = replaced is not None and (
            replaced.org_id[:15] != row.org_id[:15] or replaced.user_id[:15] != row.user_id[:15]
        )
        audit.record(
            "replaced" if rebound else "connected",
            client=pending.requested_by or "unknown",
            connection=row.name,
        )
        if replaced is not None:
            # Only now, with the new refresh token committed, is the old one revoked.
            if replaced.status == NEEDS_CONSENT:
                self.alerts.recovered(row, self.clock())
            self._revoke_replaced(replaced)
        return describe(row)

    def _connected(
        self, pending: ConsentRequestRow, response: TokenResponse, client: OAuthClient
    ) -> ConnectionRow:
        now = self.clock()
        name = pending.name
        refresh_token = response.body.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise NoRefreshToken(
                f"Salesforce granted '{name}' no refresh token; nothing was stored."
            )
        allow_loopback = is_loopback(urlsplit(pending.login_url).hostname or "")
        token = token_from_response(response.body, received_at=now, allow_loopback=allow_loopback)
        report = identity.check(
            identity.OneToken(Exchange(token, None, response)), self.transport, self.clock
        )
        org_id = str(report["org"]["id"] or "")
        return ConnectionRow(
            name=name,
            login_url=pending.login_url,
            instance_url=token.instance_url,
            identity_url=token.id,
            user_id=str(report["user"]["id"] or ""),
            org_id=org_id,
            username=str(report["user"]["username"] or ""),
            scopes=token.scope or pending.scopes,
            connected_at=now,
            refresh_token=self.sealer.seal(refresh_token, name=name, purpose="refresh_token"),
            status=CONNECTED,
            status_reason=None,
            access_token=self.sealer.seal(token.access_token, name=name, purpose="access_token"),
            access_issued_at=token.issued_at,
            access_expires_at=self._expiry(token, client, now),
            refreshed_at=now,
        )

    def _expiry(self, token: Token, client: OAuthClient, now: datetime) -> datetime:
        return learn_expiry(token, received=now, client=client, settings=self.settings)

    def _abandon(self, login: str, response: TokenResponse) -> None:
        """Revoke what Salesforce granted for a connection that will not be stored."""
        granted = response.body.get("refresh_token") or response.body.get("access_token")
        if isinstance(granted, str) and granted:
            _revoke(login, granted, self.transport, "the token granted for an unstored connection")

    def _revoke_replaced(self, old: ConnectionRow) -> None:
        token = self.sealer.open(old.refresh_token, name=old.name, purpose="refresh_token")
        if token is None:
            log.warning(
                "the refresh token replaced on %s could not be opened, so it was not revoked; "
                "revoke it in Setup > Connected Apps OAuth Usage",
                old.name,
            )
            return
        _revoke(old.login_url, token, self.transport, f"the refresh token replaced on {old.name}")


def _revoke(login: str, token: str, transport: Transport, what: str) -> None:
    """Best effort: a failure is logged with what to do, never raised."""
    try:
        if not OAuthClient(login, transport).revoke(token):
            log.info("%s was already invalid at %s", what, login)
    except SfdcError as exc:
        log.warning(
            "could not revoke %s at %s (%s); revoke it in Setup > Connected Apps OAuth Usage",
            what,
            login,
            exc.code,
        )


def _spent(exc: SfdcError) -> SfdcError:
    """The link's state was taken and the code spent: retrying the callback cannot help."""
    if exc.retryable:
        exc.retryable = False
        exc.hint = f"{exc.hint} This connect link is used up: ask for a new one when that is fixed."
    return exc


def _declined(name: str, error: str, description: str) -> SfdcError:
    if error in ("access_denied", "access-denied"):
        return AccessDenied(
            f"Connecting '{name}' was declined at Salesforce ({description or error}); "
            "nothing was stored."
        )
    return SalesforceRefusal(
        error,
        f"Salesforce refused to connect '{name}': {description or error}. Nothing was stored.",
        hint="Check the connected app: its Callback URL must be this service's /oauth/callback, "
        "and its OAuth scopes must include the requested ones (api, refresh_token).",
        retryable=False,
        upstream_status=302,
    )
