"""Tokens from responses, and the single-flight cache's guarantees under threads."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from sfdc.errors import UpstreamProtocolError
from sfdc.tokens.token import REFRESH_AHEAD, Freshness, SingleFlight, freshness, token_from_response

RECEIVED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BODY = {
    "access_token": "00Dxx!secret",
    "instance_url": "https://acme.my.salesforce.com/",
    "id": "https://login.salesforce.com/id/00D/005",
    "token_type": "Bearer",
    "scope": "api",
}


def test_issued_at_milliseconds_are_read_and_missing_means_received_time() -> None:
    token = token_from_response({**BODY, "issued_at": "1763899200000"}, received_at=RECEIVED)
    assert token.issued_at == datetime(2025, 11, 23, 12, 0, tzinfo=UTC)
    assert token_from_response(BODY, received_at=RECEIVED).issued_at == RECEIVED


def test_contract_fields_and_unknown_expiry() -> None:
    token = token_from_response(BODY, received_at=RECEIVED)
    assert token.to_dict() == {
        "access_token": "00Dxx!secret",
        "instance_url": "https://acme.my.salesforce.com",
        "id": "https://login.salesforce.com/id/00D/005",
        "token_type": "Bearer",
        "issued_at": "2026-11-23T12:00:00+00:00",
        "expires_at": None,
    }
    assert "secret" not in repr(token)


def test_response_without_identity_url_is_refused() -> None:
    with pytest.raises(UpstreamProtocolError, match="identity URL"):
        token_from_response({k: v for k, v in BODY.items() if k != "id"}, received_at=RECEIVED)


@pytest.mark.parametrize(
    ("offset", "state"),
    [
        (-REFRESH_AHEAD - timedelta(seconds=1), Freshness.FRESH),
        (-REFRESH_AHEAD, Freshness.STALE),
        (-timedelta(seconds=1), Freshness.STALE),
        (timedelta(0), Freshness.INVALID),
    ],
)
def test_freshness_on_both_sides_of_each_boundary(offset: timedelta, state: Freshness) -> None:
    expires = RECEIVED + timedelta(hours=1)
    token = token_from_response(BODY, received_at=RECEIVED)
    from dataclasses import replace

    assert freshness(replace(token, expires_at=expires), expires + offset) is state


def test_unknown_expiry_stays_fresh() -> None:
    token = token_from_response(BODY, received_at=RECEIVED)
    assert freshness(token, RECEIVED + timedelta(days=365)) is Freshness.FRESH


def _pile_up(flight: SingleFlight[int], call: object, n: int) -> list[object]:
    results: list[object] = [None] * n
    started = threading.Barrier(n + 1)

    def run(i: int) -> None:
        started.wait()
        try:
            results[i] = flight.do(call)  # type: ignore[arg-type]
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    started.wait()
    for thread in threads:
        thread.join(10)
    return results


def test_single_flight_runs_once_for_a_crowd_and_shares_the_result() -> None:
    calls: list[int] = []
    arrived = threading.Semaphore(0)
    flight: SingleFlight[int] = SingleFlight()

    def slow() -> int:
        calls.append(1)
        # The call outlasts the crowd's arrival: every caller has reached do() (and,
        # a moment later, waits on this flight) before it returns, even when a loaded
        # machine starts the threads slowly; the fixed timer this replaced raced them.
        deadline = time.monotonic() + 10
        for _ in range(40):
            arrived.acquire(timeout=max(0.0, deadline - time.monotonic()))
        time.sleep(0.5)
        return 42

    results: list[object] = [None] * 40

    def call(i: int) -> None:
        arrived.release()
        results[i] = flight.do(slow)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert results == [42] * 40
    assert len(calls) == 1


def test_single_flight_shares_an_error_then_tries_again() -> None:
    calls: list[int] = []
    gate = threading.Event()
    boom = RuntimeError("refused")

    def failing() -> int:
        calls.append(1)
        gate.wait(5)
        raise boom

    threading.Timer(0.2, gate.set).start()
    flight: SingleFlight[int] = SingleFlight()
    assert all(r is boom for r in _pile_up(flight, failing, 20))
    assert len(calls) == 1
    assert flight.do(lambda: 7) == 7


@pytest.mark.parametrize(
    "instance_url",
    [
        "https://evil.example.com",
        "http://acme.my.salesforce.com",
        "https://salesforce.com.evil.example",
        "https://user@acme.my.salesforce.com",
        "http://127.0.0.1:8081",
    ],
)
def test_tokens_bound_for_hosts_that_are_not_salesforce_are_refused(instance_url: str) -> None:
    with pytest.raises(UpstreamProtocolError, match="not an https URL on a Salesforce host"):
        token_from_response({**BODY, "instance_url": instance_url}, received_at=RECEIVED)


@pytest.mark.parametrize(
    "instance_url",
    [
        "https://acme.my.salesforce.com",
        "https://acme--uat.sandbox.my.salesforce.com",
        "https://na15.salesforce.com",
        "https://acme.my.site.com",
        "https://acme.lightning.force.com",
        "https://acme.my.salesforce.mil",
    ],
)
def test_salesforce_hosts_are_accepted(instance_url: str) -> None:
    token = token_from_response({**BODY, "instance_url": instance_url}, received_at=RECEIVED)
    assert token.instance_url == instance_url


def test_loopback_only_when_the_login_url_is_loopback() -> None:
    body = {**BODY, "instance_url": "http://127.0.0.1:8081", "id": "http://127.0.0.1:8081/id/1/2"}
    token = token_from_response(body, received_at=RECEIVED, allow_loopback=True)
    assert token.instance_url == "http://127.0.0.1:8081"
