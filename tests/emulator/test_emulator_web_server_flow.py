"""The token endpoint's `authorization_code` grant: client checks, the code's single use
and lifetime, `redirect_uri` matching, PKCE, and what the issued tokens can do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from datetime import timedelta

import pytest
import requests

from sfdc.emulator import RunningEmulator
from tests.emulator.emulator_support import ALICE, BOB, CONSUMER_SECRET, FakeClock, bearer
from tests.emulator.web_flow_support import (
    CALLBACK_WITH_QUERY,
    approve,
    assert_refused,
    exchange,
    get_code,
    rest_status,
    s256,
)

StartWebEmulator = Callable[..., RunningEmulator]
INVALID_CODE = ("invalid_grant", "invalid authorization code")


def jsforce_verifier() -> str:
    """What jsforce sends: base64url of 128 random bytes, 171 characters (over RFC 7636's
    128-character cap)."""
    return base64.urlsafe_b64encode(os.urandom(128)).rstrip(b"=").decode("ascii")


# --- success -------------------------------------------------------------------------------


def test_code_buys_a_session_for_the_approving_user(
    http: requests.Session, web_emulator: RunningEmulator, clock: FakeClock
) -> None:
    url = web_emulator.url
    response = exchange(http, url, get_code(http, url, BOB))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "access_token",
        "refresh_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    }
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == url
    assert body["scope"] == " ".join(web_emulator.config.oauth_scopes)
    assert body["issued_at"] == str(int(clock.now.timestamp() * 1000))
    mac = hmac.new(CONSUMER_SECRET.encode(), (body["id"] + body["issued_at"]).encode(), "sha256")
    assert body["signature"] == base64.b64encode(mac.digest()).decode()
    assert rest_status(http, url, body["access_token"]) == 200
    identity = http.get(body["id"], headers=bearer(body["access_token"]), timeout=10)
    assert identity.status_code == 200
    assert identity.json()["username"] == BOB
    assert web_emulator.state.tokens_issued == 1


def test_requested_scope_is_what_the_token_gets(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    body = exchange(http, url, get_code(http, url, scope="id api id")).json()
    assert body["scope"] == "id api"
    assert "refresh_token" not in body
    introspected = http.post(
        f"{url}/services/oauth2/introspect",
        data={
            "token": body["access_token"],
            "client_id": web_emulator.config.consumer_key,
            "client_secret": CONSUMER_SECRET,
        },
        timeout=10,
    ).json()
    assert introspected["scope"] == "id api"
    assert introspected["username"] == ALICE


@pytest.mark.parametrize("scope", ["api refresh_token", "api offline_access"])
def test_refresh_token_comes_with_either_refresh_scope(
    http: requests.Session, web_emulator: RunningEmulator, scope: str
) -> None:
    url = web_emulator.url
    assert "refresh_token" in exchange(http, url, get_code(http, url, scope=scope)).json()


def test_redirect_uri_with_a_query_must_be_repeated_exactly(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    code = get_code(http, url, redirect_uri=CALLBACK_WITH_QUERY)
    assert exchange(http, url, code, redirect_uri=CALLBACK_WITH_QUERY).status_code == 200


def test_no_signature_without_a_consumer_secret(
    http: requests.Session, start_web_emulator: StartWebEmulator
) -> None:
    running = start_web_emulator(consumer_secret=None)
    body = exchange(http, running.url, get_code(http, running.url), client_secret=None).json()
    assert "signature" not in body
    assert "issued_at" in body


# --- the code ------------------------------------------------------------------------------


def test_a_code_works_once(http: requests.Session, web_emulator: RunningEmulator) -> None:
    url = web_emulator.url
    code = get_code(http, url)
    assert exchange(http, url, code).status_code == 200
    assert_refused(exchange(http, url, code), *INVALID_CODE)
    assert web_emulator.state.tokens_issued == 1


@pytest.mark.parametrize("code", ["aPrxmadeup", "", None])
def test_unknown_or_missing_code_is_refused(
    http: requests.Session, web_emulator: RunningEmulator, code: str | None
) -> None:
    response = exchange(http, web_emulator.url, code)
    assert_refused(response, *INVALID_CODE)
    assert web_emulator.state.grant_errors == 1


def test_a_code_expires_after_fifteen_minutes(
    http: requests.Session, web_emulator: RunningEmulator, clock: FakeClock
) -> None:
    url = web_emulator.url
    early, late = get_code(http, url), get_code(http, url)
    clock.advance(timedelta(minutes=15) - timedelta(seconds=1))
    assert exchange(http, url, early).status_code == 200
    clock.advance(timedelta(seconds=1))
    assert_refused(exchange(http, url, late), "invalid_grant", "expired authorization code")


def test_code_lifetime_is_configurable(
    http: requests.Session, start_web_emulator: StartWebEmulator, clock: FakeClock
) -> None:
    running = start_web_emulator(code_lifetime=timedelta(minutes=2))
    code = get_code(http, running.url)
    clock.advance(timedelta(minutes=2))
    assert_refused(exchange(http, running.url, code), "invalid_grant", "expired authorization code")


@pytest.mark.parametrize("redirect_uri", [CALLBACK_WITH_QUERY, "https://evil.example.com/", None])
def test_redirect_uri_must_match_the_authorize_request_and_burns_the_code(
    http: requests.Session, web_emulator: RunningEmulator, redirect_uri: str | None
) -> None:
    url = web_emulator.url
    code = get_code(http, url)
    response = exchange(http, url, code, redirect_uri=redirect_uri)
    assert_refused(response, "redirect_uri_mismatch", "redirect_uri must match configuration")
    assert_refused(exchange(http, url, code), *INVALID_CODE)


# --- client authentication -------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["wrong-secret", "", None])
def test_wrong_or_missing_secret_is_refused_and_leaves_the_code(
    http: requests.Session, web_emulator: RunningEmulator, secret: str | None
) -> None:
    url = web_emulator.url
    code = get_code(http, url)
    response = exchange(http, url, code, client_secret=secret)
    assert_refused(response, "invalid_client", "invalid client credentials")
    assert exchange(http, url, code).status_code == 200


@pytest.mark.parametrize("client_id", ["3MVG9_someone_else", None])
def test_wrong_client_id_is_refused(
    http: requests.Session, web_emulator: RunningEmulator, client_id: str | None
) -> None:
    url = web_emulator.url
    response = exchange(http, url, get_code(http, url), client_id=client_id)
    assert_refused(response, "invalid_client_id", "client identifier invalid")


def test_secret_can_be_left_out_when_the_app_does_not_require_it(
    http: requests.Session, start_web_emulator: StartWebEmulator
) -> None:
    running = start_web_emulator(require_secret=False)
    url = running.url
    assert exchange(http, url, get_code(http, url), client_secret=None).status_code == 200
    wrong = exchange(http, url, get_code(http, url), client_secret="wrong-secret")
    assert_refused(wrong, "invalid_client", "invalid client credentials")


# --- PKCE ----------------------------------------------------------------------------------


def test_pkce_with_the_right_verifier_works(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 B
    code = get_code(http, url, code_challenge=s256(verifier))
    assert exchange(http, url, code, code_verifier=verifier).status_code == 200


@pytest.mark.parametrize("method", ["S256", None])
def test_a_171_character_verifier_is_accepted(
    http: requests.Session, web_emulator: RunningEmulator, method: str | None
) -> None:
    url = web_emulator.url
    verifier = jsforce_verifier()
    assert len(verifier) == 171
    code = get_code(http, url, code_challenge=s256(verifier), code_challenge_method=method)
    assert exchange(http, url, code, code_verifier=verifier).status_code == 200


def test_missing_verifier_is_invalid_grant(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    code = get_code(http, url, code_challenge=s256(jsforce_verifier()))
    assert_refused(exchange(http, url, code), "invalid_grant", "invalid code verifier")


def test_wrong_verifier_is_invalid_request_and_burns_the_code(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    verifier = jsforce_verifier()
    code = get_code(http, url, code_challenge=s256(verifier))
    response = exchange(http, url, code, code_verifier=jsforce_verifier())
    assert_refused(response, "invalid_request", "invalid code verifier")
    assert_refused(exchange(http, url, code, code_verifier=verifier), *INVALID_CODE)


def test_the_challenge_itself_is_not_a_verifier(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    challenge = s256(jsforce_verifier())
    code = get_code(http, url, code_challenge=challenge)
    response = exchange(http, url, code, code_verifier=challenge)
    assert_refused(response, "invalid_request", "invalid code verifier")


def test_a_padded_or_hex_challenge_never_matches(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    verifier = jsforce_verifier()
    hex_challenge = hashlib.sha256(verifier.encode()).hexdigest()
    for challenge in (s256(verifier) + "=", hex_challenge):
        code = get_code(http, url, code_challenge=challenge)
        response = exchange(http, url, code, code_verifier=verifier)
        assert_refused(response, "invalid_request", "invalid code verifier")


def test_verifier_without_a_challenge_is_invalid_request(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    response = exchange(http, url, get_code(http, url), code_verifier=jsforce_verifier())
    assert_refused(response, "invalid_request", "code_verifier without code_challenge")


# --- bookkeeping ---------------------------------------------------------------------------


def test_stats_count_codes_and_exchanges(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    url = web_emulator.url
    code = approve(http, url)["code"]
    exchange(http, url, code)
    exchange(http, url, code)
    stats = http.get(f"{url}/_emulator/stats", timeout=10).json()
    assert stats["codes_issued"] == 1
    assert stats["token_requests"] == 2
    assert stats["tokens_issued"] == 1
    assert stats["grant_errors"] == 1
    assert stats["active_tokens"] == 1
    assert stats["refresh_tokens_active"] == 1
