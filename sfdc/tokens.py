"""Access tokens and the in-process, single-flight cache that holds them.

Salesforce's token response carries no ``expires_in`` (research file §1.5, §6):
a token lives until the session times out or is revoked, and the only sure
signal is a rejection. So ``Token.expires_at`` may be ``None``, and the cache
keeps a token until told it was rejected.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sfdc.errors import UpstreamProtocolError


def fingerprint(secret: str) -> str:
    """A short digest naming a secret in logs without revealing it."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Token:
    """An access token and what Salesforce said about it."""

    access_token: str = field(repr=False)
    instance_url: str
    id: str
    token_type: str
    issued_at: datetime
    expires_at: datetime | None = None
    scope: str | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.access_token)

    def to_dict(self) -> dict[str, Any]:
        """The ``/token`` contract's fields."""
        return {
            "access_token": self.access_token,
            "instance_url": self.instance_url,
            "id": self.id,
            "token_type": self.token_type,
            "issued_at": self.issued_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }


def _issued_at(raw: Any, received_at: datetime) -> datetime:
    # issued_at is milliseconds since the epoch, as a string (research §7.2);
    # the JWT grant may omit it, and then the time we received it is the best we know.
    if isinstance(raw, str | int) and str(raw).isdigit():
        return datetime.fromtimestamp(int(raw) / 1000, UTC)
    return received_at


def token_from_response(body: dict[str, Any], *, received_at: datetime) -> Token:
    """A ``Token`` from a successful token response body."""
    identity = body.get("id")
    if not isinstance(identity, str):
        raise UpstreamProtocolError(
            "Salesforce's token response has no identity URL ('id').",
            hint="Check that SFDC_LOGIN_URL is a Salesforce login host.",
        )
    scope = body.get("scope")
    return Token(
        access_token=body["access_token"],
        instance_url=body["instance_url"].rstrip("/"),
        id=identity,
        token_type=str(body.get("token_type") or "Bearer"),
        issued_at=_issued_at(body.get("issued_at"), received_at),
        scope=scope if isinstance(scope, str) else None,
    )


T = TypeVar("T")


class TokenCache(Generic[T]):
    """Holds one value per process, minted on first use, shared by all threads.

    Guarantees: at most one ``mint`` runs at a time; callers arriving while it
    runs wait for it and share its result or its error, so a cold start under
    load costs exactly one exchange. ``invalidate(value)`` drops the value only
    if it is still the cached one, so a burst of rejections of the same token
    causes one new exchange, not one per rejection.
    """

    def __init__(self, mint: Callable[[], T]) -> None:
        self._mint = mint
        self._lock = threading.Lock()
        self._value: T | None = None
        self._flight: Future[T] | None = None

    def peek(self) -> T | None:
        """The cached value, without minting."""
        return self._value

    def get(self) -> T:
        with self._lock:
            if self._value is not None:
                return self._value
            flight, leader = self._flight, self._flight is None
            if flight is None:
                flight = self._flight = Future()
        if not leader:
            return flight.result()
        try:
            value = self._mint()
        except BaseException as exc:
            with self._lock:
                self._flight = None
            flight.set_exception(exc)
            raise
        with self._lock:
            self._value, self._flight = value, None
        flight.set_result(value)
        return value

    def invalidate(self, stale: T) -> bool:
        """Forget ``stale`` if it is still current; True when it was dropped."""
        with self._lock:
            if self._value is stale:
                self._value = None
                return True
            return False
