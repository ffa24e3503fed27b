"""Connected orgs, as the web layer and the CLI see them: connect, use, list, delete.

``Connections`` puts the parts together: ``Onboarding`` (connect link and
callback), ``Refresher`` and the token sources of ``sources`` (access tokens,
shared through Redis when it is bound), the store and the column sealer,
``Alerts`` (with the webhook, if one is set) and the ``KeepAlive`` job, whose
thread ``start`` runs (``create_app`` does not: the web server starts it in
each worker). ``source(name)`` hands out a connection's ``TokenSource`` from
a least-recently-used cache of ``SFDC_CONNECTION_CACHE_SIZE``; ``page`` lists
connections in name order, a page at a time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sfdc.errors import UnknownConnection
from sfdc.orgs import approval
from sfdc.orgs.alerts import Alerts
from sfdc.orgs.consent import StateSigner
from sfdc.orgs.keepalive import KeepAlive
from sfdc.orgs.onboarding import ConnectLink, Onboarding
from sfdc.orgs.parked import ParkedTokens
from sfdc.orgs.records import CONNECTED, check_name, describe
from sfdc.orgs.refresh import Refresher
from sfdc.orgs.sources import ConnectionTokens, SourceCache, shared_tokens
from sfdc.orgs.store import ConnectionStore
from sfdc.orgs.webhook import Webhook
from sfdc.salesforce.oauth import OAuthClient
from sfdc.salesforce.pools import new_session
from sfdc.salesforce.transport import Transport
from sfdc.settings.settings import Settings
from sfdc.tokens.sealing import ColumnSealer
from sfdc.tokens.shared_cache import connect

log = logging.getLogger(__name__)

# A consent-required answer reuses its link while this much of it is left, so
# an app retrying against a lapsed connection does not mint a link per call.
LINK_REUSE_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Page:
    """One page of connections in name order; ``after`` names the next page's start."""

    connections: list[dict[str, Any]]
    after: str | None


