"""Fixtures for the client scenarios: one emulator, one service and one TLS front each,
shared by the whole session, and a ``target`` that runs each scenario against both.

The service runs as Cloud Foundry runs it (the Procfile's command, `tests/deploy.py`)
behind nginx standing in for CF's router. The emulator trusts the front's forwarded
headers only for the ``emulator`` target, where it is the instance itself.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sfdc.emulator import RunningEmulator, running_emulator
from tests.clients.front import Front, running_front
from tests.clients.targets import API_KEY, Target, emulator_access_token
from tests.conftest import CONSUMER_KEY, USERNAME, KeyPair, seed_vcap
from tests.deploy import ROOT, free_port, start, stop, wait_healthy
from tests.emulated import emulator_config


@dataclass(frozen=True)
class Fronted:
    """An emulator and the front clients reach it (or the service before it) through."""

    emulator: RunningEmulator
    front: Front


@pytest.fixture(scope="session")
def emulator_fronted(
    keypair: KeyPair, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fronted]:
    with (
        running_emulator(emulator_config(keypair, behind_front=True)) as emulator,
        running_front(emulator.url, tmp_path_factory.mktemp("front-emulator")) as front,
    ):
        yield Fronted(emulator, front)


@pytest.fixture(scope="session")
def service_fronted(
    keypair: KeyPair, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fronted]:
    """The service (2 gunicorn workers, API key in SFDC_API_KEYS) behind the front."""
    port = free_port()
    with running_emulator(emulator_config(keypair)) as emulator:
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": str(tmp_path_factory.mktemp("home")),
            "PORT": str(port),
            "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
            "VCAP_SERVICES": seed_vcap(keypair),
            "SFDC_CONSUMER_KEY": CONSUMER_KEY,
            "SFDC_USERNAME": USERNAME,
            "SFDC_LOGIN_URL": emulator.url,
            "SFDC_API_KEYS": API_KEY,
        }
        process = start(ROOT, env)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", process)
            with running_front(
                f"http://127.0.0.1:{port}", tmp_path_factory.mktemp("front-service")
            ) as front:
                yield Fronted(emulator, front)
        finally:
            status, output, _ = stop(process)
    assert status == 0, output
    assert "Traceback" not in output
    assert API_KEY not in output, "the service logged the API key"


TARGETS = ["emulator", "service"]


def target_for(request: pytest.FixtureRequest, keypair: KeyPair) -> Target:
    """The target named by ``request.param``, for a fixture parametrized over TARGETS."""
    fronted: Fronted = request.getfixturevalue(f"{request.param}_fronted")
    front = fronted.front
    if request.param == "emulator":
        # A fresh access token each time: scenarios end every session.
        token = emulator_access_token(front.url, front.ca_file, keypair)
    else:
        token = API_KEY
    return Target(request.param, front.url, token, front.ca_file, fronted.emulator.url)


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest, keypair: KeyPair) -> Target:
    """The instance URL and token a client is given, for one test."""
    return target_for(request, keypair)


@pytest.fixture(scope="module", params=TARGETS)
def module_target(request: pytest.FixtureRequest, keypair: KeyPair) -> Target:
    """The same, for a module whose scenario runs once per target (a Node process)."""
    return target_for(request, keypair)
