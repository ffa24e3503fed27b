"""Settings for connected orgs' upkeep: the keep-alive job's timing and the alerts webhook."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sfdc.errors import ConfigError
from sfdc.settings.durations import human
from sfdc.settings.settings import load_settings
from tests.conftest import CONSUMER_KEY, USERNAME, KeyPair, seed_vcap

SECRET = "webhook-secret-0123456789abcdef"


def _refused(env: dict[str, str], match: str) -> ConfigError:
    with pytest.raises(ConfigError, match=match) as caught:
        load_settings(env)
    assert caught.value.hint, "every configuration error says how to fix it"
    assert SECRET not in caught.value.one_line()
    return caught.value


def test_defaults_keep_idle_connections_alive_weekly_looking_hourly(
    seed_env: dict[str, str],
) -> None:
    settings = load_settings(seed_env)
    assert settings.keepalive.after == timedelta(days=7)
    assert settings.keepalive.interval == timedelta(hours=1)
    assert settings.webhook is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("3600", timedelta(hours=1)),
        (" 2D ", timedelta(days=2)),
        ("1.5d", timedelta(hours=36)),
        ("365d", timedelta(days=365)),
        ("off", None),
        ("OFF", None),
        ("0", None),
    ],
)
def test_keepalive_after_takes_units_or_seconds_and_can_be_off(
    seed_env: dict[str, str], raw: str, expected: timedelta | None
) -> None:
    settings = load_settings({**seed_env, "SFDC_KEEPALIVE_AFTER": raw})
    assert settings.keepalive.after == expected


@pytest.mark.parametrize("raw", ["59m", "3599", "366d", "7 days", "-1d", "d", "1e3", "nan"])
def test_keepalive_after_out_of_range_or_unreadable_is_refused(
    seed_env: dict[str, str], raw: str
) -> None:
    error = _refused({**seed_env, "SFDC_KEEPALIVE_AFTER": raw}, "SFDC_KEEPALIVE_AFTER")
    assert "1h to 365d" in error.description
    assert "off" in error.hint


@pytest.mark.parametrize(
    ("raw", "ok"), [("59", False), ("60", True), ("1m", True), ("1d", True), ("25h", False)]
)
def test_keepalive_interval_bounds(seed_env: dict[str, str], raw: str, ok: bool) -> None:
    env = {**seed_env, "SFDC_KEEPALIVE_INTERVAL": raw}
    if ok:
        assert load_settings(env).keepalive.interval >= timedelta(minutes=1)
    else:
        _refused(env, "SFDC_KEEPALIVE_INTERVAL")
    _refused({**seed_env, "SFDC_KEEPALIVE_INTERVAL": "off"}, "SFDC_KEEPALIVE_INTERVAL")


def test_human_spells_a_duration_as_the_settings_accept_it() -> None:
    assert human(timedelta(days=7)) == "7d"
    assert human(timedelta(hours=36)) == "36h"
    assert human(timedelta(minutes=1)) == "1m"
    assert human(timedelta(seconds=90)) == "90s"


def test_a_webhook_from_the_credential_is_kept_out_of_reprs(keypair: KeyPair) -> None:
    env = {
        "VCAP_SERVICES": seed_vcap(
            keypair,
            webhook_url="https://alerts.example.com/hooks/T0KEN-IN-PATH",
            webhook_secret=SECRET,
        ),
        "SFDC_CONSUMER_KEY": CONSUMER_KEY,
        "SFDC_USERNAME": USERNAME,
    }
    settings = load_settings(env)
    assert settings.webhook is not None
    assert settings.webhook.secret == SECRET
    assert settings.webhook.description == "https://alerts.example.com"
    shown = repr(settings) + repr(settings.webhook)
    assert SECRET not in shown
    assert "T0KEN-IN-PATH" not in shown


def test_the_environment_wins_over_the_credential(keypair: KeyPair) -> None:
    env = {
        "VCAP_SERVICES": seed_vcap(keypair, webhook_secret="credential-secret-0123456789"),
        "SFDC_CONSUMER_KEY": CONSUMER_KEY,
        "SFDC_USERNAME": USERNAME,
        "SFDC_WEBHOOK_URL": "https://alerts.example.com/hook",
        "SFDC_WEBHOOK_SECRET": SECRET,
    }
    webhook = load_settings(env).webhook
    assert webhook is not None
    assert webhook.secret == SECRET


def test_a_webhook_without_a_secret_is_refused(seed_env: dict[str, str]) -> None:
    env = {**seed_env, "SFDC_WEBHOOK_URL": "https://alerts.example.com/hook"}
    error = _refused(env, "SFDC_WEBHOOK_SECRET")
    assert "webhook_secret" in error.hint


@pytest.mark.parametrize(
    "url", ["http://alerts.example.com/hook", "ftp://alerts.example.com/", "alerts.example.com"]
)
def test_a_webhook_must_be_https_except_on_loopback(seed_env: dict[str, str], url: str) -> None:
    _refused(
        {**seed_env, "SFDC_WEBHOOK_URL": url, "SFDC_WEBHOOK_SECRET": SECRET}, "SFDC_WEBHOOK_URL"
    )
    local = {"SFDC_WEBHOOK_URL": "http://127.0.0.1:9999/hook", "SFDC_WEBHOOK_SECRET": SECRET}
    assert load_settings({**seed_env, **local}).webhook is not None


def test_a_short_webhook_secret_is_refused(seed_env: dict[str, str]) -> None:
    env = {
        **seed_env,
        "SFDC_WEBHOOK_URL": "https://alerts.example.com/hook",
        "SFDC_WEBHOOK_SECRET": "short",
    }
    _refused(env, "shorter than 16")
