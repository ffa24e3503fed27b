"""Revocation, introspection and the session timeout that gives tokens a lifetime."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import requests

from sfdc.emulator import EmulatorConfig, RunningEmulator, running_emulator
from tests.emulator.emulator_support import (
    ALICE,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    FakeClock,
    bearer,
    post_token,
)

GetToken = Callable[..., dict[str, Any]]
CLIENT = {"client_id": CONSUMER_KEY, "client_secret": CONSUMER_SECRET}


def rest_status(http: requests.Session, emulator: RunningEmulator, token: str) -> int:
    return http.get(
        f"{emulator.url}/services/data/v62.0/", headers=bearer(token), timeout=10
    ).status_code


def introspect(
    http: requests.Session, emulator: RunningEmulator, token: str, **kwargs: Any
) -> requests.Response:
    data = {"token": token, "token_type_hint": "access_token", **kwargs.pop("data", CLIENT)}
    return http.post(f"{emulator.url}/services/oauth2/introspect", data=data, timeout=10, **kwargs)


# --- revoke ------------------------------------------------------------------------------


def test_revoked_token_stops_working_everywhere(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator
) -> None:
    token = get_token()
    assert rest_status(http, emulator, token["access_token"]) == 200
    response = http.post(
        f"{emulator.url}/services/oauth2/revoke", data={"token": token["access_token"]}, timeout=10
    )
    assert response.status_code == 200
    assert rest_status(http, emulator, token["access_token"]) == 401
    identity = http.get(token["id"], headers=bearer(token["access_token"]), timeout=10)
    assert identity.status_code == 403
    assert emulator.state.revocations == 1


def test_revoking_one_token_leaves_the_others(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator
) -> None:
    kept, revoked = get_token(), get_token()
    http.post(
        f"{emulator.url}/services/oauth2/revoke",
        data={"token": revoked["access_token"]},
        timeout=10,
    )
    assert rest_status(http, emulator, kept["access_token"]) == 200


def test_revoke_with_get_and_query_parameter(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator
) -> None:
    token = get_token()
    response = http.get(
        f"{emulator.url}/services/oauth2/revoke",
        params={"token": token["access_token"]},
        timeout=10,
    )
    assert response.status_code == 200
    assert rest_status(http, emulator, token["access_token"]) == 401


@pytest.mark.parametrize("data", [{"token": "00Dxx0000001gPL!unknown"}, {}])
def test_revoking_an_unknown_or_missing_token_is_invalid_token(
    http: requests.Session, emulator: RunningEmulator, data: dict[str, str]
) -> None:
    response = http.post(f"{emulator.url}/services/oauth2/revoke", data=data, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_token"


def test_revoking_twice_fails_the_second_time(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator
) -> None:
    token = get_token()["access_token"]
    url = f"{emulator.url}/services/oauth2/revoke"
    assert http.post(url, data={"token": token}, timeout=10).status_code == 200
    assert http.post(url, data={"token": token}, timeout=10).status_code == 400


# --- introspect --------------------------------------------------------------------------


def test_introspect_active_token(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator, clock: FakeClock
) -> None:
    token = get_token()
    response = introspect(http, emulator, token["access_token"])
    assert response.status_code == 200
    body = response.json()
    issued = int(clock.now.timestamp())
    timeout = int(emulator.config.session_timeout.total_seconds())
    assert body == {
        "active": True,
        "scope": token["scope"],
        "client_id": CONSUMER_KEY,
        "username": ALICE,
        "sub": token["id"],
        "token_type": "access_token",
        "exp": issued + timeout,
        "iat": issued,
        "nbf": issued,
    }


def test_introspect_with_basic_client_authentication(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator
) -> None:
    response = introspect(
        http,
        emulator,
        get_token()["access_token"],
        data={},
        auth=(CONSUMER_KEY, CONSUMER_SECRET),
    )
    assert response.status_code == 200
    assert response.json()["active"] is True


def test_introspect_revoked_or_unknown_token_is_inactive(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator
) -> None:
    token = get_token()["access_token"]
    emulator.state.revoke(token)
    assert introspect(http, emulator, token).json() == {"active": False}
    assert introspect(http, emulator, "00Dxx0000001gPL!nope").json() == {"active": False}


def test_introspect_with_a_wrong_secret_in_the_form_is_400(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator
) -> None:
    data = {"client_id": CONSUMER_KEY, "client_secret": "wrong"}
    response = introspect(http, emulator, get_token()["access_token"], data=data)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


def test_introspect_with_a_wrong_basic_secret_is_401_with_a_challenge(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator
) -> None:
    wrong = base64.b64encode(f"{CONSUMER_KEY}:wrong".encode()).decode()
    response = introspect(
        http,
        emulator,
        get_token()["access_token"],
        data={},
        headers={"Authorization": f"Basic {wrong}"},
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.json()["error"] == "invalid_client"


def test_introspect_without_client_credentials_is_refused(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator
) -> None:
    response = introspect(http, emulator, get_token()["access_token"], data={})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


def test_introspection_needs_a_configured_consumer_secret(
    http: requests.Session,
    make_config: Callable[..., EmulatorConfig],
    make_assertion: Callable[..., str],
) -> None:
    with running_emulator(make_config(consumer_secret=None)) as running:
        token = post_token(http, running.url, make_assertion()).json()["access_token"]
        response = introspect(http, running, token)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


# --- session timeout ---------------------------------------------------------------------


def test_token_dies_after_the_session_timeout_of_inactivity(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator, clock: FakeClock
) -> None:
    token = get_token()["access_token"]
    clock.advance(emulator.config.session_timeout - timedelta(seconds=1))
    assert introspect(http, emulator, token).json()["active"] is True
    clock.advance(timedelta(seconds=1))
    assert introspect(http, emulator, token).json() == {"active": False}
    assert rest_status(http, emulator, token) == 401


def test_default_session_timeout_is_two_hours(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator, clock: FakeClock
) -> None:
    token = get_token()["access_token"]
    clock.advance(timedelta(hours=2) - timedelta(seconds=1))
    assert rest_status(http, emulator, token) == 200
    clock.advance(timedelta(hours=2))
    assert rest_status(http, emulator, token) == 401


def test_api_calls_restart_the_timer_but_introspection_does_not(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator, clock: FakeClock
) -> None:
    token = get_token()["access_token"]
    step = emulator.config.session_timeout - timedelta(minutes=1)
    clock.advance(step)
    assert rest_status(http, emulator, token) == 200
    clock.advance(step)
    body = introspect(http, emulator, token).json()
    assert body["exp"] == int((clock.now + timedelta(minutes=1)).timestamp())
    clock.advance(timedelta(minutes=1))
    assert rest_status(http, emulator, token) == 401


def test_session_timeout_is_configurable(
    http: requests.Session,
    make_config: Callable[..., EmulatorConfig],
    make_assertion: Callable[..., str],
    clock: FakeClock,
) -> None:
    with running_emulator(make_config(session_timeout=timedelta(minutes=15))) as running:
        token = post_token(http, running.url, make_assertion()).json()["access_token"]
        clock.advance(timedelta(minutes=15))
        assert rest_status(http, running, token) == 401
