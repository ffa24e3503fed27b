"""Connected orgs, as the web layer and the CLI see them: connect, use, list, delete.

``Connections`` puts the parts together: ``Onboarding`` (connect link and
callback), ``Refresher``/``ConnectionTokens`` (access tokens), the store and
the column sealer, ``Alerts`` (with the webhook, if one is set) and the
``KeepAlive`` job, whose thread ``start`` runs (``create_app`` does not: the web
server starts it in each worker). ``source(name)`` hands out a connection's
``TokenSource``; each
process re-reads the connection's row at most every ``STATUS_RECHECK``, which
bounds how long a deleted or re-consented connection is served from a cache
elsewhere (the tokens such a cache holds were revoked with the refresh token).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
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
from sfdc.orgs.refresh import ConnectionTokens, Refresher
from sfdc.orgs.store import ConnectionStore
from sfdc.orgs.webhook import Webhook
from sfdc.salesforce.oauth import OAuthClient
from sfdc.salesforce.pools import new_session
from sfdc.salesforce.transport import Transport
from sfdc.settings.settings import Settings
from sfdc.tokens.sealing import ColumnSealer
from sfdc.tokens.shared_cache import connect

log = logging.getLogger(__name__)

STATUS_RECHECK = timedelta(seconds=5)
# A consent-required answer reuses its link while this much of it is left, so
# an app retrying against a lapsed connection does not mint a link per call.
LINK_REUSE_MARGIN = timedelta(minutes=5)


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
        self.keepalive = KeepAlive(settings.keepalive, store, self.refresher, clock=clock)
        self._lock = threading.Lock()
        self._sources: dict[str, ConnectionTokens] = {}
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
            self._links[name] = link
        return link

    def pending(self, nonce: str) -> dict[str, Any]:
        """What the person opening the connect link ``nonce`` is asked to approve."""
        return approval.pending(self.onboarding, nonce)

    def complete(self, **callback: str | None) -> dict[str, Any]:
        stored = self.onboarding.complete(**callback)
        self.forget(stored["name"])
        return stored

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
            raise UnknownConnection(name)
        with self._lock:
            cached = self._sources.get(name)
            if cached is not None and cached.connected_at == row.connected_at:
                cached.checked_at = now
                if row.status != CONNECTED:
                    cached.needs_consent(row.status_reason or "refused")
                return cached
            fresh = ConnectionTokens(self.refresher, row)
            self._sources[name] = fresh
            return fresh

    def forget(self, name: str) -> None:
        with self._lock:
            self._sources.pop(name, None)
            self._links.pop(name, None)

    # -- managing --------------------------------------------------------------------

    def list(self) -> list[dict[str, Any]]:
        return [describe(row) for row in self.store.all()]

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