class Connections:
    def __init__(
        self,
        settings: Settings,
        store: ConnectionStore,
        transport: Transport,
        clock: Callable[[], datetime],
    ) -> None:
        if settings.consumer_secret is None or not settings.encryption_keys:
            raise ValueError("connected orgs need the consumer secret and an encryption key")
        self.settings = settings
        self.store = store
        self.transport = transport
        self.clock = clock
        self.sealer = ColumnSealer(settings.encryption_keys)
        secret = settings.consumer_secret
        target = settings.webhook
        self.alerts = Alerts(Webhook(target, new_session()) if target is not None else None)
        self.onboarding = Onboarding(
            settings,
            secret,
            store,
            self.sealer,
            StateSigner(settings.encryption_keys),
            transport,
            clock,
            self.alerts,
        )
        redis_client = connect(settings.redis.url) if settings.redis is not None else None
        parked = ParkedTokens(redis_client, self.sealer, settings.cache_prefix)
        self.refresher = Refresher(
            settings, secret, store, self.sealer, transport, clock, parked, self.alerts
        )
        self.shared = shared_tokens(settings, redis_client)
        if self.shared is not None:
            self.refresher.lost = self.shared.drop
        self.keepalive = KeepAlive(settings.keepalive, store, self.refresher, clock=clock)
        self._lock = threading.Lock()
        self.sources = SourceCache(settings.connection_cache_size)
        self._links: dict[str, ConnectLink] = {}

    def __repr__(self) -> str:
        return f"Connections({self.store!r})"

    # -- background ------------------------------------------------------------------

    def start(self) -> None:
        """Start this process's keep-alive thread (the webhook's starts with its first alert)."""
        self.keepalive.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background threads, giving waiting alerts up to ``timeout`` seconds."""
        self.keepalive.stop(timeout / 2)
        webhook = self.alerts.webhook
        if webhook is not None:
            webhook.flush(timeout / 4)
            webhook.close(timeout / 4)

    # -- connecting ------------------------------------------------------------------

    def connect_link(
        self,
        name: str,
        *,
        callback_url: str,
        login: str | None = None,
        scopes: str | None = None,
        replace: bool = False,
        client: str | None = None,
    ) -> ConnectLink:
        return self.onboarding.link(
            name,
            callback_url=callback_url,
            login=login,
            scopes=scopes,
            replace=replace,
            client=client,
        )

    def consent_link(self, name: str, *, callback_url: str) -> ConnectLink:
        """A link to reconnect ``name``, reused while it has time left (see LINK_REUSE_MARGIN)."""
        now = self.clock()
        with self._lock:
            cached = self._links.get(name)
        if (
            cached is not None
            and cached.callback_url == callback_url
            and cached.expires_at - now > LINK_REUSE_MARGIN
            and self.store.has_request(cached.nonce)  # not opened yet, here or elsewhere
        ):
            return cached
        link = self.onboarding.link(name, callback_url=callback_url)
        with self._lock:
            self._links.pop(name, None)
            self._links[name] = link
            if len(self._links) > self.sources.size:  # bounded like the sources: oldest out
                del self._links[next(iter(self._links))]
        return link

    def pending(self, nonce: str) -> dict[str, Any]:
        """What the person opening the connect link ``nonce`` is asked to approve."""
        return approval.pending(self.onboarding, nonce)

    def complete(self, **callback: str | None) -> dict[str, Any]:
        stored = self.onboarding.complete(**callback)
        self.forget(stored["name"], shared=True)
        return stored

    # -- using -----------------------------------------------------------------------

    def source(self, name: str) -> ConnectionTokens:
        """The token source for a stored connection, from this process's LRU while it is
        settled (see ``sources``). A connection new to this process is built without a
        database read when Redis is shared (its copy there, or the mint, says whether it
        exists); else from its row, re-read every ``STATUS_RECHECK``."""
        check_name(name)
        now = self.clock()
        cached = self.sources.get(name)
        if cached is not None and cached.settled(now):
            return cached
        if cached is None and self.shared is not None:
            with self._lock:
                cached = self.sources.get(name)
                if cached is None:
                    copy = self.shared.store(name, self.refresher.lease)
                    cached = ConnectionTokens(self.refresher, name, copy)
                    self.sources.put(cached)
                return cached
        row = self.store.get(name)
        if row is None:
            self.forget(name)
            raise UnknownConnection(name)
        with self._lock:
            cached = self.sources.get(name)
            if cached is not None and cached.connected_at == row.connected_at:
                cached.checked_at = now
                if row.status != CONNECTED:
                    cached.needs_consent(row.status_reason or "refused")
                return cached
            shared = None if self.shared is None else self.shared.store(name, self.refresher.lease)
            fresh = ConnectionTokens(self.refresher, name, shared, row=row)
            self.sources.put(fresh)
            return fresh

    def forget(self, name: str, *, shared: bool = False) -> None:
        """Drop this process's source of ``name``; with ``shared``, the copy in Redis too
        (the connection was deleted or reconnected)."""
        self.sources.pop(name)
        with self._lock:
            self._links.pop(name, None)
        if shared and self.shared is not None:
            self.shared.drop(name)

    # -- managing --------------------------------------------------------------------

    def list(self) -> list[dict[str, Any]]:
        return [describe(row) for row in self.store.all()]

    def page(self, *, after: str | None, limit: int, names: Collection[str] | None = None) -> Page:
        """Up to ``limit`` connections named after ``after``, in name order; with ``names``,
        only those (a caller's scope)."""
        rows = self.store.page(after=after, limit=limit + 1, names=names)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page([describe(row) for row in rows], rows[-1].name if more else None)

    def get(self, name: str) -> dict[str, Any]:
        row = self.store.get(check_name(name))
        if row is None:
            raise UnknownConnection(name)
        return describe(row)

    def delete(self, name: str) -> dict[str, Any]:
        """Revoke the refresh token at Salesforce, then remove the row, under its lease.

        Holding the refresh lease, no refresh can rotate the token between the revoke
        and the delete; the revoke runs with no transaction open, and the row goes only
        if the lease is still ours. If Salesforce cannot be reached, nothing is deleted.
        """
        check_name(name)
        row = self.refresher.hold(name)
        try:
            token = self.refresher.spendable(row)
            revoked = (
                None if token is None else OAuthClient(row.login_url, self.transport).revoke(token)
            )
        except BaseException:
            self.store.release(name, row.lease_epoch)
            raise
        self.store.delete_leased(name, row.lease_epoch)
        parked = self.refresher.parked.find(name)
        if parked is not None:
            self.refresher.parked.drop(name, parked)
        self.forget(name, shared=True)
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
