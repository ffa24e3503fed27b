"""The `refresh_token` grant, rotation, and revoking refresh tokens (by the client through
`/services/oauth2/revoke`, or all at once through the `/_emulator/` knob)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import requests

from sfdc.emulator import RunningEmulator
from tests.emulator.emulator_support import BOB, FakeClock, bearer
from tests.emulator.web_flow_support import (
    assert_refused,
    exchange,
    get_code,
    refresh,
    rest_status,
    revoke,
    tokens,
)

StartWebEmulator = Callable[..., RunningEmulator]
GetToken = Callable[..., dict[str, Any]]
EXPIRED = ("invalid_grant", "expired access/refresh token")


def stats(http: requests.Session, emulator: RunningEmulator) -> dict[str, int]:
    body: dict[str, int] = http.get(f"{emulator.url}/_emulator/stats", timeout=10).json()
    return body


def refreshed(http: requests.Session, url: str, refresh_token: str) -> Any:
    response = refresh(http, url, refresh_token)
    assert response.status_code == 200, response.text
    return response.json()


# --- without rotation (the default) -----------------------------------------------------------


def test_refresh_gives_a_new_working_session_and_no_new_refresh_token(
    http: requests.Session, web_emulator: RunningEmulator, clock: FakeClock
) -> None:
    url = web_emulator.url
    first = tokens(http, url, BOB, scope="api refresh_token")
    clock.advance(timedelta(minutes=5))
    response = refresh(http, url, first["refresh_token"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "access_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    }
    assert body["access_token"] != first["access_token"]
    assert body["scope"] == "api refresh_token"
    assert body["id"] == first["id"]
    assert body["issued_at"] == str(int(clock.now.timestamp() * 1000))
    assert rest_status(http, url, body["access_token"]) == 200
    identity = http.get(body["id"], headers=bearer(body["access_token"]), timeout=10).json()
    assert identity["username"] == BOB
    assert rest_status(http, url, first["access_token"]) == 200


def test_without_rotation_a_refresh_token_keeps_working(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    refresh_token = tokens(http, url)["refresh_token"]
    sessions = {refreshed(http, url, refresh_token)["access_token"] for _ in range(3)}
    assert len(sessions) == 3
    assert stats(http, web_emulator)["refresh_grants"] == 3


def test_refresh_revives_a_client_after_its_session_timed_out(
    http: requests.Session, web_emulator: RunningEmulator, clock: FakeClock
) -> None:
    url = web_emulator.url
    first = tokens(http, url)
    clock.advance(web_emulator.config.session_timeout)
    assert rest_status(http, url, first["access_token"]) == 401
    assert rest_status(http, url, refreshed(http, url, first["refresh_token"])["access_token"]) == (
        200
    )


@pytest.mark.parametrize("refresh_token", ["5Aepmadeup", "", None])
def test_unknown_refresh_token_is_refused(
    http: requests.Session, web_emulator: RunningEmulator, refresh_token: str | None
) -> None:
    response = refresh(http, web_emulator.url, refresh_token)
    assert_refused(response, *EXPIRED)


def test_an_access_token_is_not_a_refresh_token(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    assert_refused(refresh(http, url, tokens(http, url)["access_token"]), *EXPIRED)


@pytest.mark.parametrize(
    ("fields", "error", "description"),
    [
        ({"client_secret": "wrong-secret"}, "invalid_client", "invalid client credentials"),
        ({"client_secret": None}, "invalid_client", "invalid client credentials"),
        ({"client_id": "3MVG9_someone_else"}, "invalid_client_id", "client identifier invalid"),
    ],
)
def test_refresh_checks_the_client(
    http: requests.Session,
    web_emulator: RunningEmulator,
    fields: dict[str, str | None],
    error: str,
    description: str,
) -> None:
    url = web_emulator.url
    refresh_token = tokens(http, url)["refresh_token"]
    assert_refused(refresh(http, url, refresh_token, **fields), error, description)
    assert refresh(http, url, refresh_token).status_code == 200


def test_refresh_without_secret_when_not_required(
    http: requests.Session, start_web_emulator: StartWebEmulator
) -> None:
    running = start_web_emulator(require_secret=False)
    refresh_token = tokens(http, running.url)["refresh_token"]
    assert refresh(http, running.url, refresh_token, client_secret=None).status_code == 200


# --- rotation ------------------------------------------------------------------------------


def test_rotation_returns_a_new_refresh_token_and_retires_the_old_one(
    http: requests.Session, start_web_emulator: StartWebEmulator
) -> None:
    url = start_web_emulator(rotate_refresh_tokens=True).url
    old = tokens(http, url)["refresh_token"]
    body = refreshed(http, url, old)
    assert body["refresh_token"] not in (old, body["access_token"])
    assert rest_status(http, url, body["access_token"]) == 200
    assert_refused(refresh(http, url, old), *EXPIRED)
    newer = refreshed(http, url, body["refresh_token"])
    assert newer["refresh_token"] != body["refresh_token"]
    assert_refused(refresh(http, url, body["refresh_token"]), *EXPIRED)


def test_with_rotation_only_one_of_two_concurrent_refreshes_wins(
    start_web_emulator: StartWebEmulator, http: requests.Session
) -> None:
    running = start_web_emulator(rotate_refresh_tokens=True)
    old = tokens(http, running.url)["refresh_token"]
    contenders = 8
    start = threading.Barrier(contenders)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def race() -> None:
        with requests.Session() as own:
            start.wait(timeout=10)
            response = refresh(own, running.url, old)
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=race) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    statuses = sorted(response.status_code for response in answers)
    assert statuses == [200] + [400] * (contenders - 1)
    for response in answers:
        if response.status_code == 400:
            assert_refused(response, *EXPIRED)
    winner = next(response.json() for response in answers if response.status_code == 200)
    assert refresh(http, running.url, winner["refresh_token"]).status_code == 200
    assert stats(http, running)["refresh_tokens_active"] == 1


# --- revocation ------------------------------------------------------------------------------


def test_revoking_a_refresh_token_ends_every_session_issued_from_it(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    first = tokens(http, url)
    second = refreshed(http, url, first["refresh_token"])
    other = tokens(http, url)
    assert revoke(http, url, first["refresh_token"]).status_code == 200
    assert rest_status(http, url, first["access_token"]) == 401
    assert rest_status(http, url, second["access_token"]) == 401
    identity = http.get(first["id"], headers=bearer(second["access_token"]), timeout=10)
    assert identity.status_code == 403
    assert_refused(refresh(http, url, first["refresh_token"]), *EXPIRED)
    assert rest_status(http, url, other["access_token"]) == 200
    assert refresh(http, url, other["refresh_token"]).status_code == 200
    revoked_again = revoke(http, url, first["refresh_token"])
    assert revoked_again.status_code == 400
    assert revoked_again.json()["error"] == "invalid_token"


def test_revoking_the_current_rotated_token_ends_the_whole_chain(
    http: requests.Session, start_web_emulator: StartWebEmulator
) -> None:
    url = start_web_emulator(rotate_refresh_tokens=True).url
    first = tokens(http, url)
    second = refreshed(http, url, first["refresh_token"])
    assert revoke(http, url, first["refresh_token"]).status_code == 400
    assert revoke(http, url, second["refresh_token"]).status_code == 200
    assert rest_status(http, url, first["access_token"]) == 401
    assert rest_status(http, url, second["access_token"]) == 401


def test_revoking_an_access_token_leaves_its_refresh_token(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    first = tokens(http, url)
    assert revoke(http, url, first["access_token"]).status_code == 200
    assert rest_status(http, url, first["access_token"]) == 401
    assert rest_status(http, url, refreshed(http, url, first["refresh_token"])["access_token"]) == (
        200
    )


def test_revoke_all_knob_ends_refresh_tokens_and_their_sessions_only(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    grants = [tokens(http, url) for _ in range(2)]
    no_refresh = tokens(http, url, scope="api")
    assert "refresh_token" not in no_refresh
    assert stats(http, web_emulator)["refresh_tokens_active"] == 2
    response = http.post(f"{url}/_emulator/refresh-tokens/revoke", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"revoked": 2}
    for grant in grants:
        assert rest_status(http, url, grant["access_token"]) == 401
        assert_refused(refresh(http, url, grant["refresh_token"]), *EXPIRED)
    assert rest_status(http, url, no_refresh["access_token"]) == 200
    assert stats(http, web_emulator)["refresh_tokens_active"] == 0
    assert web_emulator.state.revoke_refresh_tokens() == 0


def test_revoke_all_leaves_jwt_bearer_sessions(
    http: requests.Session, emulator: RunningEmulator, get_token: GetToken
) -> None:
    token = get_token()["access_token"]
    response = http.post(f"{emulator.url}/_emulator/refresh-tokens/revoke", timeout=10)
    assert response.json() == {"revoked": 0}
    assert rest_status(http, emulator.url, token) == 200


def test_expire_ends_sessions_but_not_refresh_tokens(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    first = tokens(http, url)
    http.post(f"{url}/_emulator/expire", timeout=10)
    assert rest_status(http, url, first["access_token"]) == 401
    assert refresh(http, url, first["refresh_token"]).status_code == 200


def test_reset_forgets_codes_and_refresh_tokens(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    refresh_token = tokens(http, url)["refresh_token"]
    code = get_code(http, url)
    assert http.post(f"{url}/_emulator/reset", timeout=10).status_code == 200
    assert_refused(exchange(http, url, code), "invalid_grant", "invalid authorization code")
    assert_refused(refresh(http, url, refresh_token), *EXPIRED)
    assert stats(http, web_emulator)["codes_issued"] == 0
