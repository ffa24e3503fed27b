"""The shared layer of the token cache: Redis, sealed entries, a cluster-wide lock.

One Redis key per configuration (login host, audience, consumer key, user and
certificate) holds the sealed current exchange, with a TTL at its expiry.
The lock is redis-py's ``Lock``: ``SET NX PX`` with a random token, released
by a script that deletes it only if the token still matches, so only its
holder can release it, and it expires by itself if the holder dies.
Invalidation is compare-and-replace by the exact stored bytes (with a
"rejected" marker), so dropping a rejected token never removes the new one
another instance already stored.
Every Redis failure surfaces as ``StoreUnavailable``; callers fall back to
their process cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from redis.backoff import NoBackoff
from redis.exceptions import LockError
from redis.lock import Lock
from redis.retry import Retry

from sfdc.settings.settings import Settings
from sfdc.tokens import exchange as codec
from sfdc.tokens.cooldown import BACKOFF_MAX, Blocked, later
from sfdc.tokens.exchange import Exchange
from sfdc.tokens.sealing import CacheSealer

log = logging.getLogger(__name__)

# Redis sits next to the app; if it takes longer than this it is "slow", and a
# request is better served from the process cache than kept waiting.
REDIS_TIMEOUT = 0.5  # seconds, connect and per command
# The lock must outlive the longest exchange: the token call's retry budget
# plus one introspection call (see lock_ttl); if its holder dies, others wait
# at most this long. This is the floor, for the default settings.
LOCK_TTL = timedelta(seconds=40)
# A token entry without a known expiry still leaves Redis after this long.
MAX_ENTRY_TTL = timedelta(hours=24)


def lock_ttl(http_timeout: float, retry_budget: float) -> timedelta:
    """Long enough for one exchange (token call within its budget, then introspection)."""
    return max(LOCK_TTL, timedelta(seconds=retry_budget + http_timeout + 5))


# A rejected entry is replaced by this marker rather than deleted, so that an
# empty key means "Redis lost its data" (a restart), never "rejected".
_TOMBSTONE = b"rejected"
_RETIRE_IF_SAME = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 0
"""


class StoreUnavailable(Exception):
    """Redis could not be used; never shown to callers, only logged."""


@dataclass(frozen=True)
class Stored:
    """An exchange as found in (or written to) Redis, with its exact sealed bytes."""

    exchange: Exchange
    raw: bytes = field(repr=False)


def namespace(settings: Settings) -> str:
    """The key prefix for one configuration: tokens are never shared across users or orgs."""
    parts = (
        settings.login_url,
        settings.audience,
        settings.consumer_key,
        settings.username,
        settings.certificate_fingerprint,
    )
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    return f"{settings.cache_prefix}:{digest}"


def connect(url: str) -> redis.Redis:
    """A client that fails fast: no retries of its own, short timeouts."""
    return redis.Redis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )


class RedisStore:
    def __init__(
        self,
        client: redis.Redis,
        sealer: CacheSealer,
        prefix: str,
        *,
        lock_ttl: timedelta = LOCK_TTL,
    ) -> None:
        self.client = client
        self.sealer = sealer
        self.lock_ttl = lock_ttl
        self.token_key = f"{prefix}:token"
        self.lock_key = f"{prefix}:lock"
        self.blocked_key = f"{prefix}:blocked"
        self._retire_if_same = client.register_script(_RETIRE_IF_SAME)

    def _open(self, raw: bytes | None, key: str) -> bytes | None:
        if raw is None:
            return None
        plain = self.sealer.open(raw, context=key.encode())
        if plain is None:
            log.warning("ignoring a cache entry this key cannot open (key rotated?): %s", key)
        return plain

    def load(self) -> Stored | None:
        try:
            raw = self.client.get(self.token_key)
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        if raw is None or raw == _TOMBSTONE:
            return None
        plain = self._open(raw, self.token_key)  # type: ignore[arg-type]
        if plain is None:
            return None
        try:
            return Stored(codec.loads(plain), raw)  # type: ignore[arg-type]
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring an unreadable cache entry: %s", self.token_key)
            return None

    def save(self, exchange: Exchange, now: datetime) -> Stored:
        """Store ``exchange`` until it expires, replacing what is there."""
        expires = exchange.token.expires_at
        ttl = max(timedelta(seconds=1), expires - now) if expires else MAX_ENTRY_TTL
        raw = self.sealer.seal(codec.dumps(exchange), context=self.token_key.encode())
        try:
            self.client.set(self.token_key, raw, px=ttl)
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return Stored(exchange, raw)

    def retire_if(self, raw: bytes, ttl: timedelta) -> bool:
        """Mark the entry rejected, only if it is still exactly ``raw``."""
        millis = max(1, int(ttl.total_seconds() * 1000))
        try:
            return bool(self._retire_if_same(keys=[self.token_key], args=[raw, _TOMBSTONE, millis]))
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def retire(self, ttl: timedelta = MAX_ENTRY_TTL) -> None:
        """Mark the entry rejected, whatever it holds: what it was issued for is gone."""
        millis = max(1, int(ttl.total_seconds() * 1000))
        try:
            self.client.set(self.token_key, _TOMBSTONE, px=millis)
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def absent(self) -> bool:
        """No entry at all, not even a rejected one: Redis has lost its data."""
        try:
            return not self.client.exists(self.token_key)
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    @contextmanager
    def locked(self) -> Iterator[Lock | None]:
        """Try the cluster-wide lock once; yields it while held, or None if someone has it."""
        lock = self.client.lock(
            self.lock_key, timeout=self.lock_ttl.total_seconds(), thread_local=False
        )
        try:
            acquired = lock.acquire(blocking=False)
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        try:
            yield lock if acquired else None
        finally:
            if acquired:
                try:
                    lock.release()
                except LockError:
                    log.warning("the cache lock expired before its holder finished")
                except redis.RedisError:
                    log.warning("could not release the cache lock; it expires by itself")

    def save_as(self, lock: Lock, exchange: Exchange, now: datetime) -> Stored | None:
        """Store ``exchange`` if ``lock`` is still ours; None if it expired meanwhile."""
        try:
            owned = lock.owned()
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        if not owned:
            log.warning("the cache lock expired during an exchange; not overwriting the cache")
            return None
        return self.save(exchange, now)

    def load_blocked(self) -> Blocked | None:
        try:
            raw = self.client.get(self.blocked_key)
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        plain = self._open(raw, self.blocked_key)  # type: ignore[arg-type]
        try:
            document = json.loads(plain) if plain else None
        except ValueError:
            document = None
        return Blocked.from_dict(document) if isinstance(document, dict) else None

    def save_blocked(self, blocked: Blocked, now: datetime) -> None:
        """Share ``blocked``, unless a longer block is already shared."""
        current = self.load_blocked()
        kept = later(current, blocked) or blocked
        if kept is current:
            return
        # Kept past `until` so the next failure anywhere continues the same backoff.
        ttl = max(timedelta(milliseconds=1), kept.until - now) + BACKOFF_MAX
        sealed = self.sealer.seal(
            json.dumps(kept.to_dict()).encode(), context=self.blocked_key.encode()
        )
        try:
            self.client.set(self.blocked_key, sealed, px=ttl)
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def clear_blocked(self) -> None:
        try:
            self.client.delete(self.blocked_key)
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
