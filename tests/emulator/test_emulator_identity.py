"""The identity URL and UserInfo: 200 with a live token, 403 `Bad_OAuth_Token` without."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import requests

from sfdc.emulator import EmulatorConfig, RunningEmulator, running_emulator
from tests.emulator.emulator_support import ALICE, BOB, FakeClock, bearer, post_token

GetToken = Callable[..., dict[str, Any]]


def assert_bad_token(response: requests.Response, body: str = "Bad_OAuth_Token") -> None:
    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text == body


def test_identity_url_with_bearer_token(http: requests.Session, get_token: GetToken) -> None:
    token = get_token()
    response = http.get(token["id"], headers=bearer(token["access_token"]), timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == token["id"]
    assert body["username"] == ALICE
    assert body["email"] == ALICE
    assert body["display_name"] == "Alice Smith"
    assert body["user_type"] == "STANDARD"
    assert body["active"] is True
    assert body["asserted_user"] is True
    assert token["id"].endswith(f"/{body['organization_id']}/{body['user_id']}")


def test_identity_url_with_oauth_token_parameter(
    http: requests.Session, get_token: GetToken
) -> None:
    token = get_token()
    response = http.get(token["id"], params={"oauth_token": token["access_token"]}, timeout=10)
    assert response.status_code == 200
    assert response.json()["username"] == ALICE


def test_identity_urls_keep_the_version_placeholder_unless_asked(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator
) -> None:
    token = get_token()
    plain = http.get(token["id"], headers=bearer(token["access_token"]), timeout=10).json()
    assert plain["urls"]["rest"] == f"{emulator.url}/services/data/v{{version}}/"
    assert {"rest", "sobjects", "query", "enterprise", "partner", "profile"} <= set(plain["urls"])
    latest = http.get(
        token["id"], headers=bearer(token["access_token"]), params={"version": "latest"}, timeout=10
    ).json()
    assert "{version}" not in latest["urls"]["query"]
    assert latest["urls"]["query"].startswith(f"{emulator.url}/services/data/v")


def test_unknown_version_is_refused(http: requests.Session, get_token: GetToken) -> None:
    token = get_token()
    response = http.get(
        token["id"], headers=bearer(token["access_token"]), params={"version": "9.0"}, timeout=10
    )
    assert response.status_code == 406


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer 00Dxx0000001gPL!not-a-real-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
def test_identity_url_refuses_bad_tokens(
    http: requests.Session, get_token: GetToken, headers: dict[str, str]
) -> None:
    assert_bad_token(http.get(get_token()["id"], headers=headers, timeout=10))


def test_identity_url_without_a_token(http: requests.Session, get_token: GetToken) -> None:
    assert_bad_token(http.get(get_token()["id"], timeout=10), "Missing_OAuth_Token")


def test_identity_url_refuses_an_expired_session(
    http: requests.Session, get_token: GetToken, clock: FakeClock, emulator: RunningEmulator
) -> None:
    token = get_token()
    clock.advance(emulator.config.session_timeout)
    assert_bad_token(http.get(token["id"], headers=bearer(token["access_token"]), timeout=10))


def test_another_users_identity_is_readable_with_api_scope(
    http: requests.Session, get_token: GetToken
) -> None:
    alice, bob = get_token(), get_token(sub=BOB)
    response = http.get(bob["id"], headers=bearer(alice["access_token"]), timeout=10)
    assert response.status_code == 200
    assert response.json()["username"] == BOB
    assert response.json()["asserted_user"] is False


def test_another_users_identity_needs_api_or_full_scope(
    http: requests.Session,
    make_config: Callable[..., EmulatorConfig],
    make_assertion: Callable[..., str],
) -> None:
    with running_emulator(make_config(scope="id openid")) as running:
        alice = post_token(http, running.url, make_assertion()).json()
        bob = post_token(http, running.url, make_assertion(sub=BOB)).json()
        own = http.get(alice["id"], headers=bearer(alice["access_token"]), timeout=10)
        other = http.get(bob["id"], headers=bearer(alice["access_token"]), timeout=10)
    assert own.status_code == 200
    assert other.status_code == 404


def test_identity_url_of_another_org_is_refused(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator
) -> None:
    token = get_token()
    user_id = token["id"].rsplit("/", 1)[1]
    other_org = f"{emulator.url}/id/00D000000000001AAA/{user_id}"
    assert_bad_token(
        http.get(other_org, headers=bearer(token["access_token"]), timeout=10), "Wrong_Org"
    )


def test_userinfo_returns_openid_connect_claims(
    http: requests.Session, get_token: GetToken, emulator: RunningEmulator
) -> None:
    token = get_token()
    response = http.get(
        f"{emulator.url}/services/oauth2/userinfo",
        headers=bearer(token["access_token"]),
        timeout=10,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["sub"] == token["id"]
    assert body["preferred_username"] == ALICE
    assert body["given_name"] == "Alice"
    assert body["family_name"] == "Smith"
    assert body["user_type"] == "STANDARD"
    assert token["id"].endswith(f"/{body['organization_id']}/{body['user_id']}")


def test_userinfo_refuses_a_bad_token(http: requests.Session, emulator: RunningEmulator) -> None:
    response = http.get(
        f"{emulator.url}/services/oauth2/userinfo",
        headers=bearer("00Dxx0000001gPL!forged"),
        timeout=10,
    )
    assert_bad_token(response)


def test_using_the_identity_url_keeps_the_session_alive(
    http: requests.Session, get_token: GetToken, clock: FakeClock, emulator: RunningEmulator
) -> None:
    token = get_token()
    almost = emulator.config.session_timeout - timedelta(seconds=1)
    for _ in range(3):
        clock.advance(almost)
        response = http.get(token["id"], headers=bearer(token["access_token"]), timeout=10)
        assert response.status_code == 200
