"""Connected orgs: connect through the web-server flow, use, list and delete them.

- ``connect_link`` makes the authorize URL for a named connection: consumer
  key, our callback, the scopes, a signed single-use ``state`` and a PKCE
  challenge. The verifier and the redirect URI wait in the database.
- ``complete`` is the callback: it takes the state's pending request (once),
  redeems the code with the consumer secret and the verifier, tests the new
  token through the identity URL, and stores the connection. A connection
  that is connected again replaces the old one, whose refresh token is then
  revoked (Salesforce keeps at most five per user and app).
- ``source(name)`` is a ``TokenSource`` for ``/token``, ``/connection`` and
  ``/api``: access tokens from the refresh-token grant, behind the same
  ``TokenProvider`` as JWT tokens (one flight per process, stale tokens
  renewed in the background, cool-down after failures). Across processes the
  row lock in ``ConnectionStore.locked`` makes the refresh single-flight.
- ``expired access/refresh token`` (or any ``invalid_grant`` on refresh)
  marks the connection ``needs_consent``; ``ConsentRequired`` carries its
  name so the web layer can put a fresh connect link in the hint.
- ``delete`` revokes the refresh token at Salesforce before removing the row.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from sfdc.config import Settings, login_url
from sfdc.errors import RequestError, SalesforceRefusal, SfdcError, UpstreamError
from sfdc.errors import UpstreamProtocolError as ProtocolError
from sfdc.exchange import Exchange
from sfdc.flow import learn_expiry
from sfdc.hosts import is_loopback, is_salesforce_host
from sfdc.http import Transport
from sfdc.oauth import AUTHORIZE_PATH, OAuthClient, TokenResponse
from sfdc.orgs.consent import StateSigner, pkce_pair, state_error
from sfdc.orgs.schema import NAME_LENGTH, ConnectionRow, ConsentRequestRow
from sfdc.orgs.store import ConnectionStore
from sfdc.orgs.vault import Vault
from sfdc.provider import TokenProvider
from sfdc.tokens import Freshness, Token, freshness, token_from_response

log = logging.getLogger(__name__)

CONNECTED = "connected"
NEEDS_CONSENT = "needs_consent"
DEFAULT_SCOPES = "api refresh_token"
LOGIN_ALIASES = {
    "production": "https://login.salesforce.com",
    "sandbox": "https://test.salesforce.com",
}
# How long a process trusts what it knows about a connection before re-reading
# its row: bounds how long a deleted or re-consented connection is served stale.
STATUS_RECHECK = timedelta(seconds=5)
_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_.-]{{0,{NAME_LENGTH - 1}}}")
_CONNECT_HINT = "Ask for a connect link with POST /connections and open it in a browser."


class UnknownConnection(RequestError):
    code = "unknown_connection"
    status = 404


class ConsentRequired(UpstreamError):
    """Salesforce no longer honours the connection's refresh token; a person must consent."""

    code = "invalid_grant"
    status = 502
    retryable = False

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(
            f"Connection '{name}' needs consent again: Salesforce refused its refresh token "
            f"({reason}).",
            hint=f"Connect it again: {_CONNECT_HINT}",
        )
        self.connection = name


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name or ""):
        raise RequestError(
            f"'{name[:80]}' is not a connection name.",
            hint=f"Use 1-{NAME_LENGTH} letters, digits, '.', '-' or '_', starting with a "
            "letter or digit, e.g. acme-prod.",
        )
    return name


def resolve_login(raw: str | None, default: str) -> str:
    """'production', 'sandbox', a My Domain URL, or the service's own login URL."""
    if not raw:
        return default
    candidate = LOGIN_ALIASES.get(raw.strip().lower(), raw)
    hint = (
        "Use 'production', 'sandbox', or your org's My Domain URL "
        "(https://MyDomain.my.salesforce.com)."
    )
    try:
        url = login_url(candidate)
    except SfdcError:
        raise RequestError(
            f"login '{raw[:100]}' is not 'production', 'sandbox' or an https login URL.",
            hint=hint,
        ) from None
    host = urlsplit(url).hostname or ""
    if not (is_salesforce_host(host) or is_loopback(host)):
        raise RequestError(f"login '{raw[:100]}' is not a Salesforce login host.", hint=hint)
    return url


