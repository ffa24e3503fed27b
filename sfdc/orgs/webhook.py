"""Posting alerts to ``SFDC_WEBHOOK_URL``: signed, from a background thread, retried.

**Signature.** Each attempt carries ``X-Sfdc-Timestamp`` (Unix seconds) and
``X-Sfdc-Signature: sha256=<hex>``, the HMAC-SHA256 of ``timestamp + "." +
body`` under ``SFDC_WEBHOOK_SECRET`` (the scheme Stripe and GitHub use). A
receiver recomputes it over the raw body, compares in constant time, and
refuses a timestamp more than ``TOLERANCE`` away from its clock, so a
captured request cannot be replayed later. Every attempt is signed afresh,
so a retry minutes later still passes. ``X-Sfdc-Delivery`` is the same on
every attempt of one event: a receiver that answered too slowly sees it
twice and can tell.

**Delivery.** ``send`` never blocks: it counts the event against a bound of
``MAX_PENDING`` and hands it to this process's delivery thread (started at
the first event, and again after a fork); beyond the bound an event is
dropped, logged and counted. The thread keeps the due attempts in a heap, so
one event waiting for a retry holds up no other. A 2xx answer delivers; a
5xx, 408, 429, a timeout or no connection is retried after an exponential,
jittered wait (``RetryPlan``); any other answer, or the last attempt, gives
up. Each outcome is counted in ``sfdc_webhook_deliveries_total``; a failure is
logged with the receiver's host and status, never the URL's path or the secret.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import os
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from sfdc.settings.webhook import WebhookTarget
from sfdc.telemetry import metrics

log = logging.getLogger(__name__)

TOLERANCE = 300  # seconds a receiver should accept between our timestamp and its clock
MAX_PENDING = 100  # events waiting for delivery in one process; more are dropped
# Per attempt: connect, then wait for the answer. A receiver should answer at once
# and do its work later.
TIMEOUT = (5.0, 10.0)  # seconds


@dataclass(frozen=True)
class RetryPlan:
    """Exponential waits with jitter: up to 5 s, 20 s, 80 s, 3 min; five attempts in
    2.5 to 5 minutes, enough to ride out a receiver's restart or deploy."""

    attempts: int = 5
    base: float = 5.0  # seconds before the second attempt
    factor: float = 4.0
    cap: float = 180.0  # seconds; no single wait is longer

    def wait(self, retry: int, rng: Callable[[], float]) -> float:
        """Seconds before retry number ``retry`` (0-based): half fixed, half random."""
        ceiling = min(self.cap, self.base * self.factor**retry)
        return ceiling * (0.5 + 0.5 * rng())


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Sfdc-Signature`` value for ``body`` sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _retryable(status: int) -> bool:
    return status >= 500 or status in (408, 429)


@dataclass
class _Delivery:
    body: bytes
    event: str
    id: str
    attempt: int = 1


class Webhook:
    """Delivers JSON events to one receiver from a background thread; thread-safe."""

    def __init__(
        self,
        target: WebhookTarget,
        session: requests.Session,
        *,
        plan: RetryPlan = RetryPlan(),  # frozen, so one default is safe to share
        now: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.target = target
        self.session = session
        self.plan = plan
        self._now = now
        self._rng = rng
        self._lock = threading.Condition()
        self._inbox: queue.SimpleQueue[_Delivery | None] = queue.SimpleQueue()
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._pid = 0

    def __repr__(self) -> str:
        return f"Webhook({self.target.description})"

    def send(self, document: Mapping[str, Any]) -> bool:
        """Queue ``document`` for delivery; False if it was dropped (queue full)."""
        body = json.dumps(document, separators=(",", ":")).encode()
        delivery = _Delivery(body, str(document.get("event", "")), uuid.uuid4().hex)
        with self._lock:
            if self._pending >= MAX_PENDING:
                dropped = True
            else:
                dropped = False
                self._pending += 1
                self._start()
        if dropped:
            metrics.WEBHOOK_DELIVERIES.labels("dropped").inc()
            log.error(
                "webhook %s: %d alerts are already waiting; %s dropped",
                self.target.description,
                MAX_PENDING,
                delivery.event,
            )
            return False
        self._inbox.put(delivery)
        return True

    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until nothing is waiting: whether it got there."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return True

    def close(self, timeout: float = sum(TIMEOUT)) -> None:
        """Stop the thread (after the attempt in flight); what still waits is not sent."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and self._pid == os.getpid():
            self._inbox.put(None)
            thread.join(timeout)

    def _start(self) -> None:
        """The delivery thread of this process (a forked child starts its own)."""
        if self._thread is not None and self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="sfdc-webhook", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        due: list[tuple[float, int, _Delivery]] = []
        order = itertools.count()
        while True:
            wait = max(0.0, due[0][0] - time.monotonic()) if due else None
            try:
                arrived = self._inbox.get(timeout=wait)
            except queue.Empty:
                pass
            else:
                if arrived is None:
                    return
                heapq.heappush(due, (time.monotonic(), next(order), arrived))
            while due and due[0][0] <= time.monotonic():
                _at, _n, delivery = heapq.heappop(due)
                try:
                    retry_in = self._attempt(delivery)
                except Exception:  # a bug must not stop every later alert
                    log.exception("webhook %s: delivery failed", self.target.description)
                    retry_in = None
                if retry_in is None:
                    self._settled()
                else:
                    delivery.attempt += 1
                    heapq.heappush(due, (time.monotonic() + retry_in, next(order), delivery))

    def _attempt(self, delivery: _Delivery) -> float | None:
        """One POST: None when settled (delivered or given up), else seconds to the retry."""
        timestamp = int(self._now())
        headers = {
            "Content-Type": "application/json",
            "X-Sfdc-Event": delivery.event,
            "X-Sfdc-Delivery": delivery.id,
            "X-Sfdc-Timestamp": str(timestamp),
            "X-Sfdc-Signature": signature(self.target.secret, timestamp, delivery.body),
        }
        try:
            answer = self.session.post(
                self.target.url,
                data=delivery.body,
                headers=headers,
                timeout=TIMEOUT,
                allow_redirects=False,  # our signed alert goes to the configured host only
            )
            status: int | None = answer.status_code
            answer.close()
            why = f"HTTP {status}"
        except requests.RequestException as exc:
            status, why = None, type(exc).__name__
        if status is not None and 200 <= status < 300:
            metrics.WEBHOOK_DELIVERIES.labels("delivered").inc()
            log.info("webhook %s: %s delivered", self.target.description, delivery.event)
            return None
        last = delivery.attempt >= self.plan.attempts
        if (status is None or _retryable(status)) and not last:
            metrics.WEBHOOK_DELIVERIES.labels("retried").inc()
            return self.plan.wait(delivery.attempt - 1, self._rng)
        metrics.WEBHOOK_DELIVERIES.labels("failed").inc()
        log.error(
            "webhook %s: %s not delivered (%s, attempt %d of %d); given up",
            self.target.description,
            delivery.event,
            why,
            delivery.attempt,
            self.plan.attempts,
        )
        return None

    def _settled(self) -> None:
        with self._lock:
            self._pending -= 1
            self._lock.notify_all()
