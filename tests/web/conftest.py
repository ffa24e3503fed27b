"""Flask-tutorial fixtures: an emulator over real HTTP, settings, ``app``, ``client``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sfdc.emulator import running_emulator
from sfdc.settings.settings import Settings, load_settings
from sfdc.web import create_app
from tests.conftest import API_KEY, FakeClock, KeyPair
from tests.emulated import emulator_config
from tests.web.over_http import Serve, Served


@pytest.fixture
def emulator(keypair: KeyPair) -> Iterator[object]:
    with running_emulator(emulator_config(keypair)) as running:
        yield running


@pytest.fixture
def settings(emulator: object, seed_env: dict[str, str]) -> Settings:
    return load_settings(
        {**seed_env, "SFDC_LOGIN_URL": emulator.url, "SFDC_API_KEYS": API_KEY}  # type: ignore[attr-defined]
    )


@pytest.fixture
def live_clock() -> FakeClock:
    """Starts at the real now, since the emulator checks exp against real time."""
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def app(settings: Settings, live_clock: FakeClock) -> Flask:
    return create_app(settings, clock=live_clock)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Serve apps on free loopback ports, as gunicorn would: real sockets, raw URIs."""
    running: list[Served] = []

    def start(app: Flask) -> str:
        served = Served(app)
        running.append(served)
        return served.client.base_url

    yield start
    for served in running:
        served.close()


AUTH = {"Authorization": f"Bearer {API_KEY}"}


def concurrent_statuses(
    app: Flask, path: str, count: int, headers: dict[str, str] | None = None
) -> list[int]:
    """Status codes of ``count`` GETs sent at once, each from its own client."""
    barrier = threading.Barrier(count)
    statuses: list[int] = []

    def call() -> None:
        own = app.test_client()
        barrier.wait()
        statuses.append(own.get(path, headers=headers or {}).status_code)

    threads = [threading.Thread(target=call) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return statuses
