"""Everything the emulator remembers: issued access tokens, authorization codes, refresh
tokens, counters, injected failures.

Access tokens behave like Salesforce sessions (REST API Developer Guide, "Session
expiration"): each one lives until `session_timeout` passes without it being used, until it
is revoked (`/services/oauth2/revoke`), or until a test kills them all. Authorization codes
are single-use (research notes, section 3). Refresh tokens are valid until revoked (the
"valid until revoked" policy, section 2); revoking one also ends every access token issued
under the same approval (section 5.1). With rotation, the refresh tokens that succeed each
other belong to one approval, so revoking the current one ends the access tokens of the
whole chain. Every method is safe to call from the server's request threads and from a
test at the same time.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from .bulk_jobs import BulkJobs
from .credential_log import CredentialLog
from .failures import DEFAULT_HANG_SECONDS, DEFAULT_STATUS, FailureMode, InjectedFailure
from .query_locators import QueryLocators
from .records import RecordStore

# Developer Edition's daily API request allocation; echoed in Sforce-Limit-Info.
DAILY_API_LIMIT = 15000

# How long an unredeemed, expired authorization code is remembered, so that redeeming it
# late says "expired" rather than "invalid"; after that it is forgotten to bound memory.
_EXPIRED_CODE_MEMORY = timedelta(hours=1)


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
    # The approval (web-server flow) this session was issued under, if any; see RefreshGrant.
    grant_id: str | None = None


@dataclass(frozen=True)
class AuthorizationCode:
    """What the user approved on the consent page, redeemable once at the token endpoint."""

    code: str = field(repr=False)
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    code_challenge: str | None
    expires_at: datetime


@dataclass(frozen=True)
class RefreshGrant:
    """A live refresh token. `grant_id` names the approval it belongs to: it stays the same
    across rotations and is stamped on every access token issued under the approval."""

    refresh_token: str = field(repr=False)
    grant_id: str
    username: str
    scope: str


class MintSession(Protocol):
    """Builds the access token a refresh grant hands out (called under the state lock)."""

    def __call__(self, grant: RefreshGrant) -> IssuedToken: ...


class EmulatorState:
    """Shared, lock-protected state of one emulator.

    Counters: `token_requests` (every call to the token endpoint, failed or not),
    `tokens_issued`, `grant_errors` (4xx answers from the token endpoint), `revocations`,
    `api_usage` (authenticated REST calls), `codes_issued` (approvals on the consent page),
    `refresh_grants` (successful refresh-token grants). Records live in `records`;
    credentials presented that the emulator never issued, in `credentials`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shutdown = threading.Event()
        self._tokens: dict[str, IssuedToken] = {}
        self._codes: dict[str, AuthorizationCode] = {}
        self._refresh_tokens: dict[str, RefreshGrant] = {}
        self._failures: deque[InjectedFailure] = deque()
        self._counters: Counter[str] = Counter()
        self.records = RecordStore()
        self.credentials = CredentialLog()
        self.query_locators = QueryLocators()
        self.bulk_jobs = BulkJobs()

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

    @property
    def codes_issued(self) -> int:
        return self._count("codes_issued")

    @property
    def refresh_grants(self) -> int:
        return self._count("refresh_grants")

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

    def issue(self, token: IssuedToken, refresh: RefreshGrant | None = None) -> None:
        """Start a session, and with `refresh` also remember its refresh token."""
        self.credentials.remember_issued(token.access_token)
        with self._lock:
            self._tokens[token.access_token] = token
            self._counters["tokens_issued"] += 1
            if refresh is not None:
                self._refresh_tokens[refresh.refresh_token] = refresh

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

    def revoke(self, token: str) -> bool:
        """End one session, or revoke a refresh token with every session of its approval;
        False if the token was unknown or already dead."""
        with self._lock:
            grant = self._refresh_tokens.pop(token, None)
            if grant is not None:
                self._end_sessions_of({grant.grant_id})
            elif self._tokens.pop(token, None) is None:
                return False
            self._counters["revocations"] += 1
            return True

    def _end_sessions_of(self, grant_ids: set[str]) -> None:
        # Caller holds the lock.
        for access_token in [
            key for key, session in self._tokens.items() if session.grant_id in grant_ids
        ]:
            del self._tokens[access_token]

    def expire_all(self) -> int:
        """End every session at once; returns how many were live or not yet purged."""
        with self._lock:
            ended = len(self._tokens)
            self._tokens.clear()
            return ended

    # --- authorization codes and refresh tokens --------------------------------------

    def save_code(self, code: AuthorizationCode, now: datetime) -> None:
        """Remember a freshly approved authorization code."""
        with self._lock:
            forgotten = now - _EXPIRED_CODE_MEMORY
            for stale in [key for key, old in self._codes.items() if old.expires_at <= forgotten]:
                del self._codes[stale]
            self._codes[code.code] = code
            self._counters["codes_issued"] += 1

    def take_code(self, code: str) -> AuthorizationCode | None:
        """Consume a code: whatever the caller decides, it can never be redeemed again."""
        with self._lock:
            return self._codes.pop(code, None)

    def refresh(
        self, refresh_token: str, mint: MintSession, rotate_to: str | None = None
    ) -> tuple[IssuedToken, RefreshGrant] | None:
        """Run a refresh-token grant atomically; None if the token is not live.

        With `rotate_to`, the old refresh token dies and `rotate_to` replaces it in the same
        critical section, so of two concurrent refreshes with one token only one succeeds.
        Returns the new session and the refresh token that is live afterwards.
        """
        with self._lock:
            grant = self._refresh_tokens.get(refresh_token)
            if grant is None:
                return None
            if rotate_to is not None:
                del self._refresh_tokens[refresh_token]
                grant = replace(grant, refresh_token=rotate_to)
                self._refresh_tokens[rotate_to] = grant
            session = mint(grant)
            self._tokens[session.access_token] = session
            self._counters["tokens_issued"] += 1
            self._counters["refresh_grants"] += 1
        # Issued here, like any other session: not a stranger's credential (credential_log).
        self.credentials.remember_issued(session.access_token)
        return session, grant

    def revoke_refresh_tokens(self) -> int:
        """Revoke every refresh token and end the sessions of their approvals, as an admin
        revoking the app's OAuth usage would; returns how many refresh tokens died."""
        with self._lock:
            revoked = len(self._refresh_tokens)
            self._end_sessions_of({grant.grant_id for grant in self._refresh_tokens.values()})
            self._refresh_tokens.clear()
            return revoked

    @property
    def active_refresh_tokens(self) -> int:
        with self._lock:
            return len(self._refresh_tokens)

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
                    "codes_issued",
                    "refresh_grants",
                )
            }
            live = sum(1 for token in self._tokens.values() if now < token.expires_at)
            return {
                **counters,
                "active_tokens": live,
                "refresh_tokens_active": len(self._refresh_tokens),
                "pending_failures": len(self._failures),
                "unknown_credentials_seen": self.credentials.unknown_count,
            }

    def reset(self) -> None:
        """Back to a fresh emulator: no sessions, codes, refresh tokens, counters, failures
        or created records, and no memory of unknown credentials."""
        with self._lock:
            self._tokens.clear()
            self._codes.clear()
            self._refresh_tokens.clear()
            self._failures.clear()
            self._counters.clear()
        self.records.reset()
        self.credentials.reset()
        self.query_locators.reset()
        self.bulk_jobs.reset()

    def shutdown(self) -> None:
        """Release anything waiting in a `hang` failure; the server is going away."""
        self._shutdown.set()

    def wait_unless_shutdown(self, seconds: float) -> None:
        self._shutdown.wait(seconds)
