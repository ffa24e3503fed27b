"""Everything the emulator remembers: issued access tokens, counters, injected failures.

Access tokens behave like Salesforce sessions (REST API Developer Guide, "Session
expiration"): each one lives until `session_timeout` passes without it being used, until it
is revoked (`/services/oauth2/revoke`), or until a test kills them all. Every method is
safe to call from the server's request threads and from a test at the same time.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .failures import DEFAULT_HANG_SECONDS, DEFAULT_STATUS, FailureMode, InjectedFailure
from .records import RecordStore

# Developer Edition's daily API request allocation; echoed in Sforce-Limit-Info.
DAILY_API_LIMIT = 15000


@dataclass(frozen=True)
class IssuedToken:
    """One access token and the session behind it."""

    access_token: str = field(repr=False)
    username: str
    organization_id: str
    user_id: str
    identity_url: str
    scope: str
    issued_at: datetime
    expires_at: datetime


class EmulatorState:
    """Shared, lock-protected state of one emulator.

    Counters: `token_requests` (every call to the token endpoint, failed or not),
    `tokens_issued`, `grant_errors` (4xx answers from the token endpoint), `revocations`,
    `api_usage` (authenticated REST calls). Records live in `records`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shutdown = threading.Event()
        self._tokens: dict[str, IssuedToken] = {}
        self._failures: deque[InjectedFailure] = deque()
        self._counters: Counter[str] = Counter()
        self.records = RecordStore()

    # --- counters -------------------------------------------------------------------

    def _count(self, name: str) -> int:
        with self._lock:
            return self._counters[name]

    @property
    def token_requests(self) -> int:
        return self._count("token_requests")

    @property
    def tokens_issued(self) -> int:
        return self._count("tokens_issued")

    @property
    def grant_errors(self) -> int:
        return self._count("grant_errors")

    @property
    def revocations(self) -> int:
        return self._count("revocations")

    @property
    def api_usage(self) -> int:
        return self._count("api_usage")

    def count_grant_error(self) -> None:
        with self._lock:
            self._counters["grant_errors"] += 1

    def count_api_call(self) -> int:
        """Count one authenticated REST call; returns the usage so far."""
        with self._lock:
            self._counters["api_usage"] += 1
            return self._counters["api_usage"]

    # --- token endpoint and failures ------------------------------------------------

    def begin_token_request(self) -> InjectedFailure | None:
        """Count a token-endpoint call and take the next injected failure, if any."""
        with self._lock:
            self._counters["token_requests"] += 1
            return self._failures.popleft() if self._failures else None

    def fail_next(
        self,
        count: int = 1,
        mode: FailureMode = "error",
        status: int = DEFAULT_STATUS,
        seconds: float = DEFAULT_HANG_SECONDS,
    ) -> None:
        """Spoil the next `count` token-endpoint calls (see `InjectedFailure`)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        failure = InjectedFailure(mode, status, seconds)
        with self._lock:
            self._failures.extend([failure] * count)

    @property
    def pending_failures(self) -> int:
        with self._lock:
            return len(self._failures)

    # --- sessions -------------------------------------------------------------------

    def issue(self, token: IssuedToken) -> None:
        with self._lock:
            self._tokens[token.access_token] = token
            self._counters["tokens_issued"] += 1

    def find(self, access_token: str, now: datetime) -> IssuedToken | None:
        """The live session for this token, without counting as activity."""
        with self._lock:
            token = self._tokens.get(access_token)
            if token is not None and now >= token.expires_at:
                del self._tokens[access_token]
                return None
            return token

    def use(self, access_token: str, now: datetime, timeout: timedelta) -> IssuedToken | None:
        """The live session for this token; using it restarts its inactivity timer."""
        with self._lock:
            token = self._tokens.get(access_token)
            if token is None:
                return None
            if now >= token.expires_at:
                del self._tokens[access_token]
                return None
            token = replace(token, expires_at=max(token.expires_at, now + timeout))
            self._tokens[access_token] = token
            return token

    def revoke(self, access_token: str) -> bool:
        """End one session; False if the token was unknown or already dead."""
        with self._lock:
            if self._tokens.pop(access_token, None) is None:
                return False
            self._counters["revocations"] += 1
            return True

    def expire_all(self) -> int:
        """End every session at once; returns how many were live or not yet purged."""
        with self._lock:
            ended = len(self._tokens)
            self._tokens.clear()
            return ended

    def active_tokens(self, now: datetime) -> int:
        with self._lock:
            return sum(1 for token in self._tokens.values() if now < token.expires_at)

    # --- whole-emulator operations --------------------------------------------------

    def stats(self, now: datetime) -> dict[str, int]:
        """Counters and gauges, as served by `GET /_emulator/stats`."""
        with self._lock:
            counters = {
                name: self._counters[name]
                for name in (
                    "token_requests",
                    "tokens_issued",
                    "grant_errors",
                    "revocations",
                    "api_usage",
                )
            }
            live = sum(1 for token in self._tokens.values() if now < token.expires_at)
            return {**counters, "active_tokens": live, "pending_failures": len(self._failures)}

    def reset(self) -> None:
        """Back to a fresh emulator: no sessions, counters, failures or created records."""
        with self._lock:
            self._tokens.clear()
            self._failures.clear()
            self._counters.clear()
        self.records.reset()

    def shutdown(self) -> None:
        """Release anything waiting in a `hang` failure; the server is going away."""
        self._shutdown.set()

    def wait_unless_shutdown(self, seconds: float) -> None:
        self._shutdown.wait(seconds)
