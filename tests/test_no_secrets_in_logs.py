"""A full run, good and bad paths, logs no key, token, assertion or API key."""

from __future__ import annotations

import logging

import pytest

from sfdc.emulator import running_emulator
from sfdc.errors import ConfigError
from sfdc.settings.settings import load_settings
from sfdc.web import create_app
from tests.conftest import API_KEY, KeyPair
from tests.emulated import emulator_config, fail_next


def test_full_run_logs_no_secret(
    caplog: pytest.LogCaptureFixture,
    keypair: KeyPair,
    other_keypair: KeyPair,
    seed_env: dict[str, str],
) -> None:
    caplog.set_level(logging.DEBUG)
    auth = {"Authorization": f"Bearer {API_KEY}"}
    secrets: list[str] = [API_KEY]
    with running_emulator(emulator_config(keypair)) as emulator:
        env = {**seed_env, "SFDC_LOGIN_URL": emulator.url, "SFDC_API_KEYS": API_KEY}
        client = create_app(load_settings(env)).test_client()
        page = client.get("/", headers=auth).get_json()
        secrets += [
            page["response_text"]["access_token"],
            page["target_payload"],
            page["signed_claim"],
        ]
        client.get("/")
        client.get("/token", headers=auth)
        client.get("/token", headers={"Authorization": "Bearer wrong-key-0123456789"})
        client.get("/healthz")
        fail_next(emulator.url, "garbage", 3)
        fresh = create_app(load_settings(env)).test_client()
        assert fresh.get("/token", headers=auth).status_code == 502
    with running_emulator(emulator_config(keypair, usernames=("other@example.com",))) as refusing:
        env = {**seed_env, "SFDC_LOGIN_URL": refusing.url}
        assert create_app(load_settings(env)).test_client().get("/").status_code == 502
    with pytest.raises(ConfigError):
        load_settings({**seed_env, "SFDC_CERTIFICATE": other_keypair.cert_pem})

    assert "token exchange ok" in caplog.text, "the run did log; the check below means something"
    body = keypair.key_body
    secrets += [body[i : i + 32] for i in range(0, len(body) - 32, 200)]
    leaked = [s[:12] + "..." for s in secrets if s in caplog.text]
    assert leaked == []
