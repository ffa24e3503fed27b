"""Rotating ``SFDC_ENCRYPTION_KEY`` the way the README says, on SQLite and PostgreSQL.

Add the new key first and restart; ``python -m sfdc reseal``; remove the old
key and restart. Each restart is a new app on the same database; ``reseal``
runs as an operator runs it, in its own process.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from sfdc.emulator import running_emulator
from sfdc.settings.settings import load_settings
from sfdc.web import create_app
from sfdc.web.extension import CONNECTIONS_KEY
from tests.conftest import ENCRYPTION_KEY, OLD_ENCRYPTION_KEY, FakeClock, KeyPair
from tests.deploy import ROOT
from tests.emulated import stats
from tests.orgs_support import (
    connect,
    connected_env,
    org_config,
    sealed_values,
    stored_refresh_token,
)
from tests.sealing_support import documented_key_id, open_column
from tests.web.conftest import AUTH

ACME = {**AUTH, "X-Sfdc-Connection": "acme"}
QUERY = "/api/data/v60.0/query?q=SELECT+Id+FROM+Account"
NEW_ID, OLD_ID = documented_key_id(ENCRYPTION_KEY), documented_key_id(OLD_ENCRYPTION_KEY)


@pytest.fixture
def org(keypair: KeyPair) -> Iterator[Any]:
    with running_emulator(org_config(keypair, rotate=False)) as running:
        yield running


@pytest.fixture
def env(org: Any, seed_env: dict[str, str], database_url: str) -> dict[str, str]:
    """The deployment's environment; each start names its encryption keys."""
    return connected_env(seed_env, org.url, database_url)


class Deployment:
    """Restarts of one service: each ``start`` is a new app with the keys given."""

    def __init__(self, env: dict[str, str], clock: FakeClock) -> None:
        self.env = env
        self.clock = clock
        self.stores: list[Any] = []

    def keyed(self, keys: str) -> dict[str, str]:
        return {**self.env, "SFDC_ENCRYPTION_KEY": keys}

    def start(self, keys: str) -> FlaskClient:
        app = create_app(load_settings(self.keyed(keys)), clock=self.clock)
        self.stores.append(app.extensions[CONNECTIONS_KEY].store)
        return app.test_client()

    def reseal(self, keys: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sfdc", "reseal"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", **self.keyed(keys)},
            timeout=120,
            check=False,
        )


@pytest.fixture
def deployment(env: dict[str, str], live_clock: FakeClock) -> Iterator[Deployment]:
    running = Deployment(env, live_clock)
    yield running
    for store in running.stores:
        store.dispose()


def _all_sealed_with(database_url: str, key: str) -> int:
    """How many sealed values there are; each must open with ``key`` alone, as documented."""
    values = sealed_values(database_url)
    for value, name, purpose in values:
        assert open_column(value, key, name=name, purpose=purpose)
    return len(values)


def test_the_documented_rotation_loses_no_connection(
    deployment: Deployment, org: Any, database_url: str
) -> None:
    before = deployment.start(OLD_ENCRYPTION_KEY)
    connect(before)
    assert before.post("/connections", json={"name": "beta"}, headers=AUTH).status_code == 201
    assert _all_sealed_with(database_url, OLD_ENCRYPTION_KEY) == 3  # acme's two, beta's link
    raw, refresh_token = stored_refresh_token(database_url, "acme", OLD_ENCRYPTION_KEY)

    # 1. The new key first, the old one after it; restart. Old values still open.
    both = f"{ENCRYPTION_KEY},{OLD_ENCRYPTION_KEY}"
    rotated = deployment.start(both)
    requests.post(f"{org.url}/_emulator/expire", timeout=5).raise_for_status()
    assert rotated.get(QUERY, headers=ACME).status_code == 200  # refreshed with the old key's
    assert stats(org.url)["refresh_grants"] == 1

    # 2. Reseal: every value is now under the new key, and the report shows no secret.
    done = deployment.reseal(both)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"sealing key {NEW_ID} (the first SFDC_ENCRYPTION_KEY entry)",
        "resealed 2 value(s); 1 already sealed with it",  # refresh token, link; access token
    ]
    for secret in (refresh_token, raw, ENCRYPTION_KEY, OLD_ENCRYPTION_KEY):
        assert secret not in done.stdout + done.stderr
    assert _all_sealed_with(database_url, ENCRYPTION_KEY) == 3
    assert stored_refresh_token(database_url, "acme")[1] == refresh_token

    # 3. The old key removed; restart. Everything opens with the new key alone.
    after = deployment.start(ENCRYPTION_KEY)
    requests.post(f"{org.url}/_emulator/expire", timeout=5).raise_for_status()
    assert after.get(QUERY, headers=ACME).status_code == 200
    assert stats(org.url)["refresh_grants"] == 2
    again = deployment.reseal(ENCRYPTION_KEY)
    assert again.returncode == 0
    assert again.stdout.splitlines()[1] == "resealed 0 value(s); 3 already sealed with it"


def test_a_value_sealed_under_a_removed_key_says_which_setting(
    deployment: Deployment, org: Any
) -> None:
    connect(deployment.start(OLD_ENCRYPTION_KEY))
    after = deployment.start(ENCRYPTION_KEY)  # the old key removed without a reseal
    done = deployment.reseal(ENCRYPTION_KEY)
    assert done.returncode == 1
    assert "1 value(s) no configured key opens: acme refresh_token" in done.stdout
    # The access token is only a shared copy: dropped, and fetched again on next use.
    assert "dropped 1 shared access token(s)" in done.stdout
    assert "Put back the key that sealed them" in done.stderr

    refused = after.get(QUERY, headers=ACME)
    assert refused.status_code == 502
    assert refused.json["error"] == "invalid_grant"  # type: ignore[index]
    description = refused.json["error_description"]  # type: ignore[index]
    assert "its refresh token cannot be opened with SFDC_ENCRYPTION_KEY" in description
    assert refused.json["connect_url"]  # type: ignore[index]
    assert stats(org.url)["refresh_grants"] == 0  # nothing was sent to Salesforce
