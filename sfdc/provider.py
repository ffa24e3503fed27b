"""The token cache: process memory, in front of Redis, in front of an exchange.

Guarantees, for one configuration:

- **One exchange per token lifetime, cluster-wide.** A process trusts its own
  copy for ``LOCAL_RECHECK``, then re-reads Redis. A miss there takes the
  cluster-wide lock and re-checks inside it before exchanging, so however many
  workers and instances start cold together, one of them asks Salesforce and
  the rest read its result. Within a process, ``SingleFlight`` makes threads
  share one attempt.
- **No caller waits on a refresh while the old token is good.** A STALE token
  (inside ``REFRESH_AHEAD`` of its expiry) is served while one background
  thread renews it.
- **A rejection costs one exchange.** ``invalidate`` drops the token from this
  process and, by compare-and-delete, from Redis only if it is still the one
  that failed.
- **Redis trouble is not an outage.** Any Redis failure switches this process
  to its own cache and its own exchanges (logged once); Redis is probed again
  after ``REDIS_RETRY`` and used again as soon as it answers. A token minted
  during the outage is offered to Redis rather than minted again.
- **The login quota is protected.** After a failure, ``Cooldown`` answers with
  the stored error instead of asking again, and shares the block through Redis.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sfdc import metrics
from sfdc.cooldown import Blocked, Cooldown
from sfdc.errors import SfdcError
from sfdc.exchange import Exchange
from sfdc.store import RedisStore, Stored, StoreUnavailable
from sfdc.tokens import Freshness, SingleFlight, freshness

log = logging.getLogger(__name__)

# How long a process serves its copy before re-reading Redis: bounds how long
# a token dropped by another instance is still served here, at one Redis GET
# per process per interval.
LOCAL_RECHECK = timedelta(seconds=5)
# After a Redis failure, how long to skip Redis before probing it again, so a
# dead Redis costs one failed call per process per interval, not one per request.
REDIS_RETRY = timedelta(seconds=5)


@dataclass(frozen=True)
class _Held:
    exchange: Exchange
    raw: bytes | None = field(repr=False)  # as stored in Redis; None if minted here only
    checked_at: datetime


class TokenProvider:
    def __init__(
        self,
        mint: Callable[[], Exchange],
        *,
        clock: Callable[[], datetime],
        store: RedisStore | None = None,
        cooldown: Cooldown | None = None,
    ) -> None:
        self._mint_exchange = mint
        self.clock = clock
        self.store = store
        self.cooldown = cooldown or Cooldown()
        self._lock = threading.Lock()
        self._flight: SingleFlight[Exchange] = SingleFlight()
        self._held: _Held | None = None
        self._refreshing = False
        self._down_until: datetime | None = None

    def peek(self) -> Exchange | None:
        held = self._held
        return held.exchange if held else None

    def get(self) -> Exchange:
        now = self.clock()
        held = self._held
        if held is not None and self._trusted(held, now):
            metrics.CACHE.labels("process", "hit").inc()
            if freshness(held.exchange.token, now) is Freshness.STALE:
                self._refresh_in_background()
            return held.exchange
        metrics.CACHE.labels("process", "miss").inc()
        return self._flight.do(self._fill)

    def invalidate(self, exchange: Exchange) -> bool:
        """Salesforce rejected ``exchange``'s token: forget it wherever it is still current."""
        with self._lock:
            held = self._held
            if held is None or held.exchange.token.access_token != exchange.token.access_token:
                return False
            self._held = None
        log.info("token %s rejected by Salesforce; dropped", exchange.token.fingerprint)
        if held.raw is not None and self.store is not None and self._store_usable(self.clock()):
            try:
                self.store.delete_if(held.raw)
            except StoreUnavailable as exc:
                self._store_failed(exc)
        return True

    # -- the slow path, one flight per process -------------------------------------

    def _fill(self) -> Exchange:
        now = self.clock()
        held = self._held
        if held is not None and self._trusted(held, now):
            return held.exchange
        if self.store is not None and self._store_usable(now):
            try:
                return self._fill_from(self.store, now)
            except StoreUnavailable as exc:
                self._store_failed(exc)
            if held is not None and freshness(held.exchange.token, now) is not Freshness.INVALID:
                return held.exchange  # only the re-check failed; our copy is still good
        return self._keep(self._mint(self.clock(), None), None)

    def _fill_from(self, store: RedisStore, now: datetime) -> Exchange:
        found = store.load()
        if found is not None and freshness(found.exchange.token, now) is not Freshness.INVALID:
            metrics.CACHE.labels("redis", "hit").inc()
            return self._adopt(found)
        metrics.CACHE.labels("redis", "miss").inc()
        with store.locked(wait=True):
            now = self.clock()
            found = store.load()
            if found is not None and freshness(found.exchange.token, now) is not Freshness.INVALID:
                return self._adopt(found)  # another process exchanged while we waited
            held = self._held
            if (
                held is not None
                and held.raw is None
                and freshness(held.exchange.token, now) is not Freshness.INVALID
            ):
                offered = store.offer(held.exchange, now)
                if offered is not None:
                    return self._adopt(offered)  # minted here while Redis was away
            return self._mint_and_share(store, now)

    def _mint_and_share(self, store: RedisStore, now: datetime) -> Exchange:
        exchange = self._mint(now, store.load_blocked())
        try:
            return self._adopt(store.save(exchange, self.clock()))
        except StoreUnavailable as exc:
            self._store_failed(exc)  # keep what we paid for; never exchange twice
            return self._keep(exchange, None)

    def _mint(self, now: datetime, shared: Blocked | None) -> Exchange:
        self.cooldown.check(now, shared)
        started = time.perf_counter()
        try:
            exchange = self._mint_exchange()
        except SfdcError as exc:
            metrics.EXCHANGES.labels(exc.code).inc()
            blocked = self.cooldown.failed(exc, self.clock())
            if blocked is not None and self.store is not None and self._store_usable(now):
                try:
                    self.store.save_blocked(blocked, self.clock())
                except StoreUnavailable as unavailable:
                    self._store_failed(unavailable)
            raise
        finally:
            metrics.EXCHANGE_SECONDS.observe(time.perf_counter() - started)
        metrics.EXCHANGES.labels("ok").inc()
        self.cooldown.succeeded()
        return exchange

    # -- holding -------------------------------------------------------------------

    def _adopt(self, stored: Stored) -> Exchange:
        """Hold what Redis has; keep our object if it is the same entry, for invalidate."""
        now = self.clock()
        with self._lock:
            current = self._held
            if current is not None and current.raw == stored.raw:
                self._held = replace(current, checked_at=now)
            else:
                self._held = _Held(stored.exchange, stored.raw, now)
            held = self._held
        self._store_answered()
        if freshness(held.exchange.token, now) is Freshness.STALE:
            self._refresh_in_background()
        return held.exchange

    def _keep(self, exchange: Exchange, raw: bytes | None) -> Exchange:
        with self._lock:
            self._held = _Held(exchange, raw, self.clock())
        return exchange

    def _trusted(self, held: _Held, now: datetime) -> bool:
        if freshness(held.exchange.token, now) is Freshness.INVALID:
            return False
        return not self._store_usable(now) or now - held.checked_at < LOCAL_RECHECK

    # -- background refresh --------------------------------------------------------

    def _refresh_in_background(self) -> None:
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True
        threading.Thread(target=self._refresh, name="sfdc-token-refresh", daemon=True).start()

    def _refresh(self) -> None:
        # Not through self._flight: the refresh is often started from inside a
        # foreground fill, and joining that flight would just return its result.
        # The _refreshing flag keeps it to one per process; the cluster lock and
        # its re-check keep a racing foreground fill from exchanging twice.
        try:
            self._renew()
        except SfdcError as exc:
            log.warning("background token refresh failed (%s); serving the current token", exc.code)
        except Exception:
            log.exception("background token refresh failed unexpectedly")
        finally:
            with self._lock:
                self._refreshing = False

    def _renew(self) -> Exchange:
        now = self.clock()
        held = self._held
        if held is None or freshness(held.exchange.token, now) is Freshness.FRESH:
            return self._fill() if held is None else held.exchange
        if self.store is not None and self._store_usable(now):
            try:
                with self.store.locked(wait=False) as mine:
                    found = self.store.load()
                    if (
                        found is not None
                        and freshness(found.exchange.token, now) is Freshness.FRESH
                    ):
                        return self._adopt(found)
                    if not mine:
                        return held.exchange  # another instance is renewing it
                    return self._mint_and_share(self.store, now)
            except StoreUnavailable as exc:
                self._store_failed(exc)
        return self._keep(self._mint(now, None), None)

    # -- Redis health --------------------------------------------------------------

    def _store_usable(self, now: datetime) -> bool:
        down = self._down_until
        return self.store is not None and (down is None or now >= down)

    def _store_failed(self, exc: StoreUnavailable) -> None:
        first = self._down_until is None
        self._down_until = self.clock() + REDIS_RETRY
        metrics.REDIS_UP.set(0)
        if first:
            log.warning(
                "Redis unavailable (%s); serving tokens from this process's cache until it returns",
                exc,
            )

    def _store_answered(self) -> None:
        if self._down_until is not None:
            self._down_until = None
            log.info("Redis available again; sharing tokens through it")
        metrics.REDIS_UP.set(1)