@dataclass(frozen=True)
class ConnectLink:
    name: str
    url: str
    login_url: str
    scopes: str
    callback_url: str
    expires_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "connect_url": self.url,
            "login_url": self.login_url,
            "scopes": self.scopes,
            "callback_url": self.callback_url,
            "expires_at": self.expires_at.isoformat(),
        }


def describe(row: ConnectionRow) -> dict[str, Any]:
    """A stored connection, as callers see it: never a token."""

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "name": row.name,
        "status": row.status,
        "status_reason": row.status_reason,
        "login_url": row.login_url,
        "instance_url": row.instance_url,
        "identity_url": row.identity_url,
        "username": row.username,
        "user_id": row.user_id,
        "org_id": row.org_id,
        "scopes": row.scopes,
        "connected_at": when(row.connected_at),
        "refreshed_at": when(row.refreshed_at),
        "access_token_expires_at": when(row.access_expires_at),
    }


class ConnectionTokens:
    """The ``TokenSource`` of one stored connection, in one process."""

    def __init__(self, owner: Connections, row: ConnectionRow) -> None:
        self.name = row.name
        self.connected_at = row.connected_at
        self.allow_loopback = is_loopback(urlsplit(row.login_url).hostname or "")
        self.transport = owner.transport
        self.clock = owner.clock
        self.checked_at = owner.clock()
        self._owner = owner
        self._lock = threading.Lock()
        self._rejected: set[str] = set()
        self._consent: ConsentRequired | None = None
        if row.status != CONNECTED:
            self._consent = ConsentRequired(row.name, row.status_reason or "refused")
        self.provider = TokenProvider(self._mint, clock=owner.clock)

    def current(self) -> Exchange:
        consent = self._consent
        if consent is not None:
            raise consent
        try:
            return self.provider.get()
        except ConsentRequired as exc:
            self._consent = exc
            raise

    def needs_consent(self, reason: str) -> None:
        """Another process found the refresh token refused: stop asking Salesforce."""
        if self._consent is None:
            self._consent = ConsentRequired(self.name, reason)

    def rejected(self, exchange: Exchange) -> bool:
        with self._lock:
            self._rejected.add(exchange.token.fingerprint)
        return self.provider.invalidate(exchange)

    def _mint(self) -> Exchange:
        with self._lock:
            rejected = frozenset(self._rejected)
        return self._owner.refresh(self.name, rejected)


