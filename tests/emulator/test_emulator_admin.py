"""The `/_emulator/` knobs and their `EmulatorState` twins: stats, expire, fail, reset."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from sfdc.emulator import RunningEmulator
from tests.emulator.emulator_support import STRANGER, bearer, post_token

MakeAssertion = Callable[..., str]
INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def admin(http: requests.Session, emulator: RunningEmulator, name: str, **json: Any) -> Any:
    response = http.post(f"{emulator.url}/_emulator/{name}", json=json, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def stats(http: requests.Session, emulator: RunningEmulator) -> dict[str, int]:
    body: dict[str, int] = http.get(f"{emulator.url}/_emulator/stats", timeout=10).json()
    return body


def limits(http: requests.Session, emulator: RunningEmulator, token: str) -> requests.Response:
    return http.get(f"{emulator.url}/services/data/v62.0/limits", headers=bearer(token), timeout=10)


def test_stats_count_what_happened(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    token = post_token(http, emulator.url, make_assertion()).json()["access_token"]
    post_token(http, emulator.url, make_assertion(sub=STRANGER))
    limits(http, emulator, token)
    body = stats(http, emulator)
    assert body["token_requests"] == 2
    assert body["tokens_issued"] == 1
    assert body["grant_errors"] == 1
    assert body["active_tokens"] == 1
    assert body["api_usage"] == 1
    assert body == emulator.state.stats(emulator.config.clock())


def test_expire_over_http_kills_every_token(
    http: requests.Session, emulator: RunningEmulator, get_token: Callable[..., dict[str, Any]]
) -> None:
    tokens = [get_token()["access_token"] for _ in range(2)]
    assert admin(http, emulator, "expire") == {"expired": 2}
    for token in tokens:
        response = limits(http, emulator, token)
        assert response.status_code == 401
        assert response.json() == INVALID_SESSION
    assert stats(http, emulator)["active_tokens"] == 0


def test_expire_in_process_kills_every_token(
    http: requests.Session, emulator: RunningEmulator, get_token: Callable[..., dict[str, Any]]
) -> None:
    token = get_token()["access_token"]
    emulator.state.expire_all()
    assert limits(http, emulator, token).json() == INVALID_SESSION


def test_fail_error_answers_the_status_with_html_then_recovers(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    admin(http, emulator, "fail", count=2, mode="error", status=503)
    for _ in range(2):
        spoiled = post_token(http, emulator.url, make_assertion())
        assert spoiled.status_code == 503
        assert spoiled.headers["Content-Type"].startswith("text/html")
        assert "<html" in spoiled.text
    assert post_token(http, emulator.url, make_assertion()).status_code == 200
    assert emulator.state.token_requests == 3
    assert emulator.state.tokens_issued == 1


def test_fail_error_with_another_status(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    emulator.state.fail_next(mode="error", status=500)
    assert post_token(http, emulator.url, make_assertion()).status_code == 500


def test_fail_garbage_is_200_that_is_not_json(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    emulator.state.fail_next(mode="garbage")
    response = post_token(http, emulator.url, make_assertion())
    assert response.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_fail_empty_is_200_with_no_body(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    admin(http, emulator, "fail", mode="empty")
    response = post_token(http, emulator.url, make_assertion())
    assert response.status_code == 200
    assert response.content == b""


def test_fail_hang_delays_then_answers_normally(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    admin(http, emulator, "fail", mode="hang", seconds=0.5)
    started = time.monotonic()
    response = post_token(http, emulator.url, make_assertion())
    assert time.monotonic() - started >= 0.5
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


def test_fail_hang_trips_a_client_timeout(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    emulator.state.fail_next(mode="hang", seconds=5)
    with pytest.raises(requests.ReadTimeout):
        http.post(
            f"{emulator.url}/services/oauth2/token",
            data={"grant_type": "x", "assertion": make_assertion()},
            timeout=0.3,
        )


def test_only_the_token_endpoint_is_spoiled(
    http: requests.Session, emulator: RunningEmulator, get_token: Callable[..., dict[str, Any]]
) -> None:
    token = get_token()["access_token"]
    emulator.state.fail_next(mode="error")
    assert limits(http, emulator, token).status_code == 200
    assert emulator.state.pending_failures == 1


@pytest.mark.parametrize(
    "body",
    [
        {"mode": "explode"},
        {"mode": "error", "status": 200},
        {"mode": "error", "count": 0},
        {"mode": "hang", "seconds": "long"},
        {"mode": "error", "count": 1.5},
    ],
)
def test_fail_rejects_nonsense(
    http: requests.Session, emulator: RunningEmulator, body: dict[str, Any]
) -> None:
    response = http.post(f"{emulator.url}/_emulator/fail", json=body, timeout=10)
    assert response.status_code == 400
    assert emulator.state.pending_failures == 0


def test_reset_forgets_tokens_counters_failures_and_records(
    http: requests.Session, emulator: RunningEmulator, get_token: Callable[..., dict[str, Any]]
) -> None:
    token = get_token()["access_token"]
    created = http.post(
        f"{emulator.url}/services/data/v62.0/sobjects/Account",
        json={"Name": "Temporary"},
        headers=bearer(token),
        timeout=10,
    ).json()
    emulator.state.fail_next(count=3)
    admin(http, emulator, "reset")
    assert stats(http, emulator) == {
        "token_requests": 0,
        "tokens_issued": 0,
        "grant_errors": 0,
        "revocations": 0,
        "api_usage": 0,
        "codes_issued": 0,
        "refresh_grants": 0,
        "active_tokens": 0,
        "refresh_tokens_active": 0,
        "pending_failures": 0,
        "unknown_credentials_seen": 0,
    }
    assert emulator.state.records.get("Account", created["id"]) is None
    assert emulator.state.records.all_of("Account")
    assert limits(http, emulator, token).status_code == 401
