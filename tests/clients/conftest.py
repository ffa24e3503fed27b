"""Fixtures for the client scenarios: one emulator, one service and one TLS front each,
shared by the whole session, and a ``target`` that runs each scenario against both.

The service runs as Cloud Foundry runs it (the Procfile's command, `tests/deploy.py`)
behind nginx standing in for CF's router. The emulator trusts the front's forwarded
headers only for the ``emulator`` target, where it is the instance itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from sfdc.emulator import RunningEmulator, running_emulator
from tests.clients.front import Front, running_front
from tests.clients.targets import API_KEY, Target, emulator_access_token
from tests.conftest import KeyPair
from tests.emulated import emulator_config, served_by_procfile


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
    home = tmp_path_factory.mktemp("home")
    with (
        served_by_procfile(keypair, home, API_KEY) as service,
        running_front(
            f"http://127.0.0.1:{service.port}", tmp_path_factory.mktemp("front-service")
        ) as front,
    ):
        yield Fronted(service.emulator, front)
    assert API_KEY not in service.output, "the service logged the API key"


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