@dataclass
class Connections:
    """Everything about connected orgs, for the web layer and the CLI."""

    settings: Settings
    store: ConnectionStore
    transport: Transport
    clock: Callable[[], datetime]
    vault: Vault = field(init=False, repr=False)
    signer: StateSigner = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.vault = Vault(self.settings.encryption_keys)
        self.signer = StateSigner(self.settings.encryption_keys)
        self._sources: dict[str, ConnectionTokens] = {}
        self._lock = threading.Lock()

    @property
    def _secret(self) -> str:
        secret = self.settings.consumer_secret
        assert secret is not None  # load_settings refuses an encryption key without it
        return secret

    def _client(self, login: str) -> OAuthClient:
        return OAuthClient(login, self.transport)

    # -- connecting ------------------------------------------------------------------

    def connect_link(
        self, name: str, *, callback_url: str, login: str | None = None, scopes: str | None = None
    ) -> ConnectLink:
        check_name(name)
        existing = self.store.get(name)
        default_login = existing.login_url if existing else self.settings.login_url
        login = resolve_login(login, default_login)
        scopes = " ".join((scopes or DEFAULT_SCOPES).split())
        now = self.clock()
        state, nonce, expires_at = self.signer.issue(now)
        verifier, challenge = pkce_pair()
        self.store.add_request(
            ConsentRequestRow(
                nonce=nonce,
                name=name,
                login_url=login,
                scopes=scopes,
                redirect_uri=callback_url,
                code_verifier=self.vault.seal(verifier, name=nonce, purpose="code_verifier"),
                expires_at=expires_at,
            ),
            now,
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings.consumer_key,
                "redirect_uri": callback_url,
                "scope": scopes,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        log.info("connect link issued for connection %s at %s", name, login)
        return ConnectLink(
            name, f"{login}{AUTHORIZE_PATH}?{query}", login, scopes, callback_url, expires_at
        )

    def complete(
        self,
        *,
        state: str | None,
        code: str | None,
        error: str | None = None,
        error_description: str | None = None,
    ) -> dict[str, Any]:
        """The callback: the stored connection, or the error that explains why there is none."""
        now = self.clock()
        if not state:
            raise state_error("invalid_state", "The callback carries no state; nothing was stored.")
        nonce = self.signer.nonce(state, now)
        pending = self.store.take_request(nonce)
        if pending is None:
            raise state_error(
                "state_used", "This connect link was already used; nothing more was stored."
            )
        if now >= pending.expires_at:
            raise state_error("state_expired", "This connect link has expired; nothing was stored.")
        if error:
            raise self._declined(pending.name, error, error_description or "")
        if not code:
            raise RequestError(
                "Salesforce sent the browser back without a code; nothing was stored.",
                hint="Open a new connect link; if it happens again, check the connected app's "
                "OAuth settings.",
            )
        verifier = self.vault.open(pending.code_verifier, name=nonce, purpose="code_verifier")
        if verifier is None:
            raise state_error(
                "state_unreadable",
                "This connect link was sealed with an encryption key this service no longer "
                "holds; nothing was stored.",
            )
        client = self._client(pending.login_url)
        response = client.authorization_code(
            code,
            client_id=self.settings.consumer_key,
            client_secret=self._secret,
            redirect_uri=pending.redirect_uri,
            verifier=verifier,
        )
        row = self._connected(pending, response, client)
        previous = self.store.replace(row)
        self.forget(row.name)
        log.info(
            "connection %s stored: %s in org %s at %s",
            row.name,
            row.username,
            row.org_id,
            row.instance_url,
        )
        if previous is not None:
            self._revoke_replaced(row.name, row.login_url, previous)
        return describe(row)

    def _declined(self, name: str, error: str, description: str) -> SfdcError:
        if error in ("access_denied", "access-denied"):
            return RequestError(
                f"Connecting '{name}' was declined at Salesforce ({description or error}); "
                "nothing was stored.",
                hint="If that was a mistake, ask for a new connect link and choose Allow.",
                code="access_denied",
                status=403,
            )
        return SalesforceRefusal(
            error,
            f"Salesforce refused to connect '{name}': {description or error}. Nothing was stored.",
            hint="Check the connected app: its Callback URL must be this service's "
            "/oauth/callback, and its OAuth scopes must include the requested ones "
            "(api, refresh_token).",
            retryable=False,
            upstream_status=302,
        )

    def _connected(
        self, pending: ConsentRequestRow, response: TokenResponse, client: OAuthClient
    ) -> ConnectionRow:
        now = self.clock()
        body = response.body
        refresh_token = body.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise UpstreamError(
                f"Salesforce granted '{pending.name}' no refresh token; nothing was stored.",
                hint="Add 'Perform requests at any time (refresh_token, offline_access)' to the "
                "connected app's OAuth scopes, and keep refresh_token in the requested scopes.",
                code="no_refresh_token",
            )
        allow_loopback = is_loopback(urlsplit(pending.login_url).hostname or "")
        token = token_from_response(body, received_at=now, allow_loopback=allow_loopback)
        identity = self._identity(token)
        expires = learn_expiry(token, received=now, client=client, settings=self.settings)
        name = pending.name
        return ConnectionRow(
            name=name,
            login_url=pending.login_url,
            instance_url=token.instance_url,
            identity_url=token.id,
            user_id=str(identity.get("user_id") or ""),
            org_id=str(identity.get("organization_id") or ""),
            username=str(identity.get("username") or ""),
            scopes=token.scope or pending.scopes,
            connected_at=now,
            refresh_token=self.vault.seal(refresh_token, name=name, purpose="refresh_token"),
            status=CONNECTED,
            status_reason=None,
            access_token=self.vault.seal(token.access_token, name=name, purpose="access_token"),
            access_issued_at=token.issued_at,
            access_expires_at=expires,
            refreshed_at=now,
        )

    def _identity(self, token: Token) -> dict[str, Any]:
        """Who the new token acts as, from the identity URL: the connection's first test."""
        reply = self.transport.request(
            "GET",
            token.id,
            headers={"Authorization": f"Bearer {token.access_token}", "Accept": "application/json"},
        )
        try:
            identity = json.loads(reply.content) if reply.status_code == 200 else None
        except ValueError:
            identity = None
        if not isinstance(identity, dict):
            raise ProtocolError(
                f"The new connection's identity URL answered HTTP {reply.status_code} without an "
                "identity; nothing was stored.",
                hint="Check that the connected app's scopes include 'api' or 'id' and that the "
                "user has API Enabled, then connect again.",
            )
        return identity

    def _revoke_replaced(self, name: str, login: str, sealed: str) -> None:
        token = self.vault.open(sealed, name=name, purpose="refresh_token")
        if token is None:
            return
        try:
            self._client(login).revoke(token)
        except SfdcError as exc:
            log.warning(
                "could not revoke the refresh token replaced on %s (%s); revoke it in Setup > "
                "Connected Apps OAuth Usage",
                name,
                exc.code,
            )

    # -- using -----------------------------------------------------------------------

    def source(self, name: str) -> ConnectionTokens:
        """The token source for a stored connection; its row re-read every ``STATUS_RECHECK``."""
        check_name(name)
        now = self.clock()
        with self._lock:
            cached = self._sources.get(name)
        if cached is not None and now - cached.checked_at < STATUS_RECHECK:
            return cached
        row = self.store.get(name)
        if row is None:
            self.forget(name)
            raise UnknownConnection(
                f"There is no connection named '{name}'.",
                hint="List them with GET /connections; " + _CONNECT_HINT,
            )
        with self._lock:
            cached = self._sources.get(name)
            if cached is not None and cached.connected_at == row.connected_at:
                cached.checked_at = now
                if row.status != CONNECTED:
                    cached.needs_consent(row.status_reason or "refused")
                return cached
            fresh = ConnectionTokens(self, row)
            self._sources[name] = fresh
            return fresh

    def forget(self, name: str) -> None:
        with self._lock:
            self._sources.pop(name, None)

    def refresh(self, name: str, rejected: frozenset[str]) -> Exchange:
        """The connection's current token, refreshing it under the row lock if it must be."""
        consent: ConsentRequired | None = None
        with self.store.locked(name) as (_session, row):
            if row is None:
                raise UnknownConnection(
                    f"Connection '{name}' was deleted.", hint="List them with GET /connections."
                )
            if row.status != CONNECTED:
                raise ConsentRequired(name, row.status_reason or "refused")
            now = self.clock()
            shared = self._shared_token(row)
            if (
                shared is not None
                and shared.fingerprint not in rejected
                and freshness(shared, now) is Freshness.FRESH
            ):
                return Exchange(shared, None, TokenResponse(200, {}, {}))
            refresh_token = self.vault.open(row.refresh_token, name=name, purpose="refresh_token")
            if refresh_token is None:
                consent = self._needs_consent(
                    row, "its refresh token cannot be opened with SFDC_ENCRYPTION_KEY"
                )
            else:
                try:
                    exchange = self._refreshed(row, refresh_token)
                except SalesforceRefusal as exc:
                    if exc.code != "invalid_grant":
                        raise
                    consent = self._needs_consent(row, exc.description)
                else:
                    return exchange
        assert consent is not None  # every path that leaves the block without a token sets it
        raise consent

    def _needs_consent(self, row: ConnectionRow, reason: str) -> ConsentRequired:
        row.status = NEEDS_CONSENT
        row.status_reason = reason
        row.access_token = None
        log.warning("connection %s needs consent again: %s", row.name, reason)
        return ConsentRequired(row.name, reason)

    def _shared_token(self, row: ConnectionRow) -> Token | None:
        if row.access_token is None or row.access_issued_at is None:
            return None
        access = self.vault.open(row.access_token, name=row.name, purpose="access_token")
        if access is None:
            return None
        return Token(
            access_token=access,
            instance_url=row.instance_url,
            id=row.identity_url,
            token_type="Bearer",  # noqa: S106 - a token type, not a secret
            issued_at=row.access_issued_at,
            expires_at=row.access_expires_at,
            scope=row.scopes,
        )

    def _refreshed(self, row: ConnectionRow, refresh_token: str) -> Exchange:
        client = self._client(row.login_url)
        response = client.refresh(
            refresh_token, client_id=self.settings.consumer_key, client_secret=self._secret
        )
        now = self.clock()
        allow_loopback = is_loopback(urlsplit(row.login_url).hostname or "")
        token = token_from_response(response.body, received_at=now, allow_loopback=allow_loopback)
        token = Token(
            access_token=token.access_token,
            instance_url=token.instance_url,
            id=token.id,
            token_type=token.token_type,
            issued_at=token.issued_at,
            expires_at=learn_expiry(token, received=now, client=client, settings=self.settings),
            scope=token.scope,
        )
        rotated = response.body.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != refresh_token:
            # Rotation: the old token is spent; the new one is committed with the access token.
            row.refresh_token = self.vault.seal(rotated, name=row.name, purpose="refresh_token")
        row.instance_url = token.instance_url
        row.access_token = self.vault.seal(
            token.access_token, name=row.name, purpose="access_token"
        )
        row.access_issued_at = token.issued_at
        row.access_expires_at = token.expires_at
        row.refreshed_at = now
        log.info(
            "connection %s refreshed: token %s good until %s%s",
            row.name,
            token.fingerprint,
            token.expires_at.isoformat() if token.expires_at else "rejected",
            " (refresh token rotated)" if isinstance(rotated, str) and rotated else "",
        )
        return Exchange(token, None, response)

    # -- managing --------------------------------------------------------------------

    def list(self) -> list[dict[str, Any]]:
        return [describe(row) for row in self.store.all()]

    def get(self, name: str) -> dict[str, Any]:
        row = self.store.get(check_name(name))
        if row is None:
            raise UnknownConnection(
                f"There is no connection named '{name}'.", hint="List them with GET /connections."
            )
        return describe(row)

    def delete(self, name: str) -> dict[str, Any]:
        """Revoke the refresh token at Salesforce, then remove the row."""
        row = self.store.get(check_name(name))
        if row is None:
            raise UnknownConnection(
                f"There is no connection named '{name}'.", hint="List them with GET /connections."
            )
        token = self.vault.open(row.refresh_token, name=name, purpose="refresh_token")
        revoked: bool | None = None
        if token is not None:
            revoked = self._client(row.login_url).revoke(token)  # raises: nothing deleted
        self.store.delete(name)
        self.forget(name)
        if revoked is None:
            message = (
                f"Deleted '{name}'. Its refresh token could not be opened with "
                "SFDC_ENCRYPTION_KEY, so it was not revoked: revoke it in Salesforce (Setup > "
                "Connected Apps OAuth Usage)."
            )
        elif revoked:
            message = f"Revoked the refresh token of '{name}' at Salesforce and deleted it."
        else:
            message = f"Salesforce no longer knew the refresh token of '{name}'; deleted it."
        log.info("connection %s deleted (revoked: %s)", name, revoked)
        return {"deleted": name, "revoked": revoked, "message": message}
