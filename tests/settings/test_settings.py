"""Configuration from Cloud Foundry bindings and the environment, and every way it can be wrong.

Each bad case must raise ConfigError whose message names the problem and a
fix, and contains no key material.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sfdc.errors import ConfigError
from sfdc.settings.settings import load_settings
from tests.conftest import API_KEY, CONSUMER_KEY, USERNAME, KeyPair, seed_vcap


def _refused(env: dict[str, str], keypair: KeyPair, match: str) -> ConfigError:
    with pytest.raises(ConfigError, match=match) as caught:
        load_settings(env)
    error = caught.value
    assert error.hint, "every configuration error says how to fix it"
    assert keypair.key_body[:40] not in str(error)
    assert "\n" not in error.one_line(), "one line, for one log line"
    return error


def _vcap(*bindings: dict[str, Any], label: str = "credhub") -> str:
    return json.dumps({label: list(bindings)})


def _binding(name: str, credentials: dict[str, Any], label: str = "credhub") -> dict[str, Any]:
    return {
        "name": name,
        "instance_name": name,
        "label": label,
        "tags": [],
        "credentials": credentials,
    }


# --- the reference case and its variants -------------------------------------------


def test_seed_binding_is_found_without_naming_anything(
    seed_env: dict[str, str], keypair: KeyPair
) -> None:
    settings = load_settings(seed_env)
    assert settings.certificate == keypair.cert
    assert settings.key_source == "service 'demo-credhub', credential 'demo-certificate'"
    assert settings.login_url == "https://login.salesforce.com"
    assert settings.audience == "https://login.salesforce.com"
    assert settings.api_keys == frozenset()


def test_settings_can_live_in_the_credential_and_the_environment_wins(keypair: KeyPair) -> None:
    env = {
        "VCAP_SERVICES": seed_vcap(
            keypair, consumer_key="from-binding", username="binding@example.com"
        ),
        "SFDC_USERNAME": USERNAME,
    }
    settings = load_settings(env)
    assert settings.consumer_key == "from-binding"
    assert settings.username == USERNAME


def test_user_provided_service_with_top_level_pem_works(keypair: KeyPair) -> None:
    credentials = {
        "private_key": keypair.pkcs1.replace("\n", "\\n"),
        "certificate": keypair.cert_pem,
        "consumer_key": CONSUMER_KEY,
        "username": USERNAME,
        "login_url": "https://acme--dev.sandbox.my.salesforce.com/",
    }
    env = {
        "VCAP_SERVICES": _vcap(
            _binding("sfdc-jwt", credentials, "user-provided"), label="user-provided"
        )
    }
    settings = load_settings(env)
    assert settings.key_source == "service 'sfdc-jwt'"
    assert settings.login_url == "https://acme--dev.sandbox.my.salesforce.com"
    assert settings.audience == "https://test.salesforce.com"


def test_named_service_is_chosen_among_several(keypair: KeyPair, other_keypair: KeyPair) -> None:
    first = _binding("one", {"private_key": keypair.pkcs8, "certificate": keypair.cert_pem})
    second = _binding(
        "two", {"private_key": other_keypair.pkcs8, "certificate": other_keypair.cert_pem}
    )
    env = {
        "VCAP_SERVICES": _vcap(first, second),
        "SFDC_CREDHUB_SERVICE": "two",
        "SFDC_CONSUMER_KEY": CONSUMER_KEY,
        "SFDC_USERNAME": USERNAME,
    }
    assert load_settings(env).certificate == other_keypair.cert


def test_pem_files_outside_cloud_foundry(tmp_path: Path, keypair: KeyPair) -> None:
    (tmp_path / "key.pem").write_text(keypair.pkcs8)
    (tmp_path / "cert.pem").write_text(keypair.cert_pem)
    env = {
        "SFDC_PRIVATE_KEY_FILE": str(tmp_path / "key.pem"),
        "SFDC_CERTIFICATE_FILE": str(tmp_path / "cert.pem"),
        "SFDC_CONSUMER_KEY": CONSUMER_KEY,
        "SFDC_USERNAME": USERNAME,
        "SFDC_LOGIN_URL": "http://127.0.0.1:8081",
        "SFDC_API_KEYS": f"{API_KEY}, second-key-0123456789",
        "SFDC_HTTP_TIMEOUT": "2.5",
    }
    settings = load_settings(env)
    assert settings.login_url == "http://127.0.0.1:8081"
    assert settings.login_is_loopback
    assert settings.api_keys == {API_KEY, "second-key-0123456789"}
    assert settings.http_timeout == 2.5


def test_pem_text_from_the_environment_beats_the_binding(
    seed_env: dict[str, str], other_keypair: KeyPair
) -> None:
    env = {
        **seed_env,
        "SFDC_PRIVATE_KEY": other_keypair.pkcs8.replace("\n", "\\n"),
        "SFDC_CERTIFICATE": other_keypair.cert_pem,
    }
    assert load_settings(env).certificate == other_keypair.cert


@pytest.mark.parametrize(
    ("login", "audience"),
    [
        ("https://login.salesforce.com", "https://login.salesforce.com"),
        ("https://test.salesforce.com", "https://test.salesforce.com"),
        ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
    ],
)
def test_audience_follows_the_login_url(
    seed_env: dict[str, str], login: str, audience: str
) -> None:
    assert load_settings({**seed_env, "SFDC_LOGIN_URL": login}).audience == audience


def test_explicit_audience_wins(seed_env: dict[str, str]) -> None:
    env = {
        **seed_env,
        "SFDC_LOGIN_URL": "https://test.salesforce.com",
        "SFDC_AUDIENCE": "https://acme.my.site.com/customers",
    }
    assert load_settings(env).audience == "https://acme.my.site.com/customers"


def test_expired_certificate_is_only_a_warning(keypair: KeyPair) -> None:
    from datetime import UTC, datetime

    settings = load_settings(
        {
            "VCAP_SERVICES": seed_vcap(keypair),
            "SFDC_CONSUMER_KEY": CONSUMER_KEY,
            "SFDC_USERNAME": USERNAME,
        },
        now=datetime(2099, 1, 1, tzinfo=UTC),
    )
    assert len(settings.warnings) == 1
    assert "expired" in settings.warnings[0]


def test_repr_shows_no_secrets(tmp_path: Path, seed_env: dict[str, str], keypair: KeyPair) -> None:
    settings = load_settings({**seed_env, "SFDC_API_KEYS": API_KEY})
    assert API_KEY not in repr(settings)
    assert keypair.key_body[:40] not in repr(settings)


# --- every bad configuration DESIGN.md lists ----------------------------------------


@pytest.mark.parametrize("missing", ["SFDC_CONSUMER_KEY", "SFDC_USERNAME"])
def test_missing_required_setting(seed_env: dict[str, str], keypair: KeyPair, missing: str) -> None:
    env = {k: v for k, v in seed_env.items() if k != missing}
    error = _refused(env, keypair, f"{missing} is not set")
    assert "demo-credhub" in error.description


@pytest.mark.parametrize("raw", ["", "{not json", "[1, 2]"])
def test_vcap_services_that_is_not_json(
    seed_env: dict[str, str], keypair: KeyPair, raw: str
) -> None:
    _refused({**seed_env, "VCAP_SERVICES": raw}, keypair, "VCAP_SERVICES is")


def test_credential_still_a_credhub_reference(keypair: KeyPair) -> None:
    ref = _binding(
        "demo-credhub", {"credhub-ref": "/credhub-service-broker/credhub/abc/credentials"}
    )
    error = _refused(
        {"VCAP_SERVICES": _vcap(ref), "SFDC_CONSUMER_KEY": "k", "SFDC_USERNAME": "u"},
        keypair,
        "credhub-ref",
    )
    assert "cf ssh" in error.hint


def test_no_service_holds_a_key(keypair: KeyPair) -> None:
    redis = _binding("cache", {"host": "10.0.0.1", "password": "pw"}, label="p-redis")
    _refused(
        {
            "VCAP_SERVICES": _vcap(redis, label="p-redis"),
            "SFDC_CONSUMER_KEY": "k",
            "SFDC_USERNAME": "u",
        },
        keypair,
        "No private key",
    )


def test_nothing_configured_at_all(keypair: KeyPair) -> None:
    error = _refused({"SFDC_CONSUMER_KEY": "k", "SFDC_USERNAME": "u"}, keypair, "No private key")
    assert "SFDC_PRIVATE_KEY_FILE" in error.hint


def test_several_services_hold_a_key(keypair: KeyPair, other_keypair: KeyPair) -> None:
    first = _binding("one", {"private_key": keypair.pkcs8, "certificate": keypair.cert_pem})
    second = _binding(
        "two", {"private_key": other_keypair.pkcs8, "certificate": other_keypair.cert_pem}
    )
    error = _refused(
        {"VCAP_SERVICES": _vcap(first, second), "SFDC_CONSUMER_KEY": "k", "SFDC_USERNAME": "u"},
        keypair,
        "Several bound services",
    )
    assert "one, two" in error.description
    assert "SFDC_CREDHUB_SERVICE" in error.hint


def test_named_service_not_bound(seed_env: dict[str, str], keypair: KeyPair) -> None:
    error = _refused({**seed_env, "SFDC_CREDHUB_SERVICE": "sfdc-prod"}, keypair, "'sfdc-prod'")
    assert "bound: demo-credhub" in error.description


def test_named_credential_missing(seed_env: dict[str, str], keypair: KeyPair) -> None:
    error = _refused({**seed_env, "SFDC_CREDENTIAL": "prod-cert"}, keypair, "'prod-cert'")
    assert "demo-certificate" in error.description


def test_several_credentials_in_one_service(keypair: KeyPair, other_keypair: KeyPair) -> None:
    both = {
        "old": {"value": {"private_key": keypair.pkcs8, "certificate": keypair.cert_pem}},
        "new": {
            "value": {"private_key": other_keypair.pkcs8, "certificate": other_keypair.cert_pem}
        },
    }
    env = {
        "VCAP_SERVICES": _vcap(_binding("svc", both)),
        "SFDC_CONSUMER_KEY": "k",
        "SFDC_USERNAME": "u",
    }
    _refused(env, keypair, "several keys: new, old")
    assert load_settings({**env, "SFDC_CREDENTIAL": "new"}).certificate == other_keypair.cert


def test_pem_that_does_not_parse(seed_env: dict[str, str], keypair: KeyPair) -> None:
    _refused(
        {
            **seed_env,
            "SFDC_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "SFDC_CERTIFICATE": keypair.cert_pem,
        },
        keypair,
        "does not parse",
    )


def test_encrypted_key(seed_env: dict[str, str], keypair: KeyPair) -> None:
    from cryptography.hazmat.primitives import serialization

    encrypted = keypair.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(b"pw"),
    ).decode()
    _refused(
        {**seed_env, "SFDC_PRIVATE_KEY": encrypted, "SFDC_CERTIFICATE": keypair.cert_pem},
        keypair,
        "encrypted",
    )


def test_key_not_matching_certificate(
    seed_env: dict[str, str], keypair: KeyPair, other_keypair: KeyPair
) -> None:
    error = _refused(
        {**seed_env, "SFDC_CERTIFICATE": other_keypair.cert_pem}, keypair, "do not belong together"
    )
    assert "SFDC_CERTIFICATE" in error.description


def test_unreadable_key_file(seed_env: dict[str, str], keypair: KeyPair, tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    _refused(
        {**seed_env, "SFDC_PRIVATE_KEY_FILE": str(missing), "SFDC_CERTIFICATE": keypair.cert_pem},
        keypair,
        "cannot be read",
    )


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("http://login.salesforce.com", "plain http"),
        ("http://10.0.0.5:8081", "plain http"),
        ("ftp://login.salesforce.com", "not an http"),
        ("login.salesforce.com", "not an http"),
        ("https://login.salesforce.com/services/oauth2/token", "only a scheme and host"),
        ("https://user:hunter2@login.salesforce.com", "user name or password"),
        ("ftp://svc:hunter2@login.salesforce.com", "user name or password"),
    ],
)
def test_bad_login_url(seed_env: dict[str, str], keypair: KeyPair, url: str, match: str) -> None:
    error = _refused({**seed_env, "SFDC_LOGIN_URL": url}, keypair, match)
    assert "hunter2" not in str(error)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8081", "http://localhost:9000", "http://[::1]:8081"]
)
def test_plain_http_is_fine_for_loopback(seed_env: dict[str, str], url: str) -> None:
    assert load_settings({**seed_env, "SFDC_LOGIN_URL": url}).login_is_loopback


def test_short_api_key(seed_env: dict[str, str], keypair: KeyPair) -> None:
    error = _refused({**seed_env, "SFDC_API_KEYS": f"{API_KEY},secret"}, keypair, "shorter than")
    assert "secret" not in error.description.replace("secrets", "")


@pytest.mark.parametrize("raw", ["ten", "0", "-1", "600"])
def test_bad_timeout(seed_env: dict[str, str], keypair: KeyPair, raw: str) -> None:
    _refused({**seed_env, "SFDC_HTTP_TIMEOUT": raw}, keypair, "SFDC_HTTP_TIMEOUT")


@pytest.mark.parametrize(
    "binding",
    [
        {"name": "x", "credentials": "oops"},
        {"name": "x", "credentials": None},
        {"name": "x", "credentials": []},
        {"label": "credhub", "credentials": {}},
        "just a string",
    ],
)
def test_malformed_bindings_are_one_clear_error(keypair: KeyPair, binding: object) -> None:
    env = {
        "VCAP_SERVICES": json.dumps({"credhub": [binding]}),
        "SFDC_CONSUMER_KEY": "k",
        "SFDC_USERNAME": "u",
    }
    _refused(env, keypair, "VCAP_SERVICES has a 'credhub' binding")


def test_api_keys_may_be_a_list_in_the_credential(keypair: KeyPair) -> None:
    keys = [API_KEY, "another-key-0123456789"]
    env = {"VCAP_SERVICES": seed_vcap(keypair, api_keys=keys, consumer_key="k", username="u")}
    assert load_settings(env).api_keys == set(keys)


@pytest.mark.parametrize("raw", ["login.salesforce.com", "http://login.salesforce.com", "https://"])
def test_audience_must_be_an_https_url(
    seed_env: dict[str, str], keypair: KeyPair, raw: str
) -> None:
    _refused({**seed_env, "SFDC_AUDIENCE": raw}, keypair, "SFDC_AUDIENCE")


@pytest.mark.parametrize("raw", ["https://acme.my.salesforce.com", "https://login.salesforce.com/"])
def test_audiences_salesforce_refuses_start_with_a_warning(
    seed_env: dict[str, str], raw: str
) -> None:
    settings = load_settings({**seed_env, "SFDC_AUDIENCE": raw})
    assert settings.audience == raw
    assert any("audience is invalid" in w for w in settings.warnings)


def test_truncated_key_says_so(seed_env: dict[str, str], keypair: KeyPair) -> None:
    cut = keypair.pkcs8[: len(keypair.pkcs8) // 2]
    _refused(
        {**seed_env, "SFDC_PRIVATE_KEY": cut, "SFDC_CERTIFICATE": keypair.cert_pem},
        keypair,
        "truncated",
    )


# --- the shared cache's Redis, found through VCAP_SERVICES or REDIS_URL --------------


def _with_redis(keypair: KeyPair, *redis_bindings: dict[str, Any]) -> dict[str, str]:
    vcap = json.loads(seed_vcap(keypair, consumer_key="k", username="u"))
    for binding in redis_bindings:
        vcap.setdefault(binding["label"], []).append(binding)
    return {"VCAP_SERVICES": json.dumps(vcap)}


def test_no_redis_means_the_process_cache(seed_env: dict[str, str]) -> None:
    assert load_settings(seed_env).redis is None


def test_redis_found_by_label_with_string_port_and_password(keypair: KeyPair) -> None:
    binding = {
        "name": "cache",
        "label": "p-redis",
        "tags": ["pivotal", "redis"],
        "credentials": {"host": "10.0.4.30", "port": "45470", "password": "p@ss/word"},
    }
    settings = load_settings(_with_redis(keypair, binding))
    assert settings.redis is not None
    assert settings.redis.url == "redis://:p%40ss%2Fword@10.0.4.30:45470/0"
    assert settings.redis.source == "service 'cache'"
    assert "p@ss" not in repr(settings)


def test_redis_found_by_tag_uses_tls_port_when_offered(keypair: KeyPair) -> None:
    binding = {
        "name": "tokens",
        "label": "p.redis",
        "tags": ["redis", "on-demand"],
        "credentials": {
            "host": "q-s0.redis.bosh",
            "port": 6379,
            "tls_port": 16379,
            "password": "pw",
        },
    }
    settings = load_settings(_with_redis(keypair, binding))
    assert settings.redis is not None
    assert settings.redis.tls
    assert settings.redis.url == "rediss://:pw@q-s0.redis.bosh:16379/0"


def test_redis_uri_in_credentials_is_used_as_is(keypair: KeyPair) -> None:
    binding = {
        "name": "rc",
        "label": "rediscloud",
        "tags": [],
        "credentials": {"uri": "rediss://default:pw@redis.example.com:1234"},
    }
    settings = load_settings(_with_redis(keypair, binding))
    assert settings.redis is not None
    assert settings.redis.url == "rediss://default:pw@redis.example.com:1234"


def test_redis_url_wins_over_bindings(keypair: KeyPair) -> None:
    binding = {
        "name": "cache",
        "label": "p-redis",
        "tags": [],
        "credentials": {"host": "10.0.0.1", "port": 6379},
    }
    env = {**_with_redis(keypair, binding), "REDIS_URL": "redis://127.0.0.1:6379/3"}
    settings = load_settings(env)
    assert settings.redis is not None
    assert (settings.redis.url, settings.redis.source) == ("redis://127.0.0.1:6379/3", "REDIS_URL")


def test_several_redis_bindings_need_a_name(keypair: KeyPair) -> None:
    one = {"name": "a", "label": "p-redis", "tags": [], "credentials": {"host": "h1", "port": 1}}
    two = {"name": "b", "label": "p-redis", "tags": [], "credentials": {"host": "h2", "port": 2}}
    env = _with_redis(keypair, one, two)
    _refused(env, keypair, "Several Redis services are bound: a, b")
    settings = load_settings({**env, "SFDC_REDIS_SERVICE": "b"})
    assert settings.redis is not None
    assert "h2" in settings.redis.url


@pytest.mark.parametrize(
    ("credentials", "match"),
    [
        ({"port": 6379, "password": "secret-pw"}, "has no host"),
        ({"host": "h", "port": "six", "password": "secret-pw"}, "not a number"),
    ],
)
def test_broken_redis_binding(keypair: KeyPair, credentials: dict[str, Any], match: str) -> None:
    binding = {"name": "cache", "label": "p-redis", "tags": [], "credentials": credentials}
    error = _refused(_with_redis(keypair, binding), keypair, match)
    assert "secret-pw" not in str(error)


@pytest.mark.parametrize(
    "url",
    [
        "http://cache:6379",
        "redis://:hunter2-pw@127.0.0.1:notaport/0",
        "redis://:hunter2-pw@127.0.0.1:99999/0",
        "redis://:hunter2-pw@/0",
        "redis://:hunter2-pw@cache:6379/zz",
    ],
)
def test_bad_redis_url(seed_env: dict[str, str], keypair: KeyPair, url: str) -> None:
    error = _refused({**seed_env, "REDIS_URL": url}, keypair, "Redis URL from REDIS_URL")
    assert "hunter2" not in str(error)


@pytest.mark.parametrize(
    ("raw", "ok"),
    [("599", False), ("600", True), ("86400", True), ("86401", False), ("an hour", False)],
)
def test_token_max_age_bounds(
    seed_env: dict[str, str], keypair: KeyPair, raw: str, ok: bool
) -> None:
    env = {**seed_env, "SFDC_TOKEN_MAX_AGE": raw}
    if ok:
        assert load_settings(env).token_max_age.total_seconds() == float(raw)
    else:
        _refused(env, keypair, "SFDC_TOKEN_MAX_AGE")


def test_consumer_secret_from_the_credential_is_not_shown(keypair: KeyPair) -> None:
    env = {
        "VCAP_SERVICES": seed_vcap(
            keypair, consumer_key="k", username="u", consumer_secret="cs-0123456789"
        )
    }
    settings = load_settings(env)
    assert settings.consumer_secret == "cs-0123456789"
    assert "cs-0123456789" not in repr(settings)
