"""Tokens from responses, and the single-flight cache's guarantees under threads."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from sfdc.errors import SalesforceRefusal, UpstreamProtocolError
from sfdc.tokens import Token, TokenCache, token_from_response

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


class _Minter:
    """Counts mints; blocks each until released, so threads pile up on a cold cache."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.calls = 0
        self.release = threading.Event()
        self.fail = fail

    def __call__(self) -> Token:
        self.calls += 1
        self.release.wait(5)
        if self.fail:
            raise self.fail
        return token_from_response({**BODY, "access_token": f"t{self.calls}"}, received_at=RECEIVED)


def _burst(cache: TokenCache[Token], minter: _Minter, n: int) -> list[object]:
    results: list[object] = [None] * n

    def call(i: int) -> None:
        try:
            results[i] = cache.get()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    minter.release.set()
    for thread in threads:
        thread.join(10)
    return results


def test_cold_start_under_fifty_threads_mints_once() -> None:
    minter = _Minter()
    cache = TokenCache(minter)
    results = _burst(cache, minter, 50)
    assert minter.calls == 1
    assert {id(r) for r in results} == {id(cache.peek())}


def test_a_failed_mint_is_shared_by_everyone_waiting_then_retried_later() -> None:
    refusal = SalesforceRefusal(
        "invalid_grant", "x", hint="h", retryable=False, upstream_status=400
    )
    minter = _Minter(fail=refusal)
    cache = TokenCache(minter)
    results = _burst(cache, minter, 20)
    assert minter.calls == 1
    assert all(r is refusal for r in results)
    minter.fail = None
    assert cache.get().access_token == "t2", "the next request tries again"


def test_invalidate_drops_only_the_token_that_failed() -> None:
    minter = _Minter()
    minter.release.set()
    cache = TokenCache(minter)
    first = cache.get()
    assert cache.invalidate(first)
    second = cache.get()
    assert not cache.invalidate(first), "a late rejection of the old token keeps the new one"
    assert cache.get() is second
    assert minter.calls == 2
