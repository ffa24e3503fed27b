"""Answers schemathesis's generated requests cannot reach (Salesforce failing or refusing,
connected orgs off, a body too large, an unknown path) are as ``/openapi.json`` says."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import jsonschema_rs
import pytest
from flask import Flask
from flask.testing import FlaskClient

from sfdc.emulator import running_emulator
from sfdc.salesforce.paths import METHODS
from sfdc.settings.settings import Settings, load_settings
from sfdc.web import create_app
from tests.conftest import API_KEY, KeyPair
from tests.emulated import emulator_config, fail_next
from tests.web.conftest import AUTH
from tests.web.documented import DOCUMENT, PROXY, assert_documented

# Every operation that needs a token, and a URL for it.
EXCHANGING = [
    ("GET", "/", "/"),
    ("GET", "/token", "/token"),
    ("POST", "/token", "/token"),
    ("GET", "/connection", "/connection"),
    *((method, PROXY, "/api/data/v60.0/limits") for method in METHODS),
]


@pytest.mark.parametrize(("mode", "status"), [("error", 503), ("garbage", 502)])
@pytest.mark.parametrize(("method", "path", "url"), EXCHANGING)
def test_upstream_trouble_is_answered_as_documented(
    client: FlaskClient, emulator: Any, method: str, path: str, url: str, mode: str, status: int
) -> None:
    fail_next(emulator.url, mode, 3, status=503)
    answer = client.open(url, method=method, headers=AUTH, data={"rejected": "x"})
    assert answer.status_code == status
    assert_documented(path, method, answer)


@pytest.mark.parametrize(
    ("method", "path", "url"),
    [("GET", "/token", "/token"), ("GET", PROXY, "/api/data/v60.0/limits")],
)
def test_a_timeout_is_answered_as_documented(
    settings: Settings, emulator: Any, method: str, path: str, url: str
) -> None:
    fail_next(emulator.url, "hang", 3, seconds=5)
    client = create_app(replace(settings, http_timeout=0.3)).test_client()
    answer = client.open(url, method=method, headers=AUTH)
    assert answer.status_code == 504
    assert_documented(path, method, answer)


def test_a_refusal_is_answered_with_salesforces_code_as_documented(
    keypair: KeyPair, seed_env: dict[str, str]
) -> None:
    with running_emulator(emulator_config(keypair, usernames=())) as refusing:
        env = {**seed_env, "SFDC_LOGIN_URL": refusing.url, "SFDC_API_KEYS": API_KEY}
        answer = create_app(load_settings(env)).test_client().get("/token", headers=AUTH)
    assert answer.status_code == 502
    assert answer.json["error"] == "invalid_grant"  # type: ignore[index]
    assert_documented("/token", "GET", answer)


@pytest.mark.parametrize(("method", "path", "url"), EXCHANGING)
def test_a_wrong_key_is_answered_as_documented(
    client: FlaskClient, method: str, path: str, url: str
) -> None:
    wrong = {"Authorization": "Bearer not-the-key-0123456789"}
    answer = client.open(url, method=method, headers=wrong, data={"rejected": "x"})
    assert answer.status_code == 401
    assert_documented(path, method, answer)


@pytest.mark.parametrize(
    ("path", "url"), [("/token", "/token"), (PROXY, "/api/data/v60.0/sobjects/Account")]
)
def test_a_body_too_large_is_answered_as_documented(app: Flask, path: str, url: str) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024
    body = {"rejected": "x" * 2048}
    answer = app.test_client().post(url, headers=AUTH, json=body)
    assert answer.status_code == 413
    assert_documented(path, "POST", answer)


def test_connected_orgs_off_is_answered_as_documented(client: FlaskClient) -> None:
    answer = client.get("/connections", headers=AUTH)
    assert answer.status_code == 501
    assert_documented("/connections", "GET", answer)
    answer = client.get("/token", headers={**AUTH, "X-Sfdc-Connection": "acme"})
    assert answer.status_code == 501
    assert_documented("/token", "GET", answer)


def test_unknown_paths_and_methods_are_answered_as_documented(client: FlaskClient) -> None:
    responses = DOCUMENT["components"]["responses"]
    examples = DOCUMENT["components"]["examples"]
    error = jsonschema_rs.Draft202012Validator(
        {**DOCUMENT["components"]["schemas"]["Error"], "$defs": {}}
    )
    for answer, name in (
        (client.get("/nope"), "NotFound"),
        (client.put("/token"), "MethodNotAllowed"),
    ):
        assert answer.mimetype in responses[name]["content"]
        error.validate(answer.get_json())
        assert answer.get_json()["error"] == examples[name]["value"]["error"]
        for header in responses[name].get("headers", {}):
            assert header in answer.headers
