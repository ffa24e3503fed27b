"""The token cache: process memory, in front of Redis, in front of an exchange.

Guarantees, for one configuration:

- **One exchange at a time, cluster-wide, and one per token lifetime.** A
  process trusts its copy for ``LOCAL_RECHECK``, then re-reads Redis. On a
  miss it alternates re-reading and trying the cluster lock; the holder
  re-checks, exchanges and stores the token, the others read it. The lock
  outlives the longest possible exchange, and a holder stores its token only
  while it still owns the lock. Within a process, ``SingleFlight`` makes the
  foreground fill and the background refresh one flight.
- **No caller waits on a refresh while the old token is good.** A STALE token
  is served while one background flight renews it.
- **A rejection costs one exchange and is never undone.** ``invalidate`` drops
  the token from this process, marks it rejected in Redis by compare-and-set
  (later, if Redis is away), and remembers it so it is never adopted again.
- **Redis trouble is not an outage.** Any Redis failure switches this process
  to its own cache and exchanges (logged once); Redis is probed again after
  ``REDIS_RETRY``. A token minted meanwhile, or one Redis lost in a restart,
  is offered back to Redis rather than minted again.
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

from redis.lock import Lock

from sfdc.errors import SalesforceUnavailable, SfdcError
from sfdc.telemetry import metrics
from sfdc.tokens.cooldown import Blocked, Cooldown
from sfdc.tokens.exchange import Exchange
from sfdc.tokens.shared_cache import RedisStore, Stored, StoreUnavailable
from sfdc.tokens.token import Freshness, SingleFlight, Token, freshness

log = logging.getLogger(__name__)

# How long a process serves its copy before re-reading Redis: bounds how long
# a token dropped by another instance is still served here, at one Redis GET
# per process per interval.
LOCAL_RECHECK = timedelta(seconds=5)
# After a Redis failure, how long to skip Redis before probing it again, so a
# dead Redis costs one failed call per process per interval, not one per request.
REDIS_RETRY = timedelta(seconds=5)
# How often a process waiting for another's exchange looks for the token and
# tries the lock: short next to an exchange, long next to a Redis round trip.
LOCK_POLL = 0.05  # seconds
# A token issued this recently is not refreshed in the background even if it
# claims to be stale: whatever made it arrive stale would make the next one
# too, and the refresh would loop, spending a login per cycle.
MIN_REFRESH_INTERVAL = timedelta(minutes=1)
# Rejected tokens remembered at most; older ones have long expired.
REJECTED_KEPT = 64


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
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        shareable: Callable[[Exchange], bool] = lambda _exchange: True,
    ) -> None:
        self._mint_exchange = mint
        self._shareable = shareable
        self.clock = clock
        self.store = store
        self.cooldown = cooldown or Cooldown()
        self._sleep = sleep
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._flight: SingleFlight[Exchange] = SingleFlight()
        self._held: _Held | None = None
        self._rejected: dict[str, datetime] = {}  # token fingerprint -> forget after
        self._refreshing = False
        self._down_until: datetime | None = None

    def peek(self) -> Exchange | None:
        held = self._held
        return held.exchange if held else None

    def sharing(self) -> bool:
        """Whether this provider re-reads a shared copy (Redis is set and answering)."""
        return self._store_usable(self.clock())

    def get(self) -> Exchange:
        now = self.clock()
        held = self._held
        if held is not None and self._trusted(held, now):
            metrics.PROCESS_HIT.inc()
            exchange = held.exchange
        else:
            metrics.PROCESS_MISS.inc()
            exchange = self._flight.do(self._fill)
        if freshness(exchange.token, self.clock()) is Freshness.STALE:
            self._refresh_in_background()
        return exchange

    def invalidate(self, exchange: Exchange) -> bool:
        """Salesforce rejected ``exchange``'s token: forget it wherever it is still current."""
        token = exchange.token
        with self._lock:
            self._rejected[token.fingerprint] = token.expires_at or self.clock() + timedelta(days=1)
            if len(self._rejected) > REJECTED_KEPT:
                oldest = min(self._rejected, key=self._rejected.__getitem__)
                del self._rejected[oldest]
            held = self._held
            if held is None or held.exchange.token.access_token != token.access_token:
                return False
            self._held = None
        log.info("token %s rejected by Salesforce; dropped", token.fingerprint)
        if held.raw is not None and self.store is not None and self._store_usable(self.clock()):
            try:
                self.store.retire_if(held.raw, self._remaining(token))
            except StoreUnavailable as exc:
                self._store_failed(exc)  # the next fill under the lock deletes it
        return True

    # -- the slow path: one flight per process ---------------------------------------

    def _fill(self) -> Exchange:
        now = self.clock()
        held = self._held
        if held is not None and self._trusted(held, now):
            return held.exchange
        if self.store is not None and self._store_usable(now):
            try:
                return self._fill_from(self.store)
            except StoreUnavailable as exc:
                self._store_failed(exc)
            held = self._held
            if held is not None and self._usable(held.exchange, self.clock()):
                return held.exchange  # only the re-check failed; our copy is still good
        return self._keep(self._mint(None))

    def _fill_from(self, store: RedisStore) -> Exchange:
        deadline = self._monotonic() + store.lock_ttl.total_seconds() + 1
        missed = False
        while True:
            found = store.load()
            self._store_answered()
            if found is not None and self._usable(found.exchange, self.clock()):
                metrics.REDIS_HIT.inc()
                return self._adopt(found)
            if not missed:
                metrics.REDIS_MISS.inc()
                missed = True
            with store.locked() as lock:
                if lock is not None:
                    return self._fill_locked(store, lock)
            if self._monotonic() > deadline:
                raise SalesforceUnavailable(
                    "Another instance has held the token lock for longer than an exchange "
                    "can take.",
                    hint="Retry in a moment; if it persists, check the Redis service.",
                )
            self._sleep(LOCK_POLL)  # another process is exchanging: its token is coming

    def _fill_locked(self, store: RedisStore, lock: Lock) -> Exchange:
        now = self.clock()
        found = store.load()
        if found is not None and self._usable(found.exchange, now):
            return self._adopt(found)  # stored between our read and our lock
        if found is not None and self._is_rejected(found.exchange):
            # A rejection Redis missed while it was away.
            store.retire_if(found.raw, self._remaining(found.exchange.token))
        held = self._held
        # Share our copy instead of minting if nobody can have rejected it: it was
        # minted here while Redis was away, or Redis lost everything (no marker).
        # Overwriting is safe: we hold the lock and nothing usable is stored.
        if (
            held is not None
            and self._usable(held.exchange, now)
            and (held.raw is None or store.absent())
        ):
            return self._share(store, lock, held.exchange)
        return self._share(store, lock, self._mint(store.load_blocked()))

    def _share(self, store: RedisStore, lock: Lock, exchange: Exchange) -> Exchange:
        if not self._shareable(exchange):
            return self._keep(exchange)  # its minter says others must not adopt it
        try:
            stored = store.save_as(lock, exchange, self.clock())
        except StoreUnavailable as exc:
            self._store_failed(exc)  # keep what we paid for; never exchange twice
            return self._keep(exchange)
        return self._adopt(stored) if stored is not None else self._keep(exchange)

    def _mint(self, shared: Blocked | None) -> Exchange:
        now = self.clock()
        self.cooldown.check(now, shared)
        started = time.perf_counter()
        try:
            exchange = self._mint_exchange()
        except SfdcError as exc:
            if exc.replays is None:  # a replayed block asked nobody
                metrics.EXCHANGES.labels(metrics.outcome(exc.code)).inc()
            blocked = self.cooldown.failed(exc, self.clock(), shared)
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
        if shared is not None and self.store is not None:
            try:
                self.store.clear_blocked()
            except StoreUnavailable as exc:
                self._store_failed(exc)
        return exchange

    # -- holding ---------------------------------------------------------------------

    def _adopt(self, stored: Stored) -> Exchange:
        """Hold what Redis has; keep our object if it is the same entry, for invalidate."""
        now = self.clock()
        with self._lock:
            current = self._held
            if current is not None and current.raw == stored.raw:
                self._held = replace(current, checked_at=now)
            else:
                self._held = _Held(stored.exchange, stored.raw, now)
            exchange = self._held.exchange
        self._store_answered()
        return exchange

    def _keep(self, exchange: Exchange) -> Exchange:
        with self._lock:
            self._held = _Held(exchange, None, self.clock())
        return exchange

    def _remaining(self, token: Token) -> timedelta:
        """How long a rejection marker must outlive the rejected token."""
        expires = token.expires_at or self.clock() + timedelta(days=1)
        return max(timedelta(seconds=1), expires - self.clock())

    def _is_rejected(self, exchange: Exchange) -> bool:
        return exchange.token.fingerprint in self._rejected

    def _usable(self, exchange: Exchange, now: datetime) -> bool:
        return freshness(exchange.token, now) is not Freshness.INVALID and not self._is_rejected(
            exchange
        )

    def _trusted(self, held: _Held, now: datetime) -> bool:
        if freshness(held.exchange.token, now) is Freshness.INVALID:
            return False
        return not self._store_usable(now) or now - held.checked_at < LOCAL_RECHECK

    # -- background refresh ----------------------------------------------------------

    def _refresh_in_background(self) -> None:
        now = self.clock()
        if self.cooldown.blocked(now) is not None:
            return  # the exchange would only repeat the stored error
        held = self._held
        if held is not None and now - held.exchange.token.issued_at < MIN_REFRESH_INTERVAL:
            return  # stale on arrival: refreshing again would only loop
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True
        try:
            threading.Thread(target=self._refresh, name="sfdc-token-refresh", daemon=True).start()
        except RuntimeError:
            with self._lock:
                self._refreshing = False
            log.warning("could not start the background token refresh; retried on next use")

    def _refresh(self) -> None:
        try:
            self._flight.do(self._renew)
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
        if held is None or not self._usable(held.exchange, now):
            return self._fill()
        if freshness(held.exchange.token, now) is Freshness.FRESH:
            return held.exchange  # renewed while this flight waited
        if self.store is not None and self._store_usable(now):
            try:
                with self.store.locked() as lock:
                    found = self.store.load()
                    if (
                        found is not None
                        and not self._is_rejected(found.exchange)
                        and freshness(found.exchange.token, now) is Freshness.FRESH
                    ):
                        return self._adopt(found)  # another instance renewed it
                    if lock is None:
                        return held.exchange  # another instance is renewing it
                    return self._share(self.store, lock, self._mint(self.store.load_blocked()))
            except StoreUnavailable as exc:
                self._store_failed(exc)
        return self._keep(self._mint(None))

    # -- Redis health ----------------------------------------------------------------

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
