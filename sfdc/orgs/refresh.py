"""Access tokens for stored connections: the refresh-token grant, crash-safe and single-flight.

``Refresher.refresh`` is how a connection's ``TokenSource``
(``sources.ConnectionTokens``) mints: it answers with the stored access token
while that is fresh, and refreshes it otherwise.

A refresh never runs inside a database transaction, because with rotation on
the new refresh token is the only key to the connection left the moment
Salesforce answers (research §2). Instead:

1. A fresh access token another process stored is read without any lock: one
   plain read of the row, no lease, no ``SELECT ... FOR UPDATE``.
2. Otherwise the refresh is *claimed*: a lease on the row, taken in one short
   statement, expiring by itself if its holder dies (``store.claim``). Others
   wait for the holder's token, or for the lease to lapse.
3. The grant runs with no transaction open.
4. Its answer is made durable at once, before anything else (no
   introspection, no logging): the new tokens are written in one statement
   fenced by the refresh token the grant spent. If the database fails, a
   rotated refresh token is parked, sealed, in Redis (``parked``) and written
   back by the next refresh; with Redis down too, it is kept in this process
   and reported loudly.
5. Only then is it logged as refreshed, and its expiry learnt.

So the one instant that can lose a rotated refresh token is the grant's own
round trip: a worker that dies while Salesforce's answer is in flight.

Only ``expired access/refresh token`` (and ``token validity expired``) mean
the grant is gone (research §2); they mark the connection ``needs_consent``.
Other refusals, such as login hours, are reported and cooled down like any
other, and the connection keeps its refresh token. Every failure is written
to the row, and all processes back off from it together (``backoff``); the
turn to ``needs_consent`` raises an alert (``alerts``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, overload
from urllib.parse import urlsplit

from sfdc.errors import (
    ConsentRequired,
    DatabaseUnavailable,
    RefreshInProgress,
    SalesforceRefusal,
    SfdcError,
    UnknownConnection,
)
from sfdc.orgs.alerts import Alerts
from sfdc.orgs.backoff import CLEARED, blocked, failed
from sfdc.orgs.parked import ParkedTokens, successor_of
from sfdc.orgs.records import CONNECTED, NEEDS_CONSENT
from sfdc.orgs.schema import ConnectionRow
from sfdc.orgs.store import ConnectionStore
from sfdc.salesforce.oauth import OAuthClient, TokenResponse
from sfdc.salesforce.refusals import grant_refusal
from sfdc.salesforce.transport import Transport
from sfdc.settings.hosts import is_loopback
from sfdc.settings.settings import Settings
from sfdc.telemetry.fingerprints import secret_fingerprint
from sfdc.tokens.exchange import Exchange
from sfdc.tokens.sealing import ColumnSealer
from sfdc.tokens.service import learn_expiry
from sfdc.tokens.token import Freshness, Token, freshness, token_from_response

log = logging.getLogger(__name__)

GRANT_GONE = frozenset({"expired access/refresh token", "token validity expired"})
# A lease outlives the grant it covers (the transport's retry budget) by this much,
# so it lapses only when its holder is gone.
LEASE_MARGIN = timedelta(seconds=5)
# A caller waits this long for another process's refresh before answering 503;
# well inside gunicorn's 30 s worker timeout.
HOLDER_WAIT = 20.0  # seconds
# Tokens remembered as not stored (see ``stored``): a handful, outages being rare and short.
UNSTORED_KEPT = 256
_POLL_FIRST, _POLL_MAX = 0.05, 0.5  # seconds between looks at a held lease


def _no_step(step: str) -> None:
    """The default ``Refresher.step``: tests pass one that stops a database or a process."""


def _nobody(name: str) -> None:
    """The default ``Refresher.lost``."""


@dataclass
class Refresher:
    settings: Settings
    consumer_secret: str
    store: ConnectionStore
    sealer: ColumnSealer
    transport: Transport
    clock: Callable[[], datetime]
    parked: ParkedTokens
    alerts: Alerts = field(default_factory=Alerts)
    lease: timedelta = field(default=timedelta(0))
    # Called with "claimed", "answered", "stored" and "done" as a refresh passes them.
    step: Callable[[str], None] = _no_step
    sleep: Callable[[float], None] = time.sleep
    # Called with a connection's name when it turns to needs_consent, so that copies of its
    # access token shared elsewhere (``sources.SharedTokens``) are dropped.
    lost: Callable[[str], None] = _nobody
    _unstored: set[str] = field(default_factory=set, init=False, repr=False)
    _unstored_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        if not self.lease:
            self.lease = timedelta(seconds=self.transport.retry.budget) + LEASE_MARGIN

    def refresh(
        self, name: str, rejected: frozenset[str], *, since: datetime | None = None
    ) -> Exchange:
        """The connection's current token: one another process stored, or a new one.

        With ``since`` (the keep-alive job), only a refresh at or after ``since`` will
        do, however fresh the stored token: the point is to use the refresh token.
        """
        held = self.hold(name, lambda row: self._usable(name, row, rejected, since))
        if isinstance(held, Exchange):
            return held
        return self._refresh_claimed(held, rejected, since)

    @overload
    def hold(self, name: str) -> ConnectionRow: ...

    @overload
    def hold(
        self, name: str, usable: Callable[[ConnectionRow | None], Exchange | None]
    ) -> ConnectionRow | Exchange: ...

    def hold(
        self, name: str, usable: Callable[[ConnectionRow | None], Exchange | None] | None = None
    ) -> ConnectionRow | Exchange:
        """The connection's row with its lease taken, waiting while another process holds
        it; or, while waiting, what ``usable`` finds in the row (another holder's token)."""
        waited_until: float | None = None
        pause = _POLL_FIRST
        while True:
            if usable is not None:
                found = usable(self.store.get(name))
                if found is not None:
                    return found
            now = self.clock()
            claimed = self.store.claim(name, now, now + self.lease)
            if claimed is not None:
                return claimed
            if usable is None and self.store.get(name) is None:
                raise UnknownConnection(name)
            waited_until = waited_until or time.monotonic() + HOLDER_WAIT
            if time.monotonic() > waited_until:
                raise RefreshInProgress(name)
            self.sleep(pause)
            pause = min(pause * 2, _POLL_MAX)

    def spendable(self, row: ConnectionRow) -> str | None:
        """The refresh token to use for ``row``: a parked successor of the stored one, if
        any (dropping a parked token that is already spent), else the stored one."""
        stored = self._open_refresh(row)
        parked = self.parked.find(row.name)
        if parked is not None and stored is None:
            return parked.token  # the stored one no key opens; the parked one is newer
        successor = successor_of(parked, stored)
        if parked is not None and successor is None:
            self.parked.drop(row.name, parked)
        return successor or stored

    def _usable(
        self,
        name: str,
        row: ConnectionRow | None,
        rejected: frozenset[str],
        since: datetime | None = None,
    ) -> Exchange | None:
        """A stored token that will do; None to refresh; an error to answer with instead
        (needs consent, or backing off after failed refreshes: ``backoff``)."""
        if row is None:
            raise UnknownConnection(name)
        if row.status != CONNECTED:
            raise ConsentRequired(name, row.status_reason or "refused")
        now = self.clock()
        shared = self._shared_token(row)
        if shared is not None and (
            shared.fingerprint not in rejected and freshness(shared, now) is Freshness.FRESH
            if since is None
            else row.refreshed_at is not None and row.refreshed_at >= since
        ):
            return Exchange(shared, None, TokenResponse(200, {}, {}))
        block = blocked(row, now)
        if block is not None:
            raise block.error()
        return None

    def _refresh_claimed(
        self, row: ConnectionRow, rejected: frozenset[str], since: datetime | None
    ) -> Exchange:
        name, epoch = row.name, row.lease_epoch
        self.step("claimed")
        try:
            found = self._usable(name, row, rejected, since)
        except SfdcError:
            self._release(name, epoch)
            raise
        if found is not None:  # stored by the previous holder just before we claimed
            self._release(name, epoch)
            return found
        stored = self._open_refresh(row)
        spend = self.spendable(row)
        parked = self.parked.find(name)
        if spend is None:
            raise self._needs_consent(
                row, epoch, "its refresh token cannot be opened with SFDC_ENCRYPTION_KEY"
            )
        client = OAuthClient(row.login_url, self.transport)
        try:
            response = client.refresh(
                spend, client_id=self.settings.consumer_key, client_secret=self.consumer_secret
            )
        except SalesforceRefusal as exc:
            if exc.code == "invalid_grant" and exc.description.strip().lower() in GRANT_GONE:
                raise self._needs_consent(row, epoch, exc.description) from None
            refused = grant_refusal(
                exc.code, exc.description, upstream_status=exc.upstream_status, grant="refresh"
            )
            self._release(name, epoch, failure=refused)
            raise refused from None
        except SfdcError as exc:
            self._release(name, epoch, failure=exc)
            raise
        self.step("answered")
        token, received = self._keep(row, stored, spend, response)
        if parked is not None:
            self.parked.drop(name, parked)
        self.step("stored")
        expires = learn_expiry(token, received=received, client=client, settings=self.settings)
        if expires != token.expires_at:
            token = replace(token, expires_at=expires)
            self._quietly(self.store.set_expiry, name, token.issued_at, expires)
        self.step("done")
        return Exchange(token, None, response)

    def _keep(
        self, row: ConnectionRow, stored: str | None, spent: str, response: TokenResponse
    ) -> tuple[Token, datetime]:
        """Make the grant's answer durable, before anything else: the database, else Redis."""
        now = self.clock()
        body = response.body
        rotated = body.get("refresh_token")
        if not (isinstance(rotated, str) and rotated and rotated != spent):
            rotated = None
        values: dict[str, Any] = {"refreshed_at": now, **CLEARED}
        if rotated is not None:
            values["refresh_token"] = self.sealer.seal(
                rotated, name=row.name, purpose="refresh_token"
            )
        try:
            allow_loopback = is_loopback(urlsplit(row.login_url).hostname or "")
            token = token_from_response(body, received_at=now, allow_loopback=allow_loopback)
        except (SfdcError, KeyError, TypeError, AttributeError):
            self._durable(row, stored, rotated, values)
            raise
        token = replace(token, expires_at=now + self.settings.token_max_age)
        values.update(
            instance_url=token.instance_url,
            access_token=self.sealer.seal(
                token.access_token, name=row.name, purpose="access_token"
            ),
            access_issued_at=token.issued_at,
            access_expires_at=token.expires_at,
        )
        if self._durable(row, stored, rotated, values):
            log.info(
                "connection %s refreshed: token %s%s",
                row.name,
                token.fingerprint,
                " (refresh token rotated)" if rotated else "",
            )
        else:
            with self._unstored_lock:
                if len(self._unstored) >= UNSTORED_KEPT:
                    self._unstored.clear()  # long expired, or replaced by a stored one
                self._unstored.add(token.fingerprint)
        return token, now

    def stored(self, exchange: Exchange) -> bool:
        """Whether ``exchange``'s token reached the database. One that did not (the database
        failed; its refresh token is parked) is not shared through Redis, so the next
        process refreshes, and writes the parked token back, at once."""
        with self._unstored_lock:
            return exchange.token.fingerprint not in self._unstored

    def _durable(
        self, row: ConnectionRow, stored: str | None, rotated: str | None, values: dict[str, Any]
    ) -> bool:
        """Write ``values`` fenced by the row's refresh token; park ``rotated`` if that fails.
        Whether the database has them."""
        try:
            if self.store.store_refresh(row.name, row.refresh_token, **values):
                return True
            # The fence moved. If only its sealing did (``reseal`` under a new key), the row
            # still holds the token the grant spent: write against the new sealing.
            now_stored = self.store.get(row.name)
            if (
                now_stored is not None
                and stored is not None
                and self._open_refresh(now_stored) == stored
                and self.store.store_refresh(row.name, now_stored.refresh_token, **values)
            ):
                return True
            log.warning(
                "connection %s was reconnected or deleted during its refresh; the refresh's "
                "tokens were not stored",
                row.name,
            )
            return False
        except DatabaseUnavailable:
            if rotated is not None and stored is not None:
                self.parked.park(row.name, rotated, replaces=secret_fingerprint(stored))
            return False

    def _open_refresh(self, row: ConnectionRow) -> str | None:
        return self.sealer.open(row.refresh_token, name=row.name, purpose="refresh_token")

    def _needs_consent(self, row: ConnectionRow, epoch: int, reason: str) -> ConsentRequired:
        """Mark the row; the one process whose fenced release lands raises the alert."""
        consent = ConsentRequired(row.name, reason)
        now = self.clock()
        marked = self._quietly(
            self.store.release,
            row.name,
            epoch,
            status=NEEDS_CONSENT,
            status_reason=reason,
            access_token=None,
            **failed(consent, now),
        )
        if marked:
            self.lost(row.name)
            self.alerts.needs_consent(row, reason, now)
        return consent

    def _release(self, name: str, epoch: int, *, failure: SfdcError | None = None) -> None:
        values = {} if failure is None else failed(failure, self.clock())
        self._quietly(self.store.release, name, epoch, **values)

    @staticmethod
    def _quietly(write: Callable[..., bool], *args: Any, **values: Any) -> bool:
        """A bookkeeping write that must not hide the error being reported (the lease
        lapses by itself if it cannot be released)."""
        try:
            return write(*args, **values)
        except DatabaseUnavailable:
            return False

    def _shared_token(self, row: ConnectionRow) -> Token | None:
        if row.access_token is None or row.access_issued_at is None:
            return None
        access = self.sealer.open(row.access_token, name=row.name, purpose="access_token")
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
