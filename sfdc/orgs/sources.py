"""Stored connections' token sources in one process: shared through Redis, kept in an LRU.

``ConnectionTokens`` is the ``TokenSource`` of one connection in one process:
the same ``TokenProvider`` as JWT tokens (one flight per process, stale
tokens renewed in the background, cool-down after failures), minting through
``Refresher.refresh``. With Redis it also shares the token the way the JWT
token is shared (``sfdc.tokens.shared_cache``): sealed by the ``CacheSealer``
under one key per connection, in front of the database, with the
cluster-wide lock. So a worker's first call on a connection that another
worker or instance already used is one Redis read, not a database read, and
the database is read (without a lock, see ``refresh``) only when Redis has
no usable copy.

A copy in Redis is dropped (replaced by the rejection marker, so nobody
re-shares an older one) when its connection is deleted, reconnected, or
turns to needs_consent; every process re-reads Redis at least every
``provider.LOCAL_RECHECK``, so that is how long another worker may still
serve it. Without Redis, or while it is away, a process re-reads the
connection's row instead, at most every ``STATUS_RECHECK``.

``SourceCache`` keeps the sources of the ``SFDC_CONNECTION_CACHE_SIZE``
connections used last, so a worker's memory does not grow with the number of
connected orgs; a source pushed out is rebuilt on next use from Redis or the
database, never by a refresh.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import redis

from sfdc.errors import ConsentRequired, UnknownConnection
from sfdc.orgs.records import CONNECTED
from sfdc.orgs.refresh import Refresher
from sfdc.orgs.schema import ConnectionRow
from sfdc.settings.hosts import is_loopback
from sfdc.settings.settings import Settings
from sfdc.tokens.cooldown import Blocked
from sfdc.tokens.exchange import Exchange
from sfdc.tokens.provider import TokenProvider
from sfdc.tokens.sealing import CacheSealer
from sfdc.tokens.shared_cache import LOCK_TTL, RedisStore, StoreUnavailable

log = logging.getLogger(__name__)

# Without a shared copy to re-read, how long a process serves a connection before it
# re-reads the row: bounds how long a deleted or re-consented connection is served from a
# process cache (the tokens such a cache holds were revoked with the refresh token).
STATUS_RECHECK = timedelta(seconds=5)


class _SharedCopy(RedisStore):
    """A connection's copy in Redis, without the shared cool-down of ``RedisStore``.

    A connection's failed refreshes are shared through its row instead (``backoff``),
    which every process reads before it refreshes. A block shared here too would be
    replayed, in a process that never saw the refusal, as a plain error: a connection
    that needs consent would answer without its connect link.
    """

    def load_blocked(self) -> Blocked | None:
        return None

    def save_blocked(self, blocked: Blocked, now: datetime) -> None:
        return None

    def clear_blocked(self) -> None:
        return None


class SharedTokens:
    """Where connections' tokens are shared: one Redis key per connection and database."""

    def __init__(self, settings: Settings, client: redis.Redis) -> None:
        self.client = client
        self.sealer = CacheSealer(settings.private_key, settings.encryption_keys)
        # Two deployments sharing one Redis and prefix never share a connection's token
        # unless they share its database (the URL without its password names it).
        where = str(settings.database.url) if settings.database is not None else ""
        self._database = where.encode()
        self._prefix = settings.cache_prefix

    def store(self, name: str, lock_ttl: timedelta = LOCK_TTL) -> RedisStore:
        """``name``'s shared copy. Its lock need outlive no more than the refresh lease
        (``Refresher.lease``): the lease, not this lock, keeps a refresh single-flight, so
        a holder that dies holds the others up no longer than its lease would."""
        digest = hashlib.sha256(self._database + b"\0" + name.encode()).hexdigest()[:24]
        return _SharedCopy(
            self.client, self.sealer, f"{self._prefix}:conn:{digest}", lock_ttl=lock_ttl
        )

    def drop(self, name: str) -> None:
        """Drop the shared copy of ``name``'s token (deleted, reconnected, needs consent)."""
        try:
            self.store(name).retire()
        except StoreUnavailable as exc:
            # Every process then serves from its own copy, re-reading the row (STATUS_RECHECK).
            log.warning("could not drop the shared token of connection %s: %s", name, exc)


