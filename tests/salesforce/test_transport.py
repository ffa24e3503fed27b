"""Retries: only what a retry can cure, with growing jittered waits, within a budget."""

from __future__ import annotations

import socket
import threading
import time as real_time

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from sfdc.errors import SalesforceTimeout, SalesforceUnavailable
from sfdc.salesforce.transport import RetryPolicy, Transport
from tests.fakes import FakeTime, Reply, answering_server, scripted_session

URL = "https://login.salesforce.com/services/oauth2/token"


def _transport(
    *outcomes: Reply | Exception, policy: RetryPolicy | None = None, timeout: float = 10.0
) -> tuple[Transport, FakeTime, list[int]]:
    session, adapter = scripted_session(*outcomes)
    time = FakeTime()
    transport = Transport(
        session,
        timeout=timeout,
        retry=policy or RetryPolicy(),
        sleep=time.sleep,
        monotonic=time.monotonic,
        rng=lambda: 1.0,
    )
    return transport, time, adapter.timeouts  # type: ignore[return-value]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
def test_transient_statuses_are_retried_until_success(status: int) -> None:
    transport, time, _ = _transport(Reply(status), Reply(status), Reply(200, {"ok": True}))
    assert transport.request("POST", URL).status_code == 200
    assert time.slept == [0.5, 1.0], "exponential backoff between the three attempts"


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_refusals_are_not_retried(status: int) -> None:
    body = {"error": "invalid_grant", "error_description": "user hasn't approved this consumer"}
    transport, time, _ = _transport(Reply(status, body), Reply(200, {"ok": True}))
    assert transport.request("POST", URL).status_code == status
    assert time.slept == []


def test_last_transient_response_is_returned_when_attempts_run_out() -> None:
    transport, _, _ = _transport(Reply(503), Reply(503), Reply(503))
    assert transport.request("POST", URL).status_code == 503


def _refused() -> requests.ConnectionError:
    """What requests raises for a closed port: the socket's error, wrapped by urllib3."""
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as socket_error:
            raise NewConnectionError(None, "Failed to establish a new connection") from socket_error
    except NewConnectionError as failed:
        return requests.ConnectionError(MaxRetryError(None, URL, failed))  # type: ignore[arg-type]


def test_connection_errors_are_retried_then_reported() -> None:
    refused = _refused()
    transport, time, _ = _transport(refused, refused, refused)
    with pytest.raises(SalesforceUnavailable, match=r"connection was refused.*3 attempt") as caught:
        transport.request("POST", URL)
    assert caught.value.status == 503
    assert caught.value.retryable
    assert len(time.slept) == 2


def test_timeouts_are_retried_then_reported_as_504() -> None:
    slow = requests.ReadTimeout("read timed out")
    transport, _, _ = _transport(slow, Reply(200, {"ok": True}))
    assert transport.request("POST", URL).status_code == 200
    transport, _, _ = _transport(slow, slow, slow)
    with pytest.raises(SalesforceTimeout) as caught:
        transport.request("POST", URL)
    assert caught.value.status == 504


def test_every_attempt_has_connect_and_read_timeouts() -> None:
    transport, _, timeouts = _transport(Reply(503), Reply(200), timeout=3.0)
    transport.request("POST", URL)
    assert timeouts == [(3.0, 3.0), (3.0, 3.0)]


def test_total_time_stays_within_the_budget() -> None:
    policy = RetryPolicy(attempts=10, base_delay=2.0, max_delay=8.0, budget=10.0)
    transport, time, timeouts = _transport(*[Reply(503)] * 10, policy=policy, timeout=10.0)
    assert transport.request("POST", URL).status_code == 503
    assert time.now < 10.0
    assert len(time.slept) < 9, "gave up early instead of overrunning the budget"
    assert all(t[0] <= 10.0 for t in timeouts)


def test_retry_after_is_honoured_within_the_budget() -> None:
    transport, time, _ = _transport(Reply(429, headers={"Retry-After": "3"}), Reply(200))
    transport.request("POST", URL)
    assert time.slept == [3.0]
    transport, time, _ = _transport(Reply(429, headers={"Retry-After": "3600"}), Reply(200))
    assert transport.request("POST", URL).status_code == 429, "an hour is past the budget"
    assert time.slept == []


def test_jitter_spreads_waits_below_the_cap() -> None:
    policy = RetryPolicy()
    assert policy.delay(0, lambda: 0.5) == 0.25
    assert policy.delay(10, lambda: 1.0) == policy.max_delay
    assert policy.delay(3, lambda: 0.0) == 0.0


def test_odd_retry_after_is_ignored_not_a_crash() -> None:
    transport, time, _ = _transport(Reply(503, headers={"Retry-After": "\u00b2"}), Reply(200))
    assert transport.request("POST", URL).status_code == 200
    assert time.slept == [0.5]


def test_tls_failures_are_not_retried_and_say_what_to_do() -> None:
    bad = requests.exceptions.SSLError("certificate verify failed")
    transport, time, _ = _transport(bad, Reply(200))
    with pytest.raises(SalesforceUnavailable, match="TLS handshake") as caught:
        transport.request("POST", URL)
    assert "REQUESTS_CA_BUNDLE" in caught.value.hint
    assert time.slept == []


def _trickle(connection: socket.socket, stop: threading.Event) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    while not stop.is_set():
        try:
            connection.sendall(b"x")
        except OSError:
            return
        stop.wait(0.2)


def test_a_body_trickling_in_is_cut_off_at_the_deadline() -> None:
    """A real server that sends one byte every 0.2 s: per-read timeouts never fire."""
    transport = Transport(requests.Session(), timeout=1.0, retry=RetryPolicy(attempts=1))
    started = real_time.monotonic()
    with answering_server(_trickle) as port, pytest.raises(SalesforceTimeout):
        transport.request("POST", f"http://127.0.0.1:{port}/services/oauth2/token")
    assert real_time.monotonic() - started < 3.0
