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
from dataclasses import dataclass

import requests

from sfdc.errors import SalesforceTimeout, SalesforceUnavailable

log = logging.getLogger(__name__)

# Seconds to connect and, separately, to wait for a response. Salesforce's
# token endpoint answers in well under a second; 10 s leaves room for slow
# days while staying far inside gunicorn's 30 s worker timeout.
DEFAULT_TIMEOUT = 10.0
USER_AGENT = "sfdc-token-service/0.1 (+cloudfoundry)"


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


def new_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def _describe(exc: requests.RequestException) -> str:
    text = str(exc).lower()
    if "name or service not known" in text or "nodename nor servname" in text:
        return "the host name does not resolve"
    if "refused" in text:
        return "the connection was refused"
    if isinstance(exc, requests.exceptions.SSLError):
        return "the TLS handshake failed"
    return "the connection failed"


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

    def request(
        self,
        method: str,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> requests.Response:
        """The final response (possibly a 5xx once retries are spent), or an upstream error."""
        policy = retry or self.retry
        deadline = self._monotonic() + policy.budget
        for attempt in range(policy.attempts):
            remaining = deadline - self._monotonic()
            timeout = max(0.001, min(self.timeout, remaining))
            last = attempt == policy.attempts - 1
            try:
                response = self.session.request(
                    method, url, data=data, headers=headers, timeout=(timeout, timeout)
                )
            except requests.Timeout as exc:
                if last or not self._wait(policy, attempt, deadline, None):
                    raise SalesforceTimeout(
                        f"Salesforce did not answer {url} within {self.timeout:g} s "
                        f"({attempt + 1} attempt(s)).",
                        hint="Salesforce may be degraded (status.salesforce.com); retry later, "
                        "or raise SFDC_HTTP_TIMEOUT if calls are merely slow.",
                    ) from exc
                log.warning("salesforce call timed out; retrying", extra={"url": url})
                continue
            except requests.RequestException as exc:
                if last or not self._wait(policy, attempt, deadline, None):
                    raise SalesforceUnavailable(
                        f"Could not reach {url}: {_describe(exc)} ({attempt + 1} attempt(s)).",
                        hint="Check SFDC_LOGIN_URL, DNS and the space's egress rules "
                        "(security groups, proxy); retry later.",
                    ) from exc
                log.warning("salesforce unreachable; retrying", extra={"url": url})
                continue
            if not is_transient(response.status_code) or last:
                return response
            if not self._wait(policy, attempt, deadline, _retry_after(response)):
                return response
            log.warning(
                "salesforce answered %s; retrying", response.status_code, extra={"url": url}
            )
        raise AssertionError("unreachable: the last attempt always returns or raises")

    def _wait(self, policy: RetryPolicy, attempt: int, deadline: float, hint: float | None) -> bool:
        """Sleep before the next attempt; False when that would overrun the budget."""
        delay = max(policy.delay(attempt, self._rng), hint or 0.0)
        if self._monotonic() + delay >= deadline:
            return False
        self._sleep(delay)
        return True
