"""A full run, good and bad paths, logs no key, token, assertion or API key."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sfdc.emulator import running_emulator
from sfdc.errors import ConfigError
from sfdc.settings.settings import load_settings
from sfdc.web import create_app
from sfdc.web.extension import CONNECTIONS_KEY
from tests.conftest import API_KEY, KeyPair
from tests.emulated import emulator_config, fail_next
from tests.orgs_support import connect, connected_env, org_config


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


def test_named_keys_leave_no_key_or_token_in_the_logs(
    caplog: pytest.LogCaptureFixture, keypair: KeyPair, seed_env: dict[str, str], tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    auth = {"Authorization": f"Bearer {API_KEY}"}
    secrets: list[str] = [API_KEY]
    with running_emulator(org_config(keypair, rotate=False)) as org:
        env = connected_env(seed_env, org.url, f"sqlite:///{tmp_path / 'connections.db'}")
        app = create_app(load_settings(env))
        client = app.test_client()
        connect(client, "acme")
        made = client.post(
            "/keys", json={"client": "billing-app", "scopes": ["token:acme"]}, headers=auth
        ).get_json()
        key = made["key"]
        as_acme = {"Authorization": f"Bearer {key}", "X-Sfdc-Connection": "acme"}
        secrets += [
            key,
            key.split("!")[1],
            client.get("/token", headers=as_acme).json["access_token"],
        ]  # type: ignore[index]
        client.get("/api/data/v60.0/limits", headers=as_acme)
        client.get("/token", headers={"Authorization": f"Bearer {key}"})  # 403: jwt
        client.get("/token", headers={"Authorization": f"Bearer {key[:-3]}xyz"})  # 401
        rotated = client.post(f"/keys/{made['id']}/rotate", headers=auth).get_json()["key"]
        secrets += [rotated, rotated.split("!")[1]]
        client.delete(f"/keys/{made['id']}", headers=auth)
        client.get("/token", headers={"Authorization": f"Bearer {rotated}"})
        app.extensions[CONNECTIONS_KEY].store.dispose()
    assert "sfdc.audit" in {record.name for record in caplog.records}
    leaked = [s[:12] + "..." for s in secrets if s in caplog.text]
    assert leaked == []
