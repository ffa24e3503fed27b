"""``/``: the seed's page, served from the cached exchange, live credentials redacted."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import requests
from flask import Flask
from flask.testing import FlaskClient

from sfdc.tokens.assertion import ASSERTION_LIFETIME, LIVE_AFTER_EXP
from tests.conftest import CONSUMER_KEY, USERNAME, FakeClock, KeyPair
from tests.emulated import stats
from tests.web.conftest import AUTH, concurrent_statuses

SEED_KEYS = {"claim", "signed_claim", "target_payload", "response_headers", "response_text"}


def _payload(claim: str) -> dict[str, Any]:
    segment = claim.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


def test_anonymous_caller_gets_the_seed_keys_with_live_credentials_redacted(
    client: FlaskClient,
) -> None:
    page = client.get("/")
    assert page.status_code == 200
    body = page.get_json()
    assert body.keys() >= SEED_KEYS
    assert body["response_text"]["access_token"] == "REDACTED"
    assert body["signed_claim"] == "REDACTED"
    assert body["target_payload"] == "REDACTED"
    assert set(body["redacted"]) == {"response_text.access_token", "signed_claim", "target_payload"}
    assert _payload(body["claim"])["sub"] == USERNAME
    assert body["response_text"]["instance_url"].startswith("http://127.0.0.1")
    assert page.headers["Cache-Control"] == "no-store"


def test_api_key_caller_gets_a_token_salesforce_accepts(
    client: FlaskClient, emulator: Any, keypair: KeyPair
) -> None:
    body = client.get("/", headers=AUTH).get_json()
    assert body["redacted"] == []
    claims = jwt.decode(
        body["target_payload"],
        keypair.cert.public_key(),
        algorithms=["RS256"],
        audience="https://login.salesforce.com",
    )
    assert claims["iss"] == CONSUMER_KEY
    assert body["target_payload"] == f"{body['claim']}.{body['signed_claim']}"
    token = body["response_text"]["access_token"]
    identity = requests.get(
        body["response_text"]["id"], headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert identity.status_code == 200
    assert identity.json()["username"] == USERNAME


def test_expired_assertion_is_shown_but_the_token_never_is(
    client: FlaskClient, live_clock: FakeClock
) -> None:
    client.get("/")
    live_clock.advance(ASSERTION_LIFETIME + LIVE_AFTER_EXP - timedelta(seconds=1))
    assert client.get("/").get_json()["target_payload"] == "REDACTED", "still within the skew"
    live_clock.advance(timedelta(seconds=1))
    body = client.get("/").get_json()
    assert body["signed_claim"] != "REDACTED"
    assert body["target_payload"].endswith(body["signed_claim"])
    assert body["response_text"]["access_token"] == "REDACTED"


def test_page_views_reuse_one_exchange(client: FlaskClient, emulator: Any) -> None:
    for _ in range(5):
        assert client.get("/").status_code == 200
    assert stats(emulator.url)["token_requests"] == 1


def test_concurrent_cold_requests_make_one_exchange(app: Flask, emulator: Any) -> None:
    assert concurrent_statuses(app, "/", 30) == [200] * 30
    assert stats(emulator.url)["token_requests"] == 1


def test_wrong_api_key_is_refused_not_silently_redacted(client: FlaskClient) -> None:
    for header in ("Bearer wrong-key-0123456789abcdef", "Basic dXNlcjpwYXNz", "Bearer "):
        answer = client.get("/", headers={"Authorization": header})
        assert answer.status_code == 401
        assert answer.get_json()["error"] == "unauthorized"
        assert answer.get_json()["hint"]
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