def shared_tokens(settings: Settings, client: redis.Redis | None) -> SharedTokens | None:
    return None if client is None else SharedTokens(settings, client)


class ConnectionTokens:
    """The ``TokenSource`` of one stored connection, in one process."""

    def __init__(
        self,
        refresher: Refresher,
        name: str,
        shared: RedisStore | None = None,
        *,
        row: ConnectionRow | None = None,
    ) -> None:
        """With ``row``, as it is stored; without (a copy is shared in Redis), as it will be
        found when minting: connected, its token's host loopback only on a local service."""
        self.name = name
        self.connected_at = row.connected_at if row is not None else None
        login = urlsplit(row.login_url).hostname or "" if row is not None else None
        # Only a service whose own login is the local emulator takes loopback logins
        # (``onboarding.resolve_login``), so without the row that is the rule.
        self.allow_loopback = (
            is_loopback(login) if login is not None else bool(refresher.settings.loopback_logins)
        )
        self.transport = refresher.transport
        self.clock = refresher.clock
        self.checked_at = refresher.clock()
        self._gone = False
        self._mint = _Mint(refresher, name)
        if row is not None and row.status != CONNECTED:
            self._mint.consent_reason = row.status_reason or "refused"
        # The provider holds the minter, never this object: no reference cycle, so a
        # source the LRU lets go is freed at once, not at the next full garbage collection.
        self.provider = TokenProvider(
            self._mint, clock=refresher.clock, store=shared, shareable=refresher.stored
        )

    def current(self) -> Exchange:
        reason = self._mint.consent_reason
        if reason is not None:
            raise ConsentRequired(self.name, reason)
        try:
            return self.provider.get()
        except UnknownConnection:
            self._gone = True
            raise

    def settled(self, now: datetime) -> bool:
        """Whether this source may be served without re-reading its row: it re-reads a
        shared copy (which a delete, reconnect or lost consent drops), or read the row
        within ``STATUS_RECHECK``."""
        if now - self.checked_at < STATUS_RECHECK:
            return True
        return not self._gone and self._mint.consent_reason is None and self.provider.sharing()

    def needs_consent(self, reason: str) -> None:
        """Another process found the refresh token refused: stop asking Salesforce."""
        if self._mint.consent_reason is None:
            self._mint.consent_reason = reason

    def rejected(self, exchange: Exchange) -> bool:
        self._mint.reject(exchange)
        return self.provider.invalidate(exchange)


class _Mint:
    """How a connection's provider mints: ``Refresher.refresh``, skipping rejected tokens."""

    def __init__(self, refresher: Refresher, name: str) -> None:
        self.refresher = refresher
        self.name = name
        self._lock = threading.Lock()
        self._rejected: set[str] = set()
        # Why Salesforce refused the refresh token, once it has; a fresh error is raised
        # per call (one shared exception would grow its traceback on every raise).
        self.consent_reason: str | None = None

    def reject(self, exchange: Exchange) -> None:
        with self._lock:
            self._rejected.add(exchange.token.fingerprint)

    def __call__(self) -> Exchange:
        with self._lock:
            rejected = frozenset(self._rejected)
        try:
            return self.refresher.refresh(self.name, rejected)
        except ConsentRequired as exc:
            # Before the provider's cool-down turns it into a plain error without the link.
            self.consent_reason = exc.reason
            raise


class SourceCache:
    """The token sources of the ``size`` connections used last; thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._sources: OrderedDict[str, ConnectionTokens] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sources)

    def get(self, name: str) -> ConnectionTokens | None:
        with self._lock:
            found = self._sources.get(name)
            if found is not None:
                self._sources.move_to_end(name)
            return found

    def put(self, source: ConnectionTokens) -> None:
        with self._lock:
            self._sources[source.name] = source
            self._sources.move_to_end(source.name)
            while len(self._sources) > self.size:
                self._sources.popitem(last=False)

    def pop(self, name: str) -> None:
        with self._lock:
            self._sources.pop(name, None)
