"""The one HTTP seam to Salesforce: default timeouts and bounded, jittered retries.

Every call to Salesforce goes through ``Transport``, which takes an injected
``requests.Session`` (a fake in unit tests, a real one against the emulator).
Only failures that a retry can cure are retried: connection errors, timeouts,
HTTP 5xx, 408 and 429. A 4xx refusal such as ``invalid_grant`` is returned at
once, because asking again only burns the login quota. All attempts and waits
together stay within ``RetryPolicy.budget``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import urlsplit

import requests
import urllib3
from requests.structures import CaseInsensitiveDict

from sfdc.errors import UpstreamProtocolError
from sfdc.salesforce.failures import cause, network_error
from sfdc.salesforce.pools import Pools
from sfdc.settings.settings import DEFAULT_TIMEOUT

log = logging.getLogger(__name__)


def is_transient(status: int) -> bool:
    """Statuses worth retrying: the server is busy or failing, not refusing us."""
    return status >= 500 or status in (408, 429)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped per wait and in total."""

    attempts: int = 3
    base_delay: float = 0.5  # seconds before the second attempt, doubled after each
    max_delay: float = 4.0  # seconds; no single wait is longer
    budget: float = 25.0  # seconds for all attempts and waits; under gunicorn's 30 s

    def delay(self, retry: int, rng: Callable[[], float]) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        return rng() * min(self.max_delay, self.base_delay * 2.0**retry)


NO_RETRY = RetryPolicy(attempts=1)


@dataclass(frozen=True)
class Reply:
    """A whole HTTP answer, read within the deadline."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes = field(repr=False)


def _outcome(status: int) -> str:
    return "ok" if status < 400 else "transient" if is_transient(status) else "refused"


def log_call(method: str, url: str, status: int | None, started: float, outcome: str) -> None:
    """One line per call to Salesforce: where (path only: queries may hold data), how it went."""
    parts = urlsplit(url)
    log.info(
        "salesforce call",
        extra={
            "method": method,
            "endpoint": f"{parts.hostname}{parts.path}",
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "outcome": outcome,
        },
    )


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After", "").strip()
    return float(value) if value.isascii() and value.isdigit() else None


class _TooSlow(requests.Timeout):
    """The body trickled in past the attempt's deadline."""


# What one attempt can raise: requests' errors, and urllib3's while the body is read
# from ``response.raw`` (a stall or reset after the headers), which requests does not wrap.
_FAILURES = (requests.RequestException, urllib3.exceptions.HTTPError)


class Transport:
    """Sends requests with timeouts, retrying only what a retry can cure."""

    def __init__(
        self,
        session: requests.Session,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),  # frozen, so one default is safe to share
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.session = session
        self.timeout = timeout
        self.retry = retry
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng
        self._pools = Pools(session)
        self._stream_timeout = urllib3.Timeout(connect=timeout, read=timeout)

    def request(
        self,
        method: str,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> Reply:
        """The final answer (possibly a 5xx once retries are spent), or an upstream error.

        Redirects are never followed: the body may carry a live assertion or
        secret, and it must go only to the host that was configured.
        """
        policy = retry or self.retry
        where = url.partition("?")[0]  # for errors: a query may hold data
        deadline = self._monotonic() + policy.budget
        for attempt in range(policy.attempts):
            last = attempt == policy.attempts - 1
            try:
                reply = self._attempt(method, url, data, headers, deadline)
            except _FAILURES as exc:
                found = cause(exc)
                if found is None:
                    raise UpstreamProtocolError(
                        f"{where} answered in a way HTTP cannot read ({type(exc).__name__}).",
                        hint="Something other than Salesforce may be answering: check "
                        "SFDC_LOGIN_URL and any egress proxy.",
                    ) from exc
                if not found.retryable or last or not self._wait(policy, attempt, deadline, None):
                    raise network_error(
                        found, where, attempts=attempt + 1, timeout=self.timeout
                    ) from exc
                log.warning("salesforce call to %s failed (%s); retrying", where, found.value)
                continue
            if not is_transient(reply.status_code) or last:
                return reply
            if not self._wait(policy, attempt, deadline, _retry_after(reply.headers)):
                return reply
            log.warning("salesforce answered %s at %s; retrying", reply.status_code, url)
        raise AssertionError("unreachable: the last attempt always returns or raises")

    def open(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        data: bytes | IO[bytes] | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """A streamed response for the API proxy: one attempt, body left unread.

        A file ``data`` is sent as it is read, from where it stands (framed by the
        caller's ``Content-Length`` header, else chunked).

        No retries: a POST or PATCH that may have reached Salesforce must not be
        sent again on a guess (re-authentication replays are decided upstream).
        The read timeout applies per read, so a large download is not cut off.
        This goes to urllib3 directly, with the session's proxy and CA settings
        for the host: requests' own per-call work would double the proxy's
        overhead, and streaming needs none of it.
        """
        started = time.perf_counter()
        try:
            upstream = self._pools.send(
                method,
                url,
                body=data,
                headers=dict(headers),
                retries=False,
                preload_content=False,
                decode_content=False,
                timeout=self._stream_timeout,
            )
        except urllib3.exceptions.HTTPError as exc:
            log_call(method, url, None, started, type(exc).__name__)
            raise self._open_failed(method, url, exc) from exc
        log_call(method, url, upstream.status, started, _outcome(upstream.status))
        return upstream

    def _open_failed(self, method: str, url: str, exc: urllib3.exceptions.HTTPError) -> Exception:
        found = cause(exc)
        if found is not None:
            # The path only: the query may hold the caller's data.
            where = f"{method} {urlsplit(url).path}"
            return network_error(found, where, attempts=1, timeout=self.timeout)
        return UpstreamProtocolError(
            f"The request to {urlsplit(url).hostname} could not be sent ({type(exc).__name__}).",
            hint="Check the path and headers of the request.",
        )

    def _attempt(
        self,
        method: str,
        url: str,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        deadline: float,
    ) -> Reply:
        """One request whose connect, wait and body all end by the attempt's deadline."""
        budget = max(0.001, min(self.timeout, deadline - self._monotonic()))
        ends = self._monotonic() + budget
        started = time.perf_counter()
        try:
            response = self.session.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=(budget, budget),
                allow_redirects=False,
                stream=True,
            )
            with response:
                chunks = []
                # requests' read timeout is per socket read; a body trickling in a
                # byte at a time would never trip it, so the attempt has a deadline.
                # read1 returns whatever has arrived instead of waiting for a full chunk.
                while chunk := response.raw.read1(64 * 1024, decode_content=True):
                    chunks.append(chunk)
                    if self._monotonic() > ends:
                        raise _TooSlow(f"{url} sent its body too slowly")
        except _FAILURES as exc:
            log_call(method, url, None, started, type(exc).__name__)
            raise
        status = response.status_code
        log_call(method, url, status, started, _outcome(status))
        return Reply(status, CaseInsensitiveDict(response.headers), b"".join(chunks))

    def _wait(self, policy: RetryPolicy, attempt: int, deadline: float, hint: float | None) -> bool:
        """Sleep before the next attempt; False when that would overrun the budget."""
        delay = max(policy.delay(attempt, self._rng), hint or 0.0)
        if self._monotonic() + delay >= deadline:
            return False
        self._sleep(delay)
        return True
