"""Fixtures for the emulator's tests: real RSA keys and certificates, a fake clock, a live
emulator on a loopback port, and assertions built with PyJWT (never with emulator code)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from sfdc.emulator import EmulatorConfig, RunningEmulator, running_emulator
from tests.emulator.emulator_support import (
    ALICE,
    BOB,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    LOGIN,
    START,
    FakeClock,
    bearer,
    make_certificate_pem,
    post_token,
)
from tests.emulator.web_flow_support import CALLBACKS


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def certificate_pem(signing_key: rsa.RSAPrivateKey) -> bytes:
    return make_certificate_pem(signing_key, START - timedelta(days=1), START + timedelta(days=365))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_config(certificate_pem: bytes, clock: FakeClock) -> Callable[..., EmulatorConfig]:
    def make(**overrides: Any) -> EmulatorConfig:
        settings: dict[str, Any] = {
            "consumer_key": CONSUMER_KEY,
            "certificate_pem": certificate_pem,
            "usernames": (ALICE, BOB),
            "consumer_secret": CONSUMER_SECRET,
            "clock": clock,
        }
        settings.update(overrides)
        return EmulatorConfig(**settings)

    return make


@pytest.fixture
def emulator(make_config: Callable[..., EmulatorConfig]) -> Iterator[RunningEmulator]:
    with running_emulator(make_config()) as running:
        yield running


@pytest.fixture
def start_web_emulator(
    make_config: Callable[..., EmulatorConfig],
) -> Iterator[Callable[..., RunningEmulator]]:
    """Start emulators whose connected app registers `CALLBACKS`, with config overrides;
    each stops when the test ends."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> RunningEmulator:
            config = make_config(**{"callback_urls": CALLBACKS, **overrides})
            return stack.enter_context(running_emulator(config))

        yield start


@pytest.fixture
def web_emulator(start_web_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    """An emulator set up for the web-server flow, with the default app settings."""
    return start_web_emulator()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def make_assertion(signing_key: rsa.RSAPrivateKey, clock: FakeClock) -> Callable[..., str]:
    """Build a signed assertion; keyword overrides replace claims, None removes one."""

    def make(
        *,
        key: Any = None,
        algorithm: str = "RS256",
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        payload: dict[str, Any] = {
            "iss": CONSUMER_KEY,
            "sub": ALICE,
            "aud": LOGIN,
            "exp": clock.epoch() + 180,
        }
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, signing_key if key is None else key, algorithm, headers)

    return make


@pytest.fixture
def get_token(
    http: requests.Session, emulator: RunningEmulator, make_assertion: Callable[..., str]
) -> Callable[..., dict[str, Any]]:
    """Run a successful JWT grant on `emulator` and return the token response body."""

    def get(**claims: Any) -> dict[str, Any]:
        response = post_token(http, emulator.url, make_assertion(**claims))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return get


@pytest.fixture
def api(
    http: requests.Session, emulator: RunningEmulator, get_token: Callable[..., dict[str, Any]]
) -> Callable[..., requests.Response]:
    """Call the emulator with a fresh access token: `api(method, path, **requests_kwargs)`."""
    token = get_token()["access_token"]

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**bearer(token), **kwargs.pop("headers", {})}
        return http.request(method, f"{emulator.url}{path}", headers=headers, timeout=10, **kwargs)

    return call
