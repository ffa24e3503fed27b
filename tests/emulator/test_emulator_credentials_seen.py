"""`/_emulator/credentials-seen`: proof that a secret other than an issued token reached
(or never reached) the emulated Salesforce."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

from sfdc.emulator import EmulatorState, RunningEmulator
from sfdc.emulator.state import IssuedToken, RefreshGrant
from tests.emulator.emulator_support import bearer

V = "/services/data/v62.0"
API_KEY = "sk-live-caller-api-key-0123456789"
GetToken = Callable[..., dict[str, Any]]


def seen(http: requests.Session, emulator: RunningEmulator) -> dict[str, Any]:
    response = http.get(f"{emulator.url}/_emulator/credentials-seen", timeout=10)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def unknown_count(http: requests.Session, emulator: RunningEmulator) -> int:
    stats = http.get(f"{emulator.url}/_emulator/stats", timeout=10).json()
    count: int = stats["unknown_credentials_seen"]
    return count


def test_issued_tokens_are_not_recorded(
    http: requests.Session, emulator: RunningEmulator, get_token: GetToken
) -> None:
    token = get_token()["access_token"]
    assert http.get(f"{emulator.url}{V}/limits", headers=bearer(token), timeout=10).ok
    assert seen(http, emulator) == {"count": 0, "credentials": []}
    assert unknown_count(http, emulator) == 0


def test_a_forwarded_api_key_is_recorded_with_its_raw_value(
    http: requests.Session, emulator: RunningEmulator
) -> None:
    response = http.get(f"{emulator.url}{V}/limits", headers=bearer(API_KEY), timeout=10)
    assert response.status_code == 401
    body = seen(http, emulator)
    assert body["count"] == 1
    assert body["credentials"] == [
        {"source": "Authorization", "value": f"Bearer {API_KEY}", "path": f"{V}/limits"}
    ]
    assert unknown_count(http, emulator) == 1


def test_every_place_a_token_can_travel_is_watched(
    http: requests.Session, emulator: RunningEmulator, get_token: GetToken
) -> None:
    identity_url = get_token()["id"]
    http.get(
        f"{emulator.url}/services/async/62.0/job/750x",
        headers={"X-SFDC-Session": API_KEY},
        timeout=10,
    )
    http.get(identity_url, params={"oauth_token": API_KEY}, timeout=10)
    http.get(f"{emulator.url}{V}/", headers={"Authorization": f"Basic {API_KEY}"}, timeout=10)
    sources = [(c["source"], c["value"]) for c in seen(http, emulator)["credentials"]]
    assert sources == [
        ("X-SFDC-Session", API_KEY),
        ("oauth_token", API_KEY),
        ("Authorization", f"Basic {API_KEY}"),
    ]


def test_expired_and_revoked_tokens_still_count_as_issued(
    http: requests.Session, emulator: RunningEmulator, get_token: GetToken
) -> None:
    expired, revoked = get_token()["access_token"], get_token()["access_token"]
    http.post(f"{emulator.url}/services/oauth2/revoke", data={"token": revoked}, timeout=10)
    emulator.state.expire_all()
    for token in (expired, revoked):
        response = http.get(f"{emulator.url}{V}/limits", headers=bearer(token), timeout=10)
        assert response.status_code == 401
    assert seen(http, emulator)["count"] == 0


def test_reset_forgets_what_was_seen(http: requests.Session, emulator: RunningEmulator) -> None:
    http.get(f"{emulator.url}{V}/limits", headers=bearer(API_KEY), timeout=10)
    assert http.post(f"{emulator.url}/_emulator/reset", timeout=10).ok
    assert seen(http, emulator)["count"] == 0


def test_a_session_from_a_refresh_token_is_an_issued_one() -> None:
    state = EmulatorState()
    now = datetime.now(UTC)

    def session(access_token: str) -> IssuedToken:
        return IssuedToken(
            access_token, "u@example.com", "00D", "005", "http://x/id/00D/005", "api", now, now
        )

    state.issue(session("00D!first"), RefreshGrant("5Aep-refresh", "grant-1", "u", "api"))
    refreshed, _ = state.refresh("5Aep-refresh", lambda grant: session("00D!second")) or (
        None,
        None,
    )
    assert refreshed is not None
    state.credentials.check([("Authorization", "Bearer 00D!second")], "/services/data")
    assert state.credentials.unknown() == []
