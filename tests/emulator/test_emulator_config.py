"""EmulatorConfig refuses setups that would make the emulator misbehave later."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from sfdc.emulator import EmulatorConfig
from tests.emulator.emulator_support import START, make_certificate_pem

MakeConfig = Callable[..., EmulatorConfig]


def test_defaults_are_production_login_and_the_documented_timeouts(
    make_config: MakeConfig,
) -> None:
    config = make_config()
    assert config.audience == "https://login.salesforce.com"
    assert config.session_timeout == timedelta(hours=2)
    assert timedelta(0) < config.exp_skew <= timedelta(minutes=3)


def test_usernames_given_as_a_list_are_frozen(make_config: MakeConfig) -> None:
    config = make_config(usernames=["a@example.com", "b@example.com"])
    assert config.usernames == ("a@example.com", "b@example.com")


def test_refuses_a_naive_clock(make_config: MakeConfig) -> None:
    with pytest.raises(ValueError, match="aware UTC"):
        make_config(clock=lambda: datetime(2026, 1, 1))


def test_refuses_a_non_utc_clock(make_config: MakeConfig) -> None:
    paris = timezone(timedelta(hours=1))
    with pytest.raises(ValueError, match="aware UTC"):
        make_config(clock=lambda: datetime.now(UTC).astimezone(paris))


def test_refuses_something_that_is_not_a_certificate(make_config: MakeConfig) -> None:
    with pytest.raises(ValueError, match=r"not a PEM X\.509 certificate"):
        make_config(
            certificate_pem=b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"
        )


def test_refuses_a_certificate_without_an_rsa_key(make_config: MakeConfig) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = make_certificate_pem(key, START, START + timedelta(days=1))
    with pytest.raises(ValueError, match="RSA"):
        make_config(certificate_pem=pem)


@pytest.mark.parametrize(
    ("field", "value"),
    [("consumer_key", ""), ("exp_skew", timedelta(seconds=-1)), ("session_timeout", timedelta(0))],
)
def test_refuses_nonsense_settings(make_config: MakeConfig, field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        make_config(**{field: value})


def test_web_server_flow_defaults(make_config: MakeConfig) -> None:
    config = make_config()
    assert config.callback_urls == ()
    assert config.code_lifetime == timedelta(minutes=15)
    assert config.require_secret is True
    assert config.rotate_refresh_tokens is False
    assert {"api", "refresh_token", "offline_access", "id", "web", "openid"} == set(
        config.oauth_scopes
    )


def test_callback_urls_and_scopes_given_as_lists_are_frozen(make_config: MakeConfig) -> None:
    config = make_config(callback_urls=["https://app.example.com/cb"], oauth_scopes=["api"])
    assert config.callback_urls == ("https://app.example.com/cb",)
    assert config.oauth_scopes == ("api",)


def test_custom_scheme_callbacks_are_allowed(make_config: MakeConfig) -> None:
    assert make_config(callback_urls=("myapp://oauth/done",)).callback_urls


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code_lifetime", timedelta(0)),
        ("callback_urls", ("/relative/callback",)),
        ("callback_urls", ("https://app.example.com/cb#fragment",)),
        ("oauth_scopes", ()),
        ("oauth_scopes", ("api refresh_token",)),
        ("oauth_scopes", ("",)),
    ],
)
def test_refuses_nonsense_web_server_settings(
    make_config: MakeConfig, field: str, value: object
) -> None:
    with pytest.raises(ValueError, match=field):
        make_config(**{field: value})
