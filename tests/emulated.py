"""Helpers for tests that run the service against the emulator over real HTTP."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from sfdc.emulator import EmulatorConfig, RunningEmulator, running_emulator
from tests.conftest import CONSUMER_KEY, USERNAME, KeyPair, seed_vcap
from tests.deploy import ROOT, free_port, start, stop, wait_healthy


def emulator_config(pair: KeyPair, **overrides: Any) -> EmulatorConfig:
    """The connected app holding ``pair``'s certificate, with USERNAME pre-authorized."""
    fields: dict[str, Any] = {
        "consumer_key": CONSUMER_KEY,
        "certificate_pem": pair.cert_pem.encode(),
        "usernames": (USERNAME,),
        **overrides,
    }
    return EmulatorConfig(**fields)


def stats(url: str) -> dict[str, Any]:
    """The emulator's counters, read over HTTP as any process could."""
    answer: dict[str, Any] = requests.get(f"{url}/_emulator/stats", timeout=5).json()
    return answer


def fail_next(url: str, mode: str, count: int, **extra: Any) -> None:
    requests.post(
        f"{url}/_emulator/fail", json={"mode": mode, "count": count, **extra}, timeout=5
    ).raise_for_status()


@dataclass
class ProcfileService:
    """The app served by the Procfile's command on ``port``, in front of ``emulator``."""

    emulator: RunningEmulator
    port: int
    output: str = ""  # all the server printed, once it has stopped


@contextmanager
def served_by_procfile(keypair: KeyPair, home: Path, api_key: str) -> Iterator[ProcfileService]:
    """The app as Cloud Foundry runs it (Procfile, PORT, VCAP_SERVICES, ``api_key`` in
    SFDC_API_KEYS) against a fresh emulator; after, it must have exited cleanly, no traceback."""
    port = free_port()
    with running_emulator(emulator_config(keypair)) as emulator:
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": str(home),
            "PORT": str(port),
            "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
            "VCAP_SERVICES": seed_vcap(keypair),
            "SFDC_CONSUMER_KEY": CONSUMER_KEY,
            "SFDC_USERNAME": USERNAME,
            "SFDC_LOGIN_URL": emulator.url,
            "SFDC_API_KEYS": api_key,
        }
        process = start(ROOT, env)
        service = ProcfileService(emulator, port)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", process)
            yield service
        finally:
            status, service.output, _ = stop(process)
    assert status == 0, service.output
    assert "Traceback" not in service.output
