"""Alerts: a connection that needs consent, or recovers, is announced once, signed, tokenless.

The receiver is a real HTTP server on loopback, and checks each request as
the README tells receivers to: HMAC-SHA256 of ``timestamp + "." + body``
under the shared secret, compared in constant time, the timestamp within
five minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from prometheus_client import REGISTRY

from sfdc.errors import ConsentRequired
from sfdc.orgs.connections import Connections
from sfdc.orgs.webhook import MAX_PENDING, RetryPlan, Webhook
from sfdc.salesforce.pools import new_session
from sfdc.settings.settings import load_settings
from sfdc.settings.webhook import WebhookTarget
from tests.conftest import FakeClock
from tests.deploy import free_port
from tests.orgs.upkeep_support import WEBHOOK_SECRET, Received, Receiver, column, connect, worker
from tests.orgs_support import PERSON, stored_refresh_token

QUICK = RetryPlan(attempts=5, base=0.01, cap=0.05)
FIELDS = {"event", "connection", "org_id", "username", "reason", "at"}


def verified(received: Received, *, tolerance: float | None = 300) -> dict[str, Any]:
    """The body, once its signature checks out as a receiver must check it."""
    timestamp = received.headers["X-Sfdc-Timestamp"]
    signed = timestamp.encode() + b"." + received.body
    expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(received.headers["X-Sfdc-Signature"], expected)
    if tolerance is not None:
        assert abs(time.time() - int(timestamp)) <= tolerance
    document: dict[str, Any] = json.loads(received.body)
    return document


def deliveries(outcome: str) -> float:
    return REGISTRY.get_sample_value("sfdc_webhook_deliveries_total", {"outcome": outcome}) or 0.0


def webhook_to(receiver: Receiver, **kw: Any) -> Webhook:
    return Webhook(WebhookTarget(receiver.url, WEBHOOK_SECRET), new_session(), **kw)


def deliver(webhook: Webhook, document: dict[str, Any]) -> None:
    """Send ``document`` and wait until it is settled, delivered or given up."""
    try:
        webhook.send(document)
        assert webhook.flush(10)
    finally:
        webhook.close()


def flushed(*connections: Connections) -> None:
    for each in connections:
        webhook = each.alerts.webhook
        assert webhook is not None
        assert webhook.flush(10), "alerts still waiting after 10 s"


def test_needs_consent_fires_one_signed_alert_without_a_token_and_recovery_another(
    env: dict[str, str],
    org: Any,
    workers: list[Connections],
    receiver: Receiver,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    settings = load_settings(
        {**env, "SFDC_WEBHOOK_URL": receiver.url, "SFDC_WEBHOOK_SECRET": WEBHOOK_SECRET}
    )
    clock = FakeClock(datetime.now(UTC))
    a, b = (worker(workers, settings, clock) for _ in range(2))
    connect(a, "acme")
    access = a.source("acme").current().token.access_token
    _raw, refresh = stored_refresh_token(database_url, "acme")
    requests.post(f"{org.url}/_emulator/refresh-tokens/revoke", timeout=5).raise_for_status()
    clock.advance(timedelta(hours=3))  # every copy of the access token has expired

    barrier = threading.Barrier(2)
    refused: list[ConsentRequired] = []

    def use(connections: Connections) -> None:
        barrier.wait()
        try:
            connections.source("acme").current()
        except ConsentRequired as exc:
            refused.append(exc)

    threads = [threading.Thread(target=use, args=(w,)) for w in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(refused) == 2, "both workers answer that consent is needed"
    flushed(a, b)
    assert len(receiver.received) == 1, "one alert for one turn, whichever worker saw it"
    alert = verified(receiver.received[0])
    assert set(alert) == FIELDS
    assert alert["event"] == "connection.needs_consent"
    assert alert["connection"] == "acme"
    assert alert["username"] == PERSON
    assert alert["org_id"] == column(database_url, "acme", "org_id")
    assert alert["reason"] == "expired access/refresh token"
    assert datetime.fromisoformat(alert["at"]) == clock()
    sent = receiver.received[0].body.decode() + json.dumps(receiver.received[0].headers)
    assert access not in sent
    assert refresh not in sent
    assert WEBHOOK_SECRET not in sent
    logged = [r for r in caplog.records if getattr(r, "alert", None)]
    assert [(r.alert, r.connection) for r in logged] == [("connection.needs_consent", "acme")]  # type: ignore[attr-defined]

    connect(b, "acme")  # a person approves it again
    flushed(b)
    assert len(receiver.received) == 2
    recovered = verified(receiver.received[1])
    assert set(recovered) == FIELDS
    assert (recovered["event"], recovered["connection"]) == ("connection.recovered", "acme")
    connect(a, "acme")  # reconnecting a healthy connection is no recovery
    flushed(a)
    assert len(receiver.received) == 2


def test_a_failed_delivery_is_retried_then_delivered_signed_afresh(receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    times = iter([1_800_000_000, 1_800_000_007, 1_800_000_030])
    webhook = webhook_to(receiver, plan=QUICK, now=lambda: next(times))
    retried, delivered = deliveries("retried"), deliveries("delivered")
    deliver(webhook, {"event": "connection.recovered", "connection": "acme"})
    assert len(receiver.received) == 3
    stamps = [r.headers["X-Sfdc-Timestamp"] for r in receiver.received]
    assert stamps == ["1800000000", "1800000007", "1800000030"]  # each attempt signed anew
    assert all(verified(r, tolerance=None)["connection"] == "acme" for r in receiver.received)
    assert len({r.headers["X-Sfdc-Delivery"] for r in receiver.received}) == 1
    assert deliveries("retried") - retried == 2
    assert deliveries("delivered") - delivered == 1


def test_a_receiver_that_keeps_failing_is_given_up_on_and_logged_without_secrets(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.statuses = [503] * 10
    webhook = webhook_to(receiver, plan=RetryPlan(attempts=3, base=0.01, cap=0.02))
    failed = deliveries("failed")
    deliver(webhook, {"event": "connection.needs_consent", "connection": "acme"})
    assert len(receiver.received) == 3
    assert deliveries("failed") - failed == 1
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "HTTP 503" in errors[0]
    assert "attempt 3 of 3" in errors[0]
    assert "127.0.0.1" in errors[0]
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("sfdc"))
    assert "/hooks/sfdc" not in ours, "the URL's path may hold a token"
    assert WEBHOOK_SECRET not in ours


def test_a_refusal_is_not_retried(receiver: Receiver) -> None:
    receiver.statuses = [401]
    webhook = webhook_to(receiver, plan=QUICK)
    deliver(webhook, {"event": "connection.recovered", "connection": "acme"})
    assert len(receiver.received) == 1


def test_an_unreachable_receiver_is_retried_then_given_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nowhere = WebhookTarget(f"http://127.0.0.1:{free_port()}/hook", WEBHOOK_SECRET)
    webhook = Webhook(nowhere, new_session(), plan=RetryPlan(attempts=2, base=0.01, cap=0.02))
    retried, failed = deliveries("retried"), deliveries("failed")
    deliver(webhook, {"event": "connection.recovered", "connection": "acme"})
    assert (deliveries("retried") - retried, deliveries("failed") - failed) == (1, 1)
    assert "ConnectionError" in caplog.text


def test_alerts_beyond_the_queue_are_dropped_never_waited_for(receiver: Receiver) -> None:
    receiver.gate.clear()  # the receiver hangs: nothing settles
    webhook = webhook_to(receiver, plan=QUICK)
    dropped = deliveries("dropped")
    try:
        started = time.monotonic()
        accepted = [webhook.send({"event": "e", "n": n}) for n in range(MAX_PENDING + 20)]
        assert time.monotonic() - started < 2, "sending never waits for the receiver"
        assert accepted.count(True) == MAX_PENDING
        assert deliveries("dropped") - dropped == 20
        receiver.gate.set()
        assert webhook.flush(30)
    finally:
        receiver.gate.set()
        webhook.close()
    assert sorted(verified(r)["n"] for r in receiver.received) == list(range(MAX_PENDING))
