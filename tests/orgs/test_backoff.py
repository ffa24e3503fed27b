"""A refresh that keeps failing backs off in every process at once, then tries again.

The wait follows from the row alone (``failed_at``, ``failure``,
``failures``): tested here as a pure function on both sides of each boundary,
then with two workers and an emulator answering 503.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sfdc.errors import SalesforceUnavailable, SfdcError
from sfdc.ops import check
from sfdc.orgs.backoff import blocked, failed
from sfdc.orgs.connections import Connections
from sfdc.orgs.schema import ConnectionRow
from sfdc.salesforce.refusals import grant_refusal
from sfdc.settings.settings import load_settings
from tests.conftest import FakeClock
from tests.emulated import fail_next, stats
from tests.orgs.upkeep_support import (
    column,
    connect,
    idle_since,
    worker,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OUTAGE = SalesforceUnavailable("Salesforce answered 503 (3 attempt(s)).", hint="Retry later.")


def row_after(error: SfdcError, failures: int, at: datetime = T0) -> ConnectionRow:
    return ConnectionRow(
        name="acme", failed_at=at, failure=failed(error, at)["failure"], failures=failures
    )


@pytest.mark.parametrize(("failures", "wait"), [(1, 1), (2, 2), (3, 4), (7, 60), (30, 60)])
def test_transient_failures_double_the_wait_up_to_a_minute(failures: int, wait: int) -> None:
    row = row_after(OUTAGE, failures)
    block = blocked(row, T0 + timedelta(seconds=wait) - timedelta(microseconds=1))
    assert block is not None
    assert block.until == T0 + timedelta(seconds=wait)
    assert blocked(row, T0 + timedelta(seconds=wait)) is None


def test_a_refusal_that_keeps_the_connection_waits_a_minute() -> None:
    hours = grant_refusal(
        "invalid_grant",
        "ip restricted or invalid login hours",
        upstream_status=400,
        grant="refresh",
    )
    row = row_after(hours, failures=1)
    block = blocked(row, T0 + timedelta(seconds=59))
    assert block is not None
    error = block.error()
    assert (error.code, error.status, error.retryable) == ("invalid_grant", 502, False)
    assert "Login Hours" in error.hint
    assert blocked(row, T0 + timedelta(seconds=60)) is None


def test_the_answer_repeats_the_failure_and_says_when_it_asks_again() -> None:
    block = blocked(row_after(OUTAGE, failures=3), T0)
    assert block is not None
    error = block.error()
    assert (error.code, error.status, error.retryable) == ("salesforce_unavailable", 503, True)
    assert error.description == OUTAGE.description
    assert "Not asked again before 12:00:04 UTC" in error.hint


@pytest.mark.parametrize(
    "row",
    [
        ConnectionRow(name="acme", failures=0, failed_at=T0, failure=None),
        ConnectionRow(name="acme", failures=2, failed_at=T0, failure="salesforce_unavailable"),
        ConnectionRow(name="acme", failures=2, failed_at=None, failure='{"error": "x"}'),
        ConnectionRow(name="acme", failures=2, failed_at=T0, failure='{"no": "error"}'),
    ],
    ids=["no-failures", "older-release", "no-time", "unreadable"],
)
def test_nothing_to_back_off_from(row: ConnectionRow) -> None:
    assert blocked(row, T0) is None


def _refused_without_asking(connections: Connections, org: Any) -> SfdcError:
    asked = stats(org.url)["token_requests"]
    with pytest.raises(SfdcError) as caught:
        connections.source("acme").current()
    assert stats(org.url)["token_requests"] == asked, "no grant while backing off"
    return caught.value


def test_backoff_holds_across_workers_after_repeated_503s(
    env: dict[str, str], org: Any, workers: list[Connections], database_url: str
) -> None:
    settings = load_settings(env)
    clock = FakeClock(datetime.now(UTC))  # one time for the whole space
    a, b = (worker(workers, settings, clock) for _ in range(2))
    connect(a, "acme")
    idle_since(database_url, "acme", clock() - timedelta(hours=2))  # its token is stale
    fail_next(org.url, "error", 6, status=503)  # two refreshes' worth, with their retries

    with pytest.raises(SalesforceUnavailable):
        a.source("acme").current()
    first = _refused_without_asking(b, org)  # the other worker: told, not asking
    assert (first.code, first.status, first.retryable) == ("salesforce_unavailable", 503, True)
    assert "Not asked again before" in first.hint

    clock.advance(timedelta(seconds=1))  # the first wait is over: one worker asks again
    with pytest.raises(SalesforceUnavailable):
        b.source("acme").current()
    assert column(database_url, "acme", "failures") == 2
    steps = {step.name: step.detail for step in check.run(env)}  # what an operator sees
    assert (
        "acme (connected, 2 failed refresh(es) in a row, the last salesforce_unavailable at"
        in (steps["stored orgs"])
    )
    assert (
        "keep-alive after 7d idle, looking every 1h; alerts webhook off"
        in (steps["connected orgs"])
    )
    for waited in (0, 1.5):  # the second wait is 2 s, for both
        clock.advance(timedelta(seconds=waited))
        _refused_without_asking(a, org)
        _refused_without_asking(b, org)

    clock.advance(timedelta(seconds=0.5))
    grants = stats(org.url)["refresh_grants"]
    assert a.source("acme").current().token.access_token
    assert b.source("acme").current().token.access_token  # adopts a's token
    assert stats(org.url)["refresh_grants"] - grants == 1
    assert column(database_url, "acme", "failures") == 0
    assert column(database_url, "acme", "failure") is None
