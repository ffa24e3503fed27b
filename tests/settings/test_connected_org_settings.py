"""Settings for connected orgs: the encryption key, the callback URL, the database binding."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sfdc.errors import ConfigError
from sfdc.settings.settings import load_settings
from tests.conftest import CONSUMER_SECRET, ENCRYPTION_KEY, KeyPair, seed_vcap

PASSWORD = "pg-pass-w0rd"


def vcap_with(pair: KeyPair, *extra: dict[str, Any]) -> str:
    document = json.loads(seed_vcap(pair))
    for service in extra:
        document.setdefault(service["label"], []).append(service)
    return json.dumps(document)


def postgres_service(name: str = "connections-db", **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "label": "postgres",
        "tags": ["postgresql", "relational"],
        "credentials": {"uri": f"postgres://app:{PASSWORD}@db.internal:5432/sfdc"},
        **overrides,
    }


def enabled(seed_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        **seed_env,
        "SFDC_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "SFDC_CONSUMER_SECRET": CONSUMER_SECRET,
        **extra,
    }


def test_connections_are_off_without_an_encryption_key(seed_env: dict[str, str]) -> None:
    settings = load_settings(seed_env)
    assert not settings.connections_enabled
    assert settings.database is None


def test_embedded_sqlite_by_default_warns_on_cloud_foundry(seed_env: dict[str, str]) -> None:
    local = load_settings(enabled(seed_env))
    assert local.connections_enabled
    assert local.database is not None
    assert local.database.is_sqlite
    assert not any("SQLite" in w for w in local.warnings)
    on_cf = load_settings(enabled(seed_env, VCAP_APPLICATION='{"name": "svc"}'))
    assert any("lost when it restarts" in w for w in on_cf.warnings)


def test_a_bound_postgres_service_is_found_and_given_the_psycopg_driver(
    seed_env: dict[str, str], keypair: KeyPair
) -> None:
    env = enabled(seed_env, VCAP_SERVICES=vcap_with(keypair, postgres_service()))
    database = load_settings(env).database
    assert database is not None
    assert database.url.drivername == "postgresql+psycopg"
    assert database.url.host == "db.internal"
    assert database.source == "service 'connections-db'"
    assert PASSWORD not in repr(database) + database.description


def test_database_url_wins_over_a_binding(seed_env: dict[str, str], keypair: KeyPair) -> None:
    env = enabled(
        seed_env,
        VCAP_SERVICES=vcap_with(keypair, postgres_service()),
        DATABASE_URL="postgresql://u:p@other.internal/db",
    )
    database = load_settings(env).database
    assert database is not None
    assert database.url.host == "other.internal"


def test_two_postgres_bindings_need_a_choice(seed_env: dict[str, str], keypair: KeyPair) -> None:
    vcap = vcap_with(keypair, postgres_service("db-a"), postgres_service("db-b"))
    with pytest.raises(ConfigError) as caught:
        load_settings(enabled(seed_env, VCAP_SERVICES=vcap))
    assert "SFDC_DATABASE_SERVICE" in caught.value.hint
    chosen = load_settings(enabled(seed_env, VCAP_SERVICES=vcap, SFDC_DATABASE_SERVICE="db-b"))
    assert chosen.database is not None
    assert chosen.database.source == "service 'db-b'"


@pytest.mark.parametrize(
    "url", ["mysql://u:pg-pass-w0rd@h/db", "not a url", "postgres://u:pg-pass-w0rd@/nodb"]
)
def test_unusable_database_url_is_refused_without_echoing_it(
    seed_env: dict[str, str], url: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(enabled(seed_env, DATABASE_URL=url))
    assert "DATABASE_URL" in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_encryption_key_must_be_a_fernet_key(seed_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(enabled(seed_env, SFDC_ENCRYPTION_KEY="too-short-to-be-a-key"))
    assert "not a Fernet key" in str(caught.value)
    assert "python -m sfdc keygen" in caught.value.hint
    assert "too-short-to-be-a-key" not in str(caught.value)


def test_encryption_key_without_consumer_secret_leaves_connections_off_and_says_so(
    seed_env: dict[str, str],
) -> None:
    settings = load_settings({**seed_env, "SFDC_ENCRYPTION_KEY": ENCRYPTION_KEY})
    assert not settings.connections_enabled
    (warning,) = [w for w in settings.warnings if "SFDC_CONSUMER_SECRET" in w]
    assert "connected orgs are off" in warning
    assert ENCRYPTION_KEY not in warning


def test_encryption_key_can_come_from_credhub(seed_env: dict[str, str], keypair: KeyPair) -> None:
    vcap = seed_vcap(keypair, encryption_key=ENCRYPTION_KEY, consumer_secret=CONSUMER_SECRET)
    settings = load_settings({**seed_env, "VCAP_SERVICES": vcap})
    assert settings.connections_enabled
    assert ENCRYPTION_KEY not in repr(settings)


@pytest.mark.parametrize(
    "url", ["http://svc.example/oauth/callback", "https://svc.example/cb?x=1", "svc/callback"]
)
def test_callback_url_must_be_https(seed_env: dict[str, str], url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(enabled(seed_env, SFDC_CALLBACK_URL=url))
    assert "SFDC_CALLBACK_URL" in str(caught.value)


@pytest.mark.parametrize(
    "urls", ["https://127.0.0.1:8082", "http://db.internal:8082", "http://127.0.0.1:8082/path"]
)
def test_local_login_urls_must_be_loopback_emulators(seed_env: dict[str, str], urls: str) -> None:
    with pytest.raises(ConfigError, match="SFDC_LOCAL_LOGIN_URLS"):
        load_settings(enabled(seed_env, SFDC_LOCAL_LOGIN_URLS=urls))


def test_local_login_urls_count_only_beside_a_local_emulator(seed_env: dict[str, str]) -> None:
    local = load_settings(
        enabled(
            seed_env,
            SFDC_LOGIN_URL="http://127.0.0.1:8081",
            SFDC_LOCAL_LOGIN_URLS="http://127.0.0.1:8082/, http://localhost:8083",
        )
    )
    assert local.loopback_logins == (
        "http://127.0.0.1:8081",
        "http://127.0.0.1:8082",
        "http://localhost:8083",
    )
    deployed = load_settings(enabled(seed_env, SFDC_LOCAL_LOGIN_URLS="http://127.0.0.1:8082"))
    assert deployed.loopback_logins == ()
