"""From a presented key to a ``Caller``: configured keys first, then named keys.

Configured keys (``SFDC_API_KEYS``, the credential's ``api_keys``) are full
access; each is compared in constant time, and all of them every time, so
timing reveals neither a key nor which one matched. A key of the named form
is looked up by its id (not secret) and its hash compared in constant time.

Each process keeps what it looked up for ``REVOCATION_DELAY``, so a busy
caller costs one database read per key per process every two seconds
instead of one per request, and a revoked or rotated key stops working on
every worker and instance within that delay, with no restart and no message
between them. The cache is bounded: past ``CACHE_LIMIT`` ids (a flood of
made-up ones) it starts again empty.
"""

from __future__ import annotations

import hmac
import threading
from datetime import datetime, timedelta

from sfdc.access import keys
from sfdc.access.caller import Caller, configured
from sfdc.access.store import KeyRecord, KeyStore
from sfdc.clock import Clock

# How stale a process's view of a named key may be: how long a revoked key may still
# work somewhere. Short enough for "within a few seconds"; long enough that a key in
# steady use costs a database read per process only every two seconds.
REVOCATION_DELAY = timedelta(seconds=2)
CACHE_LIMIT = 10_000


class Keyring:
    """Thread-safe: lookups of one id may race, and both write the same fresh answer."""

    def __init__(self, configured_keys: frozenset[str], store: KeyStore | None, clock: Clock):
        self._configured = tuple(key.encode() for key in configured_keys)
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[KeyRecord | None, datetime]] = {}

    def __repr__(self) -> str:
        return f"Keyring({len(self._configured)} configured, {self.store!r})"

    @property
    def empty(self) -> bool:
        """True when no key at all can be valid: nothing configured, no key store."""
        return not self._configured and self.store is None

    def identify(self, presented: str) -> Caller | None:
        """The caller holding ``presented``, or None for an unknown (or revoked) key."""
        matched = False
        encoded = presented.encode()
        for candidate in self._configured:
            matched |= hmac.compare_digest(encoded, candidate)
        if matched:
            return configured()
        key_id = keys.key_id(presented)
        if key_id is None or self.store is None:
            return None
        record, fresh = self._record(key_id)
        if record is not None and not fresh and not keys.matches(presented, record.digest):
            # Maybe rotated elsewhere since this process looked: the new key works at once.
            # (A wrong secret costs one read, as an unknown id does.)
            record, fresh = self._record(key_id, reread=True)
        if record is None or not keys.matches(presented, record.digest):
            return None
        return Caller(record.client, record.key_id, record.scopes, record.default_connection)

    def forget(self, key_id: str) -> None:
        """Drop this process's view of ``key_id`` (after changing it here)."""
        with self._lock:
            self._seen.pop(key_id, None)

    def _record(self, key_id: str, *, reread: bool = False) -> tuple[KeyRecord | None, bool]:
        """(the key's record, whether it was read from the database just now)."""
        assert self.store is not None
        now = self.clock()
        with self._lock:
            cached = self._seen.get(key_id)
        if not reread and cached is not None and now - cached[1] < REVOCATION_DELAY:
            return cached[0], False
        record = self.store.find(key_id)
        with self._lock:
            if len(self._seen) >= CACHE_LIMIT:
                self._seen.clear()
            self._seen[key_id] = (record, now)
        return record, True
