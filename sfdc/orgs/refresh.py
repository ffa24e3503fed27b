"""Access tokens for stored connections: the refresh-token grant, single-flight everywhere.

``ConnectionTokens`` is the ``TokenSource`` of one connection in one process:
the same ``TokenProvider`` as JWT tokens (one flight per process, stale
tokens renewed in the background, cool-down after failures), minting through
``Refresher.refresh``. That runs under the connection's row lock, so across
workers and instances one refresh happens at a time: the holder re-reads the
row, adopts a fresh access token another process stored (unless this process
saw it rejected), or refreshes and writes the new access token, and a
rotated refresh token, in the same transaction.

Only ``expired access/refresh token`` (and ``token validity expired``) mean
the grant is gone (research §2); they mark the connection ``needs_consent``.
Other refusals, such as login hours, are reported and cooled down like any
other, and the connection keeps its refresh token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from sfdc.errors import SalesforceRefusal
from sfdc.orgs.records import CONNECTED, NEEDS_CONSENT, ConsentRequired, UnknownConnection
from sfdc.orgs.schema import ConnectionRow
from sfdc.orgs.store import ConnectionStore
from sfdc.salesforce.oauth import OAuthClient, TokenResponse
from sfdc.salesforce.refusals import grant_refusal
from sfdc.salesforce.transport import Transport
from sfdc.settings.hosts import is_loopback
from sfdc.settings.settings import Settings
from sfdc.tokens.exchange import Exchange
from sfdc.tokens.provider import TokenProvider
from sfdc.tokens.sealing import ColumnSealer
from sfdc.tokens.service import learn_expiry
from sfdc.tokens.token import Freshness, Token, freshness, token_from_response

log = logging.getLogger(__name__)

GRANT_GONE = frozenset({"expired access/refresh token", "token validity expired"})


@dataclass
class Refresher:
    settings: Settings
    consumer_secret: str
    store: ConnectionStore
    vault: ColumnSealer
    transport: Transport
    clock: Callable[[], datetime]

    def refresh(self, name: str, rejected: frozenset[str]) -> Exchange:
        """The connection's current token, refreshing it under the row lock if it must be."""
        with self.store.locked(name) as (_session, row):
            if row is None:
                raise UnknownConnection(name)
            if row.status != CONNECTED:
                raise ConsentRequired(name, row.status_reason or "refused")
            shared = self._shared_token(row)
            if (
                shared is not None
                and shared.fingerprint not in rejected
                and freshness(shared, self.clock()) is Freshness.FRESH
            ):
                return Exchange(shared, None, TokenResponse(200, {}, {}))
            outcome = self._refresh_row(row)
        # Outside the block, so that marking the connection is committed first.
        if isinstance(outcome, ConsentRequired):
            raise outcome
        return outcome

    def _refresh_row(self, row: ConnectionRow) -> Exchange | ConsentRequired:
        refresh_token = self.vault.open(row.refresh_token, name=row.name, purpose="refresh_token")
        if refresh_token is None:
            return self._needs_consent(
                row, "its refresh token cannot be opened with SFDC_ENCRYPTION_KEY"
            )
        try:
            return self._refreshed(row, refresh_token)
        except SalesforceRefusal as exc:
            if exc.code == "invalid_grant" and exc.description.strip().lower() in GRANT_GONE:
                return self._needs_consent(row, exc.description)
            raise grant_refusal(
                exc.code, exc.description, upstream_status=exc.upstream_status, grant="refresh"
            ) from None

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
        client = OAuthClient(row.login_url, self.transport)
        response = client.refresh(
            refresh_token, client_id=self.settings.consumer_key, client_secret=self.consumer_secret
        )
        now = self.clock()
        allow_loopback = is_loopback(urlsplit(row.login_url).hostname or "")
        token = token_from_response(response.body, received_at=now, allow_loopback=allow_loopback)
        expires = learn_expiry(token, received=now, client=client, settings=self.settings)
        token = replace(token, expires_at=expires)
        rotated = response.body.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != refresh_token:
            # Rotation: the old token is spent; the new one commits with the access token.
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
            expires.isoformat(),
            " (refresh token rotated)" if isinstance(rotated, str) and rotated else "",
        )
        return Exchange(token, None, response)


class ConnectionTokens:
    """The ``TokenSource`` of one stored connection, in one process."""

    def __init__(self, refresher: Refresher, row: ConnectionRow) -> None:
        self.name = row.name
        self.connected_at = row.connected_at
        self.allow_loopback = is_loopback(urlsplit(row.login_url).hostname or "")
        self.transport = refresher.transport
        self.clock = refresher.clock
        self.checked_at = refresher.clock()
        self._refresher = refresher
        self._lock = threading.Lock()
        self._rejected: set[str] = set()
        # Why Salesforce refused the refresh token, once it has; a fresh error is raised
        # per call (one shared exception would grow its traceback on every raise).
        self._consent_reason: str | None = None
        if row.status != CONNECTED:
            self._consent_reason = row.status_reason or "refused"
        self.provider = TokenProvider(self._mint, clock=refresher.clock)

    def current(self) -> Exchange:
        reason = self._consent_reason
        if reason is not None:
            raise ConsentRequired(self.name, reason)
        return self.provider.get()

    def needs_consent(self, reason: str) -> None:
        """Another process found the refresh token refused: stop asking Salesforce."""
        if self._consent_reason is None:
            self._consent_reason = reason

    def rejected(self, exchange: Exchange) -> bool:
        with self._lock:
            self._rejected.add(exchange.token.fingerprint)
        return self.provider.invalidate(exchange)

    def _mint(self) -> Exchange:
        with self._lock:
            rejected = frozenset(self._rejected)
        try:
            return self._refresher.refresh(self.name, rejected)
        except ConsentRequired as exc:
            # Before the provider's cool-down turns it into a plain error without the link.
            self._consent_reason = exc.reason
            raise
