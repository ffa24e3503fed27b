"""Access tokens, their freshness, and the single-flight primitive that mints them once.

Salesforce's token response carries no ``expires_in`` (research file §1.5, §6):
a token lives until the session times out or is revoked, and the only sure
signal is a rejection. ``Token.expires_at`` is what we learned instead (from
introspection, or a configured maximum age), and may be ``None``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Generic, TypeVar

from sfdc.errors import UpstreamProtocolError
from sfdc.settings.hosts import check_salesforce_url
from sfdc.telemetry.fingerprints import secret_fingerprint


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
        return secret_fingerprint(self.access_token)

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
    text = str(raw) if isinstance(raw, str | int) else ""
    if text.isascii() and text.isdigit():
        try:
            return datetime.fromtimestamp(int(text) / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            pass  # a date no clock can hold: ignore it rather than fail the exchange
    return received_at


def token_from_response(
    body: dict[str, Any], *, received_at: datetime, allow_loopback: bool = False
) -> Token:
    """A ``Token`` from a successful token response body, its hosts checked."""
    identity = body.get("id")
    if not isinstance(identity, str):
        raise UpstreamProtocolError(
            "Salesforce's token response has no identity URL ('id').",
            hint="Check that SFDC_LOGIN_URL is a Salesforce login host.",
        )
    scope = body.get("scope")
    instance_url = check_salesforce_url(
        body["instance_url"].rstrip("/"), what="instance_url", allow_loopback=allow_loopback
    )
    return Token(
        access_token=body["access_token"],
        instance_url=instance_url,
        id=check_salesforce_url(identity, what="identity URL", allow_loopback=allow_loopback),
        token_type=str(body.get("token_type") or "Bearer"),
        issued_at=_issued_at(body.get("issued_at"), received_at),
        scope=scope if isinstance(scope, str) else None,
    )


class Freshness(Enum):
    """google-auth's token states: use it, use it but refresh, or get another."""

    FRESH = "fresh"
    STALE = "stale"
    INVALID = "invalid"


# Refresh this long before the known expiry, in the background, so no caller
# ever waits for an exchange while the old token is still good. Five minutes
# covers the 25 s exchange budget many times over, and clock skew.
REFRESH_AHEAD = timedelta(minutes=5)


def freshness(token: Token, now: datetime) -> Freshness:
    """Where ``token`` stands at ``now``; a token of unknown expiry stays fresh."""
    if token.expires_at is None:
        return Freshness.FRESH
    if now >= token.expires_at:
        return Freshness.INVALID
    if now >= token.expires_at - REFRESH_AHEAD:
        return Freshness.STALE
    return Freshness.FRESH


T = TypeVar("T")


class SingleFlight(Generic[T]):
    """Runs one call at a time; callers arriving meanwhile share its result or error.

    This is what makes a cold start under load cost one exchange per process:
    the first caller runs the call, the others wait on its future.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flight: Future[T] | None = None

    def do(self, call: Callable[[], T]) -> T:
        with self._lock:
            flight, leader = self._flight, self._flight is None
            if flight is None:
                flight = self._flight = Future()
        if not leader:
            return flight.result()
        try:
            value = call()
        except BaseException as exc:
            with self._lock:
                self._flight = None
            flight.set_exception(exc)
            raise
        with self._lock:
            self._flight = None
        flight.set_result(value)
        return value
