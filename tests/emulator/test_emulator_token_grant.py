"""The JWT bearer grant: each validation rule, on both sides of the line."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from sfdc.emulator import EmulatorConfig, RunningEmulator, running_emulator
from tests.emulator.emulator_support import (
    ALICE,
    BOB,
    JWT_BEARER,
    START,
    STRANGER,
    TEST,
    FakeClock,
    make_certificate_pem,
    post_token,
)

MakeAssertion = Callable[..., str]


def assert_refused(response: requests.Response, error: str, description: str) -> None:
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == {"error": error, "error_description": description}


def sign_rs256(signing_input: str, key: rsa.RSAPrivateKey) -> str:
    """Append an RS256 signature to any header.payload, whatever its header claims."""
    signature = jwt.get_algorithm_by_name("RS256").sign(signing_input.encode(), key)
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def grant(http: requests.Session, emulator: RunningEmulator, assertion: str) -> requests.Response:
    return post_token(http, emulator.url, assertion)


def test_valid_assertion_gets_a_token(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    response = grant(http, emulator, make_assertion())
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert response.json()["token_type"] == "Bearer"


# --- alg and signature -------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["RS384", "RS512", "PS256"])
def test_other_rsa_algorithms_with_the_right_key_are_refused(
    http: requests.Session,
    emulator: RunningEmulator,
    make_assertion: MakeAssertion,
    algorithm: str,
) -> None:
    response = grant(http, emulator, make_assertion(algorithm=algorithm))
    assert_refused(response, "invalid_grant", "invalid assertion")


def test_hs256_signed_with_the_consumer_secret_is_refused(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    secret = b"emulator-test-consumer-secret-long-enough-for-hs256"
    response = grant(http, emulator, make_assertion(key=secret, algorithm="HS256"))
    assert_refused(response, "invalid_grant", "invalid assertion")


def test_unsigned_alg_none_is_refused(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    response = grant(http, emulator, make_assertion(key="", algorithm="none"))
    assert_refused(response, "invalid_grant", "invalid assertion")


def test_signature_by_another_key_is_refused(
    http: requests.Session,
    emulator: RunningEmulator,
    make_assertion: MakeAssertion,
    other_key: rsa.RSAPrivateKey,
) -> None:
    response = grant(http, emulator, make_assertion(key=other_key))
    assert_refused(response, "invalid_grant", "invalid assertion")


def test_payload_changed_after_signing_is_refused(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    header, _, signature = make_assertion(sub=STRANGER).split(".")
    swapped = make_assertion(sub=ALICE).split(".")[1]
    response = grant(http, emulator, f"{header}.{swapped}.{signature}")
    assert_refused(response, "invalid_grant", "invalid assertion")


@pytest.mark.parametrize("alg", ["RS512", "HS256", "none", "rs256"])
def test_other_alg_header_is_refused_even_over_an_rs256_signature(
    http: requests.Session,
    emulator: RunningEmulator,
    make_assertion: MakeAssertion,
    signing_key: rsa.RSAPrivateKey,
    alg: str,
) -> None:
    payload = make_assertion().split(".")[1]
    header = base64.urlsafe_b64encode(json.dumps({"alg": alg}).encode()).rstrip(b"=").decode()
    response = grant(http, emulator, sign_rs256(f"{header}.{payload}", signing_key))
    assert_refused(response, "invalid_grant", "invalid assertion")


def test_rs256_header_with_rs512_signature_is_refused(
    http: requests.Session,
    emulator: RunningEmulator,
    make_assertion: MakeAssertion,
) -> None:
    _, payload, signature = make_assertion(algorithm="RS512").split(".")
    header = make_assertion().split(".")[0]
    response = grant(http, emulator, f"{header}.{payload}.{signature}")
    assert_refused(response, "invalid_grant", "invalid assertion")


@pytest.mark.parametrize(
    "assertion",
    ["", "not-a-jwt", "a.b.c", "a.b", "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", "x.y.z.w"],
)
def test_malformed_assertions_are_refused(
    http: requests.Session, emulator: RunningEmulator, assertion: str
) -> None:
    assert_refused(grant(http, emulator, assertion), "invalid_grant", "invalid assertion")


def test_missing_assertion_is_refused(http: requests.Session, emulator: RunningEmulator) -> None:
    response = http.post(
        f"{emulator.url}/services/oauth2/token", data={"grant_type": JWT_BEARER}, timeout=10
    )
    assert_refused(response, "invalid_grant", "invalid assertion")


def test_certificate_expiry_is_ignored_like_salesforce(
    http: requests.Session,
    make_config: Callable[..., EmulatorConfig],
    make_assertion: MakeAssertion,
    signing_key: rsa.RSAPrivateKey,
) -> None:
    expired = make_certificate_pem(
        signing_key, START - timedelta(days=800), START - timedelta(days=400)
    )
    with running_emulator(make_config(certificate_pem=expired)) as running:
        assert grant(http, running, make_assertion()).status_code == 200


# --- iss ---------------------------------------------------------------------------------


@pytest.mark.parametrize("iss", ["3MVG9_some_other_app", None, ""])
def test_wrong_or_missing_issuer_is_an_unknown_client(
    http: requests.Session,
    emulator: RunningEmulator,
    make_assertion: MakeAssertion,
    iss: str | None,
) -> None:
    response = grant(http, emulator, make_assertion(iss=iss))
    assert_refused(response, "invalid_client_id", "client identifier invalid")


# --- aud ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "aud",
    [
        TEST,
        "https://login.salesforce.com/",
        "https://mycompany.my.salesforce.com",
        ["https://login.salesforce.com"],
        None,
    ],
)
def test_production_org_refuses_other_audiences(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion, aud: Any
) -> None:
    response = grant(http, emulator, make_assertion(aud=aud))
    assert_refused(response, "invalid_grant", "audience is invalid")


def test_sandbox_org_wants_the_test_audience(
    http: requests.Session,
    make_config: Callable[..., EmulatorConfig],
    make_assertion: MakeAssertion,
) -> None:
    with running_emulator(make_config(audience=TEST)) as sandbox:
        assert grant(http, sandbox, make_assertion(aud=TEST)).status_code == 200
        refused = grant(http, sandbox, make_assertion())
        assert_refused(refused, "invalid_grant", "audience is invalid")


# --- exp ---------------------------------------------------------------------------------


def test_exp_beyond_the_skew_is_expired(
    http: requests.Session,
    emulator: RunningEmulator,
    make_assertion: MakeAssertion,
    clock: FakeClock,
) -> None:
    skew = int(emulator.config.exp_skew.total_seconds())
    response = grant(http, emulator, make_assertion(exp=clock.epoch() - skew - 1))
    assert_refused(response, "invalid_grant", "expired authorization code")


@pytest.mark.parametrize("seconds_ago", [0, 1, "skew"])
def test_exp_now_or_within_the_skew_is_accepted(
    http: requests.Session,
    emulator: RunningEmulator,
    make_assertion: MakeAssertion,
    clock: FakeClock,
    seconds_ago: int | str,
) -> None:
    skew = int(emulator.config.exp_skew.total_seconds())
    ago = skew if seconds_ago == "skew" else int(seconds_ago)
    assert grant(http, emulator, make_assertion(exp=clock.epoch() - ago)).status_code == 200


def test_skew_is_configurable(
    http: requests.Session,
    make_config: Callable[..., EmulatorConfig],
    make_assertion: MakeAssertion,
    clock: FakeClock,
) -> None:
    with running_emulator(make_config(exp_skew=timedelta(0))) as strict:
        assert grant(http, strict, make_assertion(exp=clock.epoch())).status_code == 200
        late = grant(http, strict, make_assertion(exp=clock.epoch() - 1))
        assert_refused(late, "invalid_grant", "expired authorization code")


@pytest.mark.parametrize(
    "exp_of",
    [
        pytest.param(lambda now: now * 1000 + 300, id="milliseconds-like-sfdx-core"),
        pytest.param(lambda now: now + 10 * 365 * 86400, id="ten-years"),
        pytest.param(lambda now: str(now + 180), id="numeric-string-like-simple-salesforce"),
        pytest.param(lambda now: now + 180.5, id="fractional"),
    ],
)
def test_far_future_and_string_exp_are_accepted(
    http: requests.Session,
    emulator: RunningEmulator,
    make_assertion: MakeAssertion,
    clock: FakeClock,
    exp_of: Callable[[int], Any],
) -> None:
    assert grant(http, emulator, make_assertion(exp=exp_of(clock.epoch()))).status_code == 200


@pytest.mark.parametrize("exp", [0, -1, -(10**20), "-5"])
def test_zero_or_negative_exp_is_expired(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion, exp: Any
) -> None:
    response = grant(http, emulator, make_assertion(exp=exp))
    assert_refused(response, "invalid_grant", "expired authorization code")


def test_numeric_string_exp_in_the_past_is_expired(
    http: requests.Session,
    emulator: RunningEmulator,
    make_assertion: MakeAssertion,
    clock: FakeClock,
) -> None:
    response = grant(http, emulator, make_assertion(exp=str(clock.epoch() - 3600)))
    assert_refused(response, "invalid_grant", "expired authorization code")


@pytest.mark.parametrize("exp", [None, "soon", True, {"at": 1}, ""])
def test_missing_or_non_numeric_exp_is_an_invalid_assertion(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion, exp: Any
) -> None:
    response = grant(http, emulator, make_assertion(exp=exp))
    assert_refused(response, "invalid_grant", "invalid assertion")


# --- sub, prn and approval ---------------------------------------------------------------


def identity_username(http: requests.Session, token: dict[str, Any]) -> str:
    response = http.get(
        token["id"], headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10
    )
    assert response.status_code == 200
    username: str = response.json()["username"]
    return username


@pytest.mark.parametrize(
    ("claims", "expected_user"),
    [
        ({"sub": ALICE}, ALICE),
        ({"sub": None, "prn": BOB}, BOB),
        ({"sub": STRANGER, "prn": BOB}, BOB),
    ],
)
def test_prn_wins_over_sub(
    http: requests.Session,
    get_token: Callable[..., dict[str, Any]],
    claims: dict[str, Any],
    expected_user: str,
) -> None:
    assert identity_username(http, get_token(**claims)) == expected_user


def test_approved_sub_does_not_rescue_an_unapproved_prn(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    response = grant(http, emulator, make_assertion(sub=ALICE, prn=STRANGER))
    assert_refused(response, "invalid_grant", "user hasn't approved this consumer")


def test_user_not_pre_authorized_is_refused(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    response = grant(http, emulator, make_assertion(sub=STRANGER))
    assert_refused(response, "invalid_grant", "user hasn't approved this consumer")


def test_assertion_without_a_subject_is_refused(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    response = grant(http, emulator, make_assertion(sub=None))
    assert_refused(response, "invalid_grant", "invalid assertion")


# --- tolerated extras ----------------------------------------------------------------------


def test_extra_header_fields_and_claims_are_accepted(
    http: requests.Session,
    emulator: RunningEmulator,
    make_assertion: MakeAssertion,
    clock: FakeClock,
) -> None:
    assertion = make_assertion(
        headers={"typ": "JWT", "kid": "key-1"},
        alg="RS256",
        scope="api",
        iat=clock.epoch(),
        jti="a-unique-id",
    )
    assert grant(http, emulator, assertion).status_code == 200


def test_header_without_typ_is_accepted(
    http: requests.Session,
    emulator: RunningEmulator,
    make_assertion: MakeAssertion,
    signing_key: rsa.RSAPrivateKey,
) -> None:
    payload = make_assertion().split(".")[1]
    header = base64.urlsafe_b64encode(b'{"alg":"RS256"}').rstrip(b"=").decode()
    response = grant(http, emulator, sign_rs256(f"{header}.{payload}", signing_key))
    assert response.status_code == 200


# --- grant types and request encoding ------------------------------------------------------


@pytest.mark.parametrize("grant_type", ["client_credentials", "password", "implicit", ""])
def test_other_grant_types_are_unsupported(
    http: requests.Session, emulator: RunningEmulator, grant_type: str
) -> None:
    response = http.post(
        f"{emulator.url}/services/oauth2/token",
        data={"grant_type": grant_type, "refresh_token": "x", "code": "y"},
        timeout=10,
    )
    assert_refused(response, "unsupported_grant_type", "grant type not supported")


def test_json_body_instead_of_a_form_is_not_understood(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    response = http.post(
        f"{emulator.url}/services/oauth2/token",
        json={"grant_type": JWT_BEARER, "assertion": make_assertion()},
        timeout=10,
    )
    assert_refused(response, "unsupported_grant_type", "grant type not supported")


def test_url_encoded_grant_type_in_a_raw_body_is_accepted(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    encoded_grant = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
    body = f"grant_type={encoded_grant}&assertion={make_assertion()}"
    response = http.post(
        f"{emulator.url}/services/oauth2/token",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 200


def test_counters_track_requests_grants_and_refusals(
    http: requests.Session, emulator: RunningEmulator, make_assertion: MakeAssertion
) -> None:
    grant(http, emulator, make_assertion())
    grant(http, emulator, make_assertion(sub=STRANGER))
    grant(http, emulator, make_assertion())
    assert emulator.state.token_requests == 3
    assert emulator.state.tokens_issued == 2
    assert emulator.state.grant_errors == 1
