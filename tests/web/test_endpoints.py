"""``/token``, ``/healthz``, and the JSON error contract on every failure path."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import ImATeapot

from sfdc.emulator import running_emulator
from sfdc.settings.settings import DEFAULT_TOKEN_MAX_AGE, Settings, load_settings
from sfdc.web import create_app
from tests.conftest import API_KEY, KeyPair
from tests.emulated import emulator_config, fail_next, stats
from tests.fakes import closed_port
from tests.web.conftest import AUTH

ERROR_KEYS = {"error", "error_description", "hint", "retryable"}


def test_token_needs_an_api_key(client: FlaskClient, emulator: Any) -> None:
    answer = client.get("/token")
    assert answer.status_code == 401
    assert answer.get_json().keys() == ERROR_KEYS
    assert stats(emulator.url)["token_requests"] == 0, "no exchange for an anonymous caller"


def test_token_returns_the_contract_fields(client: FlaskClient) -> None:
    answer = client.get("/token", headers=AUTH)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body.keys() == {
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "expires_at",
    }
    assert body["token_type"] == "Bearer"
    issued, expires = (datetime.fromisoformat(body[k]) for k in ("issued_at", "expires_at"))
    assert expires - issued == DEFAULT_TOKEN_MAX_AGE, "no consumer secret: the maximum age"
    assert answer.headers["Cache-Control"] == "no-store"


def test_healthz_never_calls_salesforce(client: FlaskClient, emulator: Any) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}
    assert stats(emulator.url)["token_requests"] == 0


def test_unapproved_user_gets_salesforce_error_and_a_fix(
    keypair: KeyPair, seed_env: dict[str, str]
) -> None:
    config = emulator_config(keypair, usernames=("someone-else@example.com",))
    with running_emulator(config) as emulator:
        app = create_app(load_settings({**seed_env, "SFDC_LOGIN_URL": emulator.url}))
        answer = app.test_client().get("/")
    assert answer.status_code == 502
    body = answer.get_json()
    assert body["error"] == "invalid_grant"
    assert body["error_description"] == "user hasn't approved this consumer"
    assert "pre-authorized" in body["hint"]
    assert body["retryable"] is False


def test_certificate_not_uploaded_gets_a_fix(
    other_keypair: KeyPair, seed_env: dict[str, str]
) -> None:
    with running_emulator(emulator_config(other_keypair)) as emulator:
        app = create_app(load_settings({**seed_env, "SFDC_LOGIN_URL": emulator.url}))
        body = app.test_client().get("/").get_json()
    assert body["error"] == "invalid_grant"
    assert "certificate" in body["hint"]


def test_sandbox_org_with_production_audience_is_explained(
    keypair: KeyPair, seed_env: dict[str, str]
) -> None:
    config = emulator_config(keypair, audience="https://test.salesforce.com")
    with running_emulator(config) as emulator:
        app = create_app(load_settings({**seed_env, "SFDC_LOGIN_URL": emulator.url}))
        body = app.test_client().get("/").get_json()
        assert body["error_description"] == "audience is invalid"
        assert "SFDC_AUDIENCE" in body["hint"]
        fixed = load_settings(
            {
                **seed_env,
                "SFDC_LOGIN_URL": emulator.url,
                "SFDC_AUDIENCE": "https://test.salesforce.com",
            }
        )
        assert create_app(fixed).test_client().get("/").status_code == 200


def test_a_brief_outage_is_retried_away(client: FlaskClient, emulator: Any) -> None:
    fail_next(emulator.url, "error", 1, status=503)
    assert client.get("/").status_code == 200
    assert stats(emulator.url)["token_requests"] == 2


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        ("error", 503, "salesforce_unavailable"),
        ("garbage", 502, "invalid_upstream_response"),
        ("empty", 502, "invalid_upstream_response"),
    ],
)
def test_upstream_trouble_is_a_json_error(
    client: FlaskClient, emulator: Any, mode: str, status: int, code: str
) -> None:
    fail_next(emulator.url, mode, 3, status=503)
    answer = client.get("/token", headers=AUTH)
    assert answer.status_code == status
    body = answer.get_json()
    assert body.keys() == ERROR_KEYS
    assert body["error"] == code
    assert body["retryable"] is True
    assert "Traceback" not in answer.get_data(as_text=True)


def test_a_hanging_salesforce_is_a_504_within_the_timeout(
    settings: Settings, emulator: Any
) -> None:
    fast = replace(settings, http_timeout=0.3)
    fail_next(emulator.url, "hang", 3, seconds=5)
    answer = create_app(fast).test_client().get("/token", headers=AUTH)
    assert answer.status_code == 504
    assert answer.get_json()["error"] == "salesforce_timeout"


def test_unreachable_salesforce_is_a_503(settings: Settings) -> None:
    gone = replace(settings, login_url=f"http://127.0.0.1:{closed_port()}")
    answer = create_app(gone).test_client().get("/token", headers=AUTH)
    assert answer.status_code == 503
    assert answer.get_json()["error"] == "salesforce_unavailable"


def test_unknown_paths_and_methods_get_the_error_shape(client: FlaskClient) -> None:
    missing = client.get("/nope")
    assert missing.status_code == 404
    assert missing.get_json().keys() == ERROR_KEYS
    wrong = client.post("/healthz")
    assert wrong.status_code == 405
    assert wrong.get_json()["error"] == "method_not_allowed"
    assert wrong.headers["Allow"].startswith(("GET", "HEAD", "OPTIONS"))


def test_a_body_shorter_than_announced_is_400_bad_request(
    client: FlaskClient, emulator: Any
) -> None:
    answer = client.post(
        "/api/data/v60.0/sobjects/Account",
        headers={**AUTH, "Content-Type": "application/json"},
        data=b"{}",
        environ_overrides={"CONTENT_LENGTH": "100"},  # the connection ended early
    )
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "bad_request"
    assert stats(emulator.url)["token_requests"] == 0


def test_an_http_error_outside_the_catalogue_is_a_logged_500(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def teapot() -> str:
        raise ImATeapot()

    app.add_url_rule("/teapot", view_func=teapot)
    answer = app.test_client().get("/teapot")
    assert answer.status_code == 500
    assert answer.get_json()["error"] == "internal_error"
    assert "unexpected error" in caplog.text


def test_a_bug_is_a_500_without_a_trace(app: Flask) -> None:
    def broken() -> str:
        raise RuntimeError("internal detail with /secret/path")

    app.add_url_rule("/broken", view_func=broken)
    answer = app.test_client().get("/broken")
    assert answer.status_code == 500
    assert answer.get_json()["error"] == "internal_error"
    text = answer.get_data(as_text=True)
    assert "Traceback" not in text
    assert "/secret/path" not in text


def test_api_keys_are_checked_against_every_configured_key(
    settings: Settings, emulator: Any
) -> None:
    two = replace(settings, api_keys=frozenset({API_KEY, "k" * 20}))
    client = create_app(two).test_client()
    for key in (API_KEY, "k" * 20):
        assert client.get("/token", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_a_reported_rejection_gets_a_fresh_token_once(
    client: FlaskClient, emulator: Any, live_clock: Any
) -> None:
    old = client.get("/token", headers=AUTH).get_json()["access_token"]
    live_clock.advance(timedelta(minutes=1))
    emulator.state.expire_all()
    fresh = client.post("/token", headers=AUTH, data={"rejected": old}).get_json()
    assert fresh["access_token"] != old
    assert fresh["replaced"] is True
    again = client.post("/token", headers=AUTH, json={"rejected": old}).get_json()
    assert again["access_token"] == fresh["access_token"], "a late report of the old token"
    assert stats(emulator.url)["token_requests"] == 2


def test_a_brand_new_token_is_not_replaced_on_a_callers_word(
    client: FlaskClient, emulator: Any
) -> None:
    token = client.get("/token", headers=AUTH).get_json()["access_token"]
    for _ in range(5):
        answer = client.post("/token", headers=AUTH, data={"rejected": token})
        assert answer.status_code == 200
        assert answer.get_json()["replaced"] is False
        assert 1 <= int(answer.headers["Retry-After"]) <= 31
    assert stats(emulator.url)["token_requests"] == 1


def test_reporting_needs_the_token_and_a_key(client: FlaskClient) -> None:
    assert client.post("/token", data={"rejected": "x"}).status_code == 401
    answer = client.post("/token", headers=AUTH)
    assert answer.status_code == 400
    assert "rejected" in answer.get_json()["hint"]
