"""Rotated refresh tokens the database could not take yet, parked sealed in Redis.

With refresh-token rotation, Salesforce retires the old refresh token the
moment it issues a new one (research §2). If the database fails between that
answer and the write, the new token is the only key to the connection left:
it is parked here, sealed like the database column, and written back when the
database answers again (by the next refresh of that connection, or by the
keep-alive job). Each entry names the fingerprint of the token it replaces,
so an entry whose successor already reached the database is recognised as
spent and dropped, never reused.

Redis is the second durable place only as far as the bound Redis keeps its
data: a Redis without persistence that restarts in the same outage loses the
parked token. With Redis failing as well (or not bound), the token stays in
the memory of the process that got it, with an error log line and the
``sfdc_refresh_tokens_parked{place="process"}`` metric: that process writes
it back by its next refresh, but its death loses it.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field

import redis

from sfdc.telemetry import metrics
from sfdc.telemetry.fingerprints import secret_fingerprint
from sfdc.tokens.sealing import ColumnSealer

log = logging.getLogger(__name__)

_PURPOSE = "parked_refresh_token"
_DROP_IF_SAME = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True)
class Parked:
    token: str = field(repr=False)
    replaces: str  # fingerprint of the refresh token it succeeded
    raw: bytes = field(repr=False)


class ParkedTokens:
    """Park, find and drop refresh tokens in Redis; every Redis failure is logged, not raised."""

    def __init__(self, client: redis.Redis | None, sealer: ColumnSealer, prefix: str) -> None:
        self.client = client
        self.sealer = sealer
        self.prefix = f"{prefix}:orgs:parked:"
        self._lock = threading.Lock()
        self._here: dict[str, Parked] = {}  # the last resort: this process's memory

    def __repr__(self) -> str:
        return f"ParkedTokens({'redis' if self.client is not None else 'off'})"

    def park(self, name: str, token: str, *, replaces: str) -> None:
        """Keep ``token`` until the database takes it: in Redis, else in this process."""
        sealed = self.sealer.seal(token, name=name, purpose=_PURPOSE)
        raw = json.dumps({"sealed": sealed, "replaces": replaces}).encode()
        if self.client is not None:
            try:
                self.client.set(self.prefix + name, raw)
            except redis.RedisError as exc:
                cause = type(exc).__name__
            else:
                metrics.REFRESH_TOKENS_PARKED.labels("redis").inc()
                log.warning(
                    "connection %s: the database failed after Salesforce rotated its refresh "
                    "token; the new one is parked in Redis until the database answers again",
                    name,
                )
                return
        else:
            cause = "no Redis is bound"
        with self._lock:
            self._here[name] = Parked(token, replaces, raw)
        metrics.REFRESH_TOKENS_PARKED.labels("process").inc()
        log.error(
            "connection %s: the database failed after Salesforce rotated its refresh token, and "
            "Redis could not keep the new one (%s); only this process holds it until the "
            "database answers again. If this process stops first, the connection needs consent "
            "again.",
            name,
            cause,
        )

    def find(self, name: str) -> Parked | None:
        with self._lock:
            here = self._here.get(name)
        if here is not None or self.client is None:
            return here
        try:
            raw = self.client.get(self.prefix + name)
        except redis.RedisError as exc:
            log.warning(
                "could not look for a parked refresh token of %s: %s", name, type(exc).__name__
            )
            return None
        if not isinstance(raw, bytes):
            return None
        try:
            document = json.loads(raw)
            token = self.sealer.open(document["sealed"], name=name, purpose=_PURPOSE)
            replaces = str(document["replaces"])
        except (ValueError, KeyError, TypeError):
            token = None
        if token is None:
            log.error("the parked refresh token of %s cannot be opened; it is kept", name)
            return None
        return Parked(token, replaces, raw)

    def drop(self, name: str, parked: Parked) -> None:
        """Forget ``parked`` once the database holds it or its successor (and only it)."""
        with self._lock:
            if self._here.get(name) is parked:
                del self._here[name]
                return
        if self.client is None:
            return
        try:
            self.client.eval(_DROP_IF_SAME, 1, self.prefix + name, parked.raw)
        except redis.RedisError as exc:
            log.warning(
                "could not drop the parked refresh token of %s: %s", name, type(exc).__name__
            )

    def names(self) -> list[str]:
        """Connections with a parked token (for the keep-alive job's write-back)."""
        with self._lock:
            found = set(self._here)
        if self.client is None:
            return sorted(found)
        try:
            keys = list(self.client.scan_iter(match=self.prefix + "*", count=500))
        except redis.RedisError as exc:
            log.warning("could not list parked refresh tokens: %s", type(exc).__name__)
            keys = []
        found.update(k.decode()[len(self.prefix) :] for k in keys if isinstance(k, bytes))
        return sorted(found)


def successor_of(parked: Parked | None, stored_token: str | None) -> str | None:
    """The parked token if it succeeded the one the database holds, else None (spent)."""
    if parked is None or stored_token is None:
        return None
    return parked.token if parked.replaces == secret_fingerprint(stored_token) else None
