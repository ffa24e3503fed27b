"""Tokens, assertions and the consumer secret never reach logs or reprs."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
import requests

from sfdc.emulator import EmulatorConfig, RunningEmulator
from tests.emulator.emulator_support import CONSUMER_SECRET, bearer, post_token


def test_full_run_logs_no_token_assertion_or_secret(
    caplog: pytest.LogCaptureFixture,
    http: requests.Session,
    emulator: RunningEmulator,
    make_assertion: Callable[..., str],
) -> None:
    caplog.set_level(logging.DEBUG)
    assertion = make_assertion()
    body = post_token(http, emulator.url, assertion).json()
    token = body["access_token"]
    http.get(body["id"], params={"oauth_token": token}, timeout=10)
    http.get(f"{emulator.url}/services/data/v62.0/limits", headers=bearer(token), timeout=10)
    http.post(
        f"{emulator.url}/services/oauth2/introspect",
        data={"token": token, "client_id": "x", "client_secret": CONSUMER_SECRET},
        timeout=10,
    )
    http.get(f"{emulator.url}/services/oauth2/revoke", params={"token": token}, timeout=10)
    # urllib3 is the test's own HTTP client: it logs request URLs, queries included.
    server_side = [r.getMessage() for r in caplog.records if not r.name.startswith("urllib3")]
    assert any("GET /services/oauth2/revoke" in line for line in server_side)
    text = "\n".join(server_side)
    for secret in (token.partition("!")[2], assertion, CONSUMER_SECRET):
        assert secret not in text


def test_config_repr_hides_the_secret_and_certificate(
    make_config: Callable[..., EmulatorConfig], certificate_pem: bytes
) -> None:
    text = repr(make_config())
    assert CONSUMER_SECRET not in text
    assert "BEGIN CERTIFICATE" not in text
    assert "consumer_key" in text


def test_issued_token_repr_hides_the_access_token(
    http: requests.Session, emulator: RunningEmulator, make_assertion: Callable[..., str]
) -> None:
    token = post_token(http, emulator.url, make_assertion()).json()["access_token"]
    session = emulator.state.find(token, emulator.config.clock())
    assert session is not None
    assert token not in repr(session)
