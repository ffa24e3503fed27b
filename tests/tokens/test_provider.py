"""The token cache inside one process: what callers see as time passes and tokens fail.

The exchange is replaced by ``CountingMint`` here because the cache is what is
under test; the exchange itself is tested against the emulator.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from sfdc.errors import SalesforceRefusal, SalesforceUnavailable, UpstreamError
from sfdc.tokens.cooldown import BACKOFF_BASE, REFUSAL_COOLDOWN
from sfdc.tokens.provider import TokenProvider
from sfdc.tokens.token import REFRESH_AHEAD
from tests.conftest import FakeClock
from tests.fakes import CountingMint

REFUSAL = SalesforceRefusal(
    "invalid_grant",
    "user hasn't approved this consumer",
    hint="Pre-authorize the user.",
    retryable=False,
    upstream_status=400,
)


def _wait_for(condition: object, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.fixture
def mint(clock: FakeClock) -> CountingMint:
    return CountingMint(clock)


@pytest.fixture
def provider(mint: CountingMint, clock: FakeClock) -> TokenProvider:
    return TokenProvider(mint, clock=clock)


def test_cold_start_under_fifty_threads_makes_one_exchange(
    provider: TokenProvider, mint: CountingMint
) -> None:
    mint.gate = threading.Event()
    seen: list[str] = []
    threads = [
        threading.Thread(target=lambda: seen.append(provider.get().token.access_token))
        for _ in range(50)
    ]
    for thread in threads:
        thread.start()
    threading.Timer(0.2, mint.gate.set).start()
    for thread in threads:
        thread.join(10)
    assert mint.calls == 1
    assert seen == ["00Dtoken!1"] * 50


def test_a_fresh_token_is_served_without_asking_again(
    provider: TokenProvider, mint: CountingMint, clock: FakeClock
) -> None:
    first = provider.get()
    clock.advance(timedelta(hours=1) - REFRESH_AHEAD - timedelta(seconds=1))
    assert provider.get() is first
    assert mint.calls == 1


def test_a_stale_token_is_served_while_one_refresh_runs_in_the_background(
    provider: TokenProvider, mint: CountingMint, clock: FakeClock
) -> None:
    old = provider.get()
    clock.advance(timedelta(hours=1) - REFRESH_AHEAD)
    mint.gate = threading.Event()  # the refresh blocks: callers must not
    for _ in range(20):
        assert provider.get() is old
    mint.gate.set()
    _wait_for(lambda: provider.peek() is not old)
    assert provider.get().token.access_token == "00Dtoken!2"
    assert mint.calls == 2


def test_a_failed_background_refresh_keeps_the_good_token(
    provider: TokenProvider,
    mint: CountingMint,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = provider.get()
    clock.advance(timedelta(minutes=56))
    mint.fail = SalesforceUnavailable("down", hint="later")
    assert provider.get() is old
    _wait_for(lambda: "background token refresh failed" in caplog.text)  # the thread is done
    assert mint.calls == 2
    assert provider.get() is old


def test_an_expired_token_is_replaced_before_it_is_served(
    provider: TokenProvider, mint: CountingMint, clock: FakeClock
) -> None:
    provider.get()
    clock.advance(timedelta(hours=1))
    assert provider.get().token.access_token == "00Dtoken!2"


def test_only_the_rejected_token_is_dropped(provider: TokenProvider, mint: CountingMint) -> None:
    first = provider.get()
    assert provider.invalidate(first)
    second = provider.get()
    assert not provider.invalidate(first), "a late rejection of the old token keeps the new one"
    assert provider.get() is second
    assert mint.calls == 2


def test_a_refusal_is_repeated_without_asking_until_the_cooldown_ends(
    provider: TokenProvider, mint: CountingMint, clock: FakeClock
) -> None:
    mint.fail = REFUSAL
    with pytest.raises(SalesforceRefusal):
        provider.get()
    for _ in range(10):
        with pytest.raises(UpstreamError) as caught:
            provider.get()
        assert caught.value.code == "invalid_grant"
        assert caught.value.description == "user hasn't approved this consumer"
        assert "Not asked again before" in caught.value.hint
        assert caught.value.status == 502
    assert mint.calls == 1
    clock.advance(REFUSAL_COOLDOWN)
    mint.fail = None
    assert provider.get().token.access_token == "00Dtoken!2"


def test_transient_failures_back_off_exponentially(
    provider: TokenProvider, mint: CountingMint, clock: FakeClock
) -> None:
    mint.fail = SalesforceUnavailable("down", hint="later")
    tick = timedelta(milliseconds=1)
    for failures, wait in enumerate([1, 2, 4, 8], start=1):
        with pytest.raises(SalesforceUnavailable):
            provider.get()  # this one asks Salesforce
        assert mint.calls == failures
        clock.advance(BACKOFF_BASE * wait - tick)
        with pytest.raises(UpstreamError, match="down"):
            provider.get()  # still backing off: answered from memory
        assert mint.calls == failures
        clock.advance(tick)
    mint.fail = None
    assert provider.get().token.access_token == "00Dtoken!5"


def test_a_rejection_during_a_background_refresh_joins_it_not_a_second_exchange(
    provider: TokenProvider, mint: CountingMint, clock: FakeClock
) -> None:
    old = provider.get()
    clock.advance(timedelta(hours=1) - REFRESH_AHEAD)
    mint.gate = threading.Event()
    provider.get()  # STALE: the background refresh starts and blocks in the exchange
    _wait_for(lambda: mint.calls == 2)
    provider.invalidate(old)
    got: list[str] = []
    caller = threading.Thread(target=lambda: got.append(provider.get().token.access_token))
    caller.start()
    mint.gate.set()
    caller.join(10)
    assert got == ["00Dtoken!2"]
    assert mint.calls == 2, "the foreground joined the refresh's flight"


def test_a_token_that_arrives_stale_does_not_cost_an_exchange_per_request(
    mint: CountingMint, clock: FakeClock
) -> None:
    mint.lifetime = REFRESH_AHEAD - timedelta(minutes=1)  # STALE on arrival
    provider = TokenProvider(mint, clock=clock)
    for _ in range(20):
        provider.get()
    assert mint.calls <= 2


def test_no_background_refresh_is_started_while_cooling_down(
    provider: TokenProvider,
    mint: CountingMint,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = provider.get()
    clock.advance(timedelta(hours=1) - REFRESH_AHEAD)
    mint.fail = REFUSAL
    provider.get()
    _wait_for(lambda: mint.calls == 2)
    time.sleep(0.1)
    for _ in range(50):
        assert provider.get() is old
    time.sleep(0.1)
    assert mint.calls == 2
    assert caplog.text.count("background token refresh failed (invalid_grant)") == 1
