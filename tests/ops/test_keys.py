"""``python -m sfdc keys``: an operator makes, lists, rotates and revokes keys; the
running service honours each change without a restart."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sfdc.access.keyring import REVOCATION_DELAY
from sfdc.emulator import running_emulator
from sfdc.settings.settings import load_settings
from sfdc.web import create_app
from sfdc.web.extension import CONNECTIONS_KEY
from tests.conftest import FakeClock, KeyPair
from tests.ops.invoke import sfdc
from tests.orgs_support import connect, connected_env, org_config

QUERY = "/api/data/v60.0/query?q=SELECT+Id+FROM+Account"
KEY = re.compile(r"^00Dsfk([a-z2-7]{10})![A-Za-z0-9]{43}$")


@pytest.fixture
def env(keypair: KeyPair, seed_env: dict[str, str], database_url: str) -> Iterator[dict[str, str]]:
    with running_emulator(org_config(keypair, rotate=False)) as org:
        yield connected_env(seed_env, org.url, database_url)


@pytest.fixture
def app(env: dict[str, str], live_clock: FakeClock) -> Iterator[Flask]:
    made = create_app(load_settings(env), clock=live_clock)
    yield made
    made.extensions[CONNECTIONS_KEY].store.dispose()


def _key(result: Any) -> tuple[str, str]:
    assert result.exit_code == 0, result.stderr
    key = result.stdout.strip()
    found = KEY.fullmatch(key)
    assert found, result.stdout
    return found.group(1), key


def _audit(stderr: str) -> list[tuple[str, str, str]]:
    """(use, client, key id) of each audit line the command wrote."""
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [(line["audit"], line["client"], line["key_id"]) for line in lines]


def test_a_key_made_by_the_cli_works_until_revoked(
    env: dict[str, str], app: Flask, live_clock: FakeClock
) -> None:
    web: FlaskClient = app.test_client()
    connect(web, "acme")
    made = sfdc(
        "keys",
        "create",
        "billing-app",
        "--scope",
        "proxy:acme",
        "--default-connection",
        "acme",
        env=env,
    )
    key_id, key = _key(made)
    assert "proxy:acme" in made.stderr
    assert "shown once" in made.stderr
    assert _audit(made.stderr) == [("key_created", "cli", key_id)]
    assert key not in made.stderr
    assert web.get(QUERY, headers={"Authorization": f"Bearer {key}"}).status_code == 200

    listed = sfdc("keys", "list", "--json", env=env)
    assert listed.exit_code == 0
    (shown,) = json.loads(listed.stdout)["keys"]
    assert shown["id"] == key_id
    assert shown["scopes"] == ["proxy:acme"]
    assert key not in listed.stdout

    rotated_id, rotated = _key(sfdc("keys", "rotate", key_id, env=env))
    assert rotated_id == key_id
    assert web.get(QUERY, headers={"Authorization": f"Bearer {rotated}"}).status_code == 200

    revoked = sfdc("keys", "revoke", key_id, env=env)
    assert revoked.exit_code == 0
    assert _audit(revoked.stderr) == [("key_revoked", "cli", key_id)]
    assert "revoked" in revoked.stdout
    live_clock.advance(REVOCATION_DELAY)
    assert web.get(QUERY, headers={"Authorization": f"Bearer {rotated}"}).status_code == 401
    assert "(revoked" in sfdc("keys", "list", env=env).stdout


def test_mistakes_are_one_line_and_exit_1(env: dict[str, str]) -> None:
    bad_scope = sfdc("keys", "create", "billing-app", "--scope", "admin:acme", env=env)
    assert bad_scope.exit_code == 1
    assert bad_scope.stderr.startswith("error: 'admin:acme' is not a scope.")
    unknown = sfdc("keys", "revoke", "abcdefghij", env=env)
    assert unknown.exit_code == 1
    assert "no API key with id" in unknown.stderr


@pytest.mark.parametrize("odd", ["\udcff\udcfe", "abcdefghi\x00", ""])
def test_an_id_no_key_can_have_is_an_unknown_key_not_a_traceback(
    env: dict[str, str], odd: str
) -> None:
    """A shell passes bytes that are not UTF-8 as surrogates, which no database driver can
    encode: the command must say there is no such key, in one line."""
    for command in ("rotate", "revoke"):
        answer = sfdc("keys", command, odd, env=env)
        assert answer.exit_code == 1, answer.stderr
        assert answer.stderr.startswith("error: There is no API key with id"), answer.stderr
        assert answer.stdout == ""


def test_without_a_database_the_cli_says_what_turns_it_on(seed_env: dict[str, str]) -> None:
    answer = sfdc("keys", "list", env=seed_env)
    assert answer.exit_code == 1
    assert "SFDC_ENCRYPTION_KEY" in answer.stderr
