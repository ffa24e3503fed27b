"""Protecting Salesforce's login quota after a failed exchange.

Salesforce allows 3,600 logins per user per hour (research §7.1), and a
refused assertion will be refused again until someone changes the connected
app or our configuration. So after a refusal we stop asking for a while and
answer every caller with the stored error and its hint; after a transient
failure (already retried inside the exchange) we back off exponentially. The
state is small and serialisable so the shared cache can hand it to every
instance. Pure: time comes in as ``now``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sfdc.errors import SalesforceRefusal, SfdcError, UpstreamError, restore

# After Salesforce refuses the assertion: long enough that a misconfigured
# space costs at most 60 logins an hour, short enough that a fix shows soon.
REFUSAL_COOLDOWN = timedelta(minutes=1)
# After an outage or timeout: 1 s, 2 s, 4 s ... doubling up to a minute.
BACKOFF_BASE = timedelta(seconds=1)
BACKOFF_MAX = timedelta(minutes=1)


@dataclass(frozen=True)
class Blocked:
    """An error to repeat, instead of asking Salesforce, until ``until``.

    ``failures`` counts transient failures in a row, so that whichever instance
    fails next, anywhere in the space, continues the same backoff.
    """

    code: str
    description: str
    hint: str
    retryable: bool
    status: int
    until: datetime
    failures: int = 0

    def error(self) -> UpstreamError:
        """The stored error again, as its own class, saying when Salesforce is asked next."""
        error = restore(
            self.code,
            self.description,
            hint=f"{self.hint} (Not asked again before {self.until:%H:%M:%S} UTC, to spare "
            "Salesforce's login quota.)",
            retryable=self.retryable,
        )
        error.replays = self
        return error

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "until": self.until.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Blocked | None:
        """The block ``to_dict`` wrote, or None for anything else (another version's)."""
        try:
            fields = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
            fields["until"] = datetime.fromisoformat(data["until"])
            return cls(**fields)
        except (KeyError, TypeError, ValueError):
            return None


def backoff(failures: int) -> timedelta:
    """The wait after ``failures`` transient failures in a row (1-based)."""
    wait: timedelta = BACKOFF_BASE * 2 ** (failures - 1)
    return min(BACKOFF_MAX, wait)


def later(a: Blocked | None, b: Blocked | None) -> Blocked | None:
    """The block that lasts longer: a short transient block never cuts a refusal's short."""
    if a is None or b is None:
        return a or b
    return a if a.until >= b.until else b


class Cooldown:
    """Remembers the last failure in this process; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blocked: Blocked | None = None

    def blocked(self, now: datetime, shared: Blocked | None = None) -> Blocked | None:
        """The block in force at ``now``, this process's or the space's."""
        block = later(self._blocked, shared)
        return block if block is not None and now < block.until else None

    def check(self, now: datetime, shared: Blocked | None = None) -> None:
        """Raise the stored error while this process, or the space, is cooling down."""
        block = self.blocked(now, shared)
        if block is not None:
            raise block.error()

    def failed(
        self, exc: SfdcError, now: datetime, shared: Blocked | None = None
    ) -> Blocked | None:
        """Record a failed exchange; the resulting block, if it warrants one."""
        if not isinstance(exc, UpstreamError):
            return None
        with self._lock:
            if isinstance(exc.replays, Blocked):  # a block from elsewhere: adopt it
                self._blocked = later(self._blocked, exc.replays)
                return self._blocked
            last = later(self._blocked, shared)
            if isinstance(exc, SalesforceRefusal):
                failures, wait = 0, REFUSAL_COOLDOWN
            else:
                failures = (last.failures if last else 0) + 1
                wait = backoff(failures)
            self._blocked = Blocked(
                code=exc.code,
                description=exc.description,
                hint=exc.hint,
                retryable=exc.retryable,
                status=exc.status,
                until=now + wait,
                failures=failures,
            )
            return self._blocked

    def succeeded(self) -> None:
        with self._lock:
            self._blocked = None
